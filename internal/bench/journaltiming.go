package bench

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
)

// timedStore measures what the journal costs each WeCom call: the
// write-ahead BeginCall plus the CompleteCall that records the answer and
// the state change. Both sit on the call's path (the call waits for the
// first, the worker for the second), so their sum is the journal's share of
// a call's latency.
type timedStore struct {
	journal.Store
	mu      sync.Mutex
	begun   map[int64]time.Duration
	perCall []time.Duration
}

func newTimedStore(st journal.Store) *timedStore {
	return &timedStore{Store: st, begun: map[int64]time.Duration{}}
}

func (s *timedStore) BeginCall(ctx context.Context, c journal.Call) (int64, error) {
	start := time.Now()
	id, err := s.Store.BeginCall(ctx, c)
	d := time.Since(start)
	if err == nil {
		s.mu.Lock()
		s.begun[id] = d
		s.mu.Unlock()
	}
	return id, err
}

func (s *timedStore) CompleteCall(ctx context.Context, id int64, outcome journal.CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	start := time.Now()
	err := s.Store.CompleteCall(ctx, id, outcome, errcode, errmsg, change)
	d := time.Since(start)
	s.mu.Lock()
	if b, ok := s.begun[id]; ok {
		s.perCall = append(s.perCall, b+d)
		delete(s.begun, id)
	}
	s.mu.Unlock()
	return err
}

// percentiles returns the p50 and p95 of the per-call journal time.
func (s *timedStore) percentiles() (p50, p95 time.Duration, n int) {
	s.mu.Lock()
	d := slices.Clone(s.perCall)
	s.mu.Unlock()
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return at(0.50), at(0.95), len(d)
}
