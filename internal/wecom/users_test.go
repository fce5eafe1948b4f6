package wecom

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestGetUserDecodes(t *testing.T) {
	f := newFake(t)
	f.on("user/get", map[string]any{
		"userid": "Alice", "name": "爱丽丝", "department": []int{1, 2}, "order": []uint32{4294967295, 0},
		"gender": "2", "status": 4, "enable": 1, "main_department": 2, "is_leader_in_dept": []int{0, 1},
	})
	h := newHarness(t, f.URL)
	u, err := h.c.GetUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.UserID != "Alice" || u.Name != "爱丽丝" || !slices.Equal(u.Department, []int{1, 2}) ||
		u.Order[0] != 4294967295 || u.Gender != "2" || u.Status != 4 || u.Enable == nil || *u.Enable != 1 ||
		u.MainDepartment != 2 || !slices.Equal(u.IsLeaderInDept, []int{0, 1}) {
		t.Errorf("decoded %+v", u)
	}
	if q := f.requests("user/get")[0].Query; q.Get("userid") != "alice" {
		t.Errorf("query %v", q)
	}
}

func TestUserErrorsWrapOpAndKey(t *testing.T) {
	f := newFake(t)
	f.on("user/create", 60102)
	f.on("user/get", 60111)
	f.on("user/update", 60104)
	f.on("user/delete", 301005)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	_, getErr := h.c.GetUser(ctx, "bob")
	for _, tc := range []struct {
		err    error
		prefix string
		code   int
	}{
		{h.c.CreateUser(ctx, &User{UserID: "bob"}), "create user bob: wecom user/create: errcode 60102", 60102},
		{getErr, "get user bob: wecom user/get: errcode 60111", 60111},
		{h.c.UpdateUser(ctx, UserPatch{"userid": "bob", "mobile": "1"}), "update user bob: wecom user/update: errcode 60104", 60104},
		{h.c.DeleteUser(ctx, "bob"), "delete user bob: wecom user/delete: errcode 301005", 301005},
	} {
		if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.prefix) {
			t.Errorf("err = %v, want prefix %q", tc.err, tc.prefix)
		}
		if CodeOf(tc.err) != tc.code || ClassOf(tc.err) != ClassRow {
			t.Errorf("%v: code %d class %v", tc.err, CodeOf(tc.err), ClassOf(tc.err))
		}
	}
}

func TestUserLocalValidation(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	for name, err := range map[string]error{
		"nil user":      h.c.CreateUser(ctx, nil),
		"patch no id":   h.c.UpdateUser(ctx, UserPatch{"name": "x"}),
		"patch id type": h.c.UpdateUser(ctx, UserPatch{"userid": 5}),
		"limit 0":       func() error { _, _, err := h.c.ListUserIDs(ctx, "", 0); return err }(),
		"limit 10001":   func() error { _, _, err := h.c.ListUserIDs(ctx, "", 10001); return err }(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := len(f.reqs); n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
}

func TestBatchDeleteChunks(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ids := make([]string, 450)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%03d", i)
	}
	if err := h.c.BatchDeleteUsers(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests("user/batchdelete")
	var got [][]string
	for _, r := range reqs {
		var b struct {
			UserIDList []string `json:"useridlist"`
		}
		if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, b.UserIDList)
	}
	if len(got) != 3 || len(got[0]) != 200 || len(got[1]) != 200 || len(got[2]) != 50 ||
		got[0][0] != "u000" || got[1][0] != "u200" || got[2][49] != "u449" {
		t.Fatalf("chunks = %d calls, sizes %v", len(got), lens(got))
	}

	// Nothing to delete: no call.
	if err := h.c.BatchDeleteUsers(context.Background(), nil); err != nil || len(f.requests("user/batchdelete")) != 3 {
		t.Fatalf("empty batch: %v", err)
	}
}

func TestBatchDeleteStopsAtFailingChunk(t *testing.T) {
	f := newFake(t)
	f.on("user/batchdelete", map[string]any{}, 40031)
	h := newHarness(t, f.URL)
	ids := make([]string, 500)
	for i := range ids {
		ids[i] = fmt.Sprint("u", i)
	}
	err := h.c.BatchDeleteUsers(context.Background(), ids)
	if CodeOf(err) != 40031 || !strings.HasPrefix(err.Error(), "batch delete users [200:400] of 500: ") {
		t.Fatalf("err = %v", err)
	}
	if n := f.count("user/batchdelete"); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}

func lens(s [][]string) []int {
	var out []int
	for _, x := range s {
		out = append(out, len(x))
	}
	return out
}

func TestListUsers(t *testing.T) {
	f := newFake(t)
	f.on("user/simplelist", map[string]any{"userlist": []map[string]any{{"userid": "a", "name": "A", "department": []int{1}}}})
	f.on("user/list", map[string]any{"userlist": []map[string]any{{"userid": "b", "name": "B", "mobile": "+86 13800000000"}}})
	h := newHarness(t, f.URL)
	ctx := context.Background()
	su, err := h.c.SimpleListUsers(ctx, 7, true)
	if err != nil || len(su) != 1 || su[0].UserID != "a" || su[0].Department[0] != 1 {
		t.Fatalf("SimpleListUsers = %+v, %v", su, err)
	}
	lu, err := h.c.ListUsers(ctx, 8, false)
	if err != nil || len(lu) != 1 || lu[0].Mobile != "+86 13800000000" {
		t.Fatalf("ListUsers = %+v, %v", lu, err)
	}
	if q := f.requests("user/simplelist")[0].Query; q["department_id"][0] != "7" || q["fetch_child"][0] != "1" {
		t.Errorf("simplelist query %v", q)
	}
	if q := f.requests("user/list")[0].Query; q["department_id"][0] != "8" || q["fetch_child"][0] != "0" {
		t.Errorf("list query %v", q)
	}
}

func TestAllUserIDsPages(t *testing.T) {
	f := newFake(t)
	f.on("user/list_id",
		map[string]any{"next_cursor": "c1", "dept_user": []DeptUser{{"a", 1}, {"a", 2}}},
		map[string]any{"next_cursor": "c2", "dept_user": []DeptUser{{"b", 1}}},
		map[string]any{"next_cursor": "", "dept_user": []DeptUser{{"c", 3}}},
	)
	h := newHarness(t, f.URL)
	all, err := h.c.AllUserIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []DeptUser{{"a", 1}, {"a", 2}, {"b", 1}, {"c", 3}}
	if !slices.Equal(all, want) {
		t.Fatalf("AllUserIDs = %v, want %v", all, want)
	}
	var bodies []string
	for _, r := range f.requests("user/list_id") {
		bodies = append(bodies, strings.TrimSpace(r.Body))
	}
	wantBodies := []string{`{"limit":10000}`, `{"cursor":"c1","limit":10000}`, `{"cursor":"c2","limit":10000}`}
	if !slices.Equal(bodies, wantBodies) {
		t.Fatalf("bodies = %v, want %v", bodies, wantBodies)
	}
}

func TestAllUserIDsErrors(t *testing.T) {
	f := newFake(t)
	f.on("user/list_id",
		map[string]any{"next_cursor": "c1", "dept_user": []DeptUser{{"a", 1}}},
		50100,
	)
	h := newHarness(t, f.URL)
	_, err := h.c.AllUserIDs(context.Background())
	if CodeOf(err) != 50100 || !strings.Contains(err.Error(), `cursor "c1"`) {
		t.Fatalf("err = %v", err)
	}

	// A server that repeats its cursor must not loop the client forever.
	f2 := newFake(t)
	same := map[string]any{"next_cursor": "same"}
	f2.on("user/list_id", same, same, same)
	h2 := newHarness(t, f2.URL)
	if _, err := h2.c.AllUserIDs(context.Background()); err == nil || !strings.Contains(err.Error(), "did not advance") {
		t.Fatalf("err = %v", err)
	}
}
