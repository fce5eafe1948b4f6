package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	corpID = "ww-test"
	secret = "s3cret-sync-value"
)

var writeAPIs = []string{"user/create", "user/update", "user/delete", "department/create", "department/update", "department/delete",
	wecom.APITagCreate, wecom.APITagUpdate, wecom.APITagDelete, wecom.APITagAddUsers, wecom.APITagDelUsers}

type env struct {
	t      *testing.T
	sim    *wecomsim.Server
	client *wecom.Client
	store  journal.Store
	cfg    *config.Config
	feed   string
}

func newEnv(t *testing.T, store journal.Store) *env {
	t.Helper()
	sim := wecomsim.New(wecomsim.Options{CorpID: corpID, Secrets: []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: corpID, Secret: secret,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WeCom.CorpID = corpID
	feed := filepath.Join(t.TempDir(), "staff.csv")
	if err := os.WriteFile(feed, samples.StaffCSV, 0o644); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sim: sim, client: client, store: store, cfg: cfg, feed: feed}
}

// clientFor is the emulator's client, for its one corp.
func (e *env) clientFor(corp config.Corp) (runner.Client, error) {
	if corp.CorpID != corpID {
		e.t.Fatalf("a client for corp %s, want %s", corp.CorpID, corpID)
	}
	return e.client, nil
}

func (e *env) writes() map[string]int {
	stats := e.sim.Stats()
	out := map[string]int{}
	for _, api := range writeAPIs {
		if stats[api] > 0 {
			out[api] = stats[api]
		}
	}
	return out
}

func (e *env) run(params func(*runner.Params)) *runner.Report {
	e.t.Helper()
	p, err := runner.ForJob(e.cfg, "", runner.Options{Source: e.feed, Store: e.store, Clients: e.clientFor})
	if err != nil {
		e.t.Fatal(err)
	}
	p.Concurrency = 4
	if params != nil {
		params(&p)
	}
	rep, err := runner.Run(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func sqliteStore(t *testing.T) journal.Store {
	st, err := journal.Open(context.Background(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func postgresStore(t *testing.T) journal.Store {
	st, err := journal.Open(context.Background(), pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestImportEndToEnd(t *testing.T) {
	for name, open := range map[string]func(*testing.T) journal.Store{"sqlite": sqliteStore, "postgres": postgresStore} {
		t.Run(name, func(t *testing.T) { testImportEndToEnd(t, open(t)) })
	}
}

func testImportEndToEnd(t *testing.T, store journal.Store) {
	e := newEnv(t, store)
	ctx := context.Background()

	first := e.run(nil)
	if first.Status != journal.RunDone {
		t.Fatalf("first run: status %s, fatal %v, rejects %v, summary %+v", first.Status, first.Fatal, first.Rejects, first.Summary)
	}
	if first.Rows != 30 {
		t.Errorf("rows = %d, want 30", first.Rows)
	}
	snap := e.sim.Snapshot()
	// 12 HR departments plus WeCom's root; 29 staff (the leaver in the feed is never created).
	if len(snap.Departments) != 13 || len(snap.Users) != 29 {
		t.Fatalf("emulator holds %d departments and %d users, want 13 and 29", len(snap.Departments), len(snap.Users))
	}
	byID := map[int]wecomsim.SnapDept{}
	for _, d := range snap.Departments {
		byID[d.ID] = d
	}
	var e1010 *wecomsim.SnapUser
	for i := range snap.Users {
		if snap.Users[i].UserID == "E1010" {
			e1010 = &snap.Users[i]
		}
		if snap.Users[i].UserID == "E1030" {
			t.Errorf("leaver E1030 was created")
		}
	}
	if e1010 == nil {
		t.Fatal("E1010 not in WeCom")
	}
	if len(e1010.Department) != 1 || byID[e1010.Department[0]].Name != "后端组" || byID[byID[e1010.Department[0]].ParentID].Name != "研发中心" {
		t.Errorf("E1010 departments %v do not resolve to 研发中心/后端组", e1010.Department)
	}
	if strings.Join(e1010.DirectLeader, ",") != "E1009" || e1010.Position != "高级工程师" || e1010.Mobile != "13800138010" {
		t.Errorf("E1010 = %+v", *e1010)
	}

	// Every write the emulator received has its completed journal row.
	calls, err := store.ListCalls(ctx, first.RunID)
	if err != nil {
		t.Fatal(err)
	}
	journaled := map[string]int{}
	for _, c := range calls {
		if c.Outcome == journal.CallPending {
			t.Errorf("call %d %s %s left pending", c.Seq, c.Operation, c.Target)
		}
		journaled[c.API]++
		for _, leak := range []string{secret, "access_token"} {
			if bytes.Contains(c.Payload, []byte(leak)) || strings.Contains(c.Errmsg, leak) {
				t.Errorf("call %d leaks %q: %s %s", c.Seq, leak, c.Payload, c.Errmsg)
			}
		}
	}
	if got, want := journaled, e.writes(); !equalCounts(got, want) {
		t.Errorf("journal rows per API %v, emulator writes %v", got, want)
	}

	// The same feed again: nothing to send.
	before := e.writes()
	second := e.run(nil)
	if second.Status != journal.RunDone || len(second.Plan.Ops) != 0 {
		t.Fatalf("second run: status %s, %d ops planned", second.Status, len(second.Plan.Ops))
	}
	if after := e.writes(); !equalCounts(before, after) {
		t.Errorf("second run wrote: before %v after %v", before, after)
	}

	// One changed field: exactly one update carrying that field.
	changed := bytes.Replace(samples.StaffCSV, []byte("E1011,徐强,13800138011,xuqiang@example.com,总部/研发中心/后端组,工程师"),
		[]byte("E1011,徐强,13800138011,xuqiang@example.com,总部/研发中心/后端组,架构师"), 1)
	if err := os.WriteFile(e.feed, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	third := e.run(nil)
	if third.Status != journal.RunDone || third.Summary.Counts["user_update/ok"] != 1 || len(third.Plan.Ops) != 1 {
		t.Fatalf("third run: status %s, counts %v", third.Status, third.Summary.Counts)
	}
	calls, err = store.ListCalls(ctx, third.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	if len(calls) != 1 || json.Unmarshal(calls[0].Payload, &sent) != nil || len(sent) != 2 || sent["position"] != "架构师" || sent["userid"] != "E1011" {
		t.Errorf("third run calls: %+v", calls)
	}

	runs, err := store.ListRuns(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 {
		t.Errorf("journal lists %d runs, want 3", len(runs))
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFaultMix runs the sample import through an emulator that answers 20%
// of calls with transient faults (system busy, HTTP 5xx, concurrency
// limit, dropped connections, effects whose answer is lost), a burst of
// 45009 and an early token invalidation; resume finishes what the run
// could not, and no row is lost.
func TestFaultMix(t *testing.T) {
	store := sqliteStore(t)
	sim := wecomsim.New(wecomsim.Options{CorpID: corpID, Secrets: []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}},
		FailRate: 0.2, FailCodes: []int{-1, -1, -1, 500, 502, 45033, -2, -3}, Seed: 7})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: corpID, Secret: secret, MaxRetries: 2,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, store)
	e.sim, e.client = sim, client

	stop := make(chan struct{})
	go func() {
		for sim.Stats()["user/create"] < 10 {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
		sim.InjectFaults(45009, 45009, 45009, 45009)
		sim.InvalidateTokens()
	}()
	rep := e.run(nil)
	close(stop)
	for i := 0; rep.Status != journal.RunDone; i++ {
		if i == 5 {
			t.Fatalf("not done after 5 resumes: %s %+v", rep.Status, rep.Summary)
		}
		if rep.Status != journal.RunPartial {
			t.Fatalf("run %d: status %s (fatal %v)", rep.RunID, rep.Status, rep.Fatal)
		}
		prev := rep.RunID
		rep = e.run(func(p *runner.Params) { p.ResumedFrom = prev })
	}
	snap := sim.Snapshot()
	if len(snap.Users) != 29 || len(snap.Departments) != 13 {
		t.Fatalf("after faults and resume: %d users, %d departments", len(snap.Users), len(snap.Departments))
	}
	for _, u := range snap.Users {
		if u.UserID != "E1001" && len(u.DirectLeader) != 1 {
			t.Errorf("%s lost its leader: %+v", u.UserID, u)
		}
	}
	final := e.run(nil)
	if final.Status != journal.RunDone || len(final.Plan.Ops) != 0 {
		t.Errorf("a run after recovery plans %d ops", len(final.Plan.Ops))
	}
	faults := 0
	for _, c := range sim.CallLog() {
		if c.Errcode != 0 || c.Dropped {
			faults++
		}
	}
	if faults < 10 {
		t.Fatalf("only %d faulted calls: the test did not exercise recovery", faults)
	}
	t.Logf("%d faulted calls; finished after run %d", faults, rep.RunID)

	// Every attempt WeCom received, faulted or not, has its journal row.
	journaled := map[string]int{}
	for id := int64(1); id <= final.RunID; id++ {
		calls, err := store.ListCalls(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			journaled[c.API]++
			if c.Outcome == journal.CallPending {
				t.Errorf("call %d (%s %s) left pending", c.ID, c.Operation, c.Target)
			}
		}
	}
	received := map[string]int{}
	for _, c := range sim.CallLog() {
		if slices.Contains(writeAPIs, c.API) {
			received[c.API]++
		}
	}
	for api, n := range received {
		if journaled[api] < n {
			t.Errorf("%s: WeCom received %d attempts, the journal has %d rows", api, n, journaled[api])
		}
	}
	creates := map[string]int{}
	for _, c := range sim.CallLog() {
		if c.API == "user/create" && c.Errcode == 0 {
			creates[c.Target]++
		}
	}
	for id, n := range creates {
		if n != 1 {
			t.Errorf("%s created %d times", id, n)
		}
	}
}

// TestDepartmentTableRenameAndMove: departments keyed by HR code are
// renamed and moved in place (department/update), never deleted and made
// again, so their WeCom ids and members stay.
func TestDepartmentTableRenameAndMove(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("importer.yaml", `
wecom: {base_url: "http://127.0.0.1:1", corp_id: ww-test}
jobs:
  - name: table
    source: {path: members.csv}
    department_source: {path: departments.csv}
    mapping:
      fields: {userid: 工号, name: 姓名, mobile: 手机}
      departments:
        table: {id_column: 部门编码, parent_column: 上级部门编码, name_column: 部门名称}
        department_code_column: 部门编码
`)
	write("departments.csv", "部门编码,部门名称,上级部门编码\nD1,总部,\nD2,研发中心,D1\nD3,后端组,D2\nD4,销售部,D1\n")
	write("members.csv", "工号,姓名,手机,部门编码\nE1,张三,13800000001,D3\nE2,李四,13800000002,D4\n")
	cfg, err := config.Load(filepath.Join(dir, "importer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sqliteStore(t))
	e.cfg = cfg
	spec, err := cfg.DepartmentSpec(&cfg.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	run := func() *runner.Report {
		return e.run(func(p *runner.Params) {
			p.SourcePath = filepath.Join(dir, "members.csv")
			p.DepartmentSpec = spec
		})
	}
	if rep := run(); rep.Status != journal.RunDone {
		t.Fatalf("first run: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
	}
	ids := map[string]int{}
	for _, d := range e.sim.Snapshot().Departments {
		ids[d.Name] = d.ID
	}

	// HR renames 后端组 and moves it under 销售部.
	write("departments.csv", "部门编码,部门名称,上级部门编码\nD1,总部,\nD2,研发中心,D1\nD3,服务端组,D4\nD4,销售部,D1\n")
	rep := run()
	if rep.Status != journal.RunDone || rep.Summary.Counts["department_update/ok"] != 1 || len(rep.Plan.Ops) != 1 {
		t.Fatalf("rename+move: %s, counts %v", rep.Status, rep.Summary.Counts)
	}
	var moved wecomsim.SnapDept
	for _, d := range e.sim.Snapshot().Departments {
		if d.Name == "服务端组" {
			moved = d
		}
	}
	if moved.ID != ids["后端组"] || moved.ParentID != ids["销售部"] {
		t.Errorf("renamed department %+v: want id %d under %d", moved, ids["后端组"], ids["销售部"])
	}
	for _, u := range e.sim.Snapshot().Users {
		if u.UserID == "E1" && (len(u.Department) != 1 || u.Department[0] != moved.ID) {
			t.Errorf("E1 lost its department: %v", u.Department)
		}
	}
}
