package wecom_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

const (
	simCorp   = "ww1"
	simSecret = "s3cret"
)

func newSim(t *testing.T) (*wecomsim.Server, *wecom.Client) {
	t.Helper()
	sim := wecomsim.New(wecomsim.Options{
		CorpID:  simCorp,
		Secrets: []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncEdit}},
	})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wecom.New(wecom.Config{
		BaseURL: srv.URL,
		CorpID:  simCorp,
		Secret:  simSecret,
		// Backoff would only slow the test down; the count of retries is
		// what matters and the emulator shows it.
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

// wantCode fails unless err carries errcode code of class class.
func wantCode(t *testing.T, what string, err error, code int, class wecom.Class) {
	t.Helper()
	if wecom.CodeOf(err) != code || wecom.ClassOf(err) != class {
		t.Fatalf("%s: err = %v (code %d, class %v), want %d %v", what, err, wecom.CodeOf(err), wecom.ClassOf(err), code, class)
	}
}

func userIDs[T any](list []T, id func(T) string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, id(x))
	}
	sort.Strings(out)
	return out
}

func TestSimEndToEnd(t *testing.T) {
	sim, c := newSim(t)
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Departments: root 1 ─┬─ Eng (auto id) ── Backend (id 10)
	//                      └─ Sales
	eng, err := c.CreateDepartment(ctx, wecom.Department{Name: "Eng", ParentID: 1, Order: 10})
	must("create Eng", err)
	backend, err := c.CreateDepartment(ctx, wecom.Department{ID: 10, Name: "Backend", ParentID: eng})
	must("create Backend", err)
	if backend != 10 {
		t.Fatalf("Backend id = %d, want 10", backend)
	}
	sales, err := c.CreateDepartment(ctx, wecom.Department{Name: "Sales", ParentID: 1, Order: 5})
	must("create Sales", err)
	_, err = c.CreateDepartment(ctx, wecom.Department{Name: "Eng", ParentID: 1})
	wantCode(t, "duplicate sibling name", err, 60008, wecom.ClassRow)
	_, err = c.CreateDepartment(ctx, wecom.Department{Name: "Orphan", ParentID: 999})
	if wecom.ClassOf(err) != wecom.ClassRow {
		t.Fatalf("unknown parent: err = %v, want a row error", err)
	}

	// Users.
	enable := 1
	must("create alice", c.CreateUser(ctx, &wecom.User{
		UserID: "alice", Name: "Alice", Mobile: "+86 13800000001", Email: "alice@example.com",
		Department: []int{eng, backend}, Order: []uint32{4294967295, 1}, IsLeaderInDept: []int{1, 0},
		MainDepartment: eng, Position: "Dev", Gender: "2", Enable: &enable,
	}))
	must("create bob", c.CreateUser(ctx, &wecom.User{UserID: "bob", Name: "Bob", Email: "bob@example.com", Department: []int{sales}}))
	must("create carol", c.CreateUser(ctx, &wecom.User{UserID: "carol", Name: "<a&b>", Mobile: "13800000003", Department: []int{backend}}))

	err = c.CreateUser(ctx, &wecom.User{UserID: "ALICE", Name: "Dup", Email: "dup@example.com", Department: []int{1}})
	wantCode(t, "duplicate userid (case-insensitive)", err, 60102, wecom.ClassRow)
	err = c.CreateUser(ctx, &wecom.User{UserID: "dave", Name: "Dave", Department: []int{1}})
	wantCode(t, "no mobile nor email", err, 60129, wecom.ClassRow)

	u, err := c.GetUser(ctx, "Alice")
	must("get alice", err)
	if u.UserID != "alice" || u.Name != "Alice" || !slices.Equal(u.Department, []int{eng, backend}) ||
		!slices.Equal(u.Order, []uint32{4294967295, 1}) || u.Position != "Dev" || u.Gender != "2" ||
		u.MainDepartment != eng || u.Status != 4 {
		t.Fatalf("get alice = %+v", u)
	}
	carol, err := c.GetUser(ctx, "carol")
	must("get carol", err)
	if carol.Name != "<a&b>" {
		t.Fatalf("carol name stored as %q", carol.Name)
	}
	_, err = c.GetUser(ctx, "nobody")
	wantCode(t, "get unknown user", err, 60111, wecom.ClassRow)

	// Partial update: only the keys sent change; "" clears.
	must("update alice", c.UpdateUser(ctx, wecom.UserPatch{"userid": "alice", "position": "Lead", "alias": "Al"}))
	must("clear alias", c.UpdateUser(ctx, wecom.UserPatch{"userid": "alice", "alias": ""}))
	u, err = c.GetUser(ctx, "alice")
	must("get alice", err)
	if u.Position != "Lead" || u.Alias != "" || u.Name != "Alice" || u.Mobile != "+86 13800000001" || u.Email != "alice@example.com" {
		t.Fatalf("after partial update = %+v", u)
	}
	err = c.UpdateUser(ctx, wecom.UserPatch{"userid": "bob", "mobile": "+86 13800000001"})
	wantCode(t, "mobile taken", err, 60104, wecom.ClassRow)

	// Member lists.
	su, err := c.SimpleListUsers(ctx, eng, true)
	must("simplelist Eng recursive", err)
	if got := userIDs(su, func(s wecom.SimpleUser) string { return s.UserID }); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Fatalf("simplelist Eng fetch_child = %v", got)
	}
	su, err = c.SimpleListUsers(ctx, eng, false)
	must("simplelist Eng", err)
	if got := userIDs(su, func(s wecom.SimpleUser) string { return s.UserID }); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("simplelist Eng = %v", got)
	}
	lu, err := c.ListUsers(ctx, 1, true)
	must("list all", err)
	if got := userIDs(lu, func(u wecom.User) string { return u.UserID }); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Fatalf("list root recursive = %v", got)
	}

	// list_id: one row per (user, department); page it by hand and whole.
	var paged []wecom.DeptUser
	cursor, pages := "", 0
	for {
		rows, next, err := c.ListUserIDs(ctx, cursor, 2)
		must("list_id page", err)
		paged = append(paged, rows...)
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	all, err := c.AllUserIDs(ctx)
	must("all user ids", err)
	if len(all) != 4 || pages < 2 || !slices.Equal(paged, all) {
		t.Fatalf("list_id: paged %v in %d pages, all %v", paged, pages, all)
	}
	_, _, err = c.ListUserIDs(ctx, "not-a-cursor", 10)
	wantCode(t, "bad cursor", err, 50100, wecom.ClassRow)

	// Department reads.
	depts, err := c.ListDepartments(ctx, 0)
	must("list departments", err)
	if len(depts) != 4 {
		t.Fatalf("whole tree = %+v", depts)
	}
	sub, err := c.ListDepartments(ctx, eng)
	must("list Eng subtree", err)
	if len(sub) != 2 || sub[0].ID != eng || sub[1].ID != backend {
		t.Fatalf("Eng subtree = %+v", sub)
	}
	refs, err := c.SimpleListDepartments(ctx, 0)
	must("simplelist departments", err)
	if len(refs) != 4 {
		t.Fatalf("simplelist = %+v", refs)
	}
	refs, err = c.SimpleListDepartments(ctx, backend)
	must("simplelist Backend", err)
	if len(refs) != 1 || refs[0].ParentID != eng {
		t.Fatalf("simplelist Backend = %+v", refs)
	}
	d, err := c.GetDepartment(ctx, eng)
	must("get Eng", err)
	if d.Name != "Eng" || d.ParentID != 1 || d.Order != 10 || !slices.Equal(d.DepartmentLeader, []string{"alice"}) {
		t.Fatalf("get Eng = %+v", d)
	}
	_, err = c.GetDepartment(ctx, 12345)
	wantCode(t, "get unknown department", err, 60003, wecom.ClassRow)

	// Department updates.
	must("rename Sales", c.UpdateDepartment(ctx, wecom.DepartmentPatch{"id": sales, "name": "Sales & Marketing"}))
	d, err = c.GetDepartment(ctx, sales)
	must("get Sales", err)
	if d.Name != "Sales & Marketing" || d.Order != 5 {
		t.Fatalf("renamed Sales = %+v", d)
	}
	err = c.UpdateDepartment(ctx, wecom.DepartmentPatch{"id": eng, "parentid": backend})
	wantCode(t, "move under own child", err, 60010, wecom.ClassRow)
	err = c.DeleteDepartment(ctx, backend)
	wantCode(t, "delete department with members", err, 60005, wecom.ClassRow)
	err = c.DeleteDepartment(ctx, 1)
	wantCode(t, "delete root", err, 60007, wecom.ClassRow)

	// Deletes.
	must("delete bob", c.DeleteUser(ctx, "bob"))
	_, err = c.GetUser(ctx, "bob")
	wantCode(t, "get deleted bob", err, 60111, wecom.ClassRow)
	err = c.DeleteUser(ctx, "bob")
	wantCode(t, "delete bob twice", err, 60111, wecom.ClassRow)
	err = c.BatchDeleteUsers(ctx, []string{"alice", "ghost"})
	if wecom.ClassOf(err) != wecom.ClassRow {
		t.Fatalf("batchdelete with unknown id: err = %v, want a row error", err)
	}
	if n := len(sim.Snapshot().Users); n != 2 {
		t.Fatalf("a failed batchdelete deleted something: %d users left", n)
	}
	must("batchdelete", c.BatchDeleteUsers(ctx, []string{"alice", "carol"}))
	must("delete Backend", c.DeleteDepartment(ctx, backend))
	err = c.DeleteDepartment(ctx, backend)
	wantCode(t, "delete Backend twice", err, 60003, wecom.ClassRow)
	must("delete Eng", c.DeleteDepartment(ctx, eng))
	must("delete Sales", c.DeleteDepartment(ctx, sales))

	snap := sim.Snapshot()
	if len(snap.Users) != 0 || len(snap.Departments) != 1 || snap.Departments[0].ID != 1 {
		t.Fatalf("final snapshot = %+v", snap)
	}
	// One token served the whole run.
	if n := sim.Stats()["gettoken"]; n != 1 {
		t.Errorf("gettoken calls = %d, want 1", n)
	}
}

// More than 200 ids go out in chunks the emulator accepts (it answers 40032
// beyond 200).
func TestSimBatchDeleteChunks(t *testing.T) {
	sim, c := newSim(t)
	ctx := context.Background()
	ids := make([]string, 205)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%03d", i)
		if err := c.CreateUser(ctx, &wecom.User{UserID: ids[i], Name: ids[i], Email: ids[i] + "@example.com", Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := c.AllUserIDs(ctx)
	if err != nil || len(all) != 205 {
		t.Fatalf("AllUserIDs = %d rows, %v", len(all), err)
	}
	if err := c.BatchDeleteUsers(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Snapshot().Users); n != 0 {
		t.Fatalf("%d users left", n)
	}
	if n := sim.Stats()["user/batchdelete"]; n != 2 {
		t.Errorf("batchdelete calls = %d, want 2", n)
	}
}

func TestSimRetriesAndRefresh(t *testing.T) {
	sim, c := newSim(t)
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}

	// Transient faults are retried and the create lands once.
	sim.InjectFaults(-1, 500, 45033)
	if err := c.CreateUser(ctx, &wecom.User{UserID: "erin", Name: "Erin", Email: "erin@example.com", Department: []int{1}}); err != nil {
		t.Fatalf("create through faults: %v", err)
	}
	if n := sim.Stats()["user/create"]; n != 4 {
		t.Errorf("user/create calls = %d, want 4", n)
	}

	// More faults than MaxRetries: the error surfaces as retryable.
	sim.InjectFaults(-1, -1, -1, -1)
	_, err := c.GetUser(ctx, "erin")
	wantCode(t, "persistent -1", err, -1, wecom.ClassRetry)

	// WeCom revokes tokens early: one refresh, one retry, success.
	sim.InvalidateTokens()
	if _, err := c.GetUser(ctx, "erin"); err != nil {
		t.Fatalf("get after token revocation: %v", err)
	}
	if n := sim.Stats()["gettoken"]; n != 2 {
		t.Errorf("gettoken calls = %d, want 2", n)
	}

	// Row errors are not retried.
	before := sim.Stats()["user/create"]
	err = c.CreateUser(ctx, &wecom.User{UserID: "erin", Name: "Erin", Email: "erin2@example.com", Department: []int{1}})
	wantCode(t, "duplicate erin", err, 60102, wecom.ClassRow)
	if n := sim.Stats()["user/create"] - before; n != 1 {
		t.Errorf("row error retried: %d calls", n)
	}
}

func TestSimWrongSecretIsConfig(t *testing.T) {
	sim := wecomsim.New(wecomsim.Options{
		CorpID:  simCorp,
		Secrets: []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncEdit}},
	})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: simCorp, Secret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListDepartments(context.Background(), 0)
	wantCode(t, "wrong secret", err, 40001, wecom.ClassConfig)
	if n := sim.Stats()["gettoken"]; n != 1 {
		t.Errorf("gettoken calls = %d, want 1 (no loop)", n)
	}

	c2, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: "ww-other", Secret: simSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c2.Token(context.Background())
	wantCode(t, "wrong corpid", err, 40013, wecom.ClassConfig)
}

func TestSimReadOnlySecretCannotWrite(t *testing.T) {
	sim := wecomsim.New(wecomsim.Options{
		CorpID:  simCorp,
		Secrets: []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncReadOnly}},
	})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: simCorp, Secret: simSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDepartment(context.Background(), wecom.Department{Name: "X", ParentID: 1})
	wantCode(t, "write with read-only secret", err, 48002, wecom.ClassConfig)
	if _, err := c.SimpleListDepartments(context.Background(), 0); err != nil {
		t.Fatalf("read with read-only secret: %v", err)
	}
}
