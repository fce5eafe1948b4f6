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
	// slowdownShare is the part of its minute budget an API gets for the
	// window after a 45009 pause. A 45009 says WeCom's budget is smaller
	// than ours (other apps of the corp spend from it, or the real limit is
	// below the documented one); coming back at full speed would meet it
	// again within the minute. A tenth less for one window, then the
	// configured rate again, keeps that simple: it does not search for the
	// real limit, and a run that only met a short dip loses little.
	slowdownShare = 0.9
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
// for 10,000/min) and still keeps nearly all of the budget as steady rate.
// The hour window is counted instead (slidingWindow), where averaging
// would cost too much.
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
	minute       *rate.Limiter
	hour         *slidingWindow
	blockedUntil time.Time
	// perMinute is the minute budget minute was sized for. While
	// slowUntil (wall clock) is set, minute runs at slowdownShare of it.
	perMinute int
	slowUntil time.Time
}

// transitMargin is the share of the minute budget the client leaves
// unspent. The client takes a call's slot when the request leaves, WeCom
// counts it when it arrives, and the time between varies (network jitter,
// a busy host): a window of WeCom's can hold the calls of a slightly longer
// window of the client's, r × jitter more than the budget. 1% covers
// 0.6 s of jitter at any rate, for 1% of the throughput.
const transitMargin = 0.01

// minuteBudget is what the client admits per minute for a limit of n.
func minuteBudget(n int) int {
	return max(1, n-max(1, int(float64(n)*transitMargin)))
}

func newAPILimiter(l Limits) *apiLimiter {
	a := &apiLimiter{}
	if l.PerMinute >= 0 {
		a.perMinute = minuteBudget(cmp.Or(l.PerMinute, defaultPerMinute))
		a.minute = rate.NewLimiter(windowLimit(a.perMinute, time.Minute))
	}
	if l.PerHour >= 0 {
		a.hour = newSlidingWindow(cmp.Or(l.PerHour, defaultPerHour), time.Hour)
	}
	return a
}

// slidingWindow admits at most n events in any window of the given length,
// counting them in one-second slots, as WeCom counts calls per window.
//
// The hour limit is not a token bucket because a bucket that may never
// overfill a window has to average its budget: 150,000/h becomes a steady
// 41 calls a second after a 2,500-call burst, a quarter of what the minute
// limit allows, and a 10,000-member import would crawl. Counting lets a run
// go at the minute limit's pace until the hour's budget is really spent.
type slidingWindow struct {
	n     int
	slots []int // calls per second, a ring; one slot more than the window
	at    int64 // the unix second slots were last advanced to
	total int
}

func newSlidingWindow(n int, window time.Duration) *slidingWindow {
	// The extra slot makes the count conservative: any real window of this
	// length lies within that many whole seconds plus one.
	return &slidingWindow{n: max(n, 1), slots: make([]int, int(window/time.Second)+1)}
}

// advance drops the seconds that left the window by second sec.
func (w *slidingWindow) advance(sec int64) {
	size := int64(len(w.slots))
	if sec <= w.at {
		return // a clock that stepped back counts into the current second
	}
	if sec-w.at >= size {
		clear(w.slots)
		w.total = 0
	} else {
		for s := w.at + 1; s <= sec; s++ {
			i := s % size
			w.total -= w.slots[i]
			w.slots[i] = 0
		}
	}
	w.at = sec
}

// wait is 0 if a call may go at t, else how long until the oldest counted
// second leaves the window.
func (w *slidingWindow) wait(t time.Time) time.Duration {
	w.advance(t.Unix())
	if w.total < w.n {
		return 0
	}
	size := int64(len(w.slots))
	for s := w.at - size + 1; s <= w.at; s++ {
		if w.slots[((s%size)+size)%size] > 0 {
			free := time.Unix(s+size, 0)
			return max(free.Sub(t), time.Millisecond)
		}
	}
	return time.Second
}

func (w *slidingWindow) charge() {
	w.slots[w.at%int64(len(w.slots))]++
	w.total++
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
	if !a.slowUntil.IsZero() && !t.Before(a.slowUntil) {
		a.setMinute(t, a.perMinute)
		a.slowUntil = time.Time{}
	}
	var wait time.Duration
	if l := a.minute; l != nil {
		if tokens := l.TokensAt(t); tokens < 1 {
			secs := (1 - tokens) / float64(l.Limit())
			// Round up so the next ask does not land a hair early and spin.
			wait = time.Duration(secs*float64(time.Second)) + time.Millisecond
		}
	}
	if a.hour != nil {
		wait = max(wait, a.hour.wait(t))
	}
	if wait > 0 {
		return wait
	}
	if a.minute != nil {
		a.minute.AllowN(t, 1)
	}
	if a.hour != nil {
		a.hour.charge()
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

// slowDown runs the minute limiter at slowdownShare of its budget from
// now (wall clock, like reserve) until the window after the 45009 pause
// has passed; a later 45009 extends that, it does not compound. A Sleep
// that cuts the pause short leaves the slower rate on for longer, which
// errs on the safe side. An API without a minute limit has nothing to slow.
//
// The switch keeps windowLimit's bound in both directions: the bucket
// never holds more than its current burst, so a window that spans a switch
// carries at most the larger budget.
func (a *apiLimiter) slowDown(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.minute == nil {
		return
	}
	if a.slowUntil.IsZero() {
		a.setMinute(now, int(float64(a.perMinute)*slowdownShare))
	}
	if until := now.Add(rateLimitPause + time.Minute); until.After(a.slowUntil) {
		a.slowUntil = until
	}
}

// setMinute resizes the minute limiter to a budget of n from t on.
// Callers hold a.mu.
func (a *apiLimiter) setMinute(t time.Time, n int) {
	r, b := windowLimit(n, time.Minute)
	a.minute.SetLimitAt(t, r)
	a.minute.SetBurstAt(t, b)
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
