package wecomsim

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// randomOp is one request of a random workload: a GET with params, a
// POST with body, or (api "save-load") a SaveFile/LoadFile round trip.
type randomOp struct {
	get    bool
	api    string
	params map[string]string
	body   obj
}

// randomOps draws a workload over small pools of ids, mobiles, emails and
// department names, so collisions (60102, 60104, 60106, 60008, ...) and
// case variants are frequent. It does not look at the server: the same
// seed gives the same requests whatever they are answered.
func randomOps(seed int64, n int) []randomOp {
	rng := rand.New(rand.NewSource(seed))
	pick := func(list ...string) string { return list[rng.Intn(len(list))] }
	uid := func() string {
		id := fmt.Sprint("u", rng.Intn(20))
		if rng.Intn(4) == 0 {
			id = strings.ToUpper(id)
		}
		return id
	}
	dept := func() int { return 1 + rng.Intn(10) }
	depts := func() []int {
		out := []int{dept()}
		for rng.Intn(3) == 0 {
			out = append(out, dept())
		}
		return out
	}
	ints := func(n, max int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = rng.Intn(max)
		}
		return out
	}
	userFields := func(body obj) {
		if rng.Intn(2) == 0 {
			body["mobile"] = pick("13800000001", "+86 138-0000-0001", "138 0000 0002", "13800000003", "+8613800000004", "")
		}
		if rng.Intn(2) == 0 {
			body["email"] = pick("a@x.com", "A@X.COM", "ka@x.com", "\u212Aa@x.com", "b@x.com", "ſb@x.com", "sb@x.com", "")
		}
		if rng.Intn(3) == 0 {
			d := depts()
			body["department"] = d
			if rng.Intn(2) == 0 {
				body["order"] = ints(len(d), 4)
			}
			if rng.Intn(2) == 0 {
				body["is_leader_in_dept"] = ints(len(d), 2)
			}
		}
		if rng.Intn(3) == 0 {
			body["direct_leader"] = []string{uid()}
		}
		if rng.Intn(5) == 0 {
			body["enable"] = rng.Intn(2)
		}
	}
	// Departments 2..8 exist from the start (the workload creates, moves
	// and deletes more), so most member calls get past 60123.
	var ops []randomOp
	for d := 2; d <= 8; d++ {
		ops = append(ops, randomOp{api: "department/create", body: obj{"name": fmt.Sprint("D", d), "parentid": 1 + rng.Intn(d-1)}})
	}
	for range n {
		switch r := rng.Intn(100); {
		case r < 30:
			body := obj{"userid": uid(), "name": "N", "department": depts(), "email": fmt.Sprint("e", rng.Intn(40), "@x.com")}
			userFields(body)
			ops = append(ops, randomOp{api: "user/create", body: body})
		case r < 50:
			body := obj{"userid": uid()}
			userFields(body)
			ops = append(ops, randomOp{api: "user/update", body: body})
		case r < 54:
			ops = append(ops, randomOp{get: true, api: "user/delete", params: map[string]string{"userid": uid()}})
		case r < 56:
			ops = append(ops, randomOp{api: "user/batchdelete", body: obj{"useridlist": []string{uid(), uid()}}})
		case r < 67:
			body := obj{"name": pick("A", "B", "C"), "parentid": dept()}
			if rng.Intn(3) == 0 {
				body["order"] = rng.Intn(3)
			}
			ops = append(ops, randomOp{api: "department/create", body: body})
		case r < 73:
			body := obj{"id": dept()}
			if rng.Intn(2) == 0 {
				body["name"] = pick("A", "B", "C")
			}
			if rng.Intn(2) == 0 {
				body["parentid"] = dept()
			}
			if rng.Intn(2) == 0 {
				body["order"] = rng.Intn(3)
			}
			ops = append(ops, randomOp{api: "department/update", body: body})
		case r < 77:
			ops = append(ops, randomOp{get: true, api: "department/delete", params: map[string]string{"id": fmt.Sprint(dept())}})
		case r < 81:
			ops = append(ops, randomOp{get: true, api: "user/list", params: map[string]string{"department_id": fmt.Sprint(dept()), "fetch_child": pick("0", "1")}})
		case r < 84:
			ops = append(ops, randomOp{get: true, api: "department/list"})
		case r < 87:
			ops = append(ops, randomOp{get: true, api: "department/get", params: map[string]string{"id": fmt.Sprint(dept())}})
		case r < 92:
			ops = append(ops, randomOp{api: "user/list_id", body: obj{"limit": 1 + rng.Intn(7)}})
		case r < 95:
			ops = append(ops, randomOp{api: "save-load"})
		default:
			ops = append(ops, randomOp{get: true, api: "user/get", params: map[string]string{"userid": uid()}})
		}
	}
	return ops
}

// run sends op to e; list_id pages through the whole list.
func (e *env) run(op randomOp, dir string) []result {
	e.t.Helper()
	switch {
	case op.api == "save-load":
		path := filepath.Join(dir, "state.json")
		if err := e.sim.SaveFile(path); err != nil {
			e.t.Fatal(err)
		}
		if err := e.sim.LoadFile(path); err != nil {
			e.t.Fatal(err)
		}
		return nil
	case op.get:
		return []result{e.get(op.api, op.params)}
	case op.api == "user/list_id":
		var out []result
		cursor := ""
		for {
			r := e.post(op.api, obj{"limit": op.body["limit"], "cursor": cursor})
			out = append(out, r)
			next, _ := r.body["next_cursor"].(string)
			if r.code != 0 || next == "" {
				return out
			}
			cursor = next
		}
	default:
		return []result{e.post(op.api, op.body)}
	}
}

// checkIndex fails unless the incrementally maintained indexes equal
// ones rebuilt from scratch, and cached list_id rows equal a fresh sort.
func checkIndex(t *testing.T, s *Server, step int, op randomOp) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got, want := s.idx, buildIndex(s.users, s.depts)
	if got.listValid {
		cached := slices.Clone(got.listRows)
		s.idx.listValid = false
		if fresh := s.listIDRows(); !reflect.DeepEqual(cached, fresh) {
			t.Fatalf("step %d (%s %v): stale list_id rows\n got %v\nwant %v", step, op.api, op.body, cached, fresh)
		}
	}
	got.listRows, got.listValid = nil, false
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("step %d (%s %v %v): index drifted\n got %+v\nwant %+v", step, op.api, op.body, op.params, got, want)
	}
}

func TestIndexMatchesRebuild(t *testing.T) {
	for seed := range int64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			e := newEnv(t, Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1, MaxNodesPerDept: 8})
			dir := t.TempDir()
			codes := map[int]int{}
			for i, op := range randomOps(seed, 400) {
				for _, r := range e.run(op, dir) {
					codes[r.code]++
				}
				checkIndex(t, e.sim, i, op)
			}
			// The workload must reach the paths it is meant to check.
			for _, c := range []int{0, 60102, 60104, 60106, 60008, 60005} {
				if codes[c] == 0 {
					t.Errorf("workload never answered %d: %v", c, codes)
				}
			}
		})
	}
}

// TestDeleteFreesUniqueValues: after delete and batchdelete a member's
// mobile and email are free again, and leaders vanish from direct_leader.
func TestDeleteFreesUniqueValues(t *testing.T) {
	// Two leaders for c, so the older five-leader cap.
	e := newEnv(t, Options{MaxDirectLeaders: 5})
	e.mkUser("a", []int{1}, obj{"mobile": "+86 138-0000-0001", "email": "A@x.com"})
	e.mkUser("b", []int{1}, obj{"direct_leader": []string{"A"}})
	e.mkUser("c", []int{1}, obj{"direct_leader": []string{"a", "b"}})
	must(t, e.post("user/create", obj{"userid": "d", "name": "D", "department": []int{1}, "mobile": "+8613800000001"}), 60104, "mobile taken")
	must(t, e.post("user/create", obj{"userid": "d", "name": "D", "department": []int{1}, "email": "a@X.COM"}), 60106, "email taken")
	must(t, e.get("user/delete", map[string]string{"userid": "A"}), 0, "delete")
	e.mkUser("d", []int{1}, obj{"mobile": "+8613800000001", "email": "a@X.COM"})
	must(t, e.post("user/batchdelete", obj{"useridlist": []string{"b", "B"}}), 0, "batchdelete with a repeat")
	for _, u := range e.sim.Snapshot().Users {
		if len(u.DirectLeader) != 0 {
			t.Errorf("%s keeps direct_leader %v", u.UserID, u.DirectLeader)
		}
	}
}

// TestLoadedDuplicatesStillConflict: a state file in which two members
// share a mobile is accepted, and each of them then conflicts with the
// other on update, as the full scan did, until one of them is gone.
func TestLoadedDuplicatesStillConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	state := `{"version":1,"departments":[{"id":1,"name":"r"}],"users":[
		{"userid":"a","name":"A","mobile":"13800000001","department":[1],"main_department":1,"enable":1,"seq":1},
		{"userid":"b","name":"B","mobile":"138-0000-0001","department":[1],"main_department":1,"enable":1,"seq":2}]}`
	if err := os.WriteFile(path, []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{})
	if err := e.sim.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	must(t, e.post("user/update", obj{"userid": "a", "name": "x"}), 60104, "a")
	must(t, e.post("user/update", obj{"userid": "b", "name": "x"}), 60104, "b")
	must(t, e.get("user/delete", map[string]string{"userid": "b"}), 0, "delete b")
	must(t, e.post("user/update", obj{"userid": "a", "name": "x"}), 0, "a alone")
}

func TestFoldKeyIsEqualFold(t *testing.T) {
	words := []string{
		"", "a@x.com", "A@X.COM", "ka@x.com", "Ka@x.com", "\u212Aa@x.com", "sb@x.com", "ſb@x.com", "Sb@x.com",
		"é@x.com", "É@x.com", "ǅ@x.com", "ǆ@x.com", "Ǆ@x.com", "ß@x.com", "ẞ@x.com", "İ@x.com", "i@x.com",
		"\xff@x.com", "\ufffd@x.com", "σ@x.com", "ς@x.com", "Σ@x.com", "ab", "abc",
	}
	for _, a := range words {
		for _, b := range words {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q)==foldKey(%q) is %v, EqualFold %v", a, b, got, want)
			}
		}
	}
}

func TestMobileKey(t *testing.T) {
	for in, want := range map[string]string{"+86 138-0000-0001": "+8613800000001", "13800000001": "13800000001", "1 -2": "12", "": ""} {
		if got := mobileKey(in); got != want {
			t.Errorf("mobileKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// refCounter is the limiter's specification: the hour as the buckets it
// had before running sums (prune every bucket at or before now-1h, sum the
// rest), the minute as every call time kept and counted afresh.
type refCounter struct {
	buckets []bucket
	times   []time.Time
}

func (c *refCounter) prune(now time.Time) {
	cut := now.Add(-time.Hour).Unix()
	for len(c.buckets) > 0 && c.buckets[0].sec <= cut {
		c.buckets = c.buckets[1:]
	}
	for len(c.times) > 0 && !c.times[0].After(now.Add(-time.Hour)) {
		c.times = c.times[1:]
	}
}

func (c *refCounter) counts(now time.Time) (minute, hour int) {
	for _, b := range c.buckets {
		hour += b.n
	}
	// The times never decrease, so the minute is a suffix of them.
	for i := len(c.times) - 1; i >= 0 && c.times[i].After(now.Add(-time.Minute)); i-- {
		minute++
	}
	return minute, hour
}

func (c *refCounter) add(now time.Time) {
	if l := len(c.times); l > 0 && c.times[l-1].After(now) {
		now = c.times[l-1] // as the counter does: times never decrease
	}
	c.times = append(c.times, now)
	sec := now.Unix()
	if l := len(c.buckets); l > 0 && c.buckets[l-1].sec >= sec {
		c.buckets[l-1].n++
	} else {
		c.buckets = append(c.buckets, bucket{sec: sec, n: 1})
	}
}

// TestCounterMatchesReference drives the O(1) counter and the reference
// with the same clock, which mostly moves forward by up to 90 s but
// sometimes steps back, and compares both windows after every call.
func TestCounterMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var c counter
	var ref refCounter
	for i := range 200_000 {
		switch r := rng.Intn(1000); {
		case r < 5:
			now = now.Add(-time.Duration(rng.Intn(120)) * time.Second)
		case r < 10:
			now = now.Add(time.Duration(rng.Intn(5400)) * time.Second)
		default:
			now = now.Add(time.Duration(rng.Int63n(int64(1500 * time.Millisecond))))
		}
		c.slide(now)
		ref.prune(now)
		wantMin, wantHour := ref.counts(now)
		if c.minute() != wantMin || c.total != wantHour {
			t.Fatalf("call %d at %v: minute %d hour %d, want %d %d", i, now, c.minute(), c.total, wantMin, wantHour)
		}
		if rng.Intn(4) != 0 { // some calls are refused and not counted
			c.add(now)
			ref.add(now)
		}
		if live := len(c.buckets) - c.bHead; live != len(ref.buckets) || len(c.buckets) > 2*len(ref.buckets)+2 {
			t.Fatalf("call %d: %d live buckets of %d, reference %d", i, live, len(c.buckets), len(ref.buckets))
		}
	}
}

func TestCallLogLimit(t *testing.T) {
	e := newEnv(t, Options{CallLogLimit: 3})
	for i := range 10 {
		e.get("department/get", map[string]string{"id": fmt.Sprint(100 + i)})
	}
	var got []string
	for _, c := range e.sim.CallLog() {
		got = append(got, c.Target)
	}
	if want := []string{"107", "108", "109"}; !slices.Equal(got, want) {
		t.Fatalf("CallLog targets %v, want %v", got, want)
	}
	e.sim.mu.Lock()
	held := len(e.sim.calls)
	e.sim.mu.Unlock()
	if held >= 6 {
		t.Fatalf("log holds %d entries, want < 2*limit", held)
	}

	// 0 and negative keep everything, as before the option existed.
	e = newEnv(t, Options{CallLogLimit: -1})
	for range 5 {
		e.get("department/get", map[string]string{"id": "1"})
	}
	if n := len(e.sim.CallLog()); n != 5 {
		t.Fatalf("unlimited log holds %d calls, want 5", n)
	}
}
