//go:build unix

package journal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
)

// TestSQLiteJobLock covers the embedded journal's job lock within one
// process; TestEmbeddedJobLockAcrossProcesses (package schedule) covers
// separate processes and SIGKILL.
func TestSQLiteJobLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	st, err := journal.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lite := st.(*journal.SQLite)
	const job = "staff/nightly" // a slash must not make a directory

	first, err := lite.TryLockJob(ctx, job, journal.LockOptions{Owner: "a:1"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Previous != (journal.JobPrevious{}) {
		t.Errorf("first holder's previous = %+v, want none", first.Previous)
	}
	run := startRun(t, st, journal.Run{Job: job, CorpID: "ww"})
	if err := first.SetRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	_, err = lite.TryLockJob(ctx, job, journal.LockOptions{Owner: "b:2"})
	var busy *journal.JobBusyError
	if !errors.As(err, &busy) || busy.Owner != "a:1" || busy.RunID != run || busy.Since.IsZero() {
		t.Fatalf("while held: %v (%+v), want busy naming a:1 and run %d", err, busy, run)
	}
	if err := first.Handoff(ctx, run, true); err != nil {
		t.Fatal(err)
	}
	first.Release()
	first.Release() // a second release does nothing

	second, err := lite.TryLockJob(ctx, job, journal.LockOptions{Owner: "b:2"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	// A free file lock is proof its holder is gone, however recent its
	// last word in the lease.
	if p := second.Previous; p.Owner != "a:1" || p.RunID != run || !p.Handoff || !p.Gone {
		t.Errorf("previous = %+v, want a:1's run %d handed off, a:1 gone", p, run)
	}
	// Until it starts a run of its own, the new holder has none, whatever
	// the lease remembers of the last one.
	_, err = lite.TryLockJob(ctx, job, journal.LockOptions{Owner: "c:3"})
	if !errors.As(err, &busy) || busy.Owner != "b:2" || busy.RunID != 0 {
		t.Errorf("before the new holder's run: %v (%+v), want b:2 and no run", err, busy)
	}
	second.Release()

	locks, _ := filepath.Glob(filepath.Join(dir, "journal.db.*.lock"))
	if len(locks) != 1 || filepath.Base(locks[0]) != "journal.db.staff%2Fnightly.lock" {
		t.Fatalf("lock files %v, want one for the job beside the journal", locks)
	}
	fi, err := os.Stat(locks[0])
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("lock file mode %v, want private", perm)
	}
}
