package wecom_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// countHook is an AttemptHook that counts announced attempts.
func countHook(ctx context.Context, n *atomic.Int32) context.Context {
	return wecom.WithAttemptHook(ctx, func(string, int) (func(int, error), error) {
		n.Add(1)
		return nil, nil
	})
}

// Three 45009s in a row cost three minutes of pauses, and a detached call
// with ten seconds on the wire still gets through: waiting is not sending.
func TestDetachPausesDoNotSpendTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := bubbleSim(wecomsim.Options{})
		c := bubbleClient(t, sim, wecom.Limits{})
		sim.InjectFaults(45009, 45009, 45009)
		var attempts atomic.Int32
		ctx := countHook(wecom.Detach(context.Background(), 10*time.Second), &attempts)
		start := time.Now()
		if _, err := c.GetDepartment(ctx, 1); err != nil {
			t.Fatalf("after three 45009s: %v", err)
		}
		if d := time.Since(start); d != 3*time.Minute {
			t.Errorf("took %v, want three 60 s pauses", d)
		}
		if n := attempts.Load(); n != 4 {
			t.Errorf("%d attempts announced, want 4", n)
		}
	})
}

// The timeout is spent by requests on the wire, across attempts: two
// answers of -1 after 25 s each leave 10 s for the third attempt, which
// the emulator would answer after 25 s. It ends with DeadlineExceeded (an
// answer in doubt, not a transport error to retry), and nothing more is
// sent.
func TestDetachTimeoutCountsTimeOnTheWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := bubbleSim(wecomsim.Options{Latency: 25 * time.Second})
		c := bubbleClient(t, sim, wecom.Limits{})
		if _, err := c.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		sim.InjectFaults(-1, -1)
		var attempts atomic.Int32
		ctx := countHook(wecom.Detach(context.Background(), 60*time.Second), &attempts)
		start := time.Now()
		_, err := c.GetDepartment(ctx, 1)
		if !errors.Is(err, context.DeadlineExceeded) || wecom.ClassOf(err) != wecom.ClassNone {
			t.Fatalf("err = %v (class %v), want DeadlineExceeded", err, wecom.ClassOf(err))
		}
		// 60 s on the wire plus two backoffs of under a second.
		if d := time.Since(start); d < 60*time.Second || d > 61*time.Second {
			t.Errorf("gave up after %v, want 60 s on the wire plus the backoffs", d)
		}
		if n, sent := attempts.Load(), sim.Stats()["department/get"]; n != 3 || sent != 3 {
			t.Errorf("%d attempts announced, %d requests received; want 3 and 3", n, sent)
		}
	})
}

// Ending the context a call was detached from cuts off its wait — here a
// 45009 pause — at once, and the attempt that waited is not sent; a
// request already on the wire is not cut off, and gets its answer.
func TestDetachEndsWaitsNotRequests(t *testing.T) {
	t.Run("waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sim := bubbleSim(wecomsim.Options{})
			c := bubbleClient(t, sim, wecom.Limits{})
			sim.InjectFaults(45009)
			parent, cancel := context.WithCancel(context.Background())
			var attempts atomic.Int32
			ctx := countHook(wecom.Detach(parent, time.Minute), &attempts)
			start := time.Now()
			time.AfterFunc(10*time.Second, cancel)
			_, err := c.GetDepartment(ctx, 1)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want Canceled", err)
			}
			if d := time.Since(start); d != 10*time.Second {
				t.Errorf("returned after %v, want at the cancel (10 s into the pause)", d)
			}
			// The retry is announced before its turn (the journal row comes
			// first, the rate slot last) and then given up, not sent.
			var notSent *wecom.NotSentError
			if n := attempts.Load(); n != 2 || !errors.As(err, &notSent) || sim.Stats()["department/get"] != 1 {
				t.Errorf("%d attempts announced, %d requests received, err %v; want 2 announced, the second not sent", n, sim.Stats()["department/get"], err)
			}
		})
	})
	t.Run("on the wire", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			sim := bubbleSim(wecomsim.Options{Latency: 20 * time.Second})
			c := bubbleClient(t, sim, wecom.Limits{})
			if _, err := c.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			parent, cancel := context.WithCancel(context.Background())
			ctx := wecom.Detach(parent, time.Minute)
			time.AfterFunc(5*time.Second, cancel)
			start := time.Now()
			if _, err := c.GetDepartment(ctx, 1); err != nil {
				t.Fatalf("a request on the wire was cut off: %v", err)
			}
			if d := time.Since(start); d != 20*time.Second {
				t.Errorf("answered after %v, want the emulator's 20 s", d)
			}
		})
	})
}
