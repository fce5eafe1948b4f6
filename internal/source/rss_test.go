//go:build linux

package source

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestPeakRSS measures the peak resident memory (VmHWM) of reading each
// 100,000-row benchmark input in a fresh process, so that neither the
// generated input nor a previous case is counted. It is slow (it builds
// the inputs), so it runs only when asked:
//
//	HRFEED_RSS=1 CI=true go test -run TestPeakRSS -v ./internal/source/
//
// The figures are logged, not asserted: the budgets (CSV ≤ 50 MB,
// xlsx ≤ 100 MB) are checked by a person reading them, like speed.
func TestPeakRSS(t *testing.T) {
	if os.Getenv(rssChildEnv) != "" {
		rssChild(t)
		return
	}
	if os.Getenv("HRFEED_RSS") == "" {
		t.Skip("set HRFEED_RSS=1 to measure peak RSS")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: peak RSS is read from /proc/self/status")
	}
	dir := t.TempDir()
	utf8 := bigCSV(benchRows)
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(utf8)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xlsx := filepath.Join(dir, "staff.xlsx")
	writeStaffWorkbook(t, xlsx, benchRows)
	cases := []struct{ name, typ, arg string }{
		{"baseline (no read)", "none", ""},
		{"csv utf-8", TypeCSV, write("utf8.csv", utf8)},
		{"csv gb18030", TypeCSV, write("gb.csv", gb)},
		{"xlsx shared strings", TypeXLSX, xlsx},
		{"postgres view", TypePostgres, pgStaff(t, benchRows)},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), rssChildEnv+"="+c.typ, rssArgEnv+"="+c.arg)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		var hwm, rows int
		var ms, cpu int
		for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
			if _, err := fmt.Sscanf(sc.Text(), "RSS %d kB %d rows %d ms %d cpu-ms", &hwm, &rows, &ms, &cpu); err == nil {
				break
			}
		}
		if hwm == 0 {
			t.Fatalf("%s: no measurement in\n%s", c.name, out)
		}
		// CPU time (user+system, all threads) next to wall time: on a
		// busy machine the wall time says more about the neighbours.
		t.Logf("%-20s %7d rows  peak RSS %6.1f MB  wall %6d ms  cpu %6d ms", c.name, rows, float64(hwm)/1024, ms, cpu)
	}
}

const (
	rssChildEnv = "HRFEED_RSS_CHILD"
	rssArgEnv   = "HRFEED_RSS_ARG"
)

func rssChild(t *testing.T) {
	typ, arg := os.Getenv(rssChildEnv), os.Getenv(rssArgEnv)
	start := time.Now()
	rows := 0
	if typ != "none" {
		spec := Spec{Type: typ, Path: arg, Columns: bigColumns}
		if typ == TypePostgres {
			spec = Spec{Type: typ, DSN: arg, View: "hr.staff_v", Key: "emp_no"}
		}
		r, err := Open(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			rows++
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				t.Fatal(err)
			}
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			fmt.Printf("RSS %d kB %d rows %d ms %d cpu-ms\n", kb, rows, took.Milliseconds(), cpu.Milliseconds())
			return
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
}
