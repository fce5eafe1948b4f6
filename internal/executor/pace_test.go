package executor

import (
	"testing"
	"time"
)

// TestPaceSizesEachAPIToRateTimesLatency: to keep R calls a second going
// when each takes L, R×L must be in flight (with headroom), within the
// cap, and each API by its own latency.
func TestPaceSizesEachAPIToRateTimesLatency(t *testing.T) {
	for _, tt := range []struct {
		perMinute int
		latency   time.Duration
		want      int
	}{
		{0, 20 * time.Millisecond, 6},      // 166.7/s × 0.02 s × 1.5 = 5, + 1
		{0, 150 * time.Millisecond, 39},    // 166.7/s × 0.15 s × 1.5 = 37.5 → 38, + 1
		{0, 300 * time.Millisecond, 64},    // 75 + 1, capped
		{6000, 300 * time.Millisecond, 46}, // 100/s × 0.3 s × 1.5 = 45, + 1
		{-1, 20 * time.Millisecond, 64},    // no limit: the cap
	} {
		p := newPace(tt.perMinute, DefaultConcurrency)
		if got := p.inFlight("user/create"); tt.perMinute >= 0 && got != paceStart {
			t.Errorf("%d/min: %d in flight before any measurement, want %d", tt.perMinute, got, paceStart)
		}
		p.observe("user/create", tt.latency)
		if got := p.inFlight("user/create"); got != tt.want {
			t.Errorf("%d/min at %s: %d in flight, want %d", tt.perMinute, tt.latency, got, tt.want)
		}
		if got := p.inFlight("user/update"); tt.perMinute >= 0 && got != paceStart {
			t.Errorf("%d/min: user/update has %d in flight after only user/create was measured, want %d", tt.perMinute, got, paceStart)
		}
	}
}
