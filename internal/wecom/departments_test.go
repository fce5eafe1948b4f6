package wecom

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestDepartments(t *testing.T) {
	f := newFake(t)
	f.on("department/create", map[string]any{"id": 7}, map[string]any{"id": 9})
	f.on("department/list", map[string]any{"department": []map[string]any{
		{"id": 1, "name": "Root", "parentid": 0, "order": 100},
		{"id": 7, "name": "R&D", "parentid": 1, "order": 4294967295, "department_leader": []string{"a"}},
	}})
	f.on("department/simplelist", map[string]any{"department_id": []map[string]any{{"id": 7, "parentid": 1, "order": 5}}})
	f.on("department/get", map[string]any{"department": map[string]any{"id": 7, "name": "R&D", "parentid": 1, "name_en": "RD"}})
	h := newHarness(t, f.URL)
	ctx := context.Background()

	id, err := h.c.CreateDepartment(ctx, Department{Name: "R&D", ParentID: 1, Order: 3})
	if err != nil || id != 7 {
		t.Fatalf("CreateDepartment = %d, %v", id, err)
	}
	if id, err := h.c.CreateDepartment(ctx, Department{ID: 9, Name: "QA", ParentID: 7}); err != nil || id != 9 {
		t.Fatalf("CreateDepartment with id = %d, %v", id, err)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(f.requests("department/create")[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if _, has := body["id"]; has || body["name"] != "R&D" || body["parentid"] != 1.0 || body["order"] != 3.0 {
		t.Errorf("create body = %v", body)
	}

	all, err := h.c.ListDepartments(ctx, 0)
	if err != nil || len(all) != 2 || all[1].Order != 4294967295 || all[1].DepartmentLeader[0] != "a" {
		t.Fatalf("ListDepartments = %+v, %v", all, err)
	}
	if q := f.requests("department/list")[0].Query; len(q["id"]) != 0 {
		t.Errorf("whole-tree list sent id: %v", q)
	}
	refs, err := h.c.SimpleListDepartments(ctx, 7)
	if err != nil || len(refs) != 1 || refs[0] != (DepartmentRef{ID: 7, ParentID: 1, Order: 5}) {
		t.Fatalf("SimpleListDepartments = %+v, %v", refs, err)
	}
	if q := f.requests("department/simplelist")[0].Query; q.Get("id") != "7" {
		t.Errorf("simplelist query %v", q)
	}
	d, err := h.c.GetDepartment(ctx, 7)
	if err != nil || d.ID != 7 || d.Name != "R&D" || d.NameEn != "RD" {
		t.Fatalf("GetDepartment = %+v, %v", d, err)
	}
	if err := h.c.UpdateDepartment(ctx, DepartmentPatch{"id": 7, "parentid": 9}); err != nil {
		t.Fatal(err)
	}
	if b := strings.TrimSpace(f.requests("department/update")[0].Body); b != `{"id":7,"parentid":9}` {
		t.Errorf("update body %s", b)
	}
	if err := h.c.DeleteDepartment(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if q := f.requests("department/delete")[0].Query; q.Get("id") != "7" {
		t.Errorf("delete query %v", q)
	}
}

func TestDepartmentErrors(t *testing.T) {
	f := newFake(t)
	f.on("department/create", 60004)
	f.on("department/update", 60010)
	f.on("department/delete", 60005)
	f.on("department/list", 48009)
	f.on("department/get", 60003)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	_, createErr := h.c.CreateDepartment(ctx, Department{Name: "X", ParentID: 99})
	_, listErr := h.c.ListDepartments(ctx, 0)
	_, getErr := h.c.GetDepartment(ctx, 42)
	for _, tc := range []struct {
		err    error
		prefix string
		class  Class
	}{
		{createErr, `create department "X" under 99: `, ClassRow},
		{h.c.UpdateDepartment(ctx, DepartmentPatch{"id": 5, "parentid": 6}), "update department 5: ", ClassRow},
		{h.c.DeleteDepartment(ctx, 3), "delete department 3: ", ClassRow},
		{listErr, "list departments (whole tree): ", ClassConfig},
		{getErr, "get department 42: ", ClassRow},
	} {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.prefix) || ClassOf(tc.err) != tc.class {
			t.Errorf("err = %v (class %v), want prefix %q class %v", tc.err, ClassOf(tc.err), tc.prefix, tc.class)
		}
	}
	if err := h.c.UpdateDepartment(ctx, DepartmentPatch{"name": "x"}); err == nil {
		t.Error("patch without id accepted")
	}
}
