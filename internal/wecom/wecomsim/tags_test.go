package wecomsim

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The body fields of the tag pages (90210–90216).
var documentedTagFields = []string{"tagname", "tagid", "userlist", "partylist"}

// mkTag creates a tag with secret and returns its id.
func (e *env) mkTag(secret, name string) int {
	e.t.Helper()
	r := e.postAs(secret, "tag/create", obj{"tagname": name})
	must(e.t, r, 0, "tag/create "+name)
	return int(r.body["tagid"].(float64))
}

// tagMembers is tag/get's userlist (userids) and partylist.
func (e *env) tagMembers(secret string, id int) ([]string, []int) {
	e.t.Helper()
	r := e.getAs(secret, "tag/get", map[string]string{"tagid": fmt.Sprint(id)})
	must(e.t, r, 0, "tag/get")
	var parties []int
	for _, p := range r.body["partylist"].([]any) {
		parties = append(parties, int(p.(float64)))
	}
	users := userIDs(r.body["userlist"])
	if users == nil {
		users = []string{}
	}
	if parties == nil {
		parties = []int{}
	}
	return users, parties
}

func ids(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint("x", from+i)
	}
	return out
}

// tagBad is a value breaking one rule of a tagFields entry: api and body
// make the call, after prep has set up what it needs.
type tagBad struct {
	why  string
	api  string
	prep func(e *env) obj
	code int
}

func tagCases() map[string][]tagBad {
	tagged := func(body obj) func(e *env) obj {
		return func(e *env) obj {
			b := obj{"tagid": e.mkTag(editSecret, "T")}
			for k, v := range body {
				b[k] = v
			}
			return b
		}
	}
	return map[string][]tagBad{
		"tagname": {
			{why: "a number", api: "tag/create", prep: func(*env) obj { return obj{"tagname": 5} }, code: 40058},
			{why: "absent", api: "tag/create", prep: func(*env) obj { return obj{"tagid": 3} }, code: 41018},
			{why: "absent on update", api: "tag/update", prep: tagged(nil), code: 41018},
			{why: "empty", api: "tag/create", prep: func(*env) obj { return obj{"tagname": ""} }, code: 40072},
			{why: "33 characters", api: "tag/create", prep: func(*env) obj { return obj{"tagname": strings.Repeat("标", 33)} }, code: 40072},
			{why: "33 characters on update", api: "tag/update", prep: tagged(obj{"tagname": strings.Repeat("a", 33)}), code: 40072},
			{why: "another tag's", api: "tag/create", prep: func(e *env) obj { e.mkTag(appSecret, "Twin"); return obj{"tagname": "Twin"} }, code: 40071},
			{why: "another tag's on update", api: "tag/update", prep: func(e *env) obj {
				e.mkTag(editSecret, "Twin")
				return obj{"tagid": e.mkTag(editSecret, "T"), "tagname": "Twin"}
			}, code: 40071},
		},
		"tagid": {
			{why: "a string", api: "tag/create", prep: func(*env) obj { return obj{"tagname": "T", "tagid": "7"} }, code: 40058},
			{why: "negative", api: "tag/create", prep: func(*env) obj { return obj{"tagname": "T", "tagid": -1} }, code: 40068},
			{why: "2^31", api: "tag/create", prep: func(*env) obj { return obj{"tagname": "T", "tagid": int64(1) << 31} }, code: 40068},
			{why: "in use", api: "tag/create", prep: func(e *env) obj { return obj{"tagname": "U", "tagid": e.mkTag(editSecret, "T")} }, code: 40068},
			{why: "absent on update", api: "tag/update", prep: func(*env) obj { return obj{"tagname": "T"} }, code: 40068},
			{why: "unknown on addtagusers", api: "tag/addtagusers", prep: func(*env) obj { return obj{"tagid": 99, "partylist": []int{1}} }, code: 40068},
		},
		"userlist": {
			{why: "1001 userids", api: "tag/addtagusers", prep: tagged(obj{"userlist": ids(0, 1001)}), code: 81014},
			{why: "1001 userids on delete", api: "tag/deltagusers", prep: tagged(obj{"userlist": ids(0, 1001)}), code: 81014},
			{why: "a string (40070's help, item 1)", api: "tag/addtagusers", prep: tagged(obj{"userlist": "user1"}), code: 40070},
			{why: "only unknown members", api: "tag/addtagusers", prep: tagged(obj{"userlist": []string{"ghost"}}), code: 40070},
			{why: "only unknown members on delete", api: "tag/deltagusers", prep: tagged(obj{"userlist": []string{"ghost"}}), code: 40031},
			{why: "empty, and no partylist", api: "tag/addtagusers", prep: tagged(obj{"userlist": []string{}}), code: 40070},
		},
		"partylist": {
			{why: "101 departments", api: "tag/addtagusers", prep: tagged(obj{"partylist": make([]int, 101)}), code: 81014},
			{why: "strings", api: "tag/deltagusers", prep: tagged(obj{"partylist": []string{"1"}}), code: 40031},
			{why: "only unknown departments", api: "tag/addtagusers", prep: tagged(obj{"partylist": []int{999}}), code: 40070},
			{why: "only unknown departments on delete", api: "tag/deltagusers", prep: tagged(obj{"partylist": []int{999}}), code: 40031},
		},
	}
}

// TestTagFieldTable holds tagFields to the pages' field list and walks
// every rule over HTTP, as TestDeptFieldRoundTrip does for departments.
func TestTagFieldTable(t *testing.T) {
	names := fieldNames(tagFields, func(f tagField) string { return f.name })
	if !slices.Equal(names, documentedTagFields) {
		t.Fatalf("tagFields = %v, want %v", names, documentedTagFields)
	}
	cases := tagCases()
	for _, f := range tagFields {
		bad, ok := cases[f.name]
		if !ok || f.typ == "" || f.page == "" || f.calls == "" || f.parse == nil {
			t.Errorf("%s: no test case or an incomplete entry", f.name)
			continue
		}
		for _, r := range f.rules {
			if r.code != 0 && !slices.ContainsFunc(bad, func(b tagBad) bool { return b.code == r.code }) {
				t.Errorf("%s: rule %q (%d) has no bad value", f.name, r.rule, r.code)
			}
		}
		for _, b := range bad {
			if !slices.ContainsFunc(f.rules, func(r fieldRule) bool { return r.code == b.code }) {
				t.Errorf("%s: bad value %q answers %d, which no rule names", f.name, b.why, b.code)
			}
			t.Run(f.name+"/"+b.why, func(t *testing.T) {
				e := newEnv(t, Options{})
				must(t, e.post(b.api, b.prep(e)), b.code, b.why)
			})
		}
	}
}

func TestTagLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.mkTag(editSecret, "地点-北京")
	r := e.post("tag/create", obj{"tagname": "外包", "tagid": 10})
	must(t, r, 0, "create with tagid")
	if r.msg != "created" || r.body["tagid"] != float64(10) {
		t.Fatalf("create with tagid answered %s", r.raw)
	}
	// tagid 0 is "not given", as SDKs without omitempty send it.
	r = e.post("tag/create", obj{"tagname": strings.Repeat("标", 32), "tagid": 0})
	must(t, r, 0, "create with tagid 0")
	if a != 1 || r.body["tagid"] != float64(11) {
		t.Fatalf("ids %d and %v, want 1 and 11 (the largest id plus one)", a, r.body["tagid"])
	}
	r = e.get("tag/list", nil)
	if got := fmt.Sprint(r.body["taglist"]); got != "[map[tagid:1 tagname:地点-北京] map[tagid:10 tagname:外包] map[tagid:11 tagname:"+strings.Repeat("标", 32)+"]]" {
		t.Fatalf("tag/list %s", got)
	}
	must(t, e.post("tag/update", obj{"tagid": a, "tagname": "地点-上海"}), 0, "rename")
	must(t, e.post("tag/update", obj{"tagid": a, "tagname": "地点-上海"}), 0, "rename to its own name")
	must(t, e.post("tag/create", obj{"tagname": "地点-北京"}), 0, "the old name is free again")
	r = e.get("tag/delete", map[string]string{"tagid": "10"})
	must(t, r, 0, "delete")
	if r.msg != "deleted" {
		t.Fatalf("delete errmsg %q", r.msg)
	}
	must(t, e.get("tag/delete", map[string]string{"tagid": "10"}), 40068, "delete twice")
	must(t, e.get("tag/get", map[string]string{"tagid": "x"}), 40068, "get a tagid that is not a number")
	if got := len(e.sim.Snapshot().Tags); got != 3 {
		t.Fatalf("%d tags, want 3", got)
	}
}

func TestTagMembers(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.mkDept("D", 1, nil)
	e.mkUser("u1", []int{1}, nil)
	e.mkUser("U2", []int{d}, nil)
	id := e.mkTag(editSecret, "T")
	r := e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"U2", "ghost", "u1", "u2", "bad id"}, "partylist": []int{d, 999}})
	must(t, r, 0, "partly invalid add")
	if r.msg != "ok" || r.body["invalidlist"] != "ghost|bad id" || fmt.Sprint(r.body["invalidparty"]) != "[999]" {
		t.Fatalf("partial answer %s", r.raw)
	}
	users, parties := e.tagMembers(editSecret, id)
	if !slices.Equal(users, []string{"U2", "u1"}) || !slices.Equal(parties, []int{d}) {
		t.Fatalf("tag holds %v %v", users, parties)
	}
	r = e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}, "partylist": nil})
	must(t, r, 0, "add a member already tagged")
	if _, ok := r.body["invalidlist"]; ok {
		t.Fatalf("a member already tagged is not invalid by default: %s", r.raw)
	}
	r = e.post("tag/deltagusers", obj{"tagid": id, "userlist": []string{"u1", "ghost"}, "partylist": []int{d}})
	must(t, r, 0, "partly invalid delete")
	if r.msg != "deleted" || r.body["invalidlist"] != "ghost" {
		t.Fatalf("partial delete answer %s", r.raw)
	}
	if _, ok := r.body["invalidparty"]; ok {
		t.Fatalf("no invalid department, yet invalidparty: %s", r.raw)
	}
	users, parties = e.tagMembers(editSecret, id)
	if !slices.Equal(users, []string{"U2"}) || len(parties) != 0 {
		t.Fatalf("after delete %v %v", users, parties)
	}
	must(t, e.post("tag/deltagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 0, "delete a member not tagged")
}

func TestTagNoOpMembersInvalid(t *testing.T) {
	e := newEnv(t, Options{TagNoOpMembersInvalid: true})
	e.mkUser("u1", []int{1}, nil)
	e.mkUser("u2", []int{1}, nil)
	id := e.mkTag(editSecret, "T")
	must(t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 0, "add")
	r := e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1", "u2"}})
	must(t, r, 0, "add again")
	if r.body["invalidlist"] != "u1" {
		t.Fatalf("a member already tagged: %s", r.raw)
	}
	must(t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 40070, "only members already tagged")
	must(t, e.post("tag/deltagusers", obj{"tagid": id, "partylist": []int{1}}), 40031, "only departments not tagged")
}

func TestTagNodeCap(t *testing.T) {
	e := newEnv(t, Options{MaxTagNodes: 2})
	e.mkUser("u1", []int{1}, nil)
	e.mkUser("u2", []int{1}, nil)
	id := e.mkTag(editSecret, "T")
	must(t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}, "partylist": []int{1}}), 0, "fill")
	must(t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u2"}}), 81003, "one node too many")
	if users, _ := e.tagMembers(editSecret, id); !slices.Equal(users, []string{"u1"}) {
		t.Fatalf("a refused add had an effect: %v", users)
	}
}

// Who may change which tag: its creator, and the sync assistant also the
// admin console's; every secret may read.
func TestTagOwnership(t *testing.T) {
	for _, code := range []int{60011, 81011} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			e := newEnv(t, Options{TagOwnerCode: code})
			vis := e.mkDept("Visible", 1, nil) // the app's range
			e.mkUser("in", []int{vis}, nil)
			e.mkUser("out", []int{1}, nil)
			syncTag := e.mkTag(editSecret, "S")
			appTag := e.mkTag(appSecret, "A")
			admin, err := e.sim.CreateAdminTag("管理员")
			if err != nil {
				t.Fatal(err)
			}
			edits := func(id int) []func(secret string) result {
				return []func(string) result{
					func(s string) result {
						return e.postAs(s, "tag/update", obj{"tagid": id, "tagname": fmt.Sprint("R", id)})
					},
					func(s string) result {
						return e.postAs(s, "tag/addtagusers", obj{"tagid": id, "userlist": []string{"in"}})
					},
					func(s string) result {
						return e.postAs(s, "tag/deltagusers", obj{"tagid": id, "userlist": []string{"in"}})
					},
				}
			}
			for _, c := range []struct {
				who    string
				secret string
				tag    int
				want   int
			}{
				{"the sync secret on an app's tag", editSecret, appTag, code},
				{"the sync secret from a new IP on its own tag", newIPSec, syncTag, 0},
				{"the sync secret on an admin tag", editSecret, admin, 0},
				{"the app on its tag", appSecret, appTag, 0},
				{"the app on the sync secret's tag", appSecret, syncTag, code},
				{"the app on an admin tag", appSecret, admin, code},
				{"another app on the app's tag", restrSec, appTag, code},
				{"a read-only sync secret", roSecret, syncTag, 48002},
			} {
				for i, edit := range edits(c.tag) {
					must(t, edit(c.secret), c.want, fmt.Sprintf("%s, edit %d", c.who, i))
				}
			}
			must(t, e.getAs(appSecret, "tag/delete", map[string]string{"tagid": fmt.Sprint(syncTag)}), code, "the app deleting the sync secret's tag")
			must(t, e.getAs(roSecret, "tag/delete", map[string]string{"tagid": fmt.Sprint(syncTag)}), 48002, "a read-only sync secret deleting")
			must(t, e.postAs(roSecret, "tag/create", obj{"tagname": "RO"}), 48002, "a read-only sync secret creating")
			must(t, e.getAs(appSecret, "tag/delete", map[string]string{"tagid": fmt.Sprint(appTag)}), 0, "the app deleting its tag")

			// Reads: any secret; an app sees only its range's members.
			must(t, e.post("tag/addtagusers", obj{"tagid": syncTag, "userlist": []string{"in", "out"}, "partylist": []int{1, vis}}), 0, "fill")
			if users, parties := e.tagMembers(appSecret, syncTag); !slices.Equal(users, []string{"in"}) || !slices.Equal(parties, []int{vis}) {
				t.Fatalf("the app sees %v %v", users, parties)
			}
			if users, _ := e.tagMembers(roSecret, syncTag); !slices.Equal(users, []string{"in", "out"}) {
				t.Fatalf("a read-only sync secret sees %v", users)
			}
			if n := len(e.getAs(appSecret, "tag/list", nil).body["taglist"].([]any)); n != 2 {
				t.Fatalf("the app lists %d tags, want every tag (2)", n)
			}
			// An app's members outside its range are invalid, not a refusal.
			r := e.postAs(appSecret, "tag/create", obj{"tagname": "A2"})
			r = e.postAs(appSecret, "tag/addtagusers", obj{"tagid": r.body["tagid"], "userlist": []string{"in", "out"}, "partylist": []int{1}})
			must(t, r, 0, "the app adding members outside its range")
			if r.body["invalidlist"] != "out" || fmt.Sprint(r.body["invalidparty"]) != "[1]" {
				t.Fatalf("outside the app's range: %s", r.raw)
			}
			if snap := e.sim.Snapshot().Tags; snap[0].Creator != "contacts-sync" || snap[1].Creator != "admin" || snap[2].Creator != "app:1000003" {
				t.Fatalf("creators %+v", snap)
			}
		})
	}
}

// Two App secrets with one AgentID are one app, and share its tags.
func TestTagAgentID(t *testing.T) {
	e := newEnv(t, Options{Secrets: []Secret{
		{Value: editSecret, Kind: SyncEdit},
		{Value: appSecret, Kind: App, Visible: []int{1}, AgentID: 1000042},
		{Value: restrSec, Kind: App, Visible: []int{1}, AgentID: 1000042},
	}})
	id := e.mkTag(appSecret, "A")
	must(t, e.postAs(restrSec, "tag/update", obj{"tagid": id, "tagname": "B"}), 0, "the same app's other secret")
	must(t, e.post("tag/update", obj{"tagid": id, "tagname": "C"}), 60011, "the sync secret")
}

func TestNewIPRefusesTagGet(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		e := newEnv(t, Options{NewIPRefusesTagGet: refuse})
		id := e.mkTag(editSecret, "T")
		want := 0
		if refuse {
			want = 48009
		}
		must(t, e.getAs(newIPSec, "tag/get", map[string]string{"tagid": fmt.Sprint(id)}), want, fmt.Sprint("NewIPRefusesTagGet ", refuse))
		must(t, e.getAs(newIPSec, "tag/list", nil), 0, "tag/list from a new IP")
	}
}

func TestTagCountCap(t *testing.T) {
	e := newEnv(t, Options{MaxTags: 2})
	e.mkTag(editSecret, "A")
	e.mkTag(appSecret, "B")
	must(t, e.post("tag/create", obj{"tagname": "C"}), 40126, "a third tag")
	if _, err := e.sim.CreateAdminTag("C"); err == nil || !strings.Contains(err.Error(), "40126") {
		t.Fatalf("admin tag over the cap: %v", err)
	}
}

// Deleting a member or a department takes it out of every tag, whichever
// call deleted it.
func TestTagsForgetDeleted(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.mkDept("D", 1, nil)
	d2 := e.mkDept("D2", 1, nil)
	for _, id := range []string{"a", "b", "c"} {
		e.mkUser(id, []int{1}, nil)
	}
	t1, t2 := e.mkTag(editSecret, "T1"), e.mkTag(editSecret, "T2")
	for _, id := range []int{t1, t2} {
		must(t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"a", "b", "c"}, "partylist": []int{d, d2}}), 0, "fill")
	}
	must(t, e.get("user/delete", map[string]string{"userid": "A"}), 0, "user/delete")
	must(t, e.post("user/batchdelete", obj{"useridlist": []string{"b"}}), 0, "user/batchdelete")
	must(t, e.get("department/delete", map[string]string{"id": fmt.Sprint(d)}), 0, "department/delete")
	for _, id := range []int{t1, t2} {
		if users, parties := e.tagMembers(editSecret, id); !slices.Equal(users, []string{"c"}) || !slices.Equal(parties, []int{d2}) {
			t.Fatalf("tag %d holds %v %v", id, users, parties)
		}
	}
	// A member created again under a deleted one's userid is not tagged.
	e.mkUser("a", []int{1}, nil)
	if users, _ := e.tagMembers(editSecret, t1); !slices.Equal(users, []string{"c"}) {
		t.Fatalf("a recreated member inherited tags: %v", users)
	}
	must(t, e.post("tag/deltagusers", obj{"tagid": t1, "userlist": []string{"c"}, "partylist": []int{d2}}), 0, "empty T1")
	must(t, e.get("department/delete", map[string]string{"id": fmt.Sprint(d2)}), 0, "delete D2")
	if users, parties := e.tagMembers(editSecret, t2); !slices.Equal(users, []string{"c"}) || len(parties) != 0 {
		t.Fatalf("T2 holds %v %v", users, parties)
	}
}

func TestTagStateRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.mkDept("D", 1, nil)
	e.mkUser("Zed", []int{d}, nil)
	e.mkUser("amy", []int{d}, nil)
	id := e.mkTag(appSecret, "应用标签")
	e.mkTag(editSecret, "同步标签")
	if _, err := e.sim.CreateAdminTag("管理员"); err != nil {
		t.Fatal(err)
	}
	must(t, e.postAs(appSecret, "tag/addtagusers", obj{"tagid": id, "userlist": []string{"Zed"}, "partylist": []int{d}}), 0, "fill")
	path := filepath.Join(t.TempDir(), "state.json")
	if err := e.sim.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	f := newEnv(t, Options{})
	if err := f.sim.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.sim.Snapshot(), f.sim.Snapshot()) {
		t.Fatalf("round trip differs:\n%+v\n%+v", e.sim.Snapshot().Tags, f.sim.Snapshot().Tags)
	}
	// The creator survives: only the app may still change its tag.
	must(t, f.post("tag/update", obj{"tagid": id, "tagname": "X"}), 60011, "the sync secret on the loaded app tag")
	must(t, f.postAs(appSecret, "tag/addtagusers", obj{"tagid": id, "userlist": []string{"amy"}}), 0, "the app on its loaded tag")
	if users, _ := f.tagMembers(editSecret, id); !slices.Equal(users, []string{"Zed", "amy"}) {
		t.Fatalf("order after load %v", users)
	}
	if got := f.mkTag(editSecret, "新"); got != 4 {
		t.Fatalf("next id after load %d, want 4", got)
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"creator": "app:1000003"`) {
		t.Fatalf("state file lacks the creator:\n%s", raw)
	}
	for _, s := range allSecrets {
		if strings.Contains(string(raw), s) {
			t.Fatal("a secret went into the state file")
		}
	}
}

func TestLoadFileRejectsBadTags(t *testing.T) {
	dir := t.TempDir()
	base := `{"version":1,"departments":[{"id":1,"name":"r"}],"users":[{"userid":"a","department":[1]}],"tags":%s}`
	cases := map[string]string{
		"id 0":             `[{"tagid":0,"tagname":"x","creator":"admin"}]`,
		"duplicate id":     `[{"tagid":1,"tagname":"x","creator":"admin"},{"tagid":1,"tagname":"y","creator":"admin"}]`,
		"duplicate name":   `[{"tagid":1,"tagname":"x","creator":"admin"},{"tagid":2,"tagname":"x","creator":"admin"}]`,
		"long name":        `[{"tagid":1,"tagname":"` + strings.Repeat("x", 33) + `","creator":"admin"}]`,
		"no creator":       `[{"tagid":1,"tagname":"x"}]`,
		"unknown member":   `[{"tagid":1,"tagname":"x","creator":"admin","userlist":["b"]}]`,
		"member twice":     `[{"tagid":1,"tagname":"x","creator":"admin","userlist":["a","A"]}]`,
		"unknown dept":     `[{"tagid":1,"tagname":"x","creator":"admin","partylist":[2]}]`,
		"department twice": `[{"tagid":1,"tagname":"x","creator":"admin","partylist":[1,1]}]`,
	}
	for name, tags := range cases {
		e := newEnv(t, Options{})
		keep := e.mkTag(editSecret, "kept")
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(fmt.Sprintf(base, tags)), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := e.sim.LoadFile(path); err == nil {
			t.Errorf("%s: loaded", name)
		}
		if snap := e.sim.Snapshot().Tags; len(snap) != 1 || snap[0].ID != keep {
			t.Errorf("%s: a refused file changed the tags: %+v", name, snap)
		}
	}
}

func TestTagDefaults(t *testing.T) {
	o := withDefaults(Options{TagOwnerCode: 12345, Secrets: []Secret{{Kind: SyncEdit}, {Kind: App}, {Kind: App, AgentID: 7}}})
	if o.MaxTags != 3000 || o.MaxTagNodes != 30000 || o.TagOwnerCode != 60011 || o.TagNoOpMembersInvalid || o.NewIPRefusesTagGet {
		t.Fatalf("tag defaults %+v", o)
	}
	if o.Secrets[0].AgentID != 0 || o.Secrets[1].AgentID != 1000002 || o.Secrets[2].AgentID != 7 {
		t.Fatalf("agentids %+v", o.Secrets)
	}
	if o := withDefaults(Options{MaxTags: -1, MaxTagNodes: -1, TagOwnerCode: 81011}); o.MaxTags != unlimited || o.MaxTagNodes != unlimited || o.TagOwnerCode != 81011 {
		t.Fatalf("tag options %+v", o)
	}
}
