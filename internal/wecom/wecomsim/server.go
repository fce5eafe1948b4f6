package wecomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a request body; WeCom rejects oversized JSON long before
// this, and the cap keeps a hostile caller from exhausting memory.
const maxBody = 8 << 20

// Server is the emulated WeCom contacts service. All state sits behind one
// mutex; handlers are short and never sleep while holding it.
type Server struct {
	opts Options

	mu         sync.Mutex
	users      map[string]*user // key: lower-cased userid
	depts      map[int]*dept
	nextDeptID int
	nextSeq    int64
	pendingID  int // id of "其他（待设置部门）", 0 until AutoCreateDepartment needs it
	idx        dirIndex

	tokens  map[string]*token // by token value
	current map[string]*token // latest token per secret value

	badSecret map[string][]time.Time // wrong-secret gettoken times per IP
	tokenBan  map[string]time.Time   // IP -> gettoken ban end

	limits map[limitKey]*counter

	tags tagStore

	media   map[string]*media // by media_id
	jobs    []*job            // unfinished jobs, and finished ones whose result is kept
	jobByID map[string]*job   // every job ever submitted, purged ones included

	script []int
	rng    *rand.Rand

	stats   map[string]int
	calls   []LoggedCall
	hintSeq uint64
}

// LoggedCall is one business call and the errcode it was answered with.
type LoggedCall struct {
	API string
	// Errcode is the answer the call produced: 0 on success, the fault
	// code for an injected fault (500..599 for HTTP statuses, -2 for a
	// connection dropped before any effect). For a -3 fault it is the
	// result of the call that was applied before the connection dropped.
	Errcode int
	// Target is the userid(s) or department id/name the call was about,
	// best effort when the call was refused before its body was parsed.
	Target string
	At     time.Time
	// Dropped reports that the client got no answer (faults -2 and -3).
	Dropped bool
}

// peekTarget names the subject of a call that was refused before its
// handler ran, so CallLog stays useful for faulted calls.
func peekTarget(q url.Values, raw []byte) string {
	for _, k := range []string{"userid", "id", "department_id", "tagid"} {
		if v := q.Get(k); v != "" {
			return v
		}
	}
	var body struct {
		UserID     string          `json:"userid"`
		ID         json.Number     `json:"id"`
		Name       string          `json:"name"`
		TagID      json.Number     `json:"tagid"`
		TagName    string          `json:"tagname"`
		UserIDList []string        `json:"useridlist"`
		Cursor     json.RawMessage `json:"cursor"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	switch {
	case body.UserID != "":
		return body.UserID
	case body.ID != "":
		return body.ID.String()
	case body.Name != "":
		return body.Name
	case body.TagID != "":
		return body.TagID.String()
	case body.TagName != "":
		return body.TagName
	case len(body.UserIDList) > 0:
		return strings.Join(body.UserIDList, ",")
	}
	return ""
}

// New builds a Server whose directory holds only the root department.
func New(opts Options) *Server {
	o := withDefaults(opts)
	s := &Server{
		opts:      o,
		tokens:    map[string]*token{},
		current:   map[string]*token{},
		badSecret: map[string][]time.Time{},
		tokenBan:  map[string]time.Time{},
		limits:    map[limitKey]*counter{},
		media:     map[string]*media{},
		jobByID:   map[string]*job{},
		rng:       rand.New(rand.NewSource(o.Seed)),
		stats:     map[string]int{},
	}
	s.resetDirectory()
	return s
}

func (s *Server) resetDirectory() {
	s.users = map[string]*user{}
	s.depts = map[int]*dept{1: {SnapDept: SnapDept{ID: 1, Name: s.opts.CorpName}}}
	s.nextDeptID = 2
	s.nextSeq = 1
	s.pendingID = 0
	s.idx = buildIndex(s.users, s.depts)
	s.tags = newTagStore()
}

// endpoint describes one /cgi-bin/ API.
type endpoint struct {
	method    string
	write     bool // needs a SyncEdit secret (48002 otherwise)
	tagWrite  bool // a tag write: apps may too, on their own tags; read-only sync secrets get 48002
	detail    bool // refused to NewIP sync secrets (48009)
	syncOnly  bool // refused to App secrets (48002)
	multipart bool // the body is multipart/form-data, not JSON
	okMsg     string
	handle    func(s *Server, c *call) (fields map[string]any, code int)
}

var endpoints = map[string]endpoint{
	"user/create":           {method: http.MethodPost, write: true, okMsg: "created", handle: (*Server).userCreate},
	"user/get":              {method: http.MethodGet, detail: true, okMsg: "ok", handle: (*Server).userGet},
	"user/update":           {method: http.MethodPost, write: true, okMsg: "updated", handle: (*Server).userUpdate},
	"user/delete":           {method: http.MethodGet, write: true, okMsg: "deleted", handle: (*Server).userDelete},
	"user/batchdelete":      {method: http.MethodPost, write: true, okMsg: "deleted", handle: (*Server).userBatchDelete},
	"user/simplelist":       {method: http.MethodGet, detail: true, okMsg: "ok", handle: (*Server).userSimpleList},
	"user/list":             {method: http.MethodGet, detail: true, okMsg: "ok", handle: (*Server).userList},
	"user/list_id":          {method: http.MethodPost, syncOnly: true, okMsg: "ok", handle: (*Server).userListID},
	"department/create":     {method: http.MethodPost, write: true, okMsg: "created", handle: (*Server).deptCreate},
	"department/update":     {method: http.MethodPost, write: true, okMsg: "updated", handle: (*Server).deptUpdate},
	"department/delete":     {method: http.MethodGet, write: true, okMsg: "deleted", handle: (*Server).deptDelete},
	"department/list":       {method: http.MethodGet, detail: true, okMsg: "ok", handle: (*Server).deptList},
	"department/simplelist": {method: http.MethodGet, okMsg: "ok", handle: (*Server).deptSimpleList},
	"department/get":        {method: http.MethodGet, detail: true, okMsg: "ok", handle: (*Server).deptGet},
	// The official sample answers an empty errmsg on success.
	"media/upload":       {method: http.MethodPost, multipart: true, okMsg: "", handle: (*Server).mediaUpload},
	"batch/syncuser":     {method: http.MethodPost, write: true, okMsg: "ok", handle: (*Server).batchSyncUser},
	"batch/replaceuser":  {method: http.MethodPost, write: true, okMsg: "ok", handle: (*Server).batchReplaceUser},
	"batch/replaceparty": {method: http.MethodPost, write: true, okMsg: "ok", handle: (*Server).batchReplaceParty},
	"batch/getresult":    {method: http.MethodGet, okMsg: "ok", handle: (*Server).batchGetResult},
	"tag/create":         {method: http.MethodPost, tagWrite: true, okMsg: "created", handle: (*Server).tagCreate},
	"tag/update":         {method: http.MethodPost, tagWrite: true, okMsg: "updated", handle: (*Server).tagUpdate},
	"tag/delete":         {method: http.MethodGet, tagWrite: true, okMsg: "deleted", handle: (*Server).tagDelete},
	"tag/get":            {method: http.MethodGet, okMsg: "ok", handle: (*Server).tagGet},
	"tag/addtagusers":    {method: http.MethodPost, tagWrite: true, okMsg: "ok", handle: (*Server).tagAddUsers},
	"tag/deltagusers":    {method: http.MethodPost, tagWrite: true, okMsg: "deleted", handle: (*Server).tagDelUsers},
	"tag/list":           {method: http.MethodGet, okMsg: "ok", handle: (*Server).tagList},
}

// call is one business request after authentication.
type call struct {
	api    string
	ip     string
	now    time.Time
	secret *Secret
	query  url.Values
	body   map[string]json.RawMessage
	target string
	// raw and contentType carry a multipart body (media/upload).
	raw         []byte
	contentType string
}

// response is everything needed to answer, computed under the lock and
// written after it is released.
type response struct {
	status int    // HTTP status; 0 = 200 with the envelope
	code   int    // errcode, or the fault pseudo-code
	msg    string // errmsg
	fields map[string]any
	drop   bool // close the connection instead of answering
}

// ServeHTTP routes /cgi-bin/<api> and GET /sim/state.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sim/state" {
		s.serveState(w, r)
		return
	}
	ip := clientIP(r)
	api, ok := strings.CutPrefix(r.URL.Path, "/cgi-bin/")
	s.mu.Lock()
	s.stats[apiKey(api, ok, r.URL.Path)]++
	s.mu.Unlock()

	if !sleepCtx(r.Context(), s.opts.Latency) {
		return // the caller gave up; nobody is left to answer
	}
	now := s.opts.Now()

	if api == "gettoken" {
		s.mu.Lock()
		resp := s.getToken(r, ip, now)
		s.mu.Unlock()
		s.write(w, resp)
		return
	}
	ep, known := endpoints[api]
	if !ok || !known {
		s.mu.Lock()
		resp := s.errResp(404, "emulator: unknown api path", ip, now)
		s.mu.Unlock()
		resp.status = http.StatusNotFound
		s.write(w, resp)
		return
	}

	// The body is read before taking the lock so a slow client cannot
	// stall everybody else.
	var raw []byte
	var readErr error
	if r.Method == ep.method && r.Method == http.MethodPost {
		limit := int64(maxBody)
		if ep.multipart {
			limit = s.mediaBodyCap()
		}
		raw, readErr = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}

	s.mu.Lock()
	resp := s.business(api, ep, r, raw, readErr, ip, now)
	s.mu.Unlock()
	if s.opts.AfterEffect != nil {
		s.opts.AfterEffect(api, resp.code)
	}
	s.write(w, resp)
}

func apiKey(api string, underCGI bool, path string) string {
	if underCGI {
		return api
	}
	return path
}

// business runs the checks in the order the real service appears to:
// injected fault, method, token, IP, rate limit, capability, then the
// handler. Callers hold s.mu.
func (s *Server) business(api string, ep endpoint, r *http.Request, raw []byte, readErr error, ip string, now time.Time) response {
	c := &call{api: api, ip: ip, now: now, query: r.URL.Query()}
	s.advanceJobs(now) // whatever the jobs did by now happened before this call
	resp, applyThenDrop := s.decide(ep, c, r, raw, readErr)
	if applyThenDrop {
		resp.drop = true
	}
	target := c.target
	if target == "" {
		target = peekTarget(c.query, raw)
	}
	s.logCall(LoggedCall{API: api, Errcode: resp.code, Target: target, At: now, Dropped: resp.drop})
	return resp
}

// logCall appends to the call log. With CallLogLimit set, the oldest
// entries are dropped in bulk once the log holds twice the limit, so a
// long-running emulator keeps bounded memory at O(1) amortised cost per
// call; CallLog trims to the limit when read.
func (s *Server) logCall(lc LoggedCall) {
	s.calls = append(s.calls, lc)
	if n := s.opts.CallLogLimit; n > 0 && len(s.calls) >= 2*n {
		kept := copy(s.calls, s.calls[len(s.calls)-n:])
		clear(s.calls[kept:]) // release the dropped entries' strings
		s.calls = s.calls[:kept]
	}
}

func (s *Server) decide(ep endpoint, c *call, r *http.Request, raw []byte, readErr error) (response, bool) {
	afterDrop := false
	if f, ok := s.drawFault(); ok && f != 0 {
		if f != faultDropAfter {
			return s.faultResp(f, c), false
		}
		afterDrop = true
	}
	if r.Method != ep.method {
		return s.errResp(40058, "", c.ip, c.now), afterDrop
	}
	tokenValue := c.query.Get("access_token")
	if tokenValue == "" {
		return s.errResp(41001, "", c.ip, c.now), afterDrop
	}
	sec, code := s.checkToken(tokenValue, c.now)
	if code != 0 {
		return s.errResp(code, "", c.ip, c.now), afterDrop
	}
	c.secret = sec
	if !s.ipAllowed(c.ip) {
		return s.errResp(60020, "", c.ip, c.now), afterDrop
	}
	if !s.allowRate(c.api, s.opts.CorpID, c.ip, c.now) {
		return s.errResp(45009, "", c.ip, c.now), afterDrop
	}
	switch {
	case ep.write && sec.Kind != SyncEdit, ep.tagWrite && sec.Kind == SyncReadOnly:
		return s.errResp(48002, "", c.ip, c.now), afterDrop
	case ep.syncOnly && sec.Kind == App:
		return s.errResp(48002, "", c.ip, c.now), afterDrop
	case ep.detail && sec.NewIP && sec.Kind != App:
		return s.errResp(48009, "", c.ip, c.now), afterDrop
	}
	if ep.multipart {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(readErr, &tooBig):
			return s.errResp(45001, "", c.ip, c.now), afterDrop
		case readErr != nil:
			return s.errResp(44001, "", c.ip, c.now), afterDrop
		}
		c.raw, c.contentType = raw, r.Header.Get("Content-Type")
	} else if ep.method == http.MethodPost {
		if readErr != nil {
			return s.errResp(40058, "", c.ip, c.now), afterDrop
		}
		if s.opts.RejectUnicodeEscapes && hasUnicodeEscape(raw) {
			return s.errResp(40033, "", c.ip, c.now), afterDrop
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil || body == nil {
			return s.errResp(40058, "", c.ip, c.now), afterDrop
		}
		c.body = body
	}
	fields, code := ep.handle(s, c)
	if code != 0 {
		return s.errResp(code, "", c.ip, c.now), afterDrop
	}
	return response{code: 0, msg: ep.okMsg, fields: fields}, afterDrop
}

// errResp builds an error answer in production's errmsg shape. text
// overrides the standard English text; it must never hold caller input,
// tokens or secrets.
func (s *Server) errResp(code int, text, ip string, now time.Time) response {
	if text == "" {
		text = errText(code)
	}
	s.hintSeq++
	hint := fmt.Sprintf("%d%08d", now.Unix(), s.hintSeq%100000000)
	msg := fmt.Sprintf("%s, hint: [%s], from ip: %s, more info at https://open.work.weixin.qq.com/devtool/query?e=%d",
		text, hint, ip, code)
	return response{code: code, msg: msg}
}

func (s *Server) write(w http.ResponseWriter, resp response) {
	if resp.drop {
		dropConn(w)
		return
	}
	if resp.status >= 500 {
		w.WriteHeader(resp.status)
		return
	}
	body := encodeEnvelope(resp.code, resp.msg, resp.fields)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Error-Code", strconv.Itoa(resp.code))
	h.Set("Error-Msg", resp.msg)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// encodeEnvelope puts errcode and errmsg first, like the real service, and
// leaves non-ASCII and <>& unescaped so bodies read like production's.
func encodeEnvelope(code int, msg string, fields map[string]any) []byte {
	var b bytes.Buffer
	b.WriteString(`{"errcode":`)
	b.WriteString(strconv.Itoa(code))
	b.WriteString(`,"errmsg":`)
	b.Write(marshalNoEscape(msg))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteByte(',')
		b.Write(marshalNoEscape(k))
		b.WriteByte(':')
		b.Write(marshalNoEscape(fields[k]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func marshalNoEscape(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// dropConn closes the connection without an answer. Hijacking is the
// cleanest; ErrAbortHandler is net/http's sanctioned way to abort when the
// writer cannot be hijacked (HTTP/2), and the server swallows it quietly.
func dropConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) ipAllowed(ip string) bool {
	if len(s.opts.AllowedIPs) == 0 {
		return true
	}
	for _, a := range s.opts.AllowedIPs {
		if a == ip {
			return true
		}
	}
	return false
}

// sleepCtx waits d unless ctx ends first; it reports whether to go on.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats returns how many requests reached the router per API path
// ("user/create"), errors included. Paths outside /cgi-bin/ are keyed by
// their full path.
func (s *Server) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// CallLog returns every business call (not gettoken) in arrival order,
// or only the most recent Options.CallLogLimit of them when that is set.
func (s *Server) CallLog() []LoggedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := s.calls
	if n := s.opts.CallLogLimit; n > 0 && len(calls) > n {
		calls = calls[len(calls)-n:]
	}
	return append([]LoggedCall(nil), calls...)
}

var errUnknownUser = errors.New("wecomsim: userid not found")

// SetActivated marks a member as having joined WeCom (status 1), which is
// what makes user/update silently ignore mobile changes.
func (s *Server) SetActivated(userid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[strings.ToLower(userid)]
	if u == nil {
		return fmt.Errorf("%w: %q", errUnknownUser, userid)
	}
	u.activated = true
	u.Status = statusFor(u)
	return nil
}
