//go:build unix

package schedule

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
)

// lockChildEnv makes the test binary a process that runs job "staff" on
// the embedded journal it names until it is killed.
const lockChildEnv = "HRFEED_LOCK_CHILD_JOURNAL"

// TestEmbeddedJobLockAcrossProcesses runs a job in one process and tries
// it from another on the same journal file: the second is refused with the
// first's pid and run, and once the first is killed with SIGKILL, which
// gives it no chance to unlock anything, the job can be taken again.
func TestEmbeddedJobLockAcrossProcesses(t *testing.T) {
	if path := os.Getenv(lockChildEnv); path != "" {
		lockChild(path)
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmbeddedJobLockAcrossProcesses$")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // held open: the child runs until killed
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	var childRun int64
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "running run %d", &childRun); err == nil {
			break
		}
	}
	if childRun == 0 {
		t.Fatalf("the child did not start its run: %v", lines.Err())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	st, err := journal.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, _ := os.Hostname()
	childOwner := fmt.Sprintf("%s:%d", host, cmd.Process.Pid)

	called := false
	err = WithJobLock(ctx, st, "staff", func(context.Context, journal.Store) error { called = true; return nil })
	var busy *journal.JobBusyError
	if !errors.As(err, &busy) || called {
		t.Fatalf("second process: %v, fn called %v; want a *journal.JobBusyError", err, called)
	}
	if busy.Owner != childOwner || busy.RunID != childRun || busy.Since.IsZero() {
		t.Errorf("busy %+v, want owner %s and run %d", busy, childOwner, childRun)
	}
	if msg := busy.Error(); !strings.Contains(msg, childOwner) || !strings.Contains(msg, fmt.Sprintf("(run %d)", childRun)) {
		t.Errorf("message %q does not name the holder and its run", msg)
	}
	// Another job is independent, and so is a second lock in one process.
	other, err := st.TryLockJob(ctx, "contractors", journal.LockOptions{Owner: "test:1"})
	if err != nil {
		t.Fatalf("another job: %v", err)
	}
	if _, err := st.TryLockJob(ctx, "contractors", journal.LockOptions{Owner: "test:2"}); !errors.As(err, &busy) || busy.Owner != "test:1" {
		t.Errorf("second lock in the same process: %v, want busy naming test:1", err)
	}
	other.Release()

	// A run whose holder lives is not stale, however old its lease.
	if stale, err := st.StaleRuns(ctx, []string{"staff"}, 0); err != nil || len(stale) != 0 {
		t.Errorf("stale runs while the holder lives: %+v, %v", stale, err)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	// Its run is left running, and the free lock says its holder is gone.
	stale, err := st.StaleRuns(ctx, []string{"staff"}, time.Hour)
	if err != nil || len(stale) != 1 || stale[0].RunID != childRun || stale[0].Owner != childOwner {
		t.Errorf("stale runs %+v, %v; want the killed holder's run %d", stale, err, childRun)
	}
	lock, err := st.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "test:1"})
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	defer lock.Release()
	if p := lock.Previous; p.Owner != childOwner || p.RunID != childRun || !p.Gone {
		t.Errorf("previous %+v, want the killed holder %s, gone, and its run %d", p, childOwner, childRun)
	}
}

func lockChild(path string) {
	ctx := context.Background()
	st, err := journal.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	err = WithJobLock(ctx, st, "staff", func(ctx context.Context, st journal.Store) error {
		id, err := st.StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", StartedAt: time.Now()})
		if err != nil {
			return err
		}
		fmt.Printf("running run %d\n", id)
		_, _ = io.Copy(io.Discard, os.Stdin)
		return nil
	})
	fmt.Fprintln(os.Stderr, "child:", err)
	os.Exit(4)
}
