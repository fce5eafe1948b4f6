package executor_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

const (
	corp   = "ww-exec"
	secret = "exec-secret"
	roSec  = "readonly-secret"
	newIP  = "new-ip-secret" // a sync secret on a newly added IP: 48009 on detail reads
)

type fixture struct {
	sim    *wecomsim.Server
	client *wecom.Client
	store  journal.Store
	runID  int64
}

func newFixture(t *testing.T, sec string) *fixture {
	t.Helper()
	return newFixtureWith(t, sec, nil)
}

// newFixtureWith is newFixture with the emulator's options adjusted first.
func newFixtureWith(t *testing.T, sec string, adjust func(*wecomsim.Options)) *fixture {
	t.Helper()
	opts := wecomsim.Options{CorpID: corp, Secrets: []wecomsim.Secret{
		{Value: secret, Kind: wecomsim.SyncEdit}, {Value: roSec, Kind: wecomsim.SyncReadOnly},
		{Value: newIP, Kind: wecomsim.SyncEdit, NewIP: true}}}
	if adjust != nil {
		adjust(&opts)
	}
	sim := wecomsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: corp, Secret: sec,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	store, err := journal.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	id, err := store.StartRun(context.Background(), journal.Run{Job: "t", CorpID: corp, Mode: "run", Status: journal.RunRunning})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{sim: sim, client: client, store: store, runID: id}
}

func (f *fixture) exec(t *testing.T, store journal.Store, ids map[string]int, ops ...plan.Op) (executor.Summary, error) {
	t.Helper()
	for i := range ops {
		ops[i].Seq = i + 1
	}
	ex := executor.New(executor.Config{Client: f.client, Store: store, RunID: f.runID, Concurrency: 3, DeptIDs: ids})
	return ex.Execute(context.Background(), &plan.Plan{Ops: ops})
}

func rec(id, dept string) *member.Record {
	return &member.Record{UserID: id, Name: "测试" + id, Mobile: "+86 1380000" + id[len(id)-4:], DeptKeys: []string{dept}, Enabled: true}
}

func deptCreate(key, name, parent string, level int) plan.Op {
	return plan.Op{Phase: plan.PhaseDepartments, Level: level, Kind: plan.DeptCreate, Target: key,
		Dept: &plan.Dept{Key: key, Name: name, ParentKey: parent}}
}

func TestCreatesParentsFirstAndRecordsState(t *testing.T) {
	f := newFixture(t, secret)
	sum, err := f.exec(t, f.store, nil,
		deptCreate("A", "A", "", 1), deptCreate("A/B", "B", "A", 2), deptCreate("A/B/C", "C", "A/B", 3),
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0001", After: rec("u0001", "A/B/C")},
	)
	if err != nil || sum.Failed != 0 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	st, err := f.store.LoadState(context.Background(), corp, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := st.Departments["A/B/C"]
	if c.WeComID == 0 || c.ParentID != st.Departments["A/B"].WeComID || st.Departments["A"].ParentID != 1 {
		t.Errorf("state departments: %+v", st.Departments)
	}
	if _, ok := st.Members["u0001"]; !ok {
		t.Errorf("member u0001 not in state")
	}
	snap := f.sim.Snapshot()
	if len(snap.Users) != 1 || snap.Users[0].Department[0] != c.WeComID {
		t.Errorf("emulator users: %+v", snap.Users)
	}
}

func TestExistingIsAdoptedNotDuplicated(t *testing.T) {
	f := newFixture(t, secret)
	ctx := context.Background()
	// Made by hand (or by a run that died before recording the answer).
	id, err := f.client.CreateDepartment(ctx, wecom.Department{Name: "A", ParentID: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.CreateUser(ctx, &wecom.User{UserID: "U0001", Name: "old", Mobile: "13900000001", Department: []int{id}}); err != nil {
		t.Fatal(err)
	}
	sum, err := f.exec(t, f.store, nil,
		deptCreate("A", "A", "", 1),
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0001", After: rec("u0001", "A")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts["department_create/adopted"] != 1 || sum.Counts["user_create/adopted"] != 1 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	snap := f.sim.Snapshot()
	if len(snap.Departments) != 2 || len(snap.Users) != 1 || snap.Users[0].Name != "测试u0001" {
		t.Errorf("emulator after adoption: %+v", snap)
	}
	st, _ := f.store.LoadState(ctx, corp, nil)
	if st.Departments["A"].WeComID != id {
		t.Errorf("adopted department id %d, want %d", st.Departments["A"].WeComID, id)
	}
	calls, _ := f.store.ListCalls(ctx, f.runID)
	var codes []int
	for _, c := range calls {
		codes = append(codes, c.Errcode)
	}
	if len(calls) != 4 {
		t.Errorf("want create(60008)+adopt and create(60102)+update journaled, got %d calls %v", len(calls), codes)
	}
}

func TestDeletingWhatIsGoneIsDone(t *testing.T) {
	f := newFixture(t, secret)
	sum, err := f.exec(t, f.store, nil,
		plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: "nobody"},
		plan.Op{Phase: plan.PhaseCleanup, Kind: plan.DeptDelete, Target: "X", Dept: &plan.Dept{Key: "X", ID: 4242}},
	)
	if err != nil || sum.Counts["user_delete/gone"] != 1 || sum.Counts["department_delete/gone"] != 1 || sum.Failed != 0 {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	calls, _ := f.store.ListCalls(context.Background(), f.runID)
	for _, c := range calls {
		if c.Outcome != journal.CallOK || (c.Errcode != 60111 && c.Errcode != 60003) {
			t.Errorf("call %s: outcome %s errcode %d; want ok with WeCom's not-found code", c.Operation, c.Outcome, c.Errcode)
		}
	}
}

func TestRowErrorsDoNotStopTheRun(t *testing.T) {
	f := newFixture(t, secret)
	bad := rec("u0002", "A")
	bad.Mobile = "not-a-mobile"
	sum, err := f.exec(t, f.store, nil,
		deptCreate("A", "A", "", 1),
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0002", After: bad},
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0003", After: rec("u0003", "A")},
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0004", After: rec("u0004", "Missing")},
	)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts["user_create/failed"] != 1 || sum.Counts["user_create/ok"] != 1 || sum.Counts["user_create/skipped"] != 1 || sum.Errcodes[60103] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	rejects, _ := f.store.ListRejects(context.Background(), f.runID)
	if len(rejects) != 1 || rejects[0].Rule != "dependency_failed" {
		t.Errorf("skipped op must leave a reject saying why: %+v", rejects)
	}
}

func TestConfigErrorStopsTheRun(t *testing.T) {
	f := newFixture(t, roSec) // read-only sync secret: writes answer 48002
	var ops []plan.Op
	for i := range 20 {
		ops = append(ops, deptCreate(string(rune('a'+i)), string(rune('a'+i)), "", 1))
	}
	sum, err := f.exec(t, f.store, nil, ops...)
	var fe *executor.FatalError
	if !errors.As(err, &fe) || wecom.CodeOf(err) != 48002 {
		t.Fatalf("want a fatal 48002, got %v", err)
	}
	if sent := f.sim.Stats()["department/create"]; sent > 3 {
		t.Errorf("after a config error the run went on: %d creates sent (3 workers)", sent)
	}
	if sum.Counts["department_create/canceled"] == 0 {
		t.Errorf("unsent operations must be counted canceled: %+v", sum)
	}
}

// failingStore is a real store whose BeginCall fails, as when PostgreSQL
// goes away mid-run.
type failingStore struct{ journal.Store }

func (failingStore) BeginCall(context.Context, journal.Call) (int64, error) {
	return 0, errors.New("connection refused")
}

func TestNoCallWithoutItsJournalRow(t *testing.T) {
	f := newFixture(t, secret)
	_, err := f.exec(t, failingStore{f.store}, nil, deptCreate("A", "A", "", 1))
	var fe *executor.FatalError
	if !errors.As(err, &fe) {
		t.Fatalf("want fatal, got %v", err)
	}
	if n := f.sim.Stats()["department/create"]; n != 0 {
		t.Errorf("%d department/create calls sent without a journal row", n)
	}
}

func TestCreateSendsMainDepartmentAndExtras(t *testing.T) {
	f := newFixture(t, secret)
	r := rec("u0005", "A")
	r.DeptKeys = []string{"A", "A/B"}
	r.MainDept = "A/B"
	r.ExternalPosition = "经理"
	r.ExtAttr = []byte(`[{"type":0,"name":"工号","text":{"value":"E5"}}]`)
	sum, err := f.exec(t, f.store, nil,
		deptCreate("A", "A", "", 1), deptCreate("A/B", "B", "A", 2),
		plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0005", After: r},
	)
	if err != nil || sum.Failed != 0 {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	st, _ := f.store.LoadState(context.Background(), corp, nil)
	snap := f.sim.Snapshot()
	if len(snap.Users) != 1 || snap.Users[0].MainDepartment != st.Departments["A/B"].WeComID {
		t.Errorf("main department not sent: %+v", snap.Users)
	}
}

// From a new IP department/list answers 48009: an existing department is
// adopted by id when it is the only one under its parent the journal does
// not know, and otherwise left as a row failure — never a stopped run.
func TestAdoptionFromNewIP(t *testing.T) {
	for _, tt := range []struct {
		name    string
		byHand  []string
		outcome executor.Outcome
	}{
		{"one unknown sibling", []string{"A"}, executor.Adopted},
		{"two unknown siblings", []string{"A", "Z"}, executor.Failed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, newIP)
			ctx := context.Background()
			ids := map[string]int{}
			for _, name := range tt.byHand {
				id, err := f.client.CreateDepartment(ctx, wecom.Department{Name: name, ParentID: 1})
				if err != nil {
					t.Fatal(err)
				}
				ids[name] = id
			}
			sum, err := f.exec(t, f.store, nil, deptCreate("A", "A", "", 1))
			if err != nil {
				t.Fatalf("a 48009 on adoption must not stop the run: %v", err)
			}
			if sum.Counts["department_create/"+string(tt.outcome)] != 1 {
				t.Fatalf("summary %+v, want department_create/%s", sum, tt.outcome)
			}
			st, _ := f.store.LoadState(ctx, corp, nil)
			if got := st.Departments["A"].WeComID; tt.outcome == executor.Adopted && got != ids["A"] {
				t.Errorf("adopted id %d, want %d", got, ids["A"])
			}
		})
	}
}
