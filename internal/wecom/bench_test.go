package wecom_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// Benchmarks of the client against the emulator over loopback HTTP. They
// measure; no test asserts on wall time. Run with
//
//	go test ./internal/wecom/ -run '^$' -bench . -benchtime 5s
//
// BenchmarkRateLimited lasts about a minute per run (see there).

// benchSetup starts an emulator over loopback and a client for it.
func benchSetup(b *testing.B, opts wecomsim.Options, limits wecom.Limits) (*wecomsim.Server, *wecom.Client) {
	b.Helper()
	opts.CorpID = simCorp
	opts.Secrets = []wecomsim.Secret{{Value: simSecret, Kind: wecomsim.SyncEdit}}
	sim := wecomsim.New(opts)
	srv := httptest.NewServer(sim)
	b.Cleanup(srv.Close)
	// The client's default transport and pool, which the importer gets too.
	c, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: simCorp, Secret: simSecret, Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	return sim, c
}

// seedUsers creates n members to update, so concurrent updates do not all
// hit one record.
func seedUsers(b *testing.B, c *wecom.Client, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench%03d", i)
		if err := c.CreateUser(context.Background(), &wecom.User{UserID: ids[i], Name: ids[i], Email: ids[i] + "@example.com", Department: []int{1}}); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

// BenchmarkLoopback is (a): client and emulator on loopback with no rate
// limits and no latency, 32 goroutines (b.SetParallelism(16) on 2 cores).
// calls/s counts completed business calls.
func BenchmarkLoopback(b *testing.B) {
	unlimited := wecomsim.Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1}
	noLimits := wecom.Limits{PerMinute: -1, PerHour: -1}
	ops := []struct {
		name string
		call func(ctx context.Context, c *wecom.Client, ids []string, i int64) error
	}{
		{"user-update", func(ctx context.Context, c *wecom.Client, ids []string, i int64) error {
			return c.UpdateUser(ctx, wecom.UserPatch{"userid": ids[i%int64(len(ids))], "position": fmt.Sprint("P", i%7)})
		}},
		{"department-get", func(ctx context.Context, c *wecom.Client, _ []string, _ int64) error {
			_, err := c.GetDepartment(ctx, 1)
			return err
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			_, c := benchSetup(b, unlimited, noLimits)
			ids := seedUsers(b, c, 64)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op.call(ctx, c, ids, n.Add(1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "calls/s")
		})
	}
}

// BenchmarkRateLimited is (b): a limit of R calls per minute per API in
// both the emulator (per corp) and the client, 50 ms emulator latency, and
// 16 goroutines on each of two APIs (user/update and department/get, each
// with its own budget). It runs for a fixed wall-clock span, 60 s by
// default (WECOM_BENCH_SPAN overrides, e.g. "3m"), whatever b.N is, and
// reports per API:
//
//   - rate/R: calls completed per minute over the span, divided by R.
//   - 45009s: calls the emulator refused for rate (must be 0).
//   - maxwin/R: the emulator's own worst one-minute count (its per-second
//     buckets, which is what triggers 45009) divided by R (must be ≤ 1).
//   - strictwin/R: the worst count in any closed 60 s window of the
//     emulator's arrival times, a stricter measure than the emulator's.
//
// The client's limiter cannot be scaled down in time: its windows are the
// real minute and hour. R = 600/min keeps a run to about a minute.
func BenchmarkRateLimited(b *testing.B) {
	if testing.Short() {
		b.Skip("runs for a minute")
	}
	const perMinute = 600
	span := time.Minute
	if s := os.Getenv("WECOM_BENCH_SPAN"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("WECOM_BENCH_SPAN: %v", err)
		}
		span = d
	}
	for range b.N {
		sim, c := benchSetup(b,
			wecomsim.Options{CorpPerMinute: perMinute, IPPerMinute: -1, IPPerHour: -1, Latency: 50 * time.Millisecond},
			wecom.Limits{PerMinute: perMinute, PerHour: -1})
		ids := seedUsers(b, c, 64) // 64 user/create calls, a separate API
		ctx, cancel := context.WithTimeout(context.Background(), span)
		apis := map[string]func(int64) error{
			"user/update": func(i int64) error {
				return c.UpdateUser(ctx, wecom.UserPatch{"userid": ids[i%int64(len(ids))], "position": fmt.Sprint("P", i%7)})
			},
			"department/get": func(int64) error { _, err := c.GetDepartment(ctx, 1); return err },
		}
		var wg sync.WaitGroup
		var seq atomic.Int64
		errs := make(chan error, 64)
		start := time.Now()
		for _, call := range apis {
			for range 16 {
				wg.Go(func() {
					for ctx.Err() == nil {
						if err := call(seq.Add(1)); err != nil && ctx.Err() == nil {
							errs <- err
							return
						}
					}
				})
			}
		}
		wg.Wait()
		elapsed := time.Since(start)
		cancel()
		close(errs)
		for err := range errs {
			b.Error(err)
		}
		log := sim.CallLog()
		for api := range apis {
			var ok, limited int
			var at []time.Time
			for _, lc := range log {
				if lc.API != api {
					continue
				}
				switch lc.Errcode {
				case 0:
					ok++
					at = append(at, lc.At)
				case 45009:
					limited++
				}
			}
			name := map[string]string{"user/update": "upd", "department/get": "get"}[api]
			b.ReportMetric(float64(ok)/elapsed.Minutes()/perMinute, name+"-rate/R")
			b.ReportMetric(float64(limited), name+"-45009s")
			b.ReportMetric(float64(sim.MaxWindowCount(api, time.Minute))/perMinute, name+"-maxwin/R")
			b.ReportMetric(float64(strictMaxWindow(at, time.Minute))/perMinute, name+"-strictwin/R")
		}
	}
}

// strictMaxWindow returns the most events any closed window [s, s+w]
// holds.
func strictMaxWindow(times []time.Time, w time.Duration) int {
	times = slices.Clone(times)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) > w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
