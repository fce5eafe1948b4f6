package journal

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hrfeed/importer/internal/plan"
)

// Writes that share a commit must keep their own outcomes: a failing write
// is rolled back alone, and every successful one is durable.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	run, err := s.StartRun(ctx, Run{Job: "j", CorpID: "c", Mode: "run"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.BeginCall(ctx, Call{RunID: run, Seq: 1, Operation: "user_create", API: "user/create", Target: "x", Attempt: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteCall(ctx, done, CallOK, 0, "", nil); err != nil {
		t.Fatal(err)
	}

	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				_, errs[i] = s.BeginCall(ctx, Call{RunID: run, Seq: 10 + i, Operation: "user_update", API: "user/update", Target: "u", Attempt: 1})
				return
			}
			// Completing a completed call fails inside the shared transaction.
			errs[i] = s.CompleteCall(ctx, done, CallFailed, 60111, "x", &plan.StateChange{DeleteMember: "x"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		if i%2 == 1 && !errors.Is(err, ErrCompleted) {
			t.Errorf("write %d: want ErrCompleted, got %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	calls, err := s.ListCalls(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1+n/2 || calls[0].Outcome != CallOK {
		t.Fatalf("after reopen: %d calls (want %d), first %+v", len(calls), 1+n/2, calls[0])
	}
}

func TestWritesAfterCloseFail(t *testing.T) {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginCall(context.Background(), Call{RunID: 1}); !errors.Is(err, errClosed) {
		t.Errorf("BeginCall after Close: %v", err)
	}
}
