package wecom

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// leakToken is what the fake hands out in these tests: long and distinctive
// so a substring search cannot miss it.
const leakToken = "TOKEN-abc123-very-secret-access-token"

func tokenStep() map[string]any {
	return map[string]any{"access_token": leakToken, "expires_in": 7200}
}

// assertClean fails if the secret or the token is in any of texts.
func assertClean(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, bad := range []string{testSecret, leakToken, url.QueryEscape(testSecret)} {
			if strings.Contains(s, bad) {
				t.Errorf("%s leaks %q: %s", what, bad, s)
			}
		}
	}
}

func assertNoURLError(t *testing.T, err error) {
	t.Helper()
	var ue *url.Error
	if errors.As(err, &ue) {
		t.Errorf("error chain still holds a *url.Error: %v", ue)
	}
}

func TestRedactionRefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused

	h := newHarness(t, "http://"+addr)
	_, err = h.c.GetUser(context.Background(), "alice")
	if err == nil {
		t.Fatal("want an error from a refused connection")
	}
	var te *TransportError
	if !errors.As(err, &te) || ClassOf(err) != ClassRetry {
		t.Fatalf("err = %#v, want a retryable TransportError", err)
	}
	assertNoURLError(t, err)
	assertClean(t, "error", err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", te))
	assertClean(t, "log", h.logs.String())
	assertClean(t, "OnCall", fmt.Sprintf("%+v", h.callInfos()))
	if got := len(h.callInfos()); got != 1+defaultMaxRetries {
		t.Errorf("gettoken attempts = %d, want %d", got, 1+defaultMaxRetries)
	}
}

func TestRedactionClosedConnectionCarriesToken(t *testing.T) {
	f := newFake(t)
	f.on("gettoken", tokenStep())
	f.on("user/create", hijack{}, hijack{}, hijack{}, hijack{})
	h := newHarness(t, f.URL)
	err := h.c.CreateUser(context.Background(), &User{UserID: "alice", Name: "Alice"})
	if ClassOf(err) != ClassRetry {
		t.Fatalf("err = %v, want retry class", err)
	}
	assertNoURLError(t, err)
	assertClean(t, "error", err.Error())
	assertClean(t, "log", h.logs.String())
	assertClean(t, "OnCall", fmt.Sprintf("%+v", h.callInfos()))
}

// A transport that puts the URL into its own error (not a *url.Error) is
// caught by scrubbing.
type echoTransport struct{}

func (echoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s", r.URL.String())
}

func TestRedactionScrubsEchoingTransport(t *testing.T) {
	h := newHarness(t, "http://wecom.invalid", func(c *Config) {
		c.HTTPClient = &http.Client{Transport: echoTransport{}}
	})
	_, err := h.c.Token(context.Background())
	if err == nil {
		t.Fatal("want error")
	}
	if !strings.Contains(err.Error(), redacted) {
		t.Errorf("want the redaction marker in %q", err)
	}
	assertNoURLError(t, err)
	assertClean(t, "error", err.Error())
	assertClean(t, "log", h.logs.String())
}

func TestRedactionErrmsgEchoes(t *testing.T) {
	f := newFake(t)
	f.on("gettoken", tokenStep())
	f.on("user/get", handler(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"errcode": 60111, "errmsg": "userid not found, url " + r.URL.String() + " secret " + testSecret})
	}))
	h := newHarness(t, f.URL)
	_, err := h.c.GetUser(context.Background(), "alice")
	if CodeOf(err) != 60111 {
		t.Fatalf("err = %v", err)
	}
	assertClean(t, "error", err.Error())

	f2 := newFake(t)
	f2.on("gettoken", handler(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"errcode": 40001, "errmsg": "invalid credential " + r.URL.RawQuery})
	}))
	h2 := newHarness(t, f2.URL)
	_, err = h2.c.Token(context.Background())
	if ClassOf(err) != ClassConfig {
		t.Fatalf("err = %v", err)
	}
	assertClean(t, "gettoken error", err.Error())
}

// Every path through a happy and an unhappy call leaves nothing in the logs
// but api, errcode, attempt and duration.
func TestRedactionLogs(t *testing.T) {
	f := newFake(t)
	f.on("gettoken", tokenStep())
	f.on("user/get", -1, 42001)
	f.on("gettoken", tokenStep())
	h := newHarness(t, f.URL)
	if _, err := h.c.GetUser(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	logs := h.logs.String()
	assertClean(t, "log", logs)
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 5 { // gettoken, -1, 42001, gettoken, ok
		t.Fatalf("want 5 log lines, got %d:\n%s", len(lines), logs)
	}
	for _, l := range lines {
		for _, want := range []string{"level=DEBUG", "api=", "errcode=", "attempt=", "duration="} {
			if !strings.Contains(l, want) {
				t.Errorf("log line lacks %s: %s", want, l)
			}
		}
		if strings.Contains(l, "alice") {
			t.Errorf("log line carries request data: %s", l)
		}
	}
}
