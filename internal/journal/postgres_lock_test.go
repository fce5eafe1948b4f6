package journal_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
)

// What only the PostgreSQL job lock does: lose the lock with its session,
// take it back after a restart, make contenders wait for the lease. The
// rest is in the conformance suite (coordtest_test.go).

// pgPair opens one PostgreSQL journal twice, with separate pools, as two
// processes would.
func pgPair(t *testing.T, dsn string) (*journal.Postgres, *journal.Postgres) {
	t.Helper()
	open := func() *journal.Postgres {
		st, err := journal.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st.(*journal.Postgres)
	}
	return open(), open()
}

// heldCount counts the sessions holding job's advisory lock.
func heldCount(t *testing.T, st *journal.Postgres, job string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted`,
		journal.LockClass, uint32(journal.JobKey(job))).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPostgresPreviousHolderNotGoneWhileItsHeartbeatIsFresh: a lock taken
// right after its last holder's session ended does not call that holder
// gone: it may not have noticed yet, and stops only at its next heartbeat.
func TestPostgresPreviousHolderNotGoneWhileItsHeartbeatIsFresh(t *testing.T) {
	a, b := pgPair(t, pgtest.DSN(t))
	ctx := context.Background()
	first, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "first:1"})
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	second, err := b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "second:2", StaleAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Release()
	if p := second.Previous; p.Owner != "first:1" || p.Gone {
		t.Errorf("previous %+v, want first:1, not gone", p)
	}
}

func TestPostgresDeadSessionFreesTheLockAndCancelsTheRun(t *testing.T) {
	a, b := pgPair(t, pgtest.DSN(t))
	ctx := context.Background()
	lock, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "doomed:1", Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	// Kill the holder's session from the other process's side, as a
	// crashed host or a network cut would.
	_, err = b.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1 AND objid = $2`, journal.LockClass, uint32(journal.JobKey("staff")))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-lock.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the lock's context was not canceled after its session died")
	}
	if cause := context.Cause(lock.Context()); !errors.Is(cause, journal.ErrLockLost) {
		t.Errorf("cause %v, want ErrLockLost", cause)
	}
	other, err := b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "survivor:2"})
	if err != nil {
		t.Fatalf("lock after the holder's session died: %v", err)
	}
	other.Release()
}

// TestPostgresBusyWaitsForTheHolderToRecordItself pauses a new holder
// between taking the advisory lock and writing its lease: a contender must
// wait for the lease rather than report the previous holder from the old
// row.
func TestPostgresBusyWaitsForTheHolderToRecordItself(t *testing.T) {
	a, b := pgPair(t, pgtest.DSN(t))
	ctx := context.Background()
	first, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "first:1"})
	if err != nil {
		t.Fatal(err)
	}
	first.Release()

	paused, resume := make(chan struct{}), make(chan struct{})
	journal.SetAfterTryLock(func(string) {
		close(paused)
		<-resume
	})
	t.Cleanup(func() { journal.SetAfterTryLock(nil) })
	type result struct {
		lock *journal.JobLock
		err  error
	}
	held := make(chan result, 1)
	go func() {
		l, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "second:2"})
		held <- result{l, err}
	}()
	<-paused
	contended := make(chan error, 1)
	go func() {
		_, err := b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "third:3"})
		contended <- err
	}()
	// The contender must queue behind the holder's lease lock.
	for waiting := 0; waiting == 0; {
		select {
		case err := <-contended:
			close(resume)
			if r := <-held; r.err == nil {
				r.lock.Release()
			}
			t.Fatalf("the contender answered before the holder recorded itself: %v", err)
		default:
		}
		if err := b.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = $1 AND NOT granted`, journal.LeaseClass).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(resume)
	r := <-held
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.lock.Release()
	var busy *journal.JobBusyError
	if err := <-contended; !errors.As(err, &busy) || busy.Owner != "second:2" {
		t.Fatalf("contender: %v, want busy naming second:2", err)
	}
}

// privateJournal opens a journal on a private cluster's own database.
func privateJournal(t *testing.T, pg *pgtest.Private) *journal.Postgres {
	t.Helper()
	st, err := journal.Open(context.Background(), pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*journal.Postgres)
}

// TestPostgresLockTakenBackAfterRestart restarts the server under a held
// lock: the holder takes its lock back, its run goes on, and contenders
// are told about it as before.
func TestPostgresLockTakenBackAfterRestart(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	a := privateJournal(t, pg)
	lock, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "holder:1", Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	run := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
	if err := lock.SetRun(ctx, run); err != nil {
		t.Fatal(err)
	}

	pg.Stop(t)
	pg.Start(t)
	b := privateJournal(t, pg)
	for heldCount(t, b, "staff") == 0 {
		select {
		case <-lock.Context().Done():
			t.Fatalf("the run was interrupted: %v", context.Cause(lock.Context()))
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "contender:2"})
	var busy *journal.JobBusyError
	if !errors.As(err, &busy) || busy.Owner != "holder:1" || busy.RunID != run {
		t.Fatalf("after the restart: %v, want busy naming holder:1 and run %d", err, run)
	}
	if err := lock.Context().Err(); err != nil {
		t.Errorf("the run's context: %v", err)
	}
}

// TestPostgresLockNotTakenBackAfterSomeoneHeldIt lets another process take
// and release the job's lock while its holder's database restarted: the
// gap was not empty, so the holder must stop.
func TestPostgresLockNotTakenBackAfterSomeoneHeldIt(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	a := privateJournal(t, pg)
	reached, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	journal.SetBeforeRelock(func(string) {
		once.Do(func() {
			close(reached)
			<-proceed
		})
	})
	t.Cleanup(func() { journal.SetBeforeRelock(nil) })
	lock, err := a.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "holder:1", Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()

	pg.Stop(t)
	pg.Start(t)
	<-reached
	b := privateJournal(t, pg)
	other, err := b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "other:2"})
	if err != nil {
		close(proceed)
		t.Fatalf("the lock should be free after the restart: %v", err)
	}
	other.Release()
	close(proceed)
	for {
		select {
		case <-lock.Context().Done():
		default:
			if heldCount(t, b, "staff") > 0 {
				t.Fatal("the holder took the lock back although another process had held it meanwhile")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	if cause := context.Cause(lock.Context()); !errors.Is(cause, journal.ErrLockLost) {
		t.Errorf("cause %v, want ErrLockLost", cause)
	}
}
