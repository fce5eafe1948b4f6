package schedule

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// twoStores opens one PostgreSQL journal twice, with separate pools, as two
// replicas would.
func twoStores(t *testing.T) (*journal.Postgres, *journal.Postgres) {
	t.Helper()
	dsn := pgtest.DSN(t)
	return pgJournal(t, dsn), pgJournal(t, dsn)
}

// TestWithJobLock: a manual run takes the job's lock through WithJobLock,
// is refused while someone else holds it, and records its run in the
// lease for whoever comes next. The lock itself is the journal's
// (journal.Coordinator, with its conformance suite).
func TestWithJobLock(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	held, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "replica-a:1"})
	if err != nil {
		t.Fatal(err)
	}
	called := false
	err = WithJobLock(ctx, b, "staff", func(context.Context, journal.Store) error { called = true; return nil })
	var busy *journal.JobBusyError
	if !errors.As(err, &busy) || busy.Owner != "replica-a:1" || called {
		t.Fatalf("WithJobLock while held: %v, fn called %v; want busy naming replica-a", err, called)
	}
	held.Release()

	var runID int64
	err = WithJobLock(ctx, b, "staff", func(ctx context.Context, st journal.Store) error {
		var err error
		runID, err = st.StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", StartedAt: time.Now()})
		return err
	})
	if err != nil || runID == 0 {
		t.Fatalf("WithJobLock after release: %v, run %d", err, runID)
	}
	next, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "replica-a:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Release()
	if p := next.Previous; p.RunID != runID {
		t.Errorf("previous %+v, want the manual run %d, recorded through WithJobLock's store", p, runID)
	}
}
