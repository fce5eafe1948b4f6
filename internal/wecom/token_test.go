package wecom

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestTokenRefreshOnInvalidToken(t *testing.T) {
	for _, code := range []int{42001, 40014, 40001} {
		f := newFake(t)
		f.on("user/get", code, map[string]any{"userid": "alice"})
		h := newHarness(t, f.URL)
		if _, err := h.c.GetUser(context.Background(), "alice"); err != nil {
			t.Fatalf("%d: GetUser: %v", code, err)
		}
		if got := f.count("gettoken"); got != 2 {
			t.Errorf("%d: gettoken hits = %d, want 2", code, got)
		}
		reqs := f.requests("user/get")
		if len(reqs) != 2 {
			t.Fatalf("%d: user/get hits = %d, want 2", code, len(reqs))
		}
		if a, b := reqs[0].Query["access_token"], reqs[1].Query["access_token"]; a[0] != "tok-1" || b[0] != "tok-2" {
			t.Errorf("%d: tokens used = %v then %v, want tok-1 then tok-2", code, a, b)
		}
		if s := h.recordedSleeps(); len(s) != 0 {
			t.Errorf("%d: a refresh should not back off, slept %v", code, s)
		}
	}
}

func TestTokenRefreshRetriesOnlyOnce(t *testing.T) {
	f := newFake(t)
	f.on("user/get", 42001, 42001, map[string]any{"userid": "alice"})
	h := newHarness(t, f.URL)
	_, err := h.c.GetUser(context.Background(), "alice")
	if ClassOf(err) != ClassRefresh || CodeOf(err) != 42001 {
		t.Fatalf("err = %v, want 42001 refresh", err)
	}
	if got := f.count("user/get"); got != 2 {
		t.Errorf("user/get hits = %d, want 2", got)
	}
	if got := f.count("gettoken"); got != 2 {
		t.Errorf("gettoken hits = %d, want 2", got)
	}
}

// A refresh and a transient failure in one call: each has its own budget.
func TestTokenRefreshThenRetry(t *testing.T) {
	f := newFake(t)
	f.on("user/get", 42001, -1, map[string]any{"userid": "alice"})
	h := newHarness(t, f.URL)
	if _, err := h.c.GetUser(context.Background(), "alice"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got := f.count("user/get"); got != 3 {
		t.Errorf("user/get hits = %d, want 3", got)
	}
	infos := h.callInfos()
	var attempts []int
	for _, ci := range infos {
		if ci.API == "user/get" {
			attempts = append(attempts, ci.Attempt)
		}
	}
	if len(attempts) != 3 || attempts[0] != 1 || attempts[2] != 3 {
		t.Errorf("attempts = %v, want 1 2 3", attempts)
	}
}

func TestGettokenConfigErrorsDoNotLoop(t *testing.T) {
	for _, code := range []int{40001, 40013, 41002, 41004} {
		f := newFake(t)
		f.on("gettoken", code, code, code)
		h := newHarness(t, f.URL)
		err := h.c.DeleteUser(context.Background(), "alice")
		if ClassOf(err) != ClassConfig || CodeOf(err) != code {
			t.Fatalf("%d: err = %v (class %v), want config", code, err, ClassOf(err))
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.API != "gettoken" {
			t.Fatalf("%d: want gettoken APIError, got %#v", code, err)
		}
		if got := f.count("gettoken"); got != 1 {
			t.Errorf("%d: gettoken hits = %d, want 1", code, got)
		}
		if got := f.count("user/delete"); got != 0 {
			t.Errorf("%d: user/delete hits = %d, want 0", code, got)
		}
		if s := h.recordedSleeps(); len(s) != 0 {
			t.Errorf("%d: slept %v", code, s)
		}
	}
}

func TestGettokenTransientIsRetried(t *testing.T) {
	f := newFake(t)
	f.on("gettoken", -1, httpStatus(503))
	h := newHarness(t, f.URL)
	tok, err := h.c.Token(context.Background())
	if err != nil || tok != "tok-3" {
		t.Fatalf("Token = %q, %v; want tok-3", tok, err)
	}
	if s := h.recordedSleeps(); len(s) != 2 {
		t.Errorf("sleeps = %v, want 2 backoffs", s)
	}
}

func TestTokenSingleFlight(t *testing.T) {
	f := newFake(t)
	f.tokenDelay = 50 * time.Millisecond
	h := newHarness(t, f.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if _, err := h.c.GetUser(context.Background(), "alice"); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.count("gettoken"); got != 1 {
		t.Fatalf("gettoken hits = %d, want 1", got)
	}
	if got := f.count("user/get"); got != 50 {
		t.Fatalf("user/get hits = %d, want 50", got)
	}
}

// 50 callers that all see 42001 on the same token cause one refetch, not 50.
func TestTokenInvalidationSingleFlight(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	if _, err := h.c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		f.on("user/get", handler(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") == "tok-1" {
				writeJSON(w, map[string]any{"errcode": 42001, "errmsg": "access_token expired"})
				return
			}
			writeJSON(w, map[string]any{"errcode": 0})
		}))
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := h.c.GetUser(ctx, "alice"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := f.count("gettoken"); got != 2 {
		t.Fatalf("gettoken hits = %d, want 2", got)
	}
}

func TestTokenProactiveRefresh(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	get := func() string {
		t.Helper()
		tok, err := h.c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if tok := get(); tok != "tok-1" {
		t.Fatalf("first token = %q", tok)
	}
	h.advance(7200*time.Second - refreshMargin - time.Second)
	if tok := get(); tok != "tok-1" {
		t.Fatalf("token refreshed too early: %q", tok)
	}
	h.advance(2 * time.Second) // now inside the 5 min margin
	if tok := get(); tok != "tok-2" {
		t.Fatalf("token not refreshed inside the margin: %q", tok)
	}
	if got := f.count("gettoken"); got != 2 {
		t.Fatalf("gettoken hits = %d, want 2", got)
	}
	// The new token's clock starts at its own fetch.
	h.advance(time.Hour)
	if tok := get(); tok != "tok-2" {
		t.Fatalf("fresh token replaced after 1 h: %q", tok)
	}
}

// A short expires_in gets a proportional margin rather than an
// always-expired token.
func TestTokenShortExpiry(t *testing.T) {
	f := newFake(t)
	f.expiresIn = 60
	h := newHarness(t, f.URL)
	ctx := context.Background()
	for range 3 {
		if _, err := h.c.Token(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.count("gettoken"); got != 1 {
		t.Fatalf("gettoken hits = %d, want 1", got)
	}
	h.advance(31 * time.Second)
	if tok, _ := h.c.Token(ctx); tok != "tok-2" {
		t.Fatalf("token = %q, want tok-2 past half of a 60 s lifetime", tok)
	}
}

// While one caller refreshes a token that is near expiry but still valid,
// others keep using the old one instead of queueing.
func TestTokenServedStaleDuringRefresh(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ctx := context.Background()
	if _, err := h.c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	started := make(chan struct{})
	f.on("gettoken", handler(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		writeJSON(w, map[string]any{"errcode": 0, "access_token": "tok-new", "expires_in": 7200})
	}))
	h.advance(7200*time.Second - time.Minute)
	done := make(chan string)
	go func() {
		tok, _ := h.c.Token(ctx)
		done <- tok
	}()
	<-started
	if tok, err := h.c.Token(ctx); err != nil || tok != "tok-1" {
		t.Errorf("during refresh Token = %q, %v; want the still-valid tok-1", tok, err)
	}
	close(release)
	if tok := <-done; tok != "tok-new" {
		t.Fatalf("refresher got %q", tok)
	}
	if tok, _ := h.c.Token(ctx); tok != "tok-new" {
		t.Fatalf("after refresh Token = %q", tok)
	}
}

// A leader whose ctx ends mid-fetch must not fail the callers waiting on it.
func TestTokenLeaderCancelled(t *testing.T) {
	f := newFake(t)
	started := make(chan struct{})
	f.on("gettoken", handler(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	}))
	h := newHarness(t, f.URL)
	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error)
	go func() {
		_, err := h.c.Token(ctx)
		leaderErr <- err
	}()
	<-started
	waiter := make(chan string)
	go func() {
		tok, err := h.c.Token(context.Background())
		if err != nil {
			t.Error(err)
		}
		waiter <- tok
	}()
	time.Sleep(10 * time.Millisecond) // let the waiter join the flight; either way it must succeed
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader err = %v", err)
	}
	if tok := <-waiter; tok != "tok-2" {
		t.Fatalf("waiter token = %q, want tok-2", tok)
	}
}
