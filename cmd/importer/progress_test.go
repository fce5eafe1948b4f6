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
