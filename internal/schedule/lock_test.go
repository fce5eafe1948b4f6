package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
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

func TestJobLockIsExclusiveAcrossProcesses(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	la := NewLocker(a, LockOptions{Owner: "replica-a:1"})
	lb := NewLocker(b, LockOptions{Owner: "replica-b:2"})

	lease, err := la.TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	// The run started through the lease's store is recorded in the lease.
	runID, err := lease.Store(a).StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", Status: journal.RunRunning, StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lb.TryLock(ctx, "staff")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Owner != "replica-a:1" || busy.RunID != runID {
		t.Fatalf("second lock: %v (%+v), want busy naming replica-a and run %d", err, busy, runID)
	}
	// Other jobs are independent.
	other, err := lb.TryLock(ctx, "contractors")
	if err != nil {
		t.Fatalf("lock another job: %v", err)
	}
	other.Release()

	// A manual run goes through the same lock.
	called := false
	err = WithJobLock(ctx, b, "staff", func(context.Context, journal.Store) error { called = true; return nil })
	if !errors.As(err, &busy) || called {
		t.Fatalf("WithJobLock while held: %v, fn called %v", err, called)
	}

	lease.Release()
	err = WithJobLock(ctx, b, "staff", func(ctx context.Context, st journal.Store) error {
		called = true
		if _, ok := st.(*leasedStore); !ok {
			t.Errorf("fn got %T, want the lease's store", st)
		}
		return nil
	})
	if err != nil || !called {
		t.Fatalf("WithJobLock after release: %v, fn called %v", err, called)
	}

	// The next holder sees the run the last holder to start one left.
	lease, err = lb.TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	if p := lease.Previous; p.RunID != runID {
		t.Errorf("previous lease %+v, want run %d", p, runID)
	}
}

func TestDeadSessionFreesTheLockAndCancelsTheRun(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	lease, err := NewLocker(a, LockOptions{Owner: "doomed:1", Heartbeat: 50 * time.Millisecond}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	// Kill the holder's session from the other replica's side, as a
	// crashed host or a network cut would.
	_, err = b.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = $1 AND objid = $2`, lockClass, uint32(jobKey("staff")))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-lease.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the run's context was not canceled after its lock session died")
	}
	if cause := context.Cause(lease.Context()); !errors.Is(cause, ErrLockLost) {
		t.Errorf("cause %v, want ErrLockLost", cause)
	}
	other, err := NewLocker(b, LockOptions{Owner: "survivor:2"}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatalf("lock after the holder's session died: %v", err)
	}
	other.Release()
}

func TestOccurrenceIsClaimedOnce(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	ca := &pgClaims{pool: a.Pool(), owner: "a:1"}
	cb := &pgClaims{pool: b.Pool(), owner: "b:2"}
	wonA, err := ca.claim(ctx, "staff", at)
	if err != nil {
		t.Fatal(err)
	}
	// Same instant in another zone: the same occurrence.
	wonB, err := cb.claim(ctx, "staff", at.In(time.FixedZone("CST", 8*3600)))
	if err != nil {
		t.Fatal(err)
	}
	if !wonA || wonB {
		t.Fatalf("claims: a %v, b %v; want only the first", wonA, wonB)
	}
	if won, _ := cb.claim(ctx, "staff", at.Add(time.Second)); !won {
		t.Error("the next occurrence was not claimable")
	}
}

func TestReady(t *testing.T) {
	pg, _ := twoStores(t)
	ctx := context.Background()
	if err := Ready(ctx, pg); err != nil {
		t.Errorf("postgres: %v", err)
	}
	lite, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := Ready(ctx, lite); err != nil {
		t.Errorf("sqlite: %v", err)
	}
	if _, err := pg.Pool().Exec(ctx, `DELETE FROM schema_migrations WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	if err := Ready(ctx, pg); err == nil {
		t.Error("a journal missing a migration is ready")
	}
}

// TestBusyNamesTheCurrentHolder: after one holder ran a job and released
// it, a contender must be told about the process holding the lock now and
// its run, not about the last run left in the lease.
func TestBusyNamesTheCurrentHolder(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	first, err := NewLocker(a, LockOptions{Owner: "first:1"}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	oldRun, err := first.Store(a).StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	first.Release()

	second, err := NewLocker(a, LockOptions{Owner: "second:2"}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Release()
	contender := NewLocker(b, LockOptions{Owner: "third:3"})

	// Holding the lock, not yet started its run.
	_, err = contender.TryLock(ctx, "staff")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Owner != "second:2" || busy.RunID != 0 {
		t.Fatalf("before the holder's run: %v (%+v), want second:2 and no run (run %d was the previous holder's)", err, busy, oldRun)
	}
	newRun, err := second.Store(a).StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = contender.TryLock(ctx, "staff")
	if !errors.As(err, &busy) || busy.Owner != "second:2" || busy.RunID != newRun {
		t.Fatalf("during the holder's run: %v (%+v), want second:2 and run %d", err, busy, newRun)
	}
}

// TestBusyWaitsForTheHolderToRecordItself pauses a new holder between
// taking the advisory lock and writing its lease: a contender must wait for
// the lease rather than report the previous holder from the old row.
func TestBusyWaitsForTheHolderToRecordItself(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	first, err := NewLocker(a, LockOptions{Owner: "first:1"}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	first.Release()

	paused, resume := make(chan struct{}), make(chan struct{})
	afterTryLock = func(string) {
		close(paused)
		<-resume
	}
	t.Cleanup(func() { afterTryLock = nil })
	type result struct {
		lease *Lease
		err   error
	}
	held := make(chan result, 1)
	go func() {
		l, err := NewLocker(a, LockOptions{Owner: "second:2"}).TryLock(ctx, "staff")
		held <- result{l, err}
	}()
	<-paused
	contended := make(chan error, 1)
	go func() {
		_, err := NewLocker(b, LockOptions{Owner: "third:3"}).TryLock(ctx, "staff")
		contended <- err
	}()
	// The contender must queue behind the holder's lease lock.
	for waiting := 0; waiting == 0; {
		select {
		case err := <-contended:
			close(resume)
			if r := <-held; r.err == nil {
				r.lease.Release()
			}
			t.Fatalf("the contender answered before the holder recorded itself: %v", err)
		default:
		}
		if err := b.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = $1 AND NOT granted`, leaseClass).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(resume)
	r := <-held
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.lease.Release()
	var busy *BusyError
	if err := <-contended; !errors.As(err, &busy) || busy.Owner != "second:2" {
		t.Fatalf("contender: %v, want busy naming second:2", err)
	}
}

// privateStore opens a journal on a private cluster's own database.
func privateStore(t *testing.T, pg *pgtest.Private) *journal.Postgres {
	t.Helper()
	st, err := journal.Open(context.Background(), pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*journal.Postgres)
}

// TestLockTakenBackAfterRestart restarts the server under a held lock: the
// holder takes its lock back, its run goes on, and contenders are told
// about it as before.
func TestLockTakenBackAfterRestart(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	a := privateStore(t, pg)
	lease, err := NewLocker(a, LockOptions{Owner: "holder:1", Heartbeat: 50 * time.Millisecond}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()
	run, err := lease.Store(a).StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", StartedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	pg.Stop(t)
	pg.Start(t)
	b := privateStore(t, pg)
	for held := 0; held == 0; {
		select {
		case <-lease.Context().Done():
			t.Fatalf("the run was interrupted: %v", context.Cause(lease.Context()))
		default:
		}
		if err := b.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted`, lockClass, uint32(jobKey("staff"))).Scan(&held); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err = NewLocker(b, LockOptions{Owner: "contender:2"}).TryLock(ctx, "staff")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Owner != "holder:1" || busy.RunID != run {
		t.Fatalf("after the restart: %v, want busy naming holder:1 and run %d", err, run)
	}
	if err := lease.Context().Err(); err != nil {
		t.Errorf("the run's context: %v", err)
	}
}

// TestLockNotTakenBackAfterSomeoneHeldIt lets another process take and
// release the job's lock while its holder's database restarted: the gap
// was not empty, so the holder must stop.
func TestLockNotTakenBackAfterSomeoneHeldIt(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	a := privateStore(t, pg)
	reached, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	beforeRelock = func(string) {
		once.Do(func() {
			close(reached)
			<-proceed
		})
	}
	t.Cleanup(func() { beforeRelock = nil })
	lease, err := NewLocker(a, LockOptions{Owner: "holder:1", Heartbeat: 50 * time.Millisecond}).TryLock(ctx, "staff")
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release()

	pg.Stop(t)
	pg.Start(t)
	<-reached
	b := privateStore(t, pg)
	other, err := NewLocker(b, LockOptions{Owner: "other:2"}).TryLock(ctx, "staff")
	if err != nil {
		close(proceed)
		t.Fatalf("the lock should be free after the restart: %v", err)
	}
	other.Release()
	close(proceed)
	for {
		select {
		case <-lease.Context().Done():
		default:
			var held int
			if err := b.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks
				WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND granted`, lockClass, uint32(jobKey("staff"))).Scan(&held); err != nil {
				t.Fatal(err)
			}
			if held > 0 {
				t.Fatal("the holder took the lock back although another process had held it meanwhile")
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		break
	}
	if cause := context.Cause(lease.Context()); !errors.Is(cause, ErrLockLost) {
		t.Errorf("cause %v, want ErrLockLost", cause)
	}
}
