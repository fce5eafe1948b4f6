package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestJSONNotHTMLEscaped(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	u := &User{UserID: "alice", Name: "<a&b>", Position: "R&D > QA", Department: []int{1}}
	if err := h.c.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	body := f.requests("user/create")[0].Body
	if !strings.Contains(body, `"name":"<a&b>"`) || !strings.Contains(body, `"position":"R&D > QA"`) {
		t.Errorf("body not sent raw: %s", body)
	}
	if strings.Contains(body, `\u00`) {
		t.Errorf("body has \\u escapes (40033): %s", body)
	}
	var back User
	if err := json.Unmarshal([]byte(body), &back); err != nil || back.Name != u.Name {
		t.Errorf("body does not round-trip: %v %+v", err, back)
	}
}

// Every business call carries the token in the query and nowhere else,
// with the documented method per endpoint.
func TestTokenOnlyInQueryAndMethods(t *testing.T) {
	f := newFake(t)
	f.on("gettoken", tokenStep())
	f.on("department/create", map[string]any{"id": 2})
	h := newHarness(t, f.URL)
	ctx := context.Background()
	enable := 0
	calls := []struct {
		api, method string
		run         func() error
	}{
		{"user/create", "POST", func() error { return h.c.CreateUser(ctx, &User{UserID: "a", Name: "A", Enable: &enable}) }},
		{"user/get", "GET", func() error { _, err := h.c.GetUser(ctx, "a"); return err }},
		{"user/update", "POST", func() error { return h.c.UpdateUser(ctx, UserPatch{"userid": "a", "alias": ""}) }},
		{"user/delete", "GET", func() error { return h.c.DeleteUser(ctx, "a") }},
		{"user/batchdelete", "POST", func() error { return h.c.BatchDeleteUsers(ctx, []string{"a", "b"}) }},
		{"user/simplelist", "GET", func() error { _, err := h.c.SimpleListUsers(ctx, 1, true); return err }},
		{"user/list", "GET", func() error { _, err := h.c.ListUsers(ctx, 1, false); return err }},
		{"user/list_id", "POST", func() error { _, _, err := h.c.ListUserIDs(ctx, "", 10); return err }},
		{"department/create", "POST", func() error { _, err := h.c.CreateDepartment(ctx, Department{Name: "D", ParentID: 1}); return err }},
		{"department/update", "POST", func() error { return h.c.UpdateDepartment(ctx, DepartmentPatch{"id": 2, "name": "E"}) }},
		{"department/delete", "GET", func() error { return h.c.DeleteDepartment(ctx, 2) }},
		{"department/list", "GET", func() error { _, err := h.c.ListDepartments(ctx, 0); return err }},
		{"department/simplelist", "GET", func() error { _, err := h.c.SimpleListDepartments(ctx, 0); return err }},
		{"department/get", "GET", func() error { _, err := h.c.GetDepartment(ctx, 1); return err }},
		{"tag/create", "POST", func() error { _, err := h.c.CreateTag(ctx, Tag{Name: "T"}); return err }},
		{"tag/update", "POST", func() error { return h.c.UpdateTag(ctx, Tag{ID: 1, Name: "U"}) }},
		{"tag/delete", "GET", func() error { return h.c.DeleteTag(ctx, 1) }},
		{"tag/get", "GET", func() error { _, err := h.c.GetTag(ctx, 1); return err }},
		{"tag/list", "GET", func() error { _, err := h.c.ListTags(ctx); return err }},
		{"tag/addtagusers", "POST", func() error {
			_, err := h.c.AddTagUsers(ctx, TagMembersChange{TagID: 1, UserIDs: []string{"a"}})
			return err
		}},
		{"tag/deltagusers", "POST", func() error {
			_, err := h.c.DelTagUsers(ctx, TagMembersChange{TagID: 1, PartyIDs: []int{2}})
			return err
		}},
	}
	for _, c := range calls {
		if err := c.run(); err != nil {
			t.Fatalf("%s: %v", c.api, err)
		}
		reqs := f.requests(c.api)
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", c.api, len(reqs))
		}
		r := reqs[0]
		if r.Method != c.method {
			t.Errorf("%s: method %s, want %s", c.api, r.Method, c.method)
		}
		if got := r.Query["access_token"]; len(got) != 1 || got[0] != leakToken {
			t.Errorf("%s: access_token query = %v", c.api, got)
		}
		if strings.Contains(r.Body, leakToken) || strings.Contains(r.Body, testSecret) {
			t.Errorf("%s: credential in body: %s", c.api, r.Body)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("%s: Authorization header set", c.api)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, leakToken) {
					t.Errorf("%s: token in header %s", c.api, k)
				}
			}
		}
		switch c.method {
		case "POST":
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: Content-Type %q", c.api, ct)
			}
			if !json.Valid([]byte(r.Body)) {
				t.Errorf("%s: body is not JSON: %q", c.api, r.Body)
			}
		case "GET":
			// noReplay gives every GET an empty body; it must not show on
			// the wire as a Content-Length. (An empty chunked body could,
			// should net/http's 200 ms probe of the body ever lose its
			// race; a GET framed so still carries nothing.)
			if r.Body != "" || strings.HasPrefix(r.Framing, "length") {
				t.Errorf("%s: GET with a body: %q, framing %s", c.api, r.Body, r.Framing)
			}
		}
	}
	tr := f.requests("gettoken")[0]
	if tr.Query["corpid"][0] != testCorpID || tr.Query["corpsecret"][0] != testSecret || tr.Method != "GET" {
		t.Errorf("gettoken request = %+v", tr)
	}
	// enable=0 must be sent: 0 means "disable", not "unset".
	if b := f.requests("user/create")[0].Body; !strings.Contains(b, `"enable":0`) {
		t.Errorf("enable 0 dropped: %s", b)
	}
	// A patch clears a field by sending it empty.
	if b := f.requests("user/update")[0].Body; !strings.Contains(b, `"alias":""`) {
		t.Errorf("empty alias dropped from patch: %s", b)
	}
}

func TestCallInfo(t *testing.T) {
	f := newFake(t)
	f.on("user/get", httpStatus(502), -1, map[string]any{"userid": "a"})
	h := newHarness(t, f.URL)
	if _, err := h.c.GetUser(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	want := []CallInfo{
		{API: "gettoken", Errcode: 0, Attempt: 1},
		{API: "user/get", Errcode: 502, Transport: true, Attempt: 1},
		{API: "user/get", Errcode: -1, Attempt: 2},
		{API: "user/get", Errcode: 0, Attempt: 3},
	}
	got := h.callInfos()
	if len(got) != len(want) {
		t.Fatalf("CallInfos = %+v", got)
	}
	for i := range want {
		g := got[i]
		g.Duration, g.LimiterWait = 0, 0 // measured, not scripted
		if g != want[i] {
			t.Errorf("CallInfo %d = %+v, want %+v", i, g, want[i])
		}
		if got[i].Duration <= 0 {
			t.Errorf("CallInfo %d has no duration", i)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "", CorpID: "c", Secret: "s"},
		{BaseURL: "qyapi.weixin.qq.com", CorpID: "c", Secret: "s"},
		{BaseURL: "ftp://x", CorpID: "c", Secret: "s"},
		{BaseURL: "https://x?a=b", CorpID: "c", Secret: "s"},
		{BaseURL: "https://x", Secret: "s"},
		{BaseURL: "https://x", CorpID: "c"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	c, err := New(Config{BaseURL: "https://qyapi.weixin.qq.com/", CorpID: "c", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://qyapi.weixin.qq.com" || c.maxRetries != defaultMaxRetries || c.hc.Timeout != defaultTimeout {
		t.Errorf("defaults not applied: base %q retries %d timeout %v", c.base, c.maxRetries, c.hc.Timeout)
	}
}

// The default HTTP client must not follow a redirect: it would carry the
// token in the query to wherever the redirect points.
func TestDefaultClientRefusesRedirects(t *testing.T) {
	elsewhere := newFake(t)
	f := newFake(t)
	f.on("gettoken", tokenStep())
	f.on("user/get", handler(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
	}))
	c, err := New(Config{BaseURL: f.URL, CorpID: testCorpID, Secret: testSecret, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(context.Background(), "a")
	var te *TransportError
	if !errors.As(err, &te) || te.Status != http.StatusFound {
		t.Fatalf("err = %v, want TransportError with status 302", err)
	}
	if n := elsewhere.count("steal"); n != 0 {
		t.Fatalf("redirect followed %d times", n)
	}
}
