package wecomsim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestEnvelope(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.post("department/create", obj{"name": "Eng", "parentid": 1})
	must(t, r, 0, "create")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json; charset=UTF-8" {
		t.Fatalf("status %d content-type %q", r.status, r.header.Get("Content-Type"))
	}
	if r.header.Get("Error-Code") != "0" || r.header.Get("Error-Msg") != "created" || r.msg != "created" {
		t.Fatalf("headers %v msg %q", r.header, r.msg)
	}
	if string(r.raw[:len(`{"errcode":0,"errmsg":"created"`)]) != `{"errcode":0,"errmsg":"created"` {
		t.Fatalf("errcode/errmsg must lead the body: %s", r.raw)
	}

	bad := e.post("department/create", obj{"name": "Eng", "parentid": 1})
	must(t, bad, 60008, "dup")
	if bad.status != 200 || bad.header.Get("Error-Code") != "60008" || bad.header.Get("Error-Msg") != bad.msg {
		t.Fatalf("error envelope: status %d headers %v", bad.status, bad.header)
	}
	if !errmsgShape.MatchString(bad.msg) {
		t.Fatalf("errmsg shape: %q", bad.msg)
	}

	okMsgs := []struct {
		api, method string
		body        any
		params      map[string]string
		want        string
	}{
		{"user/create", "POST", obj{"userid": "u1", "name": "U", "department": []int{1}, "mobile": "13800000000"}, nil, "created"},
		{"user/update", "POST", obj{"userid": "u1", "name": "U2"}, nil, "updated"},
		{"user/get", "GET", nil, map[string]string{"userid": "u1"}, "ok"},
		{"user/delete", "GET", nil, map[string]string{"userid": "u1"}, "deleted"},
		{"department/update", "POST", obj{"id": 2, "name": "Eng2"}, nil, "updated"},
		{"department/list", "GET", nil, nil, "ok"},
		{"department/delete", "GET", nil, map[string]string{"id": "2"}, "deleted"},
	}
	for _, c := range okMsgs {
		var r result
		if c.method == "POST" {
			r = e.post(c.api, c.body)
		} else {
			r = e.get(c.api, c.params)
		}
		must(t, r, 0, c.api)
		if r.msg != c.want {
			t.Errorf("%s errmsg %q, want %q", c.api, r.msg, c.want)
		}
	}
}

func TestTransportRules(t *testing.T) {
	e := newEnv(t, Options{})
	tok := url.QueryEscape(e.token(editSecret))

	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/user/nosuch?access_token="+tok, nil)
	r := e.do(req)
	if r.status != http.StatusNotFound || r.code != 404 {
		t.Fatalf("unknown path: status %d code %d", r.status, r.code)
	}

	req, _ = http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/user/create?access_token="+tok, nil)
	must(t, e.do(req), 40058, "GET on a POST endpoint")

	must(t, e.postRaw("user/create", "", []byte(`{"access_token":"`+e.token(editSecret)+`","userid":"x"}`)), 41001, "token in body")
	req, _ = http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/user/get?userid=x", nil)
	must(t, e.do(req), 41001, "no token")
	req, _ = http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/user/get?userid=x&access_token=bogus", nil)
	must(t, e.do(req), 40014, "unknown token")

	for _, body := range []string{`{"userid":`, ``, `[1,2]`, `null`, `{"userid":"a"} trailing`} {
		must(t, e.postRaw("user/create", "access_token="+tok, []byte(body)), 40058, "bad JSON "+strconv.Quote(body))
	}
}

func TestUnicodeEscapeSwitch(t *testing.T) {
	body := []byte(`{"name":"\u7814\u53d1","parentid":1}`)
	e := newEnv(t, Options{RejectUnicodeEscapes: true})
	must(t, e.postRaw("department/create", "access_token="+url.QueryEscape(e.token(editSecret)), body), 40033, "escaped JSON")
	must(t, e.postRaw("user/create", "access_token="+url.QueryEscape(e.token(editSecret)), []byte(`{"userid":"esc","name":"x","department":[1],"email":"esc@example.com","position":"a\\u"}`)), 0, "escaped backslash is not an escape")

	e2 := newEnv(t, Options{})
	must(t, e2.postRaw("department/create", "access_token="+url.QueryEscape(e2.token(editSecret)), body), 0, "default accepts escapes")
	if e2.sim.Snapshot().Departments[1].Name != "研发" {
		t.Fatalf("escaped name not decoded: %+v", e2.sim.Snapshot().Departments)
	}
}

func TestStatsAndCallLog(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkUser("a", []int{1}, nil)
	must(t, e.post("user/create", obj{"userid": "a", "name": "A", "department": []int{1}, "email": "z@example.com"}), 60102, "dup")
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/user/create", nil)
	must(t, e.do(req), 40058, "wrong method")

	st := e.sim.Stats()
	if st["user/create"] != 3 || st["gettoken"] != 1 {
		t.Fatalf("stats %v", st)
	}
	log := e.sim.CallLog()
	if len(log) != 3 || log[0].API != "user/create" || log[0].Errcode != 0 || log[0].Target != "a" || log[1].Errcode != 60102 {
		t.Fatalf("call log %+v", log)
	}
	if !log[0].At.Equal(e.clock.Now()) {
		t.Fatalf("call log time %v, want the injected clock", log[0].At)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	e := newEnv(t, Options{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.ts.URL+"/cgi-bin/gettoken?corpid=x&corpsecret=y", nil)
	_, err := e.ts.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want deadline exceeded, got %v", err)
	}
}
