package wecomsim

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secrets used by every test environment. They are long and distinctive
// so that a leak into an errmsg is easy to spot.
const (
	editSecret = "EDITsecret-0123456789abcdefghijklmnopq"
	roSecret   = "ROsecret-0123456789abcdefghijklmnopqrst"
	appSecret  = "APPsecret-0123456789abcdefghijklmnopqr"
	newIPSec   = "NEWIPsecret-0123456789abcdefghijklmnop"
	restrSec   = "RESTRICTEDsecret-0123456789abcdefghijk"
	testCorp   = "wwtestcorp"
)

var allSecrets = []string{editSecret, roSecret, appSecret, newIPSec, restrSec}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	sim    *Server
	ts     *httptest.Server
	clock  *fakeClock
	tokens map[string]string
}

// newEnv starts an emulator over real HTTP. Secrets default to one of each
// kind; the App sees department 2 and below (tests create it as needed).
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)}
	if opts.CorpID == "" {
		opts.CorpID = testCorp
	}
	if opts.Secrets == nil {
		opts.Secrets = []Secret{
			{Value: editSecret, Kind: SyncEdit},
			{Value: roSecret, Kind: SyncReadOnly},
			{Value: appSecret, Kind: App, Visible: []int{2}},
			{Value: newIPSec, Kind: SyncEdit, NewIP: true},
			{Value: restrSec, Kind: App, Visible: []int{2}, Restricted: true},
		}
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	sim := New(opts)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return &env{t: t, sim: sim, ts: ts, clock: clock, tokens: map[string]string{}}
}

type result struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
	code   int
	msg    string
}

func (e *env) do(req *http.Request) result {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	r := result{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s: body is not JSON: %q", req.URL.Path, raw)
		}
		code, ok := r.body["errcode"].(float64)
		if !ok {
			e.t.Fatalf("%s: no errcode in %s", req.URL.Path, raw)
		}
		r.code = int(code)
		r.msg, _ = r.body["errmsg"].(string)
		assertNoSecret(e.t, string(raw))
		assertNoSecret(e.t, resp.Header.Get("Error-Msg"))
	}
	return r
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	for _, sec := range allSecrets {
		if strings.Contains(s, sec) {
			t.Fatalf("secret leaked into response: %s", s)
		}
	}
}

// token fetches (and caches) a token for secret.
func (e *env) token(secret string) string {
	e.t.Helper()
	if tok, ok := e.tokens[secret]; ok {
		return tok
	}
	r := e.getToken(testCorp, secret)
	if r.code != 0 {
		e.t.Fatalf("gettoken: %d %s", r.code, r.msg)
	}
	tok := r.body["access_token"].(string)
	e.tokens[secret] = tok
	return tok
}

func (e *env) getToken(corp, secret string) result {
	e.t.Helper()
	q := url.Values{}
	if corp != "" {
		q.Set("corpid", corp)
	}
	if secret != "" {
		q.Set("corpsecret", secret)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/gettoken?"+q.Encode(), nil)
	return e.do(req)
}

// get calls a GET API with the edit secret's token unless params carries
// its own access_token.
func (e *env) get(api string, params map[string]string) result {
	e.t.Helper()
	return e.getAs(editSecret, api, params)
}

func (e *env) getAs(secret, api string, params map[string]string) result {
	e.t.Helper()
	q := url.Values{"access_token": {e.token(secret)}}
	for k, v := range params {
		q.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/"+api+"?"+q.Encode(), nil)
	return e.do(req)
}

func (e *env) post(api string, body any) result {
	e.t.Helper()
	return e.postAs(editSecret, api, body)
}

func (e *env) postAs(secret, api string, body any) result {
	e.t.Helper()
	return e.postRaw(api, "access_token="+url.QueryEscape(e.token(secret)), mustJSON(e.t, body))
}

func (e *env) postRaw(api, query string, body []byte) result {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/cgi-bin/"+api+"?"+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	if raw, ok := v.(string); ok {
		return []byte(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type obj = map[string]any

// must fails the test unless r carries want.
func must(t *testing.T, r result, want int, what string) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: errcode %d (%s), want %d", what, r.code, r.msg, want)
	}
}

// mkDept creates a department and returns its id.
func (e *env) mkDept(name string, parent int, extra obj) int {
	e.t.Helper()
	body := obj{"name": name, "parentid": parent}
	for k, v := range extra {
		body[k] = v
	}
	r := e.post("department/create", body)
	must(e.t, r, 0, "department/create "+name)
	return int(r.body["id"].(float64))
}

// mkUser creates a member in the given departments with a unique mobile.
func (e *env) mkUser(id string, depts []int, extra obj) {
	e.t.Helper()
	body := obj{"userid": id, "name": "N " + id, "department": depts, "email": strings.ToLower(id) + "@example.com"}
	for k, v := range extra {
		body[k] = v
	}
	must(e.t, e.post("user/create", body), 0, "user/create "+id)
}

var errmsgShape = regexp.MustCompile(`^[^,]+(, [^,]+)*, hint: \[[0-9]+\], from ip: [0-9a-f.:]+, more info at https://open\.work\.weixin\.qq\.com/devtool/query\?e=-?[0-9]+$`)

func userIDs(list any) []string {
	var out []string
	for _, u := range list.([]any) {
		out = append(out, u.(map[string]any)["userid"].(string))
	}
	return out
}

func deptIDs(list any) []int {
	var out []int
	for _, d := range list.([]any) {
		out = append(out, int(d.(map[string]any)["id"].(float64)))
	}
	return out
}

// upload posts data as the "media" part of a multipart body to
// media/upload?type=typ.
func (e *env) upload(typ, filename string, data []byte) result {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	part, err := mw.CreateFormFile("media", filename)
	if err != nil {
		e.t.Fatal(err)
	}
	part.Write(data)
	mw.Close()
	q := url.Values{"access_token": {e.token(editSecret)}}
	if typ != "" {
		q.Set("type", typ)
	}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/cgi-bin/media/upload?"+q.Encode(), &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.do(req)
}

// mediaID uploads data and returns its media_id.
func (e *env) mediaID(typ, filename string, data []byte) string {
	e.t.Helper()
	r := e.upload(typ, filename, data)
	must(e.t, r, 0, "media/upload "+filename)
	return r.body["media_id"].(string)
}

// pngBytes is a file an image upload accepts: more than 5 bytes, a .png
// name does the rest.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
