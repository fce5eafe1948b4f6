//go:build unix

package source

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// `--source /dev/zero` or a FIFO nobody writes to hung with no output:
// both are refused before they are opened, so a regression hangs this
// test rather than failing it.
func TestOpenRefusesNonRegularFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "staff.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "s.csv")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Path: "/dev/zero"}, "open csv: /dev/zero is not a regular file (character device); a pipe or device may never end or never be written to: give the path of the export file"},
		{Spec{Path: fifo}, "open csv: " + fifo + " is not a regular file (named pipe (FIFO))"},
		{Spec{Type: TypeXLSX, Path: fifo}, "staff.csv: " + fifo + " is not a regular file (named pipe (FIFO))"},
		{Spec{Type: TypeXLSX, Path: fifo, AllowNonRegular: true}, "is not a regular file (named pipe (FIFO))"},
		{Spec{Path: dir, AllowNonRegular: true}, "open csv: " + dir + " is a directory, not a file"},
		{Spec{Path: sock}, "open csv: " + sock + " is not a regular file (socket)"},
	} {
		r, err := Open(ctx, tc.spec)
		if err == nil {
			r.Close()
			t.Errorf("%+v: opened", tc.spec)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v\nwant it to contain %s", tc.spec, err, tc.want)
		}
	}
}

// With AllowNonRegular a pipe is read like a file, and a device that
// never ends, ends the read at the record limit.
func TestOpenAllowNonRegular(t *testing.T) {
	ctx := context.Background()
	fifo := filepath.Join(t.TempDir(), "staff.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		// Opening for writing waits for the reader, as a shell's would.
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = io.WriteString(w, "id,name\n1,Ann\n")
			err = errors.Join(err, w.Close())
		}
		done <- err
	}()
	r, err := Open(ctx, Spec{Path: fifo, AllowNonRegular: true})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(r)
	r.Close()
	if err != nil || len(rows) != 1 || rows[0].Values["name"] != "Ann" {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	r, err = Open(ctx, Spec{Path: "/dev/zero", AllowNonRegular: true})
	if err == nil {
		r.Close()
	}
	if err == nil || !strings.HasPrefix(err.Error(), "zero:1: line longer than 1 MiB") || len(err.Error()) > 500 {
		t.Fatalf("err = %v", err)
	}
}
