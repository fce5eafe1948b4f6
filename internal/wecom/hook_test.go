package wecom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// hookEvent is one hook or finish call, with what the emulator had
// received for the API at that moment.
type hookEvent struct {
	kind    string // "hook" or "finish"
	api     string
	attempt int
	code    int
	class   wecom.Class // of the finish error
	served  int         // emulator's request count for api when the event fired
}

// hookRecorder is an AttemptHook that logs every call, and refuses the
// attempts listed in refuse with the given error.
type hookRecorder struct {
	sim    *wecomsim.Server
	mu     sync.Mutex
	events []hookEvent
	refuse map[int]error
}

func (h *hookRecorder) hook(api string, attempt int) (func(int, error), error) {
	h.add(hookEvent{kind: "hook", api: api, attempt: attempt, served: h.sim.Stats()[api]})
	if err := h.refuse[attempt]; err != nil {
		return nil, err
	}
	return func(code int, err error) {
		h.add(hookEvent{kind: "finish", api: api, attempt: attempt, code: code, class: wecom.ClassOf(err), served: h.sim.Stats()[api]})
	}, nil
}

func (h *hookRecorder) add(e hookEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

func (h *hookRecorder) got() []hookEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.events)
}

// seedUser creates the member the hook tests update, without a hook.
func seedUser(t *testing.T, c *wecom.Client) {
	t.Helper()
	if err := c.CreateUser(context.Background(), &wecom.User{UserID: "hana", Name: "Hana", Email: "hana@example.com", Department: []int{1}}); err != nil {
		t.Fatal(err)
	}
}

// The hook sees every attempt in order, numbered across a transient retry
// and the retry after a token refresh; each finish follows its attempt
// before the next hook call, and the gettokens in between are not
// announced.
func TestAttemptHookOrderAcrossRetryAndRefresh(t *testing.T) {
	sim, c := newSim(t)
	seedUser(t, c)
	sim.InjectFaults(-1, 42001) // attempt 1 system busy, attempt 2 token expired
	rec := &hookRecorder{sim: sim}
	ctx := wecom.WithAttemptHook(context.Background(), rec.hook)
	if err := c.UpdateUser(ctx, wecom.UserPatch{"userid": "hana", "position": "Lead"}); err != nil {
		t.Fatal(err)
	}
	want := []hookEvent{
		{kind: "hook", api: "user/update", attempt: 1, served: 0},
		{kind: "finish", api: "user/update", attempt: 1, code: -1, class: wecom.ClassRetry, served: 1},
		{kind: "hook", api: "user/update", attempt: 2, served: 1},
		{kind: "finish", api: "user/update", attempt: 2, code: 42001, class: wecom.ClassRefresh, served: 2},
		{kind: "hook", api: "user/update", attempt: 3, served: 2},
		{kind: "finish", api: "user/update", attempt: 3, code: 0, class: wecom.ClassNone, served: 3},
	}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %+v\nwant %+v", got, want)
	}
	if n := sim.Stats()["gettoken"]; n != 2 {
		t.Errorf("gettoken calls = %d, want 2 (first fetch and the refresh)", n)
	}
}

// An error from the hook keeps that attempt off the wire and ends the call
// with the hook's error, wrapped once and classed ClassNone, even when the
// error itself looks retryable.
func TestAttemptHookRefuses(t *testing.T) {
	stop := errors.New("journal unavailable")
	cases := []struct {
		name   string
		faults []int
		refuse map[int]error
		none   bool // the call's error must be ClassNone
		served int  // user/update requests the emulator got
		hooks  int
		finish int
	}{
		{name: "first attempt", refuse: map[int]error{1: stop}, none: true, served: 0, hooks: 1, finish: 0},
		{name: "after a retry", faults: []int{-1}, refuse: map[int]error{2: stop}, none: true, served: 1, hooks: 2, finish: 1},
		{name: "after a refresh", faults: []int{40014}, refuse: map[int]error{2: stop}, none: true, served: 1, hooks: 2, finish: 1},
		{
			// A hook error wrapping a retry-class APIError is still final:
			// no retry, no further hook call. Its class is its own.
			name:   "retryable-looking error",
			refuse: map[int]error{1: fmt.Errorf("replayed: %w", &wecom.APIError{API: "user/update", Code: -1})},
			served: 0, hooks: 1, finish: 0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim, c := newSim(t)
			seedUser(t, c)
			sim.InjectFaults(tc.faults...)
			rec := &hookRecorder{sim: sim, refuse: tc.refuse}
			ctx := wecom.WithAttemptHook(context.Background(), rec.hook)
			err := c.UpdateUser(ctx, wecom.UserPatch{"userid": "hana", "position": "Lead"})
			hookErr := tc.refuse[tc.hooks]
			if !errors.Is(err, hookErr) || errors.Unwrap(err) != hookErr {
				t.Fatalf("err = %v, want the hook's error wrapped exactly once", err)
			}
			if tc.none && wecom.ClassOf(err) != wecom.ClassNone {
				t.Errorf("class = %v, want none", wecom.ClassOf(err))
			}
			if n := sim.Stats()["user/update"]; n != tc.served {
				t.Errorf("emulator received %d user/update, want %d", n, tc.served)
			}
			var hooks, finishes int
			for _, e := range rec.got() {
				if e.kind == "hook" {
					hooks++
				} else {
					finishes++
				}
			}
			if hooks != tc.hooks || finishes != tc.finish {
				t.Errorf("hook calls %d, finish calls %d; want %d, %d", hooks, finishes, tc.hooks, tc.finish)
			}
			if u := sim.Snapshot().Users[0]; u.Position != "" {
				t.Errorf("refused update was applied: position %q", u.Position)
			}
		})
	}
}

// finish reports each attempt's errcode the way CallInfo does, including
// the pseudo codes of transport failures.
func TestAttemptHookFinishCodes(t *testing.T) {
	cases := []struct {
		name  string
		fault int
		code  int
		class wecom.Class
	}{
		{"success", 0, 0, wecom.ClassNone},
		{"row error", 60111, 60111, wecom.ClassRow},
		{"config error", 48002, 48002, wecom.ClassConfig},
		{"http 503", 503, 503, wecom.ClassRetry},
		{"dropped connection", -2, -1, wecom.ClassRetry},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := wecomsim.New(wecomsim.Options{CorpID: simCorp, Secrets: []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncEdit}}})
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			var infos []wecom.CallInfo
			c, err := wecom.New(wecom.Config{
				BaseURL: srv.URL, CorpID: simCorp, Secret: simSecret, MaxRetries: -1,
				OnCall: func(ci wecom.CallInfo) { infos = append(infos, ci) },
			})
			if err != nil {
				t.Fatal(err)
			}
			seedUser(t, c)
			sim.InjectFaults(tc.fault)
			rec := &hookRecorder{sim: sim}
			ctx := wecom.WithAttemptHook(context.Background(), rec.hook)
			callErr := c.UpdateUser(ctx, wecom.UserPatch{"userid": "hana", "position": "Lead"})
			got := rec.got()
			if len(got) != 2 || got[1].kind != "finish" || got[1].code != tc.code || got[1].class != tc.class {
				t.Fatalf("events = %+v, want one finish with code %d class %v", got, tc.code, tc.class)
			}
			if wecom.ClassOf(callErr) != tc.class {
				t.Errorf("call err = %v, want class %v", callErr, tc.class)
			}
			if last := infos[len(infos)-1]; last.API != "user/update" || last.Errcode != got[1].code {
				t.Errorf("CallInfo %+v disagrees with finish code %d", last, got[1].code)
			}
		})
	}
}

// A hook on the ctx of one call does not leak into calls made without it,
// and a nil finish is allowed.
func TestAttemptHookScopedToContext(t *testing.T) {
	sim, c := newSim(t)
	seedUser(t, c)
	var calls int
	ctx := wecom.WithAttemptHook(context.Background(), func(api string, attempt int) (func(int, error), error) {
		calls++
		return nil, nil
	})
	if _, err := c.GetUser(ctx, "hana"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background(), "hana"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(wecom.WithAttemptHook(ctx, nil), "hana"); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("hook calls = %d, want 1", calls)
	}
	if n := sim.Stats()["user/get"]; n != 3 {
		t.Fatalf("user/get = %d, want 3", n)
	}
}
