package wecom

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

func TestWindowLimit(t *testing.T) {
	for _, tc := range []struct {
		n      int
		window time.Duration
		burst  int
	}{
		{-5, time.Minute, 1},
		{0, time.Minute, 1},
		{1, time.Minute, 1},
		{2, time.Minute, 1},
		{59, time.Minute, 1},
		{60, time.Minute, 1},
		{120, time.Minute, 2},
		{2000, time.Minute, 33},
		{10000, time.Minute, 166},
		{20000, time.Minute, 333},
		{30000, time.Hour, 500},
		{150000, time.Hour, 2500},
		{600000, time.Hour, 10000},
	} {
		r, b := windowLimit(tc.n, tc.window)
		if b != tc.burst {
			t.Errorf("windowLimit(%d, %v) burst = %d, want %d", tc.n, tc.window, b, tc.burst)
		}
		if r <= 0 {
			t.Errorf("windowLimit(%d, %v) rate = %v, want > 0 so the bucket refills", tc.n, tc.window, r)
		}
		bound := float64(r)*tc.window.Seconds() + float64(b)
		n := max(tc.n, 1)
		// Events are whole, so floor(bound) is the real cap. For n >= 2 the
		// bound itself is exact; for n = 1 it sits strictly below 2.
		if n >= 2 && bound > float64(n)+1e-9 {
			t.Errorf("windowLimit(%d, %v): rate*T+burst = %.6f > %d", tc.n, tc.window, bound, n)
		}
		if n == 1 && bound >= 2 {
			t.Errorf("windowLimit(1, %v): rate*T+burst = %.6f admits 2", tc.window, bound)
		}
		// And the budget is nearly all used: at least n-1 per window in
		// the long run.
		if n >= 2 && bound < float64(n)-1e-6 {
			t.Errorf("windowLimit(%d, %v): rate*T+burst = %.6f wastes budget", tc.n, tc.window, bound)
		}
	}
}

// maxInWindow returns the most events any closed window [s, s+w] holds.
func maxInWindow(times []time.Time, w time.Duration) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// A greedy caller hammering a bare rate.Limiter configured by windowLimit
// at simulated times never overfills a window.
func TestWindowLimitSimulatedAllowN(t *testing.T) {
	for _, n := range []int{1, 2, 7, 60, 100, 1000} {
		r, b := windowLimit(n, time.Minute)
		lim := rate.NewLimiter(r, b)
		start := time.Unix(1_700_000_000, 0)
		var allowed []time.Time
		// Try every 10 ms for 5 minutes, with a 200-call burst at the
		// start of each minute, the worst case for a fixed-window server.
		for ms := 0; ms < 5*60*1000; ms += 10 {
			at := start.Add(time.Duration(ms) * time.Millisecond)
			tries := 1
			if ms%60000 == 0 {
				tries = 200
			}
			for range tries {
				if lim.AllowN(at, 1) {
					allowed = append(allowed, at)
				}
			}
		}
		if got := maxInWindow(allowed, time.Minute); got > n {
			t.Errorf("n=%d: a 60 s window held %d calls", n, got)
		}
		if n >= 60 && len(allowed) < 4*n {
			t.Errorf("n=%d: only %d calls in 5 min, budget is badly underused", n, len(allowed))
		}
	}
}

// apiLimiter.reserve enforces both windows at once, at simulated times.
func TestAPILimiterBothWindows(t *testing.T) {
	a := newAPILimiter(Limits{PerMinute: 30, PerHour: 100})
	start := time.Unix(1_700_000_000, 0)
	var sent []time.Time
	now := start
	end := start.Add(3 * time.Hour)
	for now.Before(end) {
		if d := a.reserve(now); d > 0 {
			if d < time.Millisecond {
				t.Fatalf("reserve asked for a sub-millisecond wait %v: would spin", d)
			}
			now = now.Add(d) // a waiter sleeps exactly as told
			continue
		}
		sent = append(sent, now)
	}
	if got := maxInWindow(append([]time.Time(nil), sent...), time.Minute); got > 30 {
		t.Errorf("a 60 s window held %d calls, limit 30", got)
	}
	if got := maxInWindow(append([]time.Time(nil), sent...), time.Hour); got > 100 {
		t.Errorf("a 60 min window held %d calls, limit 100", got)
	}
	// The hour budget binds: roughly 100 per hour over 3 hours.
	if len(sent) < 290 || len(sent) > 300 {
		t.Errorf("sent %d calls in 3 h, want about 300", len(sent))
	}
}

func TestAPILimiterUnlimitedAndDefaults(t *testing.T) {
	a := newAPILimiter(Limits{PerMinute: -1, PerHour: -1})
	if a.minute != nil || a.hour != nil {
		t.Fatal("negative limits should switch the limiters off")
	}
	now := time.Unix(1_700_000_000, 0)
	for range 100000 {
		if d := a.reserve(now); d != 0 {
			t.Fatalf("unlimited limiter asked to wait %v", d)
		}
	}
	d := newAPILimiter(Limits{})
	if d.minute.Burst() != minuteBudget(10000)/60 || d.hour.n != 150000 || d.perMinute != 9900 {
		t.Errorf("defaults: minute burst %d, hour budget %d", d.minute.Burst(), d.hour.n)
	}
	m := newAPILimiter(Limits{PerMinute: -1})
	if m.minute != nil || m.hour == nil {
		t.Error("PerMinute<0 should switch off only the minute window")
	}
}

func TestLimiterSetPerAPI(t *testing.T) {
	s := newLimiterSet(Limits{PerMinute: 2})
	first, again := s.get("user/get"), s.get("user/get")
	if first != again || first == s.get("user/create") {
		t.Fatal("one limiter per API path")
	}
}

// End to end: the client waits on the limiter for every attempt, retries
// included, and gettoken on its own. Inside a synctest bubble the
// limiter's clock stands still while nothing sleeps, so the tokens left
// are exact rather than "about" what a fast machine would leave.
func TestClientSpendsLimiterPerAttempt(t *testing.T) {
	f := newFake(t)
	f.on("user/get", -1, 42001)
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "http://wecom.invalid", func(c *Config) {
			c.Limits = Limits{PerMinute: -1, PerHour: 600}
			c.HTTPClient = &http.Client{Transport: InMemoryTransport{Handler: f.Config.Handler}}
		})
		if _, err := h.c.GetUser(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
		// Three user/get attempts and two gettokens (the first and the
		// refresh after 42001) are counted in the hour window.
		if n := h.c.limits.get("user/get").hour.total; n != 3 {
			t.Errorf("user/get calls counted = %v, want 3", n)
		}
		if n := h.c.limits.get("gettoken").hour.total; n != 2 {
			t.Errorf("gettoken calls counted = %v, want 2", n)
		}
	})
}

// The hour budget may be spent at the minute limit's pace: no averaging
// down to budget/3600 a second once a burst is gone.
func TestHourBudgetAtMinutePace(t *testing.T) {
	a := newAPILimiter(Limits{PerMinute: 600, PerHour: 3000})
	now := time.Unix(1_700_000_000, 0)
	start := now
	var sent []time.Time
	for len(sent) < 3000 {
		if d := a.reserve(now); d > 0 {
			now = now.Add(d)
			continue
		}
		sent = append(sent, now)
	}
	// At 600/min the whole hour budget goes in about 5 minutes.
	if took := now.Sub(start); took > 6*time.Minute {
		t.Errorf("3,000 calls took %v; the hour window should not slow a run below the minute limit", took)
	}
	// And then the hour window holds: nothing more until the first second
	// of the hour leaves it.
	d := a.reserve(now)
	if d < 50*time.Minute {
		t.Errorf("after spending the hour's budget the next call may go in %v", d)
	}
	if got := maxInWindow(sent, time.Hour); got > 3000 {
		t.Errorf("an hour window held %d calls", got)
	}
}

// After a 45009 the minute limiter runs at 90% of its budget until the
// window after the pause has passed, then at the full budget again; no
// window ever holds more than the budget in force.
func TestAPILimiterSlowsDownAfterRateLimit(t *testing.T) {
	const limit = 600
	a := newAPILimiter(Limits{PerMinute: limit, PerHour: -1})
	// The client's budget leaves WeCom's limit a margin for transit.
	perMinute := minuteBudget(limit)
	start := time.Unix(1_700_000_000, 0)
	var sent []time.Time
	greedy := func(from, to time.Time) {
		for now := from; now.Before(to); {
			if d := a.reserve(now); d > 0 {
				now = now.Add(d)
				continue
			}
			sent = append(sent, now)
		}
	}
	greedy(start, start.Add(2*time.Minute))
	banned := start.Add(2 * time.Minute)
	a.blockUntil(banned.Add(rateLimitPause))
	a.slowDown(banned)
	// The pause itself is waitTurn's; the limiter only sees no calls.
	resumed := banned.Add(rateLimitPause)
	greedy(resumed, resumed.Add(3*time.Minute))

	in := func(from, to time.Time) []time.Time {
		var out []time.Time
		for _, s := range sent {
			if !s.Before(from) && s.Before(to) {
				out = append(out, s)
			}
		}
		return out
	}
	slow := in(resumed, resumed.Add(time.Minute))
	if got := maxInWindow(slow, time.Minute); got > perMinute*9/10 {
		t.Errorf("the minute after the pause held %d calls, want at most %d", got, perMinute*9/10)
	}
	if len(slow) < perMinute*9/10-1 {
		t.Errorf("the minute after the pause held only %d calls: slowed down more than to 90%%", len(slow))
	}
	// At full speed the bucket's steady rate is the budget less its burst.
	if got, want := len(in(resumed.Add(2*time.Minute), resumed.Add(3*time.Minute))), perMinute-perMinute/60; got < want {
		t.Errorf("two minutes after the pause a minute held %d calls: the rate did not recover to %d", got, want)
	}
	if got := maxInWindow(sent, time.Minute); got > perMinute {
		t.Errorf("a minute held %d calls across the switches, limit %d", got, perMinute)
	}
	if !a.slowUntil.IsZero() {
		t.Errorf("still slowed until %v", a.slowUntil)
	}
}

// An API without a minute limit has no rate to lower.
func TestAPILimiterSlowDownWithoutMinuteLimit(t *testing.T) {
	a := newAPILimiter(Limits{PerMinute: -1, PerHour: 100})
	a.slowDown(time.Unix(1_700_000_000, 0))
	if a.minute != nil || !a.slowUntil.IsZero() {
		t.Fatalf("slowDown made a minute limit up: %+v", a)
	}
}

// TestMinuteBudgetLeavesTransitMargin: the client spends 1% less than the
// limit (at least one call less), so calls that bunch up in transit still
// arrive within WeCom's window; a limit of 1 stays 1.
func TestMinuteBudgetLeavesTransitMargin(t *testing.T) {
	for _, c := range []struct{ n, want int }{{10000, 9900}, {6000, 5940}, {600, 594}, {60, 59}, {2, 1}, {1, 1}} {
		if got := minuteBudget(c.n); got != c.want {
			t.Errorf("minuteBudget(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
