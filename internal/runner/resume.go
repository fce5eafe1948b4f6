package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
)

// reconcile prepares a resume of run origin. Calls the origin left pending
// (the process died between journaling a call and recording its answer)
// are closed as interrupted: whether they took effect is settled by the new
// plan, which sees WeCom's live directory, and a create that did take
// effect is adopted rather than repeated. A run that never finished is
// marked failed so it no longer looks alive. It returns the targets whose
// calls failed with a row error, which the resume leaves alone unless
// Reload is set.
func reconcile(ctx context.Context, p Params, runID int64) (map[string]bool, error) {
	origin, err := p.Store.GetRun(ctx, p.ResumedFrom)
	if err != nil {
		return nil, fmt.Errorf("resume run %d: %w", p.ResumedFrom, err)
	}
	calls, err := p.Store.ListCalls(ctx, origin.ID)
	if err != nil {
		return nil, fmt.Errorf("resume run %d: %w", origin.ID, err)
	}
	skip := map[string]bool{}
	pending := 0
	for _, c := range calls {
		switch {
		case c.Outcome == journal.CallPending:
			pending++
			msg := fmt.Sprintf("no answer recorded (the run was interrupted); reconciled against WeCom by run %d", runID)
			err := p.Store.CompleteCall(ctx, c.ID, journal.CallFailed, 0, msg, nil)
			if err != nil && !errors.Is(err, journal.ErrCompleted) {
				return nil, fmt.Errorf("resume run %d: close call %d: %w", origin.ID, c.ID, err)
			}
		case c.Outcome == journal.CallFailed && !p.Reload && wecom.ClassifyCode(c.API, c.Errcode) == wecom.ClassRow:
			skip[strings.ToLower(c.Target)] = true
		}
	}
	// A later successful attempt on the same target clears the skip: the
	// row error was followed by something that worked (e.g. 60102 → adopt).
	for _, c := range calls {
		if c.Outcome == journal.CallOK {
			delete(skip, strings.ToLower(c.Target))
		}
	}
	if origin.Status == journal.RunRunning {
		err := p.Store.FinishRun(ctx, origin.ID, journal.RunFailed, map[string]int{"interrupted_calls": pending})
		if err != nil && !errors.Is(err, journal.ErrCompleted) {
			return nil, fmt.Errorf("resume run %d: %w", origin.ID, err)
		}
	}
	return skip, nil
}
