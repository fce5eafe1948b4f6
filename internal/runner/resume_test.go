package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
)

// crashedRun records a run of the job that died with one call in flight,
// as a killed process leaves it: the run running, the call pending.
func (e *env) crashedRun(op plan.Kind, api, target string, payload any) int64 {
	e.t.Helper()
	ctx := context.Background()
	id, err := e.store.StartRun(ctx, journal.Run{Job: e.cfg.Jobs[0].Name, CorpID: corpID, Source: e.feed,
		Mode: "run", Status: journal.RunRunning, StartedAt: time.Now()})
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := json.Marshal(payload)
	if _, err := e.store.BeginCall(ctx, journal.Call{RunID: id, Seq: 1, Phase: plan.PhaseLeavers, Operation: string(op), API: api,
		Target: target, Payload: body, Attempt: 1}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// TestLostDeleteAnswerAndCrashedRunClosed: a delete that took effect but
// whose answer never came is settled by the live listing, so the state
// forgets the member; the run the process left running is closed as
// interrupted by the next ordinary run, not left running forever.
func TestLostDeleteAnswerAndCrashedRunClosed(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.cfg.Jobs[0].Policy.Leavers = plan.LeaversDelete
		e.firstImport()
		e.editFeed(map[string]string{"E1029": ""})
		crashed := e.crashedRun(plan.UserDelete, "user/delete", "E1029", map[string]string{"userid": "E1029"})
		if err := e.client.DeleteUser(ctx, "E1029"); err != nil { // WeCom applied it; the answer was lost
			t.Fatal(err)
		}
		rep := e.run(nil)
		if rep.Status != journal.RunDone {
			t.Fatalf("run: %s %v", rep.Status, rep.Fatal)
		}
		old, err := e.store.GetRun(ctx, crashed)
		if err != nil {
			t.Fatal(err)
		}
		if old.Status != journal.RunInterrupted {
			t.Errorf("crashed run %d is %s, want %s", crashed, old.Status, journal.RunInterrupted)
		}
		calls, err := e.store.ListCalls(ctx, crashed)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0].Outcome != journal.CallOK {
			t.Errorf("the lost delete is recorded as %+v, want ok (WeCom no longer lists E1029)", calls)
		}
		state, err := e.store.LoadState(ctx, corpID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := state.Members["e1029"]; ok {
			t.Error("the state still holds E1029, whom WeCom deleted")
		}
	})
}

// TestResumeNeverGoesBack: a run superseded by a later one cannot be
// resumed, and the newest run cannot be resumed against a source that
// changed since it read it, unless asked to re-plan.
func TestResumeNeverGoesBack(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		monday := e.run(nil) // done; stands for Monday's run that was interrupted
		crashed := e.crashedRun(plan.UserUpdate, "user/update", "E1010", map[string]string{"userid": "E1010"})
		e.editFeed(map[string]string{"E1010": sampleLine(t, "E1010", 5, "架构师")})
		tuesday := e.run(nil)
		if tuesday.Status != journal.RunDone {
			t.Fatalf("tuesday: %s", tuesday.Status)
		}
		for _, id := range []int64{monday.RunID, crashed} {
			prev, err := e.store.GetRun(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var sup *runner.SupersededError
			if err := runner.CheckResume(ctx, e.store, prev, false); !errors.As(err, &sup) || sup.By != tuesday.RunID {
				t.Errorf("resume %d: %v, want superseded by %d", id, err, tuesday.RunID)
			}
		}

		// The newest run, but HR replaced the file since.
		e.editFeed(map[string]string{"E1010": sampleLine(t, "E1010", 5, "首席架构师")})
		prev, err := e.store.GetRun(ctx, tuesday.RunID)
		if err != nil {
			t.Fatal(err)
		}
		var changed *runner.SourceChangedError
		if err := runner.CheckResume(ctx, e.store, prev, false); !errors.As(err, &changed) || !strings.Contains(err.Error(), "--replan") {
			t.Errorf("resume after the file changed: %v, want SourceChangedError naming --replan", err)
		}
		if err := runner.CheckResume(ctx, e.store, prev, true); err != nil {
			t.Errorf("resume --replan: %v", err)
		}
	})
}

// TestAbandonedRunMarkedFailedIsSettled: serve with resume_stale false
// marks an abandoned run failed, counted abandoned; the next run still
// settles its unanswered calls, so the state follows WeCom.
func TestAbandonedRunMarkedFailedIsSettled(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.cfg.Jobs[0].Policy.Leavers = plan.LeaversDelete
		e.firstImport()
		e.editFeed(map[string]string{"E1029": ""})
		abandoned := e.crashedRun(plan.UserDelete, "user/delete", "E1029", map[string]string{"userid": "E1029"})
		if err := e.store.FinishRun(ctx, abandoned, journal.RunFailed, map[string]int{"abandoned": 1}); err != nil {
			t.Fatal(err)
		}
		if err := e.client.DeleteUser(ctx, "E1029"); err != nil {
			t.Fatal(err)
		}
		if rep := e.run(nil); rep.Status != journal.RunDone {
			t.Fatalf("run: %s %v", rep.Status, rep.Fatal)
		}
		calls, err := e.store.ListCalls(ctx, abandoned)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0].Outcome != journal.CallOK {
			t.Errorf("the abandoned run's delete is %+v, want settled ok by the live listing", calls)
		}
		state, _ := e.store.LoadState(ctx, corpID, nil)
		if _, ok := state.Members["e1029"]; ok {
			t.Error("the state still holds E1029, whom WeCom deleted")
		}
	})
}

// TestMemberCallsAcrossRuns: the journal finds one member's calls across
// runs, oldest first, whatever the case of the userid asked for.
func TestMemberCallsAcrossRuns(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.firstImport()
		e.editFeed(map[string]string{"E1010": sampleLine(t, "E1010", 5, "架构师")})
		second := e.run(nil)
		calls, err := e.store.MemberCalls(ctx, "e1010")
		if err != nil {
			t.Fatal(err)
		}
		var ops []string
		for _, c := range calls {
			ops = append(ops, c.Operation)
		}
		if len(calls) != 2 || ops[0] != "user_create" || ops[1] != "user_update" || calls[1].RunID != second.RunID {
			t.Errorf("calls about E1010: %v", ops)
		}
	})
}

// TestResumeRefusesARunOfAnotherCorp: once the config has moved a job to
// another corp, a run of the old corp is not resumed (its pending calls
// would be settled against the new corp's directory): nothing is recorded
// and the old run is left as it was, for the journal to show.
func TestResumeRefusesARunOfAnotherCorp(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	ctx := context.Background()
	crashed := e.crashedRun(plan.UserCreate, "user/create", "E1001", map[string]string{"userid": "E1001"})
	e.cfg.Corps = map[string]config.WeCom{"other": {CorpID: "ww-other", SecretEnv: "WECOM_SECRET_OTHER"}}
	e.cfg.Jobs[0].Corp = "other"
	p, err := runner.ForJob(e.cfg, "", runner.Options{Source: e.feed, Store: e.store, ResumedFrom: crashed})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := runner.Run(ctx, p)
	var moved *runner.CorpChangedError
	if !errors.As(err, &moved) || rep != nil || moved.Was != corpID || moved.Now != "ww-other" {
		t.Fatalf("resume of a %s run as corp ww-other: %v, %v; want a CorpChangedError", corpID, rep, err)
	}
	runs, err := e.store.ListRuns(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := e.store.ListCalls(ctx, crashed)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || len(calls) != 1 {
		t.Fatalf("after the refusal: %d runs, the crashed run has %d calls; want the crashed run alone, with its call", len(runs), len(calls))
	}
	if runs[0].Status != journal.RunRunning || calls[0].Outcome != journal.CallPending {
		t.Errorf("after the refusal: the crashed run is %s, its call %s; want them untouched", runs[0].Status, calls[0].Outcome)
	}
}
