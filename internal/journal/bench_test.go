package journal_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
)

// BenchmarkCallJournal measures what journaling adds to one WeCom call:
// BeginCall (durable before the call is sent) plus CompleteCall with a
// member state change, by 1 and by 8 concurrent workers. PostgreSQL runs
// with production flushing (a private, durable cluster), not the shared
// test cluster's fsync=off. Reports p50/p95 per call in µs.
func BenchmarkCallJournal(b *testing.B) {
	stores := map[string]func(b *testing.B) string{
		"sqlite":   func(b *testing.B) string { return filepath.Join(b.TempDir(), "j.db") },
		"postgres": func(b *testing.B) string { return pgtest.NewPrivate(b).DSN() },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		for _, workers := range []int{1, 8} {
			b.Run(name+"/workers="+string(rune('0'+workers)), func(b *testing.B) {
				ctx := context.Background()
				st, err := journal.Open(ctx, stores[name](b))
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				run, err := st.StartRun(ctx, journal.Run{Job: "bench", CorpID: "ww", Mode: "run"})
				if err != nil {
					b.Fatal(err)
				}
				payload := []byte(`{"userid":"u","name":"张三","mobile":"13800000000","department":[2]}`)
				var mu sync.Mutex
				var lat []time.Duration
				work := make(chan int)
				var wg sync.WaitGroup
				b.ResetTimer()
				for range workers {
					wg.Go(func() {
						for i := range work {
							start := time.Now()
							id, err := st.BeginCall(ctx, journal.Call{RunID: run, Seq: i, Operation: "user_update", API: "user/update", Target: "u", Payload: payload, Attempt: 1})
							if err != nil {
								b.Error(err)
								return
							}
							change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "u", Payload: payload, Hash: "h", Enabled: true}}
							if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", change); err != nil {
								b.Error(err)
								return
							}
							d := time.Since(start)
							mu.Lock()
							lat = append(lat, d)
							mu.Unlock()
						}
					})
				}
				for i := range b.N {
					work <- i
				}
				close(work)
				wg.Wait()
				b.StopTimer()
				slices.Sort(lat)
				if len(lat) > 0 {
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs/call")
					b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs/call")
				}
			})
		}
	}
}
