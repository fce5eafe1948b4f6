//go:build linux

package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// vmHWM is a process's peak resident set size in bytes, from
// /proc/<pid>/status; 0 once the process is gone.
//
// rusage's ru_maxrss would be simpler but is wrong for a child of a large
// process: Go starts children with vfork semantics, so at exec the kernel
// folds the *parent's* peak RSS into the child's maxrss, and every child of
// a bench holding a 100,000-member directory would report the bench's
// size. VmHWM belongs to the child's own address space, created at exec.
func vmHWM(pid string) int64 {
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// watchRSS samples a running child's VmHWM every 5 ms until stop is
// closed and returns the last value seen. VmHWM only grows, so the
// sample misses at most what the child added in its last 5 ms.
func watchRSS(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		id := strconv.Itoa(pid)
		var peak int64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, vmHWM(id))
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// selfPeakRSS is this process's own VmHWM, exact, for a child to report.
func selfPeakRSS() int64 { return vmHWM("self") }
