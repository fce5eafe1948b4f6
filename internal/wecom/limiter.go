package wecom

import (
	"cmp"
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	defaultPerMinute = 10000
	defaultPerHour   = 150000
	// rateLimitPause is how long an API rests after a 45009. WeCom bans for
	// the length of the window that overflowed (§5); we cannot tell which,
	// so we assume the minute window and let MaxRetries end the call if it
	// was the hour one.
	rateLimitPause = time.Minute
)

// windowLimit sizes a token bucket so that no window of length window —
// sliding, closed at both ends — ever admits more than n events.
//
// A bucket with rate r and burst b starts a window with at most b tokens
// and earns r*T more during it, so it admits at most b + r*T events in any
// window of length T. Choosing r = (n-b)/T makes that bound exactly n.
//
// b trades responsiveness for throughput: b = n would allow the whole
// budget at once and then nothing for a full window, b = 1 would space
// every call evenly. n/60 lets a sync start with a short burst (166 calls
// for 10,000/min, 2,500 for 150,000/h) and still keeps nearly all of the
// budget as steady rate.
//
// n = 1 leaves no room for a rate (b = 1 already uses the budget). Since
// events are whole, the real cap is floor(b + r*T), so r = 1/(2T) still
// admits at most one event per window while letting the limiter recover.
// n <= 0 is treated as 1.
func windowLimit(n int, window time.Duration) (rate.Limit, int) {
	if n <= 1 {
		return rate.Limit(1 / (2 * window.Seconds())), 1
	}
	b := max(1, n/60)
	return rate.Limit(float64(n-b) / window.Seconds()), b
}

// apiLimiter is the budget of one API path.
type apiLimiter struct {
	mu sync.Mutex
	// minute and hour are nil when that window is unlimited.
	minute, hour *rate.Limiter
	blockedUntil time.Time
}

func newAPILimiter(l Limits) *apiLimiter {
	a := &apiLimiter{}
	if l.PerMinute >= 0 {
		a.minute = rate.NewLimiter(windowLimit(cmp.Or(l.PerMinute, defaultPerMinute), time.Minute))
	}
	if l.PerHour >= 0 {
		a.hour = rate.NewLimiter(windowLimit(cmp.Or(l.PerHour, defaultPerHour), time.Hour))
	}
	return a
}

// reserve admits one call at t and returns 0, or admits nothing and
// returns how long to wait before asking again.
//
// Both windows are checked before either is charged. Waiting on one
// limiter and then the other would let a call admitted early by the first
// be sent late, bunched with later calls, and overfill the first limiter's
// window; charging both at the instant of sending keeps each bucket's
// bound about actual send times.
func (a *apiLimiter) reserve(t time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var wait time.Duration
	for _, l := range []*rate.Limiter{a.minute, a.hour} {
		if l == nil {
			continue
		}
		if tokens := l.TokensAt(t); tokens < 1 {
			secs := (1 - tokens) / float64(l.Limit())
			// Round up so the next ask does not land a hair early and spin.
			wait = max(wait, time.Duration(secs*float64(time.Second))+time.Millisecond)
		}
	}
	if wait > 0 {
		return wait
	}
	for _, l := range []*rate.Limiter{a.minute, a.hour} {
		if l != nil {
			l.AllowN(t, 1)
		}
	}
	return 0
}

// blockUntil extends the 45009 pause; concurrent 45009s never shorten it.
func (a *apiLimiter) blockUntil(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.After(a.blockedUntil) {
		a.blockedUntil = t
	}
}

func (a *apiLimiter) blocked() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.blockedUntil
}

// limiterSet hands out one apiLimiter per API path, created on first use
// because the set of paths is open-ended.
type limiterSet struct {
	limits Limits
	mu     sync.Mutex
	m      map[string]*apiLimiter
}

func newLimiterSet(l Limits) *limiterSet {
	return &limiterSet{limits: l, m: make(map[string]*apiLimiter)}
}

func (s *limiterSet) get(api string) *apiLimiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[api]
	if !ok {
		a = newAPILimiter(s.limits)
		s.m[api] = a
	}
	return a
}

// waitTurn blocks until api may be called: first out any 45009 pause,
// then for the rate limiters.
//
// The pause uses the injected clock and sleeper. It is waited out once,
// not re-checked in a loop: with a frozen test clock a re-check would never
// see time pass, and a pause extended meanwhile costs at most one more
// 45009, which the retry budget bounds.
//
// The rate limiters run on the wall clock and a real timer regardless of
// Config.Now and Config.Sleep: they model WeCom's real-time windows, and a
// frozen clock would never refill them.
func (c *Client) waitTurn(ctx context.Context, api string) error {
	a := c.limits.get(api)
	if d := a.blocked().Sub(c.now()); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			return err
		}
	}
	for {
		d := a.reserve(time.Now())
		if d == 0 {
			return nil
		}
		if err := timerSleep(ctx, d); err != nil {
			return err
		}
	}
}
