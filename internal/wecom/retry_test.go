package wecom

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	for n := 1; n <= 40; n++ {
		want := backoffCap
		if n <= 5 {
			want = min(backoffCap, backoffBase<<(n-1))
		}
		for range 50 {
			d := backoff(n)
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestRetryClasses(t *testing.T) {
	cases := []struct {
		name   string
		step   any
		status int // want TransportError.Status, -1 for an APIError
		code   int
	}{
		{"system busy -1", -1, -1, -1},
		{"version conflict 6000", 6000, -1, 6000},
		{"concurrency 45033", 45033, -1, 45033},
		{"http 500", httpStatus(500), 500, 0},
		{"http 502", httpStatus(502), 502, 0},
		{"connection closed", hijack{}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/exhausted", func(t *testing.T) {
			f := newFake(t)
			f.on("user/get", tc.step, tc.step, tc.step, tc.step, tc.step)
			h := newHarness(t, f.URL)
			_, err := h.c.GetUser(context.Background(), "alice")
			if ClassOf(err) != ClassRetry {
				t.Fatalf("err = %v, class %v, want retry", err, ClassOf(err))
			}
			if got := f.count("user/get"); got != 1+defaultMaxRetries {
				t.Fatalf("user/get hits = %d, want %d", got, 1+defaultMaxRetries)
			}
			if CodeOf(err) != tc.code {
				t.Fatalf("CodeOf = %d, want %d", CodeOf(err), tc.code)
			}
			var te *TransportError
			if tc.status >= 0 {
				if !errors.As(err, &te) || te.Status != tc.status {
					t.Fatalf("err = %#v, want TransportError status %d", err, tc.status)
				}
			}
			sleeps := h.recordedSleeps()
			if len(sleeps) != defaultMaxRetries {
				t.Fatalf("sleeps = %v, want %d backoffs", sleeps, defaultMaxRetries)
			}
			for i, d := range sleeps {
				ceiling := min(backoffCap, backoffBase<<i)
				if d < ceiling/2 || d > ceiling {
					t.Errorf("backoff %d = %v, want in [%v, %v]", i+1, d, ceiling/2, ceiling)
				}
			}
			if got := f.count("gettoken"); got != 1 {
				t.Errorf("gettoken hits = %d, want 1 (retries reuse the token)", got)
			}
		})
		t.Run(tc.name+"/recovers", func(t *testing.T) {
			f := newFake(t)
			f.on("user/get", tc.step, tc.step, map[string]any{"userid": "alice", "name": "Alice"})
			h := newHarness(t, f.URL)
			u, err := h.c.GetUser(context.Background(), "alice")
			if err != nil || u.Name != "Alice" {
				t.Fatalf("GetUser = %+v, %v", u, err)
			}
			if got := f.count("user/get"); got != 3 {
				t.Fatalf("user/get hits = %d, want 3", got)
			}
		})
	}
}

func TestMaxRetriesConfig(t *testing.T) {
	for _, tc := range []struct{ cfg, hits int }{{-1, 1}, {1, 2}, {5, 6}} {
		f := newFake(t)
		for range 10 {
			f.on("user/delete", -1)
		}
		h := newHarness(t, f.URL, func(c *Config) { c.MaxRetries = tc.cfg })
		if err := h.c.DeleteUser(context.Background(), "bob"); CodeOf(err) != -1 {
			t.Fatalf("MaxRetries %d: err = %v", tc.cfg, err)
		}
		if got := f.count("user/delete"); got != tc.hits {
			t.Errorf("MaxRetries %d: hits = %d, want %d", tc.cfg, got, tc.hits)
		}
	}
}

func TestNoRetryOnRowOrConfig(t *testing.T) {
	for _, tc := range []struct {
		code  int
		class Class
	}{
		{60102, ClassRow},
		{60111, ClassRow},
		{40058, ClassRow},
		{48002, ClassConfig},
		{60011, ClassConfig},
		{48009, ClassConfig},
		{60020, ClassConfig},
	} {
		f := newFake(t)
		f.on("user/create", tc.code)
		h := newHarness(t, f.URL)
		err := h.c.CreateUser(context.Background(), &User{UserID: "alice", Name: "Alice", Department: []int{1}})
		if ClassOf(err) != tc.class || CodeOf(err) != tc.code {
			t.Fatalf("%d: err = %v (class %v), want class %v", tc.code, err, ClassOf(err), tc.class)
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.API != "user/create" {
			t.Fatalf("%d: want *APIError for user/create, got %#v", tc.code, err)
		}
		if got := f.count("user/create"); got != 1 {
			t.Errorf("%d: hits = %d, want 1", tc.code, got)
		}
		if s := h.recordedSleeps(); len(s) != 0 {
			t.Errorf("%d: slept %v", tc.code, s)
		}
	}
}

func TestRateLimitedPausesAPI(t *testing.T) {
	f := newFake(t)
	f.on("user/get", 45009, map[string]any{"userid": "a"})
	h := newHarness(t, f.URL)
	ctx := context.Background()
	if _, err := h.c.GetUser(ctx, "a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got, want := h.recordedSleeps(), []time.Duration{time.Minute}; !slices.Equal(got, want) {
		t.Fatalf("sleeps = %v, want %v (a 60 s pause, no backoff)", got, want)
	}

	// Ten seconds later the pause still covers user/get for 50 s …
	h.advance(10 * time.Second)
	if _, err := h.c.GetUser(ctx, "a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got, want := h.recordedSleeps(), []time.Duration{time.Minute, 50 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("sleeps = %v, want %v", got, want)
	}
	// … but not other APIs.
	if _, err := h.c.GetDepartment(ctx, 1); err != nil {
		t.Fatalf("GetDepartment: %v", err)
	}
	if got := h.recordedSleeps(); len(got) != 2 {
		t.Fatalf("department/get waited: sleeps = %v", got)
	}
	// After the window, no waiting at all.
	h.advance(time.Minute)
	if _, err := h.c.GetUser(ctx, "a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if got := h.recordedSleeps(); len(got) != 2 {
		t.Fatalf("waited after the window: sleeps = %v", got)
	}
}

func TestRateLimitedGivesUpAfterMaxRetries(t *testing.T) {
	f := newFake(t)
	f.on("user/update", 45009, 45009, 45009, 45009, 45009)
	h := newHarness(t, f.URL)
	err := h.c.UpdateUser(context.Background(), UserPatch{"userid": "a", "name": "A"})
	if ClassOf(err) != ClassRateLimited || CodeOf(err) != 45009 {
		t.Fatalf("err = %v, want 45009 rate_limited", err)
	}
	if got := f.count("user/update"); got != 1+defaultMaxRetries {
		t.Fatalf("hits = %d, want %d", got, 1+defaultMaxRetries)
	}
	want := []time.Duration{time.Minute, time.Minute, time.Minute}
	if got := h.recordedSleeps(); !slices.Equal(got, want) {
		t.Fatalf("sleeps = %v, want %v", got, want)
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.c.GetUser(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if err := timerSleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("timerSleep = %v, want context.Canceled", err)
	}
	if err := timerSleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("timerSleep = %v", err)
	}
}

// The default sleeper must give up a backoff when ctx ends, not sit it out.
func TestBackoffHonoursContext(t *testing.T) {
	f := newFake(t)
	f.on("user/get", -1, -1, -1, -1)
	h := newHarness(t, f.URL, func(c *Config) { c.Sleep = nil })
	ctx, cancel := context.WithCancel(context.Background())
	h.c.onCall = func(CallInfo) { cancel() }
	if _, err := h.c.GetUser(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
