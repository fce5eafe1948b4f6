package wecom_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// These tests run the client and the emulator together inside a
// testing/synctest bubble, both on their default clocks (time.Now) and the
// client on its default sleeper and wall-clock rate limiter. The bubble's
// clock is fake and jumps ahead whenever every goroutine waits, so hours
// of token life and minutes of rate-limit pauses pass instantly and every
// duration below is exact; nothing depends on how fast the machine is.
//
// A real socket would break that (a goroutine blocked on network I/O is
// not "durably blocked", so the fake clock would never move), hence
// InMemoryTransport, which hands each request straight to the emulator.

// bubbleClient is a client of sim with nothing injected but the transport.
func bubbleClient(t *testing.T, sim *wecomsim.Server, limits wecom.Limits) *wecom.Client {
	t.Helper()
	c, err := wecom.New(wecom.Config{
		BaseURL:    "http://wecom.invalid",
		CorpID:     simCorp,
		Secret:     simSecret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: wecom.InMemoryTransport{Handler: sim}},
		Limits:     limits,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func bubbleSim(o wecomsim.Options) *wecomsim.Server {
	o.CorpID = simCorp
	o.Secrets = []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncEdit}}
	return wecomsim.New(o)
}

func codes(log []wecomsim.LoggedCall, api string) []int {
	var out []int
	for _, c := range log {
		if c.API == api {
			out = append(out, c.Errcode)
		}
	}
	return out
}

// Token expiry mid-run. Near expiry the client refetches before calling;
// the emulator, like the service per the 2020 and 2023 docs, hands back
// the same token with expires_in 7200 again, so the client now believes
// the token outlives its real expiry. The call after that real expiry
// meets 42001 and is refreshed and retried once, transparently.
func TestSyncTokenExpiryMidRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := bubbleSim(wecomsim.Options{})
		c := bubbleClient(t, sim, wecom.Limits{})
		ctx := context.Background()
		get := func(what string) {
			t.Helper()
			if _, err := c.GetDepartment(ctx, 1); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		get("fresh token")
		time.Sleep(2*time.Hour - 4*time.Minute) // inside the 5-minute margin
		get("near expiry")
		if n := sim.Stats()["gettoken"]; n != 2 {
			t.Fatalf("gettoken = %d, want 2 (proactive refetch)", n)
		}
		time.Sleep(5 * time.Minute) // past the token's real expiry
		get("after expiry")
		if got, want := codes(sim.CallLog(), "department/get"), []int{0, 0, 42001, 0}; !equalInts(got, want) {
			t.Fatalf("department/get answers %v, want %v", got, want)
		}
		if n := sim.Stats()["gettoken"]; n != 3 {
			t.Fatalf("gettoken = %d, want 3 (one reactive refresh)", n)
		}
		time.Sleep(time.Hour)
		get("on the new token")
		if n := sim.Stats()["gettoken"]; n != 3 {
			t.Fatalf("gettoken = %d, want 3: the new token is good for two hours", n)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A 45009 pauses the API for 60 s on the client's real sleeper, which is
// exactly how long the emulator bans; the retry then succeeds. Other APIs
// are not paused.
func TestSyncRateLimitedPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := bubbleSim(wecomsim.Options{CorpPerMinute: 2, IPPerMinute: -1, IPPerHour: -1})
		// The client's own limiter is off so that it can overrun the
		// emulator's limit and meet the 45009.
		c := bubbleClient(t, sim, wecom.Limits{PerMinute: -1, PerHour: -1})
		ctx := context.Background()
		for range 2 {
			if _, err := c.GetDepartment(ctx, 1); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		done := make(chan error)
		go func() {
			_, err := c.GetDepartment(ctx, 1)
			done <- err
		}()
		synctest.Wait() // the call is now sleeping out its pause
		if _, err := c.SimpleListDepartments(ctx, 0); err != nil {
			t.Fatalf("another API during the pause: %v", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("another API waited %v", d)
		}
		if err := <-done; err != nil {
			t.Fatalf("call through 45009: %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("paused %v, want exactly the 60 s ban", d)
		}
		if got, want := codes(sim.CallLog(), "department/get"), []int{0, 0, 45009, 0}; !equalInts(got, want) {
			t.Fatalf("department/get answers %v, want %v", got, want)
		}
	})
}

// Concurrent callers keep the client's limiter saturated without ever
// overfilling a window the emulator counts: with client and emulator
// configured to the same per-minute limit, there is never a 45009, and the
// throughput is the limiter's steady rate.
func TestSyncLimiterMatchesEmulatorWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const perMinute, calls, workers = 120, 600, 8
		sim := bubbleSim(wecomsim.Options{
			CorpPerMinute: perMinute, IPPerMinute: -1, IPPerHour: -1,
			Latency: 50 * time.Millisecond,
		})
		c := bubbleClient(t, sim, wecom.Limits{PerMinute: perMinute, PerHour: -1})
		ctx := context.Background()
		if _, err := c.Token(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var mu sync.Mutex
		left := calls
		var wg sync.WaitGroup
		var failed error
		for range workers {
			wg.Go(func() {
				for {
					mu.Lock()
					if left == 0 || failed != nil {
						mu.Unlock()
						return
					}
					left--
					mu.Unlock()
					if _, err := c.GetDepartment(ctx, 1); err != nil {
						mu.Lock()
						failed = errors.Join(failed, err)
						mu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		if failed != nil {
			t.Fatal(failed)
		}
		elapsed := time.Since(start)
		for _, code := range codes(sim.CallLog(), "department/get") {
			if code != 0 {
				t.Fatalf("emulator answered %d", code)
			}
		}
		if got := sim.MaxWindowCount("department/get", time.Minute); got > perMinute {
			t.Fatalf("emulator saw %d calls in a minute, limit %d", got, perMinute)
		}
		// The limiter admits burst b = n/60 at once and then (n-b)/min, so
		// 600 calls take (600-2)/118 min plus the last call's latency.
		rate := float64(calls) / elapsed.Minutes()
		if rate < 0.95*perMinute || rate > perMinute {
			t.Fatalf("%d calls in %v: %.1f/min, want in [%.0f, %d]", calls, elapsed, rate, 0.95*perMinute, perMinute)
		}
	})
}

// WeCom's budget is a tenth below the client's. The first minute at full
// speed meets 45009; after the minute's pause the client runs at 90% of
// its budget for a window, which fits WeCom's, so the ban does not come
// back at once (at full speed it would, some 55 s after the pause); after
// that window the client is back at full speed and meets it again.
func TestSyncRateLimitSlowsTheNextWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const clientLimit, wecomLimit, workers = 60, 54, 4
		sim := bubbleSim(wecomsim.Options{CorpPerMinute: wecomLimit, IPPerMinute: -1, IPPerHour: -1})
		c := bubbleClient(t, sim, wecom.Limits{PerMinute: clientLimit, PerHour: -1})
		ctx := context.Background()
		if _, err := c.Token(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for time.Since(start) < 6*time.Minute {
					if _, err := c.GetDepartment(ctx, 1); err != nil && wecom.CodeOf(err) != 45009 {
						t.Errorf("department/get: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		var refused []time.Duration
		for _, lc := range sim.CallLog() {
			if lc.API == "department/get" && lc.Errcode == 45009 {
				refused = append(refused, lc.At.Sub(start))
			}
		}
		if len(refused) == 0 {
			t.Fatal("no 45009: the client never overran WeCom's budget")
		}
		// The first ban's 45009s come within seconds (one per worker);
		// the next ban is the first 45009 a pause's length later.
		first := refused[0]
		var again time.Duration
		for _, at := range refused {
			if at >= first+time.Minute {
				again = at
				break
			}
		}
		t.Logf("45009 answers at %v", refused)
		if again == 0 {
			t.Fatalf("45009 only around %v: the client never went back to full speed", first)
		}
		if again < first+2*time.Minute {
			t.Errorf("45009 again at %v, %v after the first: the window after the pause was not slowed", again, again-first)
		}
	})
}
