package wecomsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work"
	"github.com/silenceper/wechat/v2/work/addresslist"
	"github.com/silenceper/wechat/v2/work/config"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// Wire fidelity: third-party code written against the real service must
// work against the emulator unmodified. github.com/silenceper/wechat/v2
// (work/addresslist) is a widely used Go SDK; its URLs are hard-wired to
// https://qyapi.weixin.qq.com, so the test points it here with the SDK's
// own util.SetURIModifier hook, and changes nothing else.

const (
	sdkCorp   = "wwsdkcorp"
	sdkSecret = "sdk-sync-secret-0123456789"
)

// exchange is one request and the answer the emulator gave it.
type exchange struct {
	method, api string
	status      int
	header      http.Header
	body        []byte
}

// wireTap records every exchange with the emulator.
type wireTap struct {
	next http.Handler
	mu   sync.Mutex
	log  []exchange
}

type tapWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *tapWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *tapWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

func (t *wireTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tw := &tapWriter{ResponseWriter: w}
	t.next.ServeHTTP(tw, r)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log = append(t.log, exchange{
		method: r.Method, api: strings.TrimPrefix(r.URL.Path, "/cgi-bin/"),
		status: tw.status, header: w.Header().Clone(), body: tw.body.Bytes(),
	})
}

func (t *wireTap) exchanges() []exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.log)
}

func newTappedSim(t *testing.T) (*wecomsim.Server, *wireTap, string) {
	t.Helper()
	sim := wecomsim.New(wecomsim.Options{CorpID: sdkCorp, Secrets: []wecomsim.Secret{{Value: sdkSecret, Kind: wecomsim.SyncEdit}}})
	tap := &wireTap{next: sim}
	srv := httptest.NewServer(tap)
	t.Cleanup(srv.Close)
	return sim, tap, srv.URL
}

// newSDK returns the SDK's contacts client aimed at base. The SDK keeps
// its URL hook in a package variable, so tests using it must not run in
// parallel.
func newSDK(t *testing.T, base string) *addresslist.Client {
	t.Helper()
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, "https://qyapi.weixin.qq.com", base, 1)
	})
	t.Cleanup(func() { util.SetURIModifier(nil) })
	return work.NewWork(&config.Config{CorpID: sdkCorp, CorpSecret: sdkSecret, Cache: cache.NewMemory()}).GetAddressList()
}

func TestThirdPartySDK(t *testing.T) {
	sim, tap, base := newTappedSim(t)
	sdk := newSDK(t, base)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Departments.
	created, err := sdk.DepartmentCreate(&addresslist.DepartmentCreateRequest{Name: "研发部", NameEn: "R&D", ParentID: 1, Order: 10})
	must("DepartmentCreate", err)
	eng := created.ID
	if eng <= 1 || created.ErrMsg != "created" {
		t.Fatalf("DepartmentCreate = %+v", created)
	}
	sub, err := sdk.DepartmentCreate(&addresslist.DepartmentCreateRequest{Name: "Backend", ParentID: eng, ID: 40})
	must("DepartmentCreate with id", err)
	if sub.ID != 40 {
		t.Fatalf("chosen id = %d, want 40", sub.ID)
	}
	_, err = sdk.DepartmentCreate(&addresslist.DepartmentCreateRequest{Name: "Backend", ParentID: eng})
	var ce *util.CommonError
	if !errors.As(err, &ce) || ce.ErrCode != 60008 {
		t.Fatalf("duplicate sibling: err = %v, want errcode 60008", err)
	}
	depts, err := sdk.DepartmentList()
	must("DepartmentList", err)
	if len(depts) != 3 || depts[0].ID != 1 || depts[1].ID != eng || depts[1].Name != "研发部" || depts[1].NameEn != "R&D" || depts[2].ParentID != eng {
		t.Fatalf("DepartmentList = %+v", depts)
	}
	subtree, err := sdk.DepartmentListByID(eng)
	must("DepartmentListByID", err)
	if len(subtree) != 2 {
		t.Fatalf("DepartmentListByID(%d) = %d departments", eng, len(subtree))
	}
	refs, err := sdk.DepartmentSimpleList(1)
	must("DepartmentSimpleList", err)
	if len(refs) != 3 || refs[1].Order != 10 {
		t.Fatalf("DepartmentSimpleList = %+v", refs)
	}
	must("DepartmentUpdate", sdk.DepartmentUpdate(&addresslist.DepartmentUpdateRequest{ID: 40, Name: "Backend Team"}))
	d, err := sdk.DepartmentGet(40)
	must("DepartmentGet", err)
	if d.Name != "Backend Team" || d.ParentID != eng {
		t.Fatalf("DepartmentGet = %+v", d)
	}

	// Users. The SDK sends every field, zero values included (gender 0,
	// enable 0, main_department 0, empty strings): the emulator must read
	// them the way the real service evidently does.
	_, err = sdk.UserCreate(&addresslist.UserCreateRequest{
		UserID: "ZhangSan", Name: "张三", Department: []int{eng, 40}, Order: []int{5, 0},
		Position: "Engineer", Gender: 1, Email: "zhangsan@example.com", Mobile: "+86 13800000000",
		IsLeaderInDept: []int{1, 0}, Enable: 1, Telephone: "010-12345678", ToInvite: false,
	})
	must("UserCreate", err)
	_, err = sdk.UserCreate(&addresslist.UserCreateRequest{UserID: "lisi", Name: "李四", Department: []int{40}, Email: "lisi@example.com", Enable: 1})
	must("UserCreate with zero values", err)
	u, err := sdk.UserGet("zhangsan") // lookup ignores case
	must("UserGet", err)
	if u.UserID != "ZhangSan" || u.Name != "张三" || !slices.Equal(u.Department, []int{eng, 40}) || !slices.Equal(u.Order, []int{5, 0}) ||
		u.Gender != "1" || u.Mobile != "+86 13800000000" || u.MainDepartment != eng || u.Status != 4 || !slices.Equal(u.IsLeaderInDept, []int{1, 0}) {
		t.Fatalf("UserGet = %+v", u)
	}
	if l, _ := sdk.UserGet("lisi"); l.Gender != "0" || l.MainDepartment != 40 {
		t.Fatalf("gender 0 / main_department 0 must mean unset: %+v", l)
	}
	// The SDK's update sends the whole record; a caller passes it back.
	must("UserUpdate", sdk.UserUpdate(&addresslist.UserUpdateRequest{
		UserID: "ZhangSan", Name: "张三", Email: "zhangsan@example.com", Mobile: "+86 13800000000",
		Position: "Lead", Enable: 1, MainDepartment: 40,
	}))
	u, err = sdk.UserGet("ZhangSan")
	must("UserGet after update", err)
	if u.Position != "Lead" || u.Gender != "1" || u.MainDepartment != 40 || !slices.Equal(u.Department, []int{eng, 40}) {
		t.Fatalf("after UserUpdate = %+v", u)
	}
	if d, _ := sdk.DepartmentGet(eng); !slices.Equal(d.DepartmentLeader, []string{"ZhangSan"}) {
		t.Fatalf("department_leader = %v", d.DepartmentLeader)
	}
	members, err := sdk.UserSimpleList(40)
	must("UserSimpleList", err)
	if len(members) != 2 || members[0].UserID != "ZhangSan" || members[1].UserID != "lisi" {
		t.Fatalf("UserSimpleList = %+v", members)
	}
	var rows []string
	cursor := ""
	for range 10 {
		page, err := sdk.UserListID(&addresslist.UserListIDRequest{Cursor: cursor, Limit: 2})
		must("UserListID", err)
		for _, r := range page.DeptUser {
			rows = append(rows, r.UserID+"/"+strconv.Itoa(r.Department))
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if want := []string{"lisi/40", "ZhangSan/40", "ZhangSan/" + strconv.Itoa(eng)}; !sameSet(rows, want) {
		t.Fatalf("UserListID rows = %v, want %v", rows, want)
	}
	_, err = sdk.UserGet("ghost")
	if !errors.As(err, &ce) || ce.ErrCode != 60111 {
		t.Fatalf("UserGet(ghost): err = %v, want errcode 60111", err)
	}

	// Deletes, in the order WeCom requires.
	must("DepartmentDelete with members", wantCode(sdk.DepartmentDelete(40), 60005))
	_, err = sdk.UserDelete("ZhangSan")
	must("UserDelete", err)
	_, err = sdk.UserDelete("LISI")
	must("UserDelete other case", err)
	must("DepartmentDelete", sdk.DepartmentDelete(40))
	must("DepartmentDelete", sdk.DepartmentDelete(eng))
	if snap := sim.Snapshot(); len(snap.Users) != 0 || len(snap.Departments) != 1 {
		t.Fatalf("final directory %+v", snap)
	}
	if n := sim.Stats()["gettoken"]; n != 1 {
		t.Errorf("the SDK fetched %d tokens, want 1 (it caches)", n)
	}
	checkWire(t, tap.exchanges())
}

// The SDK's tag calls, its models of the answers included: invalidlist a
// string, invalidparty an array of numbers, the lists sent as null when
// the caller leaves them out.
func TestThirdPartySDKTags(t *testing.T) {
	sim, tap, base := newTappedSim(t)
	sdk := newSDK(t, base)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	dept, err := sdk.DepartmentCreate(&addresslist.DepartmentCreateRequest{Name: "研发部", ParentID: 1})
	must("DepartmentCreate", err)
	_, err = sdk.UserCreate(&addresslist.UserCreateRequest{UserID: "zhangsan", Name: "李四", Department: []int{1}, Email: "zs@example.com", Enable: 1})
	must("UserCreate", err)

	created, err := sdk.CreateTag(&addresslist.CreateTagRequest{TagName: "UI"})
	must("CreateTag", err)
	if created.TagID != 1 || created.ErrMsg != "created" {
		t.Fatalf("CreateTag = %+v", created)
	}
	_, err = sdk.CreateTag(&addresslist.CreateTagRequest{TagName: "UI"})
	must("CreateTag with a name in use", wantCode(err, 40071))
	must("UpdateTag", sdk.UpdateTag(&addresslist.UpdateTagRequest{TagID: 1, TagName: "UI design"}))
	added, err := sdk.AddTagUsers(&addresslist.AddTagUsersRequest{TagID: 1, UserList: []string{"zhangsan", "usr1", "usr2"}, PartyList: []int{dept.ID, 4}})
	must("AddTagUsers", err)
	if added.InvalidList != "usr1|usr2" || !slices.Equal(added.InvalidParty, []int{4}) {
		t.Fatalf("AddTagUsers = %+v", added)
	}
	got, err := sdk.GetTag(1)
	must("GetTag", err)
	if got.TagName != "UI design" || len(got.UserList) != 1 || got.UserList[0].UserID != "zhangsan" || got.UserList[0].Name != "李四" || !slices.Equal(got.PartyList, []int{dept.ID}) {
		t.Fatalf("GetTag = %+v", got)
	}
	list, err := sdk.ListTag()
	must("ListTag", err)
	if len(list.TagList) != 1 || list.TagList[0].TagID != 1 || list.TagList[0].TagName != "UI design" {
		t.Fatalf("ListTag = %+v", list)
	}
	removed, err := sdk.DelTagUsers(&addresslist.DelTagUsersRequest{TagID: 1, PartyList: []int{dept.ID}})
	must("DelTagUsers with userlist null", err)
	if removed.InvalidList != "" || removed.InvalidParty != nil {
		t.Fatalf("DelTagUsers = %+v", removed)
	}
	_, err = sdk.DelTagUsers(&addresslist.DelTagUsersRequest{TagID: 1, UserList: []string{"usr1"}})
	must("DelTagUsers of unknown members only", wantCode(err, 40031))
	must("DeleteTag", sdk.DeleteTag(1))
	must("DeleteTag twice", wantCode(sdk.DeleteTag(1), 40068))
	if tags := sim.Snapshot().Tags; len(tags) != 0 {
		t.Fatalf("tags left %+v", tags)
	}
	checkWire(t, tap.exchanges())
}

func wantCode(err error, code int64) error {
	var ce *util.CommonError
	if errors.As(err, &ce) && ce.ErrCode == code {
		return nil
	}
	return errors.Join(errors.New("want errcode "+strconv.FormatInt(code, 10)), err)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// successMsg is the documented errmsg of a successful call per API
// (docs/wecom.md §0).
var successMsg = map[string]string{
	"gettoken":              "ok",
	"user/create":           "created",
	"user/get":              "ok",
	"user/update":           "updated",
	"user/delete":           "deleted",
	"user/batchdelete":      "deleted",
	"user/simplelist":       "ok",
	"user/list":             "ok",
	"user/list_id":          "ok",
	"department/create":     "created",
	"department/update":     "updated",
	"department/delete":     "deleted",
	"department/list":       "ok",
	"department/simplelist": "ok",
	"department/get":        "ok",
	"tag/create":            "created",
	"tag/update":            "updated",
	"tag/delete":            "deleted",
	"tag/get":               "ok",
	"tag/list":              "ok",
	"tag/addtagusers":       "ok",
	"tag/deltagusers":       "deleted",
}

// checkWire holds every exchange to docs/wecom.md §0 and §6: HTTP 200, a JSON object
// whose errcode is a JSON integer and errmsg a JSON string, the documented
// success errmsg, and headers that mirror the body.
func checkWire(t *testing.T, log []exchange) {
	t.Helper()
	if len(log) == 0 {
		t.Fatal("no exchanges recorded")
	}
	for _, x := range log {
		what := x.method + " " + x.api
		if x.status != http.StatusOK {
			t.Errorf("%s: HTTP %d, want 200", what, x.status)
			continue
		}
		if ct := x.header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			t.Errorf("%s: Content-Type %q", what, ct)
		}
		var env map[string]json.RawMessage
		if err := json.Unmarshal(x.body, &env); err != nil {
			t.Errorf("%s: body is not a JSON object: %s", what, x.body)
			continue
		}
		code, err := strconv.Atoi(string(env["errcode"]))
		if err != nil {
			t.Errorf("%s: errcode %s is not a JSON integer", what, env["errcode"])
			continue
		}
		var msg string
		if err := json.Unmarshal(env["errmsg"], &msg); err != nil {
			t.Errorf("%s: errmsg %s is not a JSON string", what, env["errmsg"])
			continue
		}
		if x.header.Get("Error-Code") != strconv.Itoa(code) || x.header.Get("Error-Msg") != msg {
			t.Errorf("%s: headers Error-Code %q Error-Msg %q do not mirror the body", what, x.header.Get("Error-Code"), x.header.Get("Error-Msg"))
		}
		if code == 0 {
			want, known := successMsg[x.api]
			if !known || msg != want {
				t.Errorf("%s: success errmsg %q, want %q", what, msg, want)
			}
		} else if !strings.Contains(msg, "more info at https://open.work.weixin.qq.com/devtool/query?e="+strconv.Itoa(code)) {
			t.Errorf("%s: error errmsg %q lacks production's shape", what, msg)
		}
	}
}

// Every endpoint our own client uses answers within the envelope rules,
// the ones the SDK above does not call (batchdelete, user/list) included.
func TestWireEnvelopeAllEndpoints(t *testing.T) {
	_, tap, base := newTappedSim(t)
	c, err := wecom.New(wecom.Config{BaseURL: base, CorpID: sdkCorp, Secret: sdkSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() error
	}{
		{"create department", func() error {
			_, err := c.CreateDepartment(ctx, wecom.Department{ID: 2, Name: "Eng", ParentID: 1})
			return err
		}},
		{"update department", func() error { return c.UpdateDepartment(ctx, wecom.DepartmentPatch{"id": 2, "order": 3}) }},
		{"get department", func() error { _, err := c.GetDepartment(ctx, 2); return err }},
		{"list departments", func() error { _, err := c.ListDepartments(ctx, 0); return err }},
		{"simplelist departments", func() error { _, err := c.SimpleListDepartments(ctx, 1); return err }},
		{"create user", func() error {
			return c.CreateUser(ctx, &wecom.User{UserID: "a", Name: "A", Email: "a@example.com", Department: []int{2}})
		}},
		{"create user b", func() error {
			return c.CreateUser(ctx, &wecom.User{UserID: "b", Name: "B", Mobile: "13800000002", Department: []int{2}})
		}},
		{"update user", func() error { return c.UpdateUser(ctx, wecom.UserPatch{"userid": "a", "position": "P"}) }},
		{"get user", func() error { _, err := c.GetUser(ctx, "a"); return err }},
		{"simplelist users", func() error { _, err := c.SimpleListUsers(ctx, 1, true); return err }},
		{"list users", func() error { _, err := c.ListUsers(ctx, 2, false); return err }},
		{"list user ids", func() error { _, err := c.AllUserIDs(ctx); return err }},
		{"create tag", func() error { _, err := c.CreateTag(ctx, wecom.Tag{ID: 5, Name: "T"}); return err }},
		{"update tag", func() error { return c.UpdateTag(ctx, wecom.Tag{ID: 5, Name: "U"}) }},
		{"add tag members", func() error {
			_, err := c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: 5, UserIDs: []string{"a", "ghost"}, PartyIDs: []int{2}})
			return err
		}},
		{"get tag", func() error { _, err := c.GetTag(ctx, 5); return err }},
		{"list tags", func() error { _, err := c.ListTags(ctx); return err }},
		{"remove tag members", func() error {
			_, err := c.DelTagUsers(ctx, wecom.TagMembersChange{TagID: 5, UserIDs: []string{"a"}})
			return err
		}},
		{"delete tag", func() error { return c.DeleteTag(ctx, 5) }},
		{"delete user", func() error { return c.DeleteUser(ctx, "a") }},
		{"batch delete users", func() error { return c.BatchDeleteUsers(ctx, []string{"b"}) }},
		{"delete department", func() error { return c.DeleteDepartment(ctx, 2) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	// And some refusals, which must be HTTP 200 too.
	_, tagErr := c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: 99, UserIDs: []string{"ghost"}})
	for _, err := range []error{
		tagErr,
		c.DeleteDepartment(ctx, 1),
		c.DeleteUser(ctx, "ghost"),
		c.CreateUser(ctx, &wecom.User{UserID: "bad id", Name: "X", Email: "x@example.com", Department: []int{1}}),
	} {
		if wecom.CodeOf(err) == 0 {
			t.Fatalf("want a refusal, got %v", err)
		}
	}
	seen := map[string]bool{}
	for _, x := range tap.exchanges() {
		seen[x.api] = true
	}
	for api := range successMsg {
		if !seen[api] {
			t.Errorf("%s was not exercised", api)
		}
	}
	checkWire(t, tap.exchanges())
}
