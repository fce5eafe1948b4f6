package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/plan"
)

// progress shows a manual run's advance on a terminal: one status line,
// rewritten in place, with every phase under way (the executor runs
// phases side by side as far as their operations allow), each phase's
// final line kept once it is done, and failures printed as they happen.
// Cron and services get no progress lines (their stderr is not a
// terminal); they have the logs and the summary.
type progress struct {
	w        io.Writer
	live     bool // rewrite a status line in place
	failures bool // print failures as they happen

	mu       sync.Mutex
	totals   map[string]int
	done     map[string]int
	failed   map[string]int
	canceled map[string]int
	started  map[string]time.Time
	ended    map[string]bool
	now      func() time.Time
}

func newProgress(w io.Writer, failures bool) *progress {
	return &progress{w: w, live: isTerminal(w), failures: failures, now: time.Now,
		totals: map[string]int{}, done: map[string]int{}, failed: map[string]int{},
		canceled: map[string]int{}, started: map[string]time.Time{}, ended: map[string]bool{}}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) plan(pl *plan.Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, op := range pl.Ops {
		p.totals[op.Phase]++
	}
}

func (p *progress) result(r executor.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ph := r.Op.Phase
	if _, ok := p.started[ph]; !ok {
		p.started[ph] = p.now()
	}
	switch {
	case r.Outcome == executor.Canceled:
		// Not done: an interrupted run's remaining work is what resume
		// will do, and the line must not claim it.
		p.canceled[ph]++
	default:
		p.done[ph]++
		if bad := r.Outcome == executor.Failed || r.Outcome == executor.Skipped; bad {
			p.failed[ph]++
			if p.failures {
				if p.live {
					fmt.Fprint(p.w, "\r\033[K")
				}
				fmt.Fprintf(p.w, "  %s %s %s: %v\n", strings.ToUpper(string(r.Outcome)), r.Op.Kind, r.Op.Target, r.Err)
			}
		}
	}
	if !p.live {
		return
	}
	if p.done[ph]+p.canceled[ph] == p.totals[ph] {
		p.ended[ph] = true
		fmt.Fprint(p.w, "\r\033[K")
		p.line(ph)
		fmt.Fprintln(p.w)
	}
	p.status()
}

// running lists the phases under way, in plan order.
func (p *progress) running() []string {
	var out []string
	for _, ph := range plan.Phases {
		if _, ok := p.started[ph]; ok && !p.ended[ph] {
			out = append(out, ph)
		}
	}
	return out
}

// status rewrites the status line with every phase under way.
func (p *progress) status() {
	phases := p.running()
	if len(phases) == 0 {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
	for _, ph := range phases {
		p.line(ph)
	}
}

func (p *progress) line(ph string) {
	fmt.Fprintf(p.w, "  %-12s %d/%d", ph, p.done[ph], p.totals[ph])
	if n := p.failed[ph]; n > 0 {
		fmt.Fprintf(p.w, "  (%d failed)", n)
	}
	if n := p.canceled[ph]; n > 0 {
		fmt.Fprintf(p.w, "  (%d not done: interrupted)", n)
	}
	// A rate and what is left at that rate, once there is a rate to go by.
	if elapsed := p.now().Sub(p.started[ph]); p.done[ph] > 1 && elapsed > 0 {
		rate := float64(p.done[ph]) / elapsed.Seconds()
		fmt.Fprintf(p.w, "  %.0f/s", rate)
		if left := p.totals[ph] - p.done[ph] - p.canceled[ph]; left > 0 && p.canceled[ph] == 0 {
			fmt.Fprintf(p.w, "  ETA %s", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
		}
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live && len(p.running()) > 0 {
		p.status()
		fmt.Fprintln(p.w)
	}
}
