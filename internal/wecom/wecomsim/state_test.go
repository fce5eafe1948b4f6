package wecomsim

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.mkDept("A", 1, obj{"order": 4, "name_en": "A-en"})
	e.mkUser("u1", []int{1, a}, obj{"mobile": "13800000001", "order": []int{1, 2}, "is_leader_in_dept": []int{0, 1}, "gender": "2"})
	e.mkUser("u2", []int{a}, obj{"direct_leader": []string{"u1"}})
	if err := e.sim.SetActivated("u1"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := e.sim.SaveFile(path); err != nil {
		t.Fatal(err)
	}

	f := newEnv(t, Options{})
	if err := f.sim.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.sim.Snapshot(), f.sim.Snapshot()) {
		t.Fatalf("round trip differs:\n%+v\n%+v", e.sim.Snapshot(), f.sim.Snapshot())
	}
	// Counters and hidden state survive: new ids do not collide, activation
	// still ignores mobile, listing order still follows creation.
	if id := f.mkDept("B", 1, nil); id <= a {
		t.Fatalf("department id %d reused after load", id)
	}
	must(t, f.post("user/update", obj{"userid": "u1", "mobile": "13999999999"}), 0, "update activated")
	if f.sim.Snapshot().Users[0].Mobile != "13800000001" {
		t.Fatal("activation lost in round trip")
	}
	f.mkUser("u0", []int{a}, nil)
	r := f.get("user/simplelist", map[string]string{"department_id": "2"})
	if got := userIDs(r.body["userlist"]); !reflect.DeepEqual(got, []string{"u1", "u2", "u0"}) {
		t.Fatalf("creation order lost: %v", got)
	}
}

func TestLoadFileRejectsBadState(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"not json":      `{`,
		"no root":       `{"version":1,"departments":[{"id":2,"name":"x","parentid":1}]}`,
		"orphan":        `{"version":1,"departments":[{"id":1,"name":"r"},{"id":2,"name":"x","parentid":9}]}`,
		"cycle":         `{"version":1,"departments":[{"id":1,"name":"r"},{"id":2,"name":"x","parentid":3},{"id":3,"name":"y","parentid":2}]}`,
		"user bad dept": `{"version":1,"departments":[{"id":1,"name":"r"}],"users":[{"userid":"a","department":[5]}]}`,
		"dup user":      `{"version":1,"departments":[{"id":1,"name":"r"}],"users":[{"userid":"a"},{"userid":"A"}]}`,
		"wrong version": `{"version":9,"departments":[{"id":1,"name":"r"}]}`,
		"bad userid":    `{"version":1,"departments":[{"id":1,"name":"r"}],"users":[{"userid":"a b"}]}`,
	}
	e := newEnv(t, Options{})
	e.mkDept("Keep", 1, nil)
	for name, body := range cases {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := e.sim.LoadFile(p); err == nil {
			t.Errorf("%s: LoadFile accepted a bad state", name)
		}
	}
	if err := e.sim.LoadFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LoadFile accepted a missing file")
	}
	if len(e.sim.Snapshot().Departments) != 2 {
		t.Fatal("a refused load changed the state")
	}
}

func TestSimStateEndpoint(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkDept("A", 1, nil)
	e.mkUser("u", []int{2}, nil)
	resp, err := http.Get(e.ts.URL + "/sim/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var snap Snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatalf("state is not a snapshot: %v %s", err, raw)
	}
	if !reflect.DeepEqual(snap, e.sim.Snapshot()) {
		t.Fatalf("state %+v", snap)
	}
	if _, ok := e.sim.Stats()["/sim/state"]; ok {
		t.Fatal("/sim/state is not a WeCom call and must not be counted")
	}
	// Snapshot is a deep copy.
	s := e.sim.Snapshot()
	s.Users[0].Department[0] = 99
	if e.sim.Snapshot().Users[0].Department[0] != 2 {
		t.Fatal("Snapshot shares memory with the server")
	}
}

func TestSnapshotPaths(t *testing.T) {
	snap := Snapshot{Departments: []SnapDept{{ID: 1, Name: "corp"}, {ID: 2, Name: "总部", ParentID: 1}, {ID: 3, Name: "研发", ParentID: 2}, {ID: 4, Name: "后端", ParentID: 3}}}
	got := snap.Paths()
	want := map[int]string{2: "总部", 3: "总部/研发", 4: "总部/研发/后端"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
}
