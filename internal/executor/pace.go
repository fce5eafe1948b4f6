package executor

import (
	"math"
	"sync"
	"time"
)

// DefaultConcurrency caps the calls in flight. WeCom answers 45033 only
// well past it (a forum test saw it at 400 concurrent calls), and 64 in
// flight carry WeCom's 10,000 calls a minute at up to about 380 ms a call.
const DefaultConcurrency = 64

// pace sizes the worker pool from the rate limit and the latency: to keep
// an API at R calls a second when each takes L seconds, R×L calls must be
// in flight. The pool starts small and grows to that (with headroom)
// as durations are measured, up to the cap, so a nearby WeCom is not sent
// dozens of idle connections and a distant one still reaches its limit
// without anyone computing concurrency by hand.
type pace struct {
	mu      sync.Mutex
	perSec  float64 // 0: no rate limit, the cap decides
	cap     int
	latency time.Duration // moving average of one operation's duration
}

// paceStart is the pool before any duration is known.
const paceStart = 4

// paceHeadroom covers latency jitter and the moments a worker spends
// between calls (journaling the answer, taking the next operation).
const paceHeadroom = 1.5

func newPace(perMinute, cap int) *pace {
	p := &pace{cap: cap}
	switch {
	case perMinute == 0:
		p.perSec = 10000.0 / 60
	case perMinute > 0:
		p.perSec = float64(perMinute) / 60
	}
	return p
}

// observe folds one operation's duration into the average.
func (p *pace) observe(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.latency == 0 {
		p.latency = d
		return
	}
	p.latency += (d - p.latency) / 8
}

// workers is how many calls should be in flight now.
func (p *pace) workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.perSec == 0 {
		return p.cap
	}
	if p.latency == 0 {
		return min(paceStart, p.cap)
	}
	n := int(math.Ceil(p.perSec*p.latency.Seconds()*paceHeadroom)) + 1
	return max(min(n, p.cap), 1)
}
