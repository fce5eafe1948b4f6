package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/plan"
)

// TestProgressLine: the line shows done/total, the rate and the time left,
// and an interrupted run's work left undone is not counted as done.
func TestProgressLine(t *testing.T) {
	var w bytes.Buffer
	p := newProgress(&w, false)
	p.live = true
	clock := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	var ops []plan.Op
	for range 10 {
		ops = append(ops, plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate})
	}
	p.plan(&plan.Plan{Ops: ops})
	for i := range 4 {
		p.result(executor.Result{Op: ops[i], Outcome: executor.OK})
		clock = clock.Add(time.Second)
	}
	p.result(executor.Result{Op: ops[4], Outcome: executor.OK})
	// 5 done in 4 s: 1.25/s, so the 5 left take 4 s.
	if last := lastLine(w.String()); !strings.Contains(last, "5/10") || !strings.Contains(last, "1/s") || !strings.Contains(last, "ETA 4s") {
		t.Errorf("progress line %q, want 5/10 at 1/s with 4s left", last)
	}
	for _, op := range ops[5:] {
		p.result(executor.Result{Op: op, Outcome: executor.Canceled})
	}
	if last := lastLine(w.String()); !strings.Contains(last, "5/10") || !strings.Contains(last, "5 not done") || strings.Contains(last, "ETA") {
		t.Errorf("after the interruption %q, want 5/10 with 5 not done and no ETA", last)
	}
}

func lastLine(s string) string {
	parts := strings.Split(s, "\r\033[K")
	return parts[len(parts)-1]
}

// TestProgressPhasesSideBySide: the executor runs phases side by side, so
// their results arrive interleaved; the status line shows every phase
// under way rather than starting a line at each switch, and a phase's
// line stays once all of it is done.
func TestProgressPhasesSideBySide(t *testing.T) {
	var w bytes.Buffer
	p := newProgress(&w, false)
	p.live = true
	var members, leavers []plan.Op
	for range 3 {
		members = append(members, plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate})
		leavers = append(leavers, plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDisable})
	}
	p.plan(&plan.Plan{Ops: append(append([]plan.Op(nil), members...), leavers...)})
	for i := range 2 {
		p.result(executor.Result{Op: members[i], Outcome: executor.OK})
		p.result(executor.Result{Op: leavers[i], Outcome: executor.OK})
	}
	if out, last := w.String(), lastLine(w.String()); strings.Contains(out, "\n") || !strings.Contains(last, "members      2/3") || !strings.Contains(last, "leavers      2/3") {
		t.Errorf("interleaved results: output %q, want one status line with members 2/3 and leavers 2/3", out)
	}
	p.result(executor.Result{Op: members[2], Outcome: executor.OK})
	kept, _, _ := strings.Cut(w.String()[strings.LastIndex(w.String(), "members"):], "\n")
	if strings.Count(w.String(), "\n") != 1 || !strings.HasPrefix(kept, "members      3/3") {
		t.Errorf("members done: output %q, want its final line kept", w.String())
	}
	if last := lastLine(w.String()); strings.Contains(last, "members") || !strings.Contains(last, "leavers      2/3") {
		t.Errorf("status line %q, want only leavers 2/3 under way", last)
	}
	p.result(executor.Result{Op: leavers[2], Outcome: executor.OK})
	p.finish()
	if n := strings.Count(w.String(), "\n"); n != 2 {
		t.Errorf("output %q: %d lines, want one per phase", w.String(), n)
	}
}
