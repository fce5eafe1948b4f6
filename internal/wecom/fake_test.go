package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testCorpID = "ww-test-corp"
	testSecret = "s3cret-XYZ-9f8e7d"
)

// Script steps a fakeWeCom can answer with, besides an int errcode and a
// map (a success body merged with errcode 0).
type (
	httpStatus int                                          // answer with this HTTP status
	hijack     struct{}                                     // close the connection without answering
	handler    func(w http.ResponseWriter, r *http.Request) // anything else
)

type recorded struct {
	Method string
	API    string
	Query  url.Values
	Body   string
	Header http.Header
	// Framing is how the body was delimited on the wire: "length N",
	// "chunked" or "none".
	Framing string
}

// fakeWeCom scripts WeCom answers per API. gettoken hands out tok-1,
// tok-2, … unless scripted; other APIs answer {"errcode":0} once their
// script runs out.
type fakeWeCom struct {
	*httptest.Server
	mu     sync.Mutex
	script map[string][]any
	hits   map[string]int
	reqs   []recorded
	// tokenDelay holds each gettoken answer back, to let concurrent
	// callers pile up behind it.
	tokenDelay time.Duration
	expiresIn  int
}

func newFake(t *testing.T) *fakeWeCom {
	t.Helper()
	f := &fakeWeCom{script: map[string][]any{}, hits: map[string]int{}, expiresIn: 7200}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// on appends steps to api's script.
func (f *fakeWeCom) on(api string, steps ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[api] = append(f.script[api], steps...)
}

func (f *fakeWeCom) count(api string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[api]
}

func (f *fakeWeCom) requests(api string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if r.API == api {
			out = append(out, r)
		}
	}
	return out
}

func framing(r *http.Request) string {
	switch {
	case len(r.TransferEncoding) > 0:
		return strings.Join(r.TransferEncoding, ",")
	case r.ContentLength > 0:
		return fmt.Sprintf("length %d", r.ContentLength)
	}
	return "none"
}

func (f *fakeWeCom) serve(w http.ResponseWriter, r *http.Request) {
	api := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.hits[api]++
	n := f.hits[api]
	f.reqs = append(f.reqs, recorded{Method: r.Method, API: api, Query: r.URL.Query(), Body: string(body), Header: r.Header.Clone(), Framing: framing(r)})
	var step any
	if s := f.script[api]; len(s) > 0 {
		step, f.script[api] = s[0], s[1:]
	}
	delay, expires := f.tokenDelay, f.expiresIn
	f.mu.Unlock()

	if step == nil && api == "gettoken" {
		time.Sleep(delay)
		if r.URL.Query().Get("corpsecret") != testSecret {
			step = 40001
		} else {
			step = map[string]any{"access_token": fmt.Sprintf("tok-%d", n), "expires_in": expires}
		}
	}
	switch s := step.(type) {
	case nil:
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok"})
	case int:
		writeJSON(w, map[string]any{"errcode": s, "errmsg": fmt.Sprintf("scripted %d, hint: [x], from ip: 127.0.0.1", s)})
	case map[string]any:
		m := map[string]any{"errcode": 0, "errmsg": "ok"}
		for k, v := range s {
			m[k] = v
		}
		writeJSON(w, m)
	case httpStatus:
		w.WriteHeader(int(s))
		_, _ = io.WriteString(w, "upstream trouble")
	case hijack:
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	case handler:
		s(w, r)
	default:
		// A broken script shows up as an unexpected 599 in the test.
		http.Error(w, fmt.Sprintf("bad script step %T", step), 599)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

// harness is a client wired to record everything it emits.
type harness struct {
	c      *Client
	mu     sync.Mutex
	sleeps []time.Duration
	calls  []CallInfo
	logs   *bytes.Buffer
	clock  time.Time
}

func (h *harness) now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock = h.clock.Add(d)
}

func (h *harness) recordedSleeps() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

func (h *harness) callInfos() []CallInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]CallInfo(nil), h.calls...)
}

// lockedBuffer lets concurrent log writes and the final read not race.
type lockedBuffer struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// newHarness builds a client for baseURL with a frozen clock, a recording
// no-op sleeper and a Debug logger. Keep-alives are off so net/http never
// silently replays a request on a reused connection and skews hit counts.
func newHarness(t *testing.T, baseURL string, mutate ...func(*Config)) *harness {
	t.Helper()
	h := &harness{logs: &bytes.Buffer{}, clock: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	cfg := Config{
		BaseURL:    baseURL,
		CorpID:     testCorpID,
		Secret:     testSecret,
		HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		Logger:     slog.New(slog.NewTextHandler(&lockedBuffer{buf: h.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        h.now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
		OnCall: func(ci CallInfo) {
			h.mu.Lock()
			h.calls = append(h.calls, ci)
			h.mu.Unlock()
		},
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	return h
}
