package wecomsim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestUserCreateValidation(t *testing.T) {
	e := newEnv(t, Options{MaxUserDepartments: 2, MaxDirectLeaders: 2})
	d2 := e.mkDept("A", 1, nil)
	d3 := e.mkDept("B", 1, nil)
	e.mkUser("existing", []int{1}, obj{"mobile": "+86 13800000000"})
	e.mkUser("boss", []int{1}, nil)

	base := func(over obj) obj {
		b := obj{"userid": "new1", "name": "New", "department": []int{1}, "mobile": "13911112222"}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	cases := []struct {
		name string
		body obj
		want int
	}{
		{"ok", base(nil), 0},
		{"userid missing", base(obj{"userid": nil}), 41009},
		{"userid too long", base(obj{"userid": strings.Repeat("a", 65)}), 40058},
		{"userid 64 bytes", base(obj{"userid": strings.Repeat("b", 64), "mobile": "13900000064"}), 0},
		{"userid bad char", base(obj{"userid": "bad id"}), 40003},
		{"userid leading dot", base(obj{"userid": ".x"}), 40003},
		{"userid dup other case", base(obj{"userid": "EXISTING"}), 60102},
		{"name empty", base(obj{"name": ""}), 60112},
		{"name too long", base(obj{"name": strings.Repeat("名", 65)}), 60112},
		{"name 64 chars", base(obj{"userid": "n64", "name": strings.Repeat("名", 64), "mobile": "13900000065"}), 0},
		{"department missing", base(obj{"department": nil}), 60127},
		{"department empty", base(obj{"department": []int{}}), 60127},
		{"department unknown", base(obj{"department": []int{999}}), 60123},
		{"department too many", base(obj{"department": []int{1, d2, d3}}), 60110},
		{"department dup", base(obj{"department": []int{1, 1}}), 40066},
		{"department wrong type", base(obj{"department": 1}), 40058},
		{"leader count", base(obj{"is_leader_in_dept": []int{1, 0}}), 60132},
		{"leader flag value", base(obj{"is_leader_in_dept": []int{2}}), 40058},
		{"order count", base(obj{"order": []int{1, 2}}), 40058},
		{"order range", base(obj{"order": []int64{1 << 32}}), 40058},
		{"mobile format", base(obj{"mobile": "12ab"}), 60103},
		{"mobile dup", base(obj{"mobile": "+86 138-0000-0000"}), 60104},
		{"email format", base(obj{"email": "not-an-email"}), 60105},
		{"email short", base(obj{"email": "a@b.c"}), 60105},
		{"email dup any case", base(obj{"email": "EXISTING@example.com"}), 60106},
		{"mobile and email empty", base(obj{"mobile": nil}), 60129},
		{"direct leader too many", base(obj{"direct_leader": []string{"boss", "existing", "boss"}}), 60257},
		{"direct leader unknown", base(obj{"direct_leader": []string{"ghost"}}), 60111},
		{"gender number out of range", base(obj{"gender": 3}), 40058},
		{"gender number", base(obj{"gender": 1}), 0},
		{"gender 0 (SDK default)", base(obj{"gender": 0}), 0},
		{"gender bad", base(obj{"gender": "3"}), 40058},
		{"enable bad", base(obj{"enable": 2}), 40058},
		{"position too long", base(obj{"position": strings.Repeat("p", 129)}), 301012},
		{"telephone too long", base(obj{"telephone": strings.Repeat("1", 33)}), 301013},
		{"telephone chars", base(obj{"telephone": "010 123"}), 301013},
		{"main department outside", base(obj{"main_department": d2}), 40058},
		{"name wrong type", base(obj{"name": 5}), 40058},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("user/create", c.body)
			must(t, r, c.want, c.name)
			if c.want == 0 {
				id := c.body["userid"].(string)
				must(t, e.get("user/delete", map[string]string{"userid": id}), 0, "cleanup")
			}
		})
	}
}

func TestUserStoredFieldsAndGet(t *testing.T) {
	e := newEnv(t, Options{})
	d2 := e.mkDept("A", 1, nil)
	e.mkUser("boss", []int{1}, nil)
	must(t, e.post("user/create", obj{
		"userid": "Zhang.San", "name": "张三", "alias": "San", "mobile": "+86 13800000001",
		"email": "zs@example.com", "position": "Dev", "gender": "1", "telephone": "010-1234",
		"address": "Shenzhen", "department": []int{1, d2}, "order": []int{5, 7},
		"is_leader_in_dept": []int{0, 1}, "direct_leader": []string{"BOSS"}, "main_department": d2,
		"enable": 1, "to_invite": false, "extattr": obj{"attrs": []any{}},
	}), 0, "create")

	snap := e.sim.Snapshot()
	got := snap.Users[0] // sorted by userid, and "Z" < "b"
	want := SnapUser{UserID: "Zhang.San", Name: "张三", Alias: "San", Mobile: "+86 13800000001",
		Email: "zs@example.com", Position: "Dev", Gender: "1", Telephone: "010-1234", Address: "Shenzhen",
		Department: []int{1, d2}, Order: []uint32{5, 7}, IsLeaderInDept: []int{0, 1},
		DirectLeader: []string{"boss"}, MainDepartment: d2, Enable: 1, Status: 4}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored\n%+v\nwant\n%+v", got, want)
	}

	r := e.get("user/get", map[string]string{"userid": "zhang.san"})
	must(t, r, 0, "get lower-case")
	if r.body["userid"] != "Zhang.San" || r.body["gender"] != "1" || r.body["status"].(float64) != 4 {
		t.Fatalf("get body %s", r.raw)
	}
	must(t, e.get("user/get", map[string]string{"userid": "nobody"}), 60111, "get unknown")
	must(t, e.get("user/get", nil), 41009, "get without userid")
}

func TestUserCaseInsensitive(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkUser("Alice", []int{1}, nil)
	must(t, e.post("user/create", obj{"userid": "ALICE", "name": "x", "department": []int{1}, "mobile": "13800000009"}), 60102, "dup")
	must(t, e.post("user/update", obj{"userid": "aLiCe", "position": "CTO"}), 0, "update other case")
	r := e.get("user/get", map[string]string{"userid": "alice"})
	if r.body["userid"] != "Alice" || r.body["position"] != "CTO" {
		t.Fatalf("get %s", r.raw)
	}
	must(t, e.get("user/delete", map[string]string{"userid": "ALICE"}), 0, "delete other case")
	must(t, e.get("user/delete", map[string]string{"userid": "alice"}), 60111, "delete twice")
}

func TestUserUpdatePartial(t *testing.T) {
	e := newEnv(t, Options{})
	d2 := e.mkDept("A", 1, nil)
	d3 := e.mkDept("B", 1, nil)
	e.mkUser("u", []int{1, d2}, obj{"mobile": "13800000001", "position": "Dev", "order": []int{3, 4}, "is_leader_in_dept": []int{0, 1}, "alias": "al"})
	before := e.sim.Snapshot().Users[0]

	must(t, e.post("user/update", obj{"userid": "u", "name": "Renamed"}), 0, "rename")
	after := e.sim.Snapshot().Users[0]
	before.Name = "Renamed"
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("partial update touched other fields:\n%+v\n%+v", before, after)
	}

	must(t, e.post("user/update", obj{"userid": "u", "alias": ""}), 0, "clear alias")
	if e.sim.Snapshot().Users[0].Alias != "" {
		t.Fatal("alias not cleared")
	}

	// order without department is ignored.
	must(t, e.post("user/update", obj{"userid": "u", "order": []int{9, 9}}), 0, "order alone")
	if got := e.sim.Snapshot().Users[0].Order; !reflect.DeepEqual(got, []uint32{3, 4}) {
		t.Fatalf("order changed without department: %v", got)
	}
	must(t, e.post("user/update", obj{"userid": "u", "order": []int{9}}), 0, "order alone, wrong count, still ignored")

	// Changing departments carries over per-department values of kept ones.
	must(t, e.post("user/update", obj{"userid": "u", "department": []int{d2, d3}}), 0, "move")
	u := e.sim.Snapshot().Users[0]
	if !reflect.DeepEqual(u.Order, []uint32{4, 0}) || !reflect.DeepEqual(u.IsLeaderInDept, []int{1, 0}) || u.MainDepartment != d2 {
		t.Fatalf("after move %+v", u)
	}
	must(t, e.post("user/update", obj{"userid": "u", "department": []int{d3}, "order": []int{1, 2}}), 40058, "order count with department")
	must(t, e.post("user/update", obj{"userid": "u", "is_leader_in_dept": []int{1}}), 60132, "leader count vs current departments")
	must(t, e.post("user/update", obj{"userid": "u", "department": []int{}}), 60127, "empty department")
	must(t, e.post("user/update", obj{"userid": "u", "new_userid": "v"}), 301036, "new_userid")
	must(t, e.post("user/update", obj{"userid": "ghost", "name": "x"}), 60111, "unknown")
	must(t, e.post("user/update", obj{"name": "x"}), 41009, "no userid")
	must(t, e.post("user/update", obj{"userid": "u", "mobile": "", "email": ""}), 60129, "clear both contacts")
}

func TestUserStatusAndActivation(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkUser("u", []int{1}, obj{"mobile": "13800000001", "enable": 0})
	status := func() int { return e.sim.Snapshot().Users[0].Status }
	if status() != 2 {
		t.Fatalf("created disabled: status %d", status())
	}
	must(t, e.post("user/update", obj{"userid": "u", "enable": 1}), 0, "enable")
	if status() != 4 {
		t.Fatalf("enabled, never activated: status %d", status())
	}
	if err := e.sim.SetActivated("U"); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.SetActivated("ghost"); err == nil {
		t.Fatal("SetActivated on unknown user must fail")
	}
	if status() != 1 {
		t.Fatalf("activated: status %d", status())
	}
	must(t, e.post("user/update", obj{"userid": "u", "mobile": "13999999999", "name": "New"}), 0, "mobile on activated")
	u := e.sim.Snapshot().Users[0]
	if u.Mobile != "13800000001" || u.Name != "New" {
		t.Fatalf("activated member: mobile must be ignored, name applied: %+v", u)
	}
	must(t, e.post("user/update", obj{"userid": "u", "enable": 0}), 0, "disable")
	must(t, e.post("user/update", obj{"userid": "u", "enable": 1}), 0, "re-enable")
	if status() != 1 {
		t.Fatalf("re-enabled after activation: status %d", status())
	}
}

func TestUserDeleteRules(t *testing.T) {
	e := newEnv(t, Options{CreatorUserID: "founder"})
	for i := 0; i < 5; i++ {
		e.mkUser(fmt.Sprintf("u%d", i), []int{1}, nil)
	}
	e.mkUser("founder", []int{1}, nil)
	e.mkUser("sub", []int{1}, obj{"direct_leader": []string{"u0"}})

	must(t, e.get("user/delete", map[string]string{"userid": "founder"}), 301005, "creator")
	must(t, e.get("user/delete", map[string]string{"userid": "nobody"}), 60111, "unknown")

	big := make([]string, 201)
	for i := range big {
		big[i] = fmt.Sprintf("x%d", i)
	}
	must(t, e.post("user/batchdelete", obj{"useridlist": big}), 40032, "over 200")
	must(t, e.post("user/batchdelete", obj{"useridlist": []string{}}), 40058, "empty list")
	must(t, e.post("user/batchdelete", obj{"useridlist": []string{"u1", "ghost", "u2"}}), 60111, "one unknown")
	if n := len(e.sim.Snapshot().Users); n != 7 {
		t.Fatalf("partial batch delete happened: %d users left", n)
	}
	must(t, e.post("user/batchdelete", obj{"useridlist": []string{"U0", "u1"}}), 0, "batch")
	snap := e.sim.Snapshot()
	if len(snap.Users) != 5 {
		t.Fatalf("users left %d", len(snap.Users))
	}
	for _, u := range snap.Users {
		if u.UserID == "sub" && len(u.DirectLeader) != 0 {
			t.Fatalf("deleted leader still referenced: %+v", u)
		}
	}
}

func TestUserListing(t *testing.T) {
	e := newEnv(t, Options{})
	d2 := e.mkDept("A", 1, nil)
	d3 := e.mkDept("A1", d2, nil)
	// Creation order c1..c5; per-department order decides first.
	e.mkUser("c1", []int{d2}, obj{"order": []int{1}})
	e.mkUser("c2", []int{d2}, obj{"order": []int{5}})
	e.mkUser("c3", []int{d2}, obj{"order": []int{1}})
	e.mkUser("c4", []int{d3}, obj{"order": []int{100}})
	e.mkUser("c5", []int{d3, d2}, obj{"order": []int{0, 2}})

	r := e.get("user/simplelist", map[string]string{"department_id": fmt.Sprint(d2)})
	must(t, r, 0, "simplelist")
	if got, want := userIDs(r.body["userlist"]), []string{"c2", "c5", "c1", "c3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("simplelist order %v, want %v", got, want)
	}
	r = e.get("user/list", map[string]string{"department_id": fmt.Sprint(d2), "fetch_child": "1"})
	must(t, r, 0, "list fetch_child")
	if got, want := userIDs(r.body["userlist"]), []string{"c2", "c5", "c1", "c3", "c4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("list order %v, want %v", got, want)
	}
	first := r.body["userlist"].([]any)[1].(map[string]any)
	if first["email"] != "c5@example.com" || len(first["department"].([]any)) != 2 {
		t.Fatalf("full user object %v", first)
	}
	r = e.get("user/simplelist", map[string]string{"department_id": "1", "fetch_child": "0"})
	if len(r.body["userlist"].([]any)) != 0 {
		t.Fatalf("root has no direct members: %s", r.raw)
	}
	must(t, e.get("user/simplelist", map[string]string{"department_id": "999"}), 60123, "unknown dept")
	must(t, e.get("user/list", nil), 40058, "missing department_id")
}

func TestUserListID(t *testing.T) {
	e := newEnv(t, Options{})
	d2 := e.mkDept("A", 1, nil)
	e.mkUser("b", []int{1, d2}, nil)
	e.mkUser("A", []int{d2}, nil)
	e.mkUser("c", []int{1}, nil)

	want := []string{"A/2", "b/1", "b/2", "c/1"}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("cursor never ended")
		}
		r := e.post("user/list_id", obj{"cursor": cursor, "limit": 1})
		must(t, r, 0, "list_id page")
		for _, row := range r.body["dept_user"].([]any) {
			m := row.(map[string]any)
			got = append(got, fmt.Sprintf("%s/%v", m["userid"], m["department"]))
		}
		cursor = r.body["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}

	r := e.post("user/list_id", obj{})
	must(t, r, 0, "no limit")
	if len(r.body["dept_user"].([]any)) != 4 || r.body["next_cursor"] != "" {
		t.Fatalf("single page %s", r.raw)
	}
	for _, lim := range []int{0, -1, 10001} {
		must(t, e.post("user/list_id", obj{"limit": lim}), 40058, fmt.Sprint("limit ", lim))
	}
	must(t, e.post("user/list_id", obj{"cursor": "garbage!", "limit": 1}), 50100, "bad cursor")
	must(t, e.post("user/list_id", obj{"cursor": "d3NjMTpiAHg", "limit": 1}), 50100, "well-encoded bad cursor")
	must(t, e.getAs(editSecret, "user/list_id", nil), 40058, "GET list_id")
}

func TestAutoCreateDepartment(t *testing.T) {
	e := newEnv(t, Options{AutoCreateDepartment: true})
	e.mkUser("nodept", nil, obj{"department": nil})
	e.mkUser("unknown", []int{77}, nil)
	snap := e.sim.Snapshot()
	var pending int
	for _, d := range snap.Departments {
		if d.Name == pendingDeptName {
			pending = d.ID
		}
	}
	if pending == 0 {
		t.Fatalf("no pending department: %+v", snap.Departments)
	}
	for _, u := range snap.Users {
		switch u.UserID {
		case "nodept":
			if !reflect.DeepEqual(u.Department, []int{pending}) || u.MainDepartment != pending {
				t.Fatalf("nodept %+v", u)
			}
		case "unknown":
			if !reflect.DeepEqual(u.Department, []int{77}) {
				t.Fatalf("unknown %+v", u)
			}
		}
	}
	if r := e.get("department/get", map[string]string{"id": "77"}); r.code != 0 || r.body["department"].(map[string]any)["parentid"].(float64) != float64(pending) {
		t.Fatalf("auto-created 77: %s", r.raw)
	}
}

// An unknown department id that is also the next free id must not be given
// to the 待设置部门 placeholder (it used to be, making a department its own
// parent and department/list recurse until the process died).
func TestAutoCreateDepartmentKeepsRequestedID(t *testing.T) {
	e := newEnv(t, Options{AutoCreateDepartment: true})
	next := 0
	for _, d := range e.sim.Snapshot().Departments {
		next = max(next, d.ID)
	}
	next++
	e.mkUser("collide", []int{next}, nil)
	for _, d := range e.sim.Snapshot().Departments {
		if d.ID == d.ParentID {
			t.Fatalf("department %d is its own parent", d.ID)
		}
	}
	if r := e.get("department/list", nil); r.code != 0 {
		t.Fatalf("department/list: %s", r.raw)
	}
}
