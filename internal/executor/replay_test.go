package executor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// A delete whose connection dropped after WeCom applied it is an unknown
// outcome; the client's retry learns the answer (60111 or 60003: already
// gone), and that is the outcome the operation wanted. Each request has its
// own journal row: the lost one failed, the retry ok with WeCom's code.
func TestDeleteWhoseAnswerWasLostIsGone(t *testing.T) {
	f := newFixture(t, secret)
	ctx := context.Background()
	id, err := f.client.CreateDepartment(ctx, wecom.Department{Name: "X", ParentID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.CreateUser(ctx, &wecom.User{UserID: "u0009", Name: "n", Mobile: "13900000009", Department: []int{1}}); err != nil {
		t.Fatal(err)
	}
	f.sim.InjectFaults(-3, 0, -3) // applied, then the connection dropped
	sum, err := f.exec(t, f.store, nil,
		plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: "u0009"},
		plan.Op{Phase: plan.PhaseCleanup, Kind: plan.DeptDelete, Target: "X", Dept: &plan.Dept{Key: "X", ID: id}},
	)
	if err != nil || sum.Counts["user_delete/gone"] != 1 || sum.Counts["department_delete/gone"] != 1 || sum.Failed != 0 {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	calls, _ := f.store.ListCalls(ctx, f.runID)
	type row struct {
		api     string
		attempt int
		outcome journal.CallOutcome
		errcode int
	}
	var got []row
	for _, c := range calls {
		got = append(got, row{c.API, c.Attempt, c.Outcome, c.Errcode})
	}
	want := []row{
		{"user/delete", 1, journal.CallFailed, -1}, {"user/delete", 2, journal.CallOK, 60111},
		{"department/delete", 1, journal.CallFailed, -1}, {"department/delete", 2, journal.CallOK, 60003},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("journal rows\n got %v\nwant %v", got, want)
	}
	if st := f.sim.Stats(); st["user/delete"] != 2 || st["department/delete"] != 2 {
		t.Errorf("emulator received %d user/delete and %d department/delete, want 2 each (one row each)", st["user/delete"], st["department/delete"])
	}
}

// The fault campaign's law under dropped connections: every request that
// reaches WeCom has exactly one journal row, written before it left. Over
// real keep-alive connections, where net/http would replay a dropped GET
// on its own if the client let it.
func TestEveryRequestHasItsJournalRowUnderDrops(t *testing.T) {
	f := newFixtureWith(t, secret, func(o *wecomsim.Options) { o.DropRate, o.Seed = 0.2, 7 })
	sim, client, store, runID := f.sim, f.client, f.store, f.runID
	const n = 200
	var ops []plan.Op
	for i := range n {
		ops = append(ops, plan.Op{Seq: i + 1, Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: fmt.Sprintf("gone%04d", i)})
	}
	ex := executor.New(executor.Config{Client: client, Store: store, RunID: runID, Concurrency: 4})
	sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	calls, err := store.ListCalls(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	sent := sim.Stats()["user/delete"]
	t.Logf("%d deletes: %d requests reached the emulator, %d journal rows; %+v", n, sent, len(calls), sum.Counts)
	if sent != len(calls) {
		t.Errorf("the emulator received %d user/delete requests, the journal has %d rows", sent, len(calls))
	}
	if sum.Counts["user_delete/gone"]+sum.Counts["user_delete/failed"] != n {
		t.Errorf("summary %+v: every delete of an absent member is gone, or failed after its retries", sum.Counts)
	}
}
