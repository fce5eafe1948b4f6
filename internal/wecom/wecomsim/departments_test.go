package wecomsim

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDepartmentCreateValidation(t *testing.T) {
	e := newEnv(t, Options{DeptNameMax: 32})
	eng := e.mkDept("Eng", 1, nil)
	cases := []struct {
		name string
		body obj
		want int
	}{
		{"ok with id", obj{"name": "Ops", "parentid": 1, "id": 500, "order": 7}, 0},
		{"name missing", obj{"parentid": 1}, 60001},
		{"name empty", obj{"name": "", "parentid": 1}, 60001},
		{"name too long", obj{"name": strings.Repeat("部", 33), "parentid": 1}, 60001},
		{"name 32", obj{"name": strings.Repeat("部", 32), "parentid": 1}, 0},
		{"name colon", obj{"name": "a:b", "parentid": 1}, 60009},
		{"name fullwidth bar", obj{"name": "a｜b", "parentid": 1}, 60009},
		{"name bar", obj{"name": "a|b", "parentid": 1}, 60009},
		{"name_en bad", obj{"name": "X", "name_en": "a<b", "parentid": 1}, 60009},
		{"sibling dup", obj{"name": "Eng", "parentid": 1}, 60008},
		{"same name other parent", obj{"name": "Eng", "parentid": eng}, 0},
		{"id dup", obj{"name": "Y", "parentid": 1, "id": eng}, 60008},
		{"id root", obj{"name": "Y", "parentid": 1, "id": 1}, 60008},
		{"id negative", obj{"name": "Y", "parentid": 1, "id": -5}, 40058},
		{"id too big", obj{"name": "Y", "parentid": 1, "id": 1 << 31}, 40058},
		{"parent missing", obj{"name": "Y", "parentid": 999}, 60004},
		{"parentid absent", obj{"name": "Y"}, 60004},
		{"order range", obj{"name": "Y", "parentid": 1, "order": -1}, 40058},
		{"name wrong type", obj{"name": 3, "parentid": 1}, 40058},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("department/create", c.body)
			must(t, r, c.want, c.name)
			if c.want == 0 {
				id := int(r.body["id"].(float64))
				if want, ok := c.body["id"]; ok && id != want {
					t.Fatalf("id %d, want %v", id, want)
				}
				must(t, e.get("department/delete", map[string]string{"id": fmt.Sprint(id)}), 0, "cleanup")
			}
		})
	}
}

func TestDepartmentCaps(t *testing.T) {
	e := newEnv(t, Options{MaxDepth: 3, MaxDepartments: 5, MaxNodesPerDept: 3})
	l2 := e.mkDept("L2", 1, nil)
	l3 := e.mkDept("L3", l2, nil)
	must(t, e.post("department/create", obj{"name": "L4", "parentid": l3}), 40058, "depth 4 > 3")
	other := e.mkDept("Other", 1, nil)
	must(t, e.post("department/update", obj{"id": other, "parentid": l3}), 40058, "move beyond depth")
	must(t, e.post("department/update", obj{"id": l2, "parentid": other}), 40058, "move subtree beyond depth")

	// Nodes under Other: sub-departments plus members.
	e.mkUser("m1", []int{other}, nil)
	e.mkUser("m2", []int{other}, nil)
	e.mkDept("O1", other, nil) // 3 nodes now
	must(t, e.post("user/create", obj{"userid": "m3", "name": "m", "department": []int{other}, "mobile": "13800000003"}), 40058, "node cap on member")
	must(t, e.post("department/create", obj{"name": "O2", "parentid": other}), 40058, "node cap on department")
	must(t, e.post("department/create", obj{"name": "R2", "parentid": 1}), 40058, "total cap (5 with root)")
}

func TestDepartmentUpdate(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.mkDept("A", 1, obj{"order": 3, "name_en": "A-en"})
	b := e.mkDept("B", 1, nil)
	a1 := e.mkDept("A1", a, nil)
	a11 := e.mkDept("A11", a1, nil)
	e.mkDept("X", b, nil)

	must(t, e.post("department/update", obj{"id": a, "name": "A2"}), 0, "rename")
	got := e.sim.Snapshot().Departments[1]
	if want := (SnapDept{ID: a, Name: "A2", NameEn: "A-en", ParentID: 1, Order: 3}); got != want {
		t.Fatalf("partial update: %+v, want %+v", got, want)
	}
	cases := []struct {
		name string
		body obj
		want int
	}{
		{"self parent", obj{"id": a, "parentid": a}, 60010},
		{"descendant parent", obj{"id": a, "parentid": a11}, 60010},
		{"parent missing", obj{"id": a, "parentid": 999}, 60004},
		{"not found", obj{"id": 999, "name": "Q"}, 60003},
		{"id missing", obj{"name": "Q"}, 40058},
		{"sibling dup by rename", obj{"id": a, "name": "B"}, 60008},
		{"sibling dup by move", obj{"id": a1, "parentid": b, "name": "X"}, 60008},
		{"bad name", obj{"id": a, "name": "a*b"}, 60009},
		{"move ok", obj{"id": a1, "parentid": b, "order": 9}, 0},
		{"root rename", obj{"id": 1, "name": "Corp"}, 0},
		{"root move", obj{"id": 1, "parentid": a}, 60010},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { must(t, e.post("department/update", c.body), c.want, c.name) })
	}
	r := e.get("department/get", map[string]string{"id": fmt.Sprint(a1)})
	d := r.body["department"].(map[string]any)
	if d["parentid"].(float64) != float64(b) || d["order"].(float64) != 9 {
		t.Fatalf("after move %v", d)
	}
}

func TestDepartmentDelete(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.mkDept("A", 1, nil)
	a1 := e.mkDept("A1", a, nil)
	e.mkUser("m", []int{a1}, nil)
	cases := []struct {
		id   string
		want int
	}{
		{"1", 60007},
		{"999", 60003},
		{"", 40058},
		{"x", 40058},
		{fmt.Sprint(a), 60006},
		{fmt.Sprint(a1), 60005},
	}
	for _, c := range cases {
		must(t, e.get("department/delete", map[string]string{"id": c.id}), c.want, "delete "+c.id)
	}
	must(t, e.get("user/delete", map[string]string{"userid": "m"}), 0, "remove member")
	must(t, e.get("department/delete", map[string]string{"id": fmt.Sprint(a1)}), 0, "delete leaf")
	must(t, e.get("department/delete", map[string]string{"id": fmt.Sprint(a)}), 0, "delete now-empty parent")
	must(t, e.get("department/get", map[string]string{"id": fmt.Sprint(a)}), 60003, "get deleted")
	must(t, e.get("department/get", nil), 40058, "get without id")
}

func TestDepartmentListOrderAndLeaders(t *testing.T) {
	e := newEnv(t, Options{})
	// Siblings: order descending, then id ascending.
	a := e.mkDept("A", 1, obj{"order": 1})
	b := e.mkDept("B", 1, obj{"order": 10})
	c := e.mkDept("C", 1, obj{"order": 1})
	b1 := e.mkDept("B1", b, nil)
	a1 := e.mkDept("A1", a, nil)
	e.mkUser("lead", []int{b, a}, obj{"is_leader_in_dept": []int{1, 0}})
	e.mkUser("lead2", []int{b}, obj{"is_leader_in_dept": []int{1}})

	r := e.get("department/list", nil)
	must(t, r, 0, "list")
	if got, want := deptIDs(r.body["department"]), []int{1, b, b1, a, a1, c}; !reflect.DeepEqual(got, want) {
		t.Fatalf("list order %v, want %v", got, want)
	}
	bd := r.body["department"].([]any)[1].(map[string]any)
	if fmt.Sprint(bd["department_leader"]) != "[lead lead2]" {
		t.Fatalf("leaders of B: %v", bd)
	}
	r = e.get("department/simplelist", map[string]string{"id": fmt.Sprint(a)})
	must(t, r, 0, "simplelist subtree")
	if got := deptIDs(r.body["department_id"]); !reflect.DeepEqual(got, []int{a, a1}) {
		t.Fatalf("subtree %v", got)
	}
	must(t, e.get("department/list", map[string]string{"id": "999"}), 60003, "list unknown")
	must(t, e.get("department/simplelist", map[string]string{"id": "999"}), 60003, "simplelist unknown")
	r = e.get("department/get", map[string]string{"id": fmt.Sprint(b)})
	if fmt.Sprint(r.body["department"].(map[string]any)["department_leader"]) != "[lead lead2]" {
		t.Fatalf("get leaders %s", r.raw)
	}
	r = e.get("department/get", map[string]string{"id": "1"})
	if r.body["department"].(map[string]any)["name"] != testCorp {
		t.Fatalf("root is named after the corp: %s", r.raw)
	}
}
