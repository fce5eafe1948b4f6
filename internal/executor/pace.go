package executor

import (
	"math"
	"sync"
	"time"
)

// DefaultConcurrency caps each API's calls in flight. WeCom answers 45033,
// its per-API concurrency limit, only well past it (a forum test saw it at
// 400 concurrent calls), and 64 in flight carry WeCom's 10,000 calls a
// minute at up to about 380 ms a call.
const DefaultConcurrency = 64

// pace sizes each API's calls in flight from the rate limit and that API's
// latency: to keep an API at R calls a second when each takes L seconds,
// R×L calls must be in flight. WeCom limits every API on its own, and
// their latencies differ (a department/create is not a user/update), so
// each API starts small and grows to its own R×L (with headroom) as
// durations are measured, up to the cap: a nearby WeCom is not sent dozens
// of idle connections, and a distant one still reaches every API's limit
// without anyone computing concurrency by hand.
type pace struct {
	mu      sync.Mutex
	perSec  float64 // 0: no rate limit, the cap decides
	cap     int
	latency map[string]time.Duration // per API: moving average of one operation's duration
}

// paceStart is an API's calls in flight before any duration is known.
const paceStart = 4

// paceHeadroom covers latency jitter and the moments an operation spends
// around its call (journaling the answer, starting the next operation).
const paceHeadroom = 1.5

func newPace(perMinute, cap int) *pace {
	p := &pace{cap: cap, latency: map[string]time.Duration{}}
	switch {
	case perMinute == 0:
		p.perSec = 10000.0 / 60
	case perMinute > 0:
		p.perSec = float64(perMinute) / 60
	}
	return p
}

// observe folds the duration of one operation of api into its average.
func (p *pace) observe(api string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.latency[api]
	if !ok {
		p.latency[api] = d
		return
	}
	p.latency[api] = l + (d-l)/8
}

// inFlight is how many calls of api should be in flight now.
func (p *pace) inFlight(api string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.perSec == 0 {
		return p.cap
	}
	l, ok := p.latency[api]
	if !ok {
		return min(paceStart, p.cap)
	}
	n := int(math.Ceil(p.perSec*l.Seconds()*paceHeadroom)) + 1
	return max(min(n, p.cap), 1)
}
