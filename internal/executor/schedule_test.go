package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// These tests run inside a synctest bubble, so holding a request back for
// a second costs no real time, and the order in which calls reach the
// emulator is decided by what the executor waits for, not by how fast a
// machine is: while one request is held, everything that does not wait
// for it runs until it blocks.

// gate stands between the client and the emulator: hold runs before a
// request reaches the emulator and may keep it waiting, answered after the
// emulator answered it. Both get the API path and the decoded body, and
// run concurrently.
type gate struct {
	sim      *wecomsim.Server
	hold     func(api string, body map[string]any)
	answered func(api string, body map[string]any)
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	api := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	if g.hold != nil {
		g.hold(api, body)
	}
	g.sim.ServeHTTP(w, r)
	if g.answered != nil {
		g.answered(api, body)
	}
}

// event is something a held request waits for.
type event struct {
	once sync.Once
	c    chan struct{}
}

func newEvent() *event { return &event{c: make(chan struct{})} }

func (e *event) fire() { e.once.Do(func() { close(e.c) }) }

// wait blocks until the event fired. An hour of the bubble's clock passes
// only once everything else is blocked too: then it never will.
func (e *event) wait(t *testing.T, what string) {
	select {
	case <-e.c:
	case <-time.After(time.Hour):
		t.Errorf("%s never happened while a call waited for it", what)
	}
}

// arrival is where each accepted call reached the emulator, in its call
// log, by "api target" (departments by name on create).
func arrival(sim *wecomsim.Server) map[string]int {
	at := map[string]int{}
	for i, c := range sim.CallLog() {
		if c.Errcode == 0 {
			at[c.API+" "+c.Target] = i
		}
	}
	return at
}

// before fails unless every call of want reached the emulator, each pair
// in order.
func before(t *testing.T, at map[string]int, want ...[2]string) {
	t.Helper()
	for _, w := range want {
		a, okA := at[w[0]]
		b, okB := at[w[1]]
		if !okA || !okB || a > b {
			t.Errorf("%q (at %d, accepted %v) must reach WeCom before %q (at %d, accepted %v)", w[0], a, okA, w[1], b, okB)
		}
	}
}

// execute runs ops through c, checks that each operation had exactly one
// result, and returns the summary.
func execute(t *testing.T, b *bubble, c *wecom.Client, concurrency int, ids map[string]int, ops ...plan.Op) executor.Summary {
	t.Helper()
	for i := range ops {
		ops[i].Seq = i + 1
	}
	var mu sync.Mutex
	seen := map[int]int{}
	ex := executor.New(executor.Config{Client: c, Store: b.store, RunID: b.runID, Concurrency: concurrency, DeptIDs: ids,
		OnResult: func(r executor.Result) { mu.Lock(); seen[r.Op.Seq]++; mu.Unlock() }})
	sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if seen[op.Seq] != 1 {
			t.Errorf("%s %s: %d results, want 1", op.Kind, op.Target, seen[op.Seq])
		}
	}
	return sum
}

func seedMember(t *testing.T, c *wecom.Client, u wecom.User) {
	t.Helper()
	if len(u.Department) == 0 {
		u.Department = []int{1}
	}
	if err := c.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
}

func update(r *member.Record, fields ...string) plan.Op {
	return plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: r.UserID, After: r, Fields: fields}
}

// A member waits only for its own departments and leader, and a leaver
// for nothing it does not concern: an update of someone in an existing
// department reaches WeCom while the department creates are still going
// on, and a leaver's disable while the creates of the members phase are.
// Run phase by phase, each held call would wait for one that could only
// come after it.
func TestAPIsOverlapAsDependenciesAllow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		updated, disabled := newEvent(), newEvent()
		g := &gate{sim: b.sim,
			hold: func(api string, body map[string]any) {
				switch {
				case api == "department/create" && body["name"] == "C":
					updated.wait(t, "the update of e0001")
				case api == "user/create" && body["userid"] == "boss0001":
					disabled.wait(t, "the disable of gone01")
				}
			},
			answered: func(api string, body map[string]any) {
				switch {
				case api == "user/update" && body["userid"] == "e0001":
					updated.fire()
				case api == "user/update" && body["userid"] == "gone01":
					disabled.fire()
				}
			}}
		c := b.clientVia(t, g, 0)
		seedMember(t, c, wecom.User{UserID: "e0001", Name: "e", Mobile: "13800000091"})
		seedMember(t, c, wecom.User{UserID: "gone01", Name: "g", Mobile: "13800000092"})
		e1 := rec("e0001", "")
		e1.Position = "经理"
		boss := rec("boss0001", "N/C")
		report := rec("c0002", "N/C")
		report.DirectLeader = []string{"boss0001"}
		sum := execute(t, b, c, 8, nil,
			deptCreate("N", "N", "", 1),
			deptCreate("N/C", "C", "N", 2),
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "boss0001", After: boss},
			update(e1, "position"),
			plan.Op{Phase: plan.PhaseMembers, Level: 1, Kind: plan.UserCreate, Target: "c0002", After: report},
			plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDisable, Target: "gone01", Fields: []string{"enable"}},
		)
		if sum.Failed != 0 || sum.Counts["user_create/ok"] != 2 || sum.Counts["department_create/ok"] != 2 {
			t.Fatalf("summary %+v", sum)
		}
		before(t, arrival(b.sim),
			[2]string{"user/update e0001", "department/create C"},
			[2]string{"user/update gone01", "user/create boss0001"},
			[2]string{"department/create N", "department/create C"},
			[2]string{"department/create C", "user/create boss0001"},
			[2]string{"user/create boss0001", "user/create c0002"})
		for _, u := range b.sim.Snapshot().Users {
			if u.UserID == "c0002" && (len(u.DirectLeader) != 1 || u.DirectLeader[0] != "boss0001") {
				t.Errorf("c0002 leader %v, want boss0001", u.DirectLeader)
			}
		}
	})
}

// slow holds every request for which it returns true a second of the
// bubble's clock before it reaches the emulator: anything that does not
// wait for that call reaches WeCom first.
func slow(sim *wecomsim.Server, hold func(api string, body map[string]any) bool) *gate {
	return &gate{sim: sim, hold: func(api string, body map[string]any) {
		if hold(api, body) {
			time.Sleep(time.Second)
		}
	}}
}

// A value moves only once it is free: a create that takes a mobile waits
// for the user_release that clears it from its holder, and one that takes
// an email for the delete of the leaver who had it, however long those
// calls take; the holder's own update, which gives them a new mobile,
// follows its release.
func TestTakersWaitForTheRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		c := b.clientVia(t, slow(b.sim, func(api string, body map[string]any) bool {
			return (body["userid"] == "holder" && body["mobile"] == "") || api == "user/delete"
		}), 0)
		seedMember(t, c, wecom.User{UserID: "holder", Name: "h", Mobile: "13800000011", Email: "h@example.com"})
		seedMember(t, c, wecom.User{UserID: "leaver", Name: "l", Mobile: "13800000012", Email: "shared@example.com"})
		holder := &member.Record{UserID: "holder", Name: "h", Mobile: "13800000011", Email: "h@example.com", DeptKeys: []string{""}, Enabled: true}
		released := *holder
		released.Mobile = ""
		renumbered := released
		renumbered.Mobile = "13800000019"
		leaver := &member.Record{UserID: "leaver", Name: "l", Mobile: "13800000012", Email: "shared@example.com", DeptKeys: []string{""}, Enabled: true}
		mobileTaker := rec("t0001", "")
		mobileTaker.Mobile = "13800000011"
		emailTaker := rec("t0002", "")
		emailTaker.Email = "shared@example.com"
		sum := execute(t, b, c, 8, nil,
			plan.Op{Phase: plan.PhaseRelease, Kind: plan.UserRelease, Target: "holder", Before: holder, After: &released, Fields: []string{"mobile"}},
			plan.Op{Phase: plan.PhaseRelease, Kind: plan.UserDelete, Target: "leaver", Before: leaver},
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "holder", Before: &released, After: &renumbered, Fields: []string{"mobile"}},
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "t0001", After: mobileTaker},
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "t0002", After: emailTaker},
		)
		if sum.Failed != 0 || sum.Counts["user_create/ok"] != 2 || sum.Counts["user_update/ok"] != 1 {
			t.Fatalf("summary %+v", sum)
		}
		before(t, arrival(b.sim), [2]string{"user/delete leaver", "user/create t0002"})
		var released1, taken int
		for i, c := range b.sim.CallLog() {
			switch {
			case c.API == "user/update" && c.Target == "holder" && released1 == 0:
				released1 = i
			case c.API == "user/create" && c.Target == "t0001":
				taken = i
			}
		}
		if taken < released1 {
			t.Errorf("t0001's create (at %d) reached WeCom before holder's release (at %d)", taken, released1)
		}
		for _, u := range b.sim.Snapshot().Users {
			if u.UserID == "holder" && u.Mobile != "13800000019" {
				t.Errorf("holder's mobile is %q, want the update's 13800000019 after the release", u.Mobile)
			}
		}
		st, err := b.store.LoadState(context.Background(), corp, func(plan.State) []string { return []string{"holder"} })
		if err != nil {
			t.Fatal(err)
		}
		if r := st.Records["holder"]; r.Mobile != "13800000019" {
			t.Errorf("the journal records holder's mobile as %q, want 13800000019", r.Mobile)
		}
	})
}

// A leaver is disabled or deleted only after the calls that name them as a
// direct leader: WeCom refuses a leader it does not have.
func TestLeaverWaitsForCallsNamingThem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		c := b.clientVia(t, slow(b.sim, func(api string, _ map[string]any) bool { return api == "user/create" }), 0)
		seedMember(t, c, wecom.User{UserID: "boss", Name: "b", Mobile: "13800000021"})
		report := rec("r0001", "")
		report.DirectLeader = []string{"boss"}
		sum := execute(t, b, c, 8, nil,
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "r0001", After: report},
			plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: "boss"},
		)
		if sum.Failed != 0 || sum.Counts["user_create/ok"] != 1 || sum.Counts["user_delete/ok"] != 1 {
			t.Fatalf("summary %+v", sum)
		}
		before(t, arrival(b.sim), [2]string{"user/create r0001", "user/delete boss"})
	})
}

// Cleanup deletes a department once the members moving out of it have
// moved, sub-departments before their parent; one that someone else's
// member still sits in is kept (60005), and its parent's delete is not
// sent (it could only answer 60006).
func TestCleanupWaitsForMovesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		c := b.clientVia(t, slow(b.sim, func(api string, _ map[string]any) bool { return api == "user/update" }), 0)
		ctx := context.Background()
		ids := map[string]int{}
		for _, d := range []struct{ key, name, parent string }{
			{"Old", "Old", ""}, {"Old/Sub", "Sub", "Old"}, {"Busy", "Busy", ""}, {"Busy/Sub", "Sub", "Busy"},
		} {
			parent := 1
			if d.parent != "" {
				parent = ids[d.parent]
			}
			id, err := c.CreateDepartment(ctx, wecom.Department{Name: d.name, ParentID: parent})
			if err != nil {
				t.Fatal(err)
			}
			ids[d.key] = id
		}
		seedMember(t, c, wecom.User{UserID: "m0001", Name: "m", Mobile: "13800000031", Department: []int{ids["Old/Sub"]}})
		seedMember(t, c, wecom.User{UserID: "stranger", Name: "s", Mobile: "13800000032", Department: []int{ids["Busy/Sub"]}})
		was := rec("m0001", "Old/Sub")
		moved := rec("m0001", "")
		del := func(key string, level int, children ...string) plan.Op {
			return plan.Op{Phase: plan.PhaseCleanup, Level: level, Kind: plan.DeptDelete, Target: key,
				Dept: &plan.Dept{Key: key, ID: ids[key], Children: children}}
		}
		sum := execute(t, b, c, 8, ids,
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "m0001", Before: was, After: moved, Fields: []string{"department"}},
			del("Busy/Sub", 0), del("Old/Sub", 0),
			del("Busy", 1, "Busy/Sub"), del("Old", 1, "Old/Sub"),
		)
		if sum.Failed != 0 || sum.Counts["department_delete/ok"] != 2 || sum.Counts["department_delete/kept"] != 2 || sum.Errcodes[60005] != 1 {
			t.Fatalf("summary %+v: want Old and Old/Sub deleted, Busy/Sub kept for its member (60005) and Busy kept without a call", sum)
		}
		at := arrival(b.sim)
		before(t, at,
			[2]string{"user/update m0001", fmt.Sprintf("department/delete %d", ids["Old/Sub"])},
			[2]string{fmt.Sprintf("department/delete %d", ids["Old/Sub"]), fmt.Sprintf("department/delete %d", ids["Old"])})
		if n := b.sim.Stats()["department/delete"]; n != 3 {
			t.Errorf("%d department/delete calls, want 3 (none for Busy)", n)
		}
	})
}

// A department moved under one of its descendants waits for the moves of
// lower levels: B under C, where C sits under X under B, can go only once
// X has moved to the root, although C itself does not change.
func TestDepartmentMovesWaitForLowerLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		ids := map[string]int{}
		var x float64
		c := b.clientVia(t, slow(b.sim, func(api string, body map[string]any) bool {
			return api == "department/update" && body["id"] == x
		}), 0)
		for _, d := range []struct{ key, parent string }{{"B", ""}, {"X", "B"}, {"C", "X"}} {
			parent := 1
			if d.parent != "" {
				parent = ids[d.parent]
			}
			id, err := c.CreateDepartment(context.Background(), wecom.Department{Name: d.key, ParentID: parent})
			if err != nil {
				t.Fatal(err)
			}
			ids[d.key] = id
		}
		x = float64(ids["X"])
		move := func(key, parent string, level int) plan.Op {
			return plan.Op{Phase: plan.PhaseDepartments, Level: level, Kind: plan.DeptUpdate, Target: key,
				Dept: &plan.Dept{Key: key, Name: key, ParentKey: parent, ID: ids[key]}}
		}
		sum := execute(t, b, c, 8, ids, move("X", "", 1), move("B", "C", 3))
		if sum.Counts["department_update/ok"] != 2 {
			t.Fatalf("summary %+v: want both moves ok (B's first would answer 60010)", sum)
		}
	})
}

// A member waits for its own department's create and its leader's, and
// their failures decide what is sent: the members of a department whose
// create failed are skipped; the reports of a leader whose create failed
// are created without the leader, and a leaders call naming that leader is
// skipped.
func TestFailedDependenciesDecideWhatIsSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		c := b.clientVia(t, slow(b.sim, func(api string, body map[string]any) bool {
			return api == "department/create" || body["userid"] == "boss"
		}), 0)
		seedMember(t, c, wecom.User{UserID: "e0001", Name: "e", Mobile: "13800000041"})
		boss := rec("boss", "Good")
		boss.Mobile = "not-a-mobile" // 60103
		report := rec("r0001", "Good")
		report.DirectLeader = []string{"boss"}
		e1 := rec("e0001", "")
		led := *e1
		led.DirectLeader = []string{"boss"}
		sum := execute(t, b, c, 8, nil,
			deptCreate("Good", "Good", "", 1),
			deptCreate("Bad", "", "", 1), // no name: 60001
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "boss", After: boss},
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "b0001", After: rec("b0001", "Bad")},
			plan.Op{Phase: plan.PhaseMembers, Level: 1, Kind: plan.UserCreate, Target: "r0001", After: report},
			plan.Op{Phase: plan.PhaseLeaders, Kind: plan.UserLeaders, Target: "e0001", Before: e1, After: &led, Fields: []string{"direct_leader"}},
		)
		want := map[string]int{"department_create/ok": 1, "department_create/failed": 1, "user_create/failed": 1,
			"user_create/skipped": 1, "user_create/ok": 1, "user_leaders/skipped": 1}
		if fmt.Sprint(sum.Counts) != fmt.Sprint(want) {
			t.Errorf("counts %v, want %v", sum.Counts, want)
		}
		for _, u := range b.sim.Snapshot().Users {
			switch u.UserID {
			case "r0001":
				if len(u.DirectLeader) != 0 {
					t.Errorf("r0001 was created with leader %v, whose create failed", u.DirectLeader)
				}
			case "b0001":
				t.Errorf("b0001 was created although its department's create failed")
			}
		}
		if n := b.sim.Stats()["user/update"]; n != 0 {
			t.Errorf("%d user/update calls, want none: the leaders call names a leader never created", n)
		}
	})
}

// concurrency caps each API, as WeCom's 45033 does: with three APIs busy
// at once, each keeps up to concurrency calls in flight, so together they
// have more, and none goes past it.
func TestConcurrencyCapsEachAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{Latency: 100 * time.Millisecond})
		var mu sync.Mutex
		inFlight, most := map[string]int{}, map[string]int{}
		total, mostTotal, mostAPIs := 0, 0, 0
		g := &gate{sim: b.sim}
		g.hold = func(api string, _ map[string]any) {
			if api == "gettoken" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			inFlight[api]++
			total++
			most[api] = max(most[api], inFlight[api])
			mostTotal = max(mostTotal, total)
			busy := 0
			for _, n := range inFlight {
				if n > 0 {
					busy++
				}
			}
			mostAPIs = max(mostAPIs, busy)
		}
		g.answered = func(api string, _ map[string]any) {
			if api == "gettoken" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			inFlight[api]--
			total--
		}
		c := b.clientVia(t, g, 0)
		var ops []plan.Op
		for i := range 30 {
			ops = append(ops, deptCreate(fmt.Sprintf("D%02d", i), fmt.Sprintf("D%02d", i), "", 1))
		}
		for i := range 30 {
			ops = append(ops, plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: fmt.Sprintf("u%04d", i), After: rec(fmt.Sprintf("u%04d", i), "")})
		}
		for i := range 30 {
			ops = append(ops, plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: fmt.Sprintf("gone%04d", i)})
		}
		const concurrency = 6
		sum := execute(t, b, c, concurrency, nil, ops...)
		if sum.Counts["department_create/ok"] != 30 || sum.Counts["user_create/ok"] != 30 || sum.Counts["user_delete/gone"] != 30 {
			t.Fatalf("summary %+v", sum)
		}
		t.Logf("most in flight: %d in all, per API %v, %d APIs at once", mostTotal, most, mostAPIs)
		for api, n := range most {
			if n > concurrency {
				t.Errorf("%s: %d calls in flight, concurrency %d", api, n, concurrency)
			}
		}
		if mostTotal <= concurrency {
			t.Errorf("at most %d calls in flight in all: the three APIs shared one cap of %d", mostTotal, concurrency)
		}
		if mostAPIs != 3 {
			t.Errorf("at most %d APIs had calls in flight at once, want all 3", mostAPIs)
		}
	})
}

// Under the same R per API on the client and at WeCom, a night of member
// creates and leaver disables takes about as long as one of them alone:
// user/create and user/update each spend their own budget, and a leaver
// that no create concerns does not wait for the creates. The limiter still
// keeps every API to R in every 60 s window, and WeCom never answers 45009.
func TestEachAPISpendsItsOwnBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const r, n = 60, 90
		b := newBubble(t, wecomsim.Options{Latency: 100 * time.Millisecond, CorpPerMinute: r, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1})
		var ops []plan.Op
		for _, u := range b.seedUpdates(t, r, n) {
			ops = append(ops, plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDisable, Target: u.Target, Fields: []string{"enable"}})
		}
		for i := range n {
			id := fmt.Sprintf("n%04d", i)
			ops = append(ops, plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: id, After: rec(id, "")})
		}
		time.Sleep(time.Minute) // the seed's creates leave the window
		start := time.Now()
		sum := execute(t, b, b.client(t, r), executor.DefaultConcurrency, nil, ops...)
		took := time.Since(start)
		if sum.Counts["user_create/ok"] != n || sum.Counts["user_disable/ok"] != n {
			t.Fatalf("summary %+v", sum)
		}
		// windowLimit(60, minute): one call at once, then 59 a minute.
		alone := time.Minute * (n - 1) / (r - 1)
		t.Logf("%d creates and %d disables at %d/min per API in %v; one API alone needs %v", n, n, r, took, alone)
		if took > alone*5/4 {
			t.Errorf("took %v: the APIs did not overlap (one alone needs %v)", took, alone)
		}
		for _, c := range b.sim.CallLog() {
			if c.Errcode == 45009 {
				t.Fatalf("WeCom answered 45009 to %s %s", c.API, c.Target)
			}
		}
		for _, api := range []string{"user/create", "user/update"} {
			if w := b.sim.MaxWindowCount(api, time.Minute); w > r {
				t.Errorf("%s: %d calls in one 60 s window, R = %d", api, w, r)
			}
		}
	})
}

// An API at its limit is sized by its latency, not by its time in line
// for the limiter: 40 updates at 60 a minute wait up to 40 s each, but
// each takes 100 ms once sent, so 1/s × 0.1 s × 1.5 + 1 = 2 stay in
// flight, and the rest of concurrency is left to the other APIs.
func TestAnAPIAtItsLimitIsSizedByItsLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const r = 60
		b := newBubble(t, wecomsim.Options{Latency: 100 * time.Millisecond, CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1})
		ops := b.seedUpdates(t, -1, 40)
		ex := executor.New(executor.Config{Client: b.client(t, r), Store: b.store, RunID: b.runID, PerMinute: r})
		sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
		if err != nil || sum.Counts["user_update/ok"] != 40 {
			t.Fatalf("err %v, summary %+v", err, sum)
		}
		if n := ex.InFlight("user/update"); n != 2 {
			t.Errorf("user/update keeps %d in flight after a run at its limit, want 2", n)
		}
	})
}

// An interruption stops every API at once: what was in flight finishes and
// is recorded, nothing more is sent, every operation has exactly one
// result, and no journal row is left pending.
func TestInterruptStopsEveryAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{Latency: 100 * time.Millisecond})
		c := b.client(t, 0)
		var ops []plan.Op
		for i := range 200 {
			ops = append(ops, deptCreate(fmt.Sprintf("D%03d", i), fmt.Sprintf("D%03d", i), "", 1),
				plan.Op{Phase: plan.PhaseLeavers, Kind: plan.UserDelete, Target: fmt.Sprintf("gone%04d", i)})
		}
		for i := range ops {
			ops[i].Seq = i + 1
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(350*time.Millisecond, cancel)
		var mu sync.Mutex
		results := 0
		ex := executor.New(executor.Config{Client: c, Store: b.store, RunID: b.runID,
			OnResult: func(executor.Result) { mu.Lock(); results++; mu.Unlock() }})
		sum, err := ex.Execute(ctx, &plan.Plan{Ops: ops})
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range sum.Counts {
			total += n
		}
		if results != len(ops) || total != len(ops) {
			t.Errorf("%d results, %d counted, for %d operations", results, total, len(ops))
		}
		if sum.Counts["department_create/canceled"] == 0 || sum.Counts["user_delete/canceled"] == 0 ||
			sum.Counts["department_create/ok"] == 0 || sum.Counts["user_delete/gone"] == 0 {
			t.Errorf("counts %v: want both APIs started and both cut off", sum.Counts)
		}
		calls, err := b.store.ListCalls(context.Background(), b.runID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.Outcome == journal.CallPending {
				t.Errorf("call %s %s left pending", c.Operation, c.Target)
			}
		}
		if sent := b.sim.Stats()["department/create"] + b.sim.Stats()["user/delete"]; sent > len(calls) {
			t.Errorf("%d requests, only %d journal rows", sent, len(calls))
		}
	})
}
