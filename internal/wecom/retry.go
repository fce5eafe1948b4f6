package wecom

import (
	"context"
	"math/rand/v2"
	"time"
)

const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 5 * time.Second
)

// backoff returns the pause before retry n (from 1): exponential from
// backoffBase, capped at backoffCap, with "equal jitter" — a random point
// in the upper half — so clients that failed together do not retry
// together, yet no retry follows immediately.
func backoff(n int) time.Duration {
	d := backoffCap
	if n <= 1 {
		d = backoffBase
	} else if shift := n - 1; shift < 16 {
		d = min(backoffCap, backoffBase<<shift)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// timerSleep waits d or until ctx is done, whichever comes first.
func timerSleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
