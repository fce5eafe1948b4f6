package schedule

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hrfeed/importer/internal/journal"
)

// lockClass is the first key of every job's advisory lock ("hrfe"), so a
// DBA can find them in pg_locks (WHERE locktype = 'advisory' AND classid =
// 1752327781); the second key is the FNV-32a hash of the job name.
const lockClass int32 = 0x68726665

// leaseClass ("hrff") keys the transaction-scoped lock that lockers of one
// job hold while they take its lock and write or read its lease (same
// second key as lockClass).
const leaseClass int32 = 0x68726666

func jobKey(job string) int32 {
	h := fnv.New32a()
	h.Write([]byte(job))
	return int32(h.Sum32())
}

// ErrLockLost is the cause of a run's cancellation when its lock
// connection died: PostgreSQL has released the lock, so another process
// may take the job over and this one must stop.
var ErrLockLost = errors.New("job lock lost: the database session holding it ended")

// BusyError says the job's lock is held by someone else.
type BusyError struct {
	Job   string
	Owner string    // host:pid of the holder, when it recorded itself
	Since time.Time // when it took the lock
	RunID int64     // its current run, 0 before the run started
}

func (e *BusyError) Error() string {
	if e.Owner == "" {
		return fmt.Sprintf("job %s is already running", e.Job)
	}
	msg := fmt.Sprintf("job %s is already running on %s since %s", e.Job, e.Owner, e.Since.Format(time.RFC3339))
	if e.RunID != 0 {
		msg += fmt.Sprintf(" (run %d)", e.RunID)
	}
	return msg
}

// Previous is what the last holder of a job's lock left in its lease.
type Previous struct {
	Owner   string
	RunID   int64
	BeatAge time.Duration // how long ago it last proved alive
	Handoff bool          // it interrupted RunID on shutdown for someone to resume
}

// Lease is a held job lock. Release it exactly once.
type Lease struct {
	Job      string
	Previous Previous

	ctx     context.Context
	cancel  context.CancelCauseFunc
	backend leaseBackend
	log     *slog.Logger
}

type leaseBackend interface {
	setRun(ctx context.Context, runID int64) error
	handoff(ctx context.Context, runID int64, on bool) error
	release()
}

// Context is canceled when the lock is lost or the context given to TryLock
// is done; the run must use it.
func (l *Lease) Context() context.Context { return l.ctx }

// Store wraps st so that the run started through it is recorded in the
// lease (and heartbeated with it). Pass the result as runner.Params.Store.
func (l *Lease) Store(st journal.Store) journal.Store { return &leasedStore{Store: st, lease: l} }

// Handoff asks another replica to resume runID, which this holder
// interrupted on shutdown or lock loss; on=false withdraws the request.
func (l *Lease) Handoff(ctx context.Context, runID int64, on bool) error {
	return l.backend.handoff(ctx, runID, on)
}

// Release unlocks the job.
func (l *Lease) Release() {
	l.backend.release()
	l.cancel(context.Canceled)
}

// Locker hands out job locks.
type Locker interface {
	// TryLock takes job's lock if it is free, and returns a *BusyError if not.
	TryLock(ctx context.Context, job string) (*Lease, error)
}

// LockOptions tune a Locker. Zero values take the defaults.
type LockOptions struct {
	Owner     string        // default host:pid
	Heartbeat time.Duration // default 10s
	Logger    *slog.Logger
}

// NewLocker returns the locker for store's database: advisory locks and
// leases on PostgreSQL, the store's own job locks on a store that has them
// (the embedded journal's file locks), an in-process lock otherwise.
func NewLocker(store journal.Store, o LockOptions) Locker {
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch st := unwrap(store).(type) {
	case *journal.Postgres:
		return &pgLocker{pool: st.Pool(), o: o, relockFor: max(st.Retry().Writes, 0)}
	case journal.JobLocker:
		return &storeLocker{st: st, o: o}
	}
	return &localLocker{held: map[string]bool{}}
}

// locksAcrossProcesses reports whether store's locker keeps runs in other
// processes apart, which is what WithJobLock is for.
func locksAcrossProcesses(store journal.Store) bool {
	switch unwrap(store).(type) {
	case *journal.Postgres, journal.JobLocker:
		return true
	}
	return false
}

// DefaultOwner names this process in leases and claims.
func DefaultOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// WithJobLock runs fn holding job's lock, the same lock `importer serve`
// takes for its runs, so a manual `importer run --job NAME` never overlaps
// a scheduled one. If the job is busy it returns a *BusyError without
// calling fn. fn gets a context that is also canceled if the lock is lost,
// and a store to hand to runner.Run: the run started through it is
// recorded in the job's lease and heartbeated, so if this process dies a
// serving replica finds the abandoned run and resumes it.
//
// On the embedded journal the lock is a file lock beside the journal
// (journal.JobLocker), with the same *BusyError. A store with neither (a
// test double) runs fn directly.
func WithJobLock(ctx context.Context, store journal.Store, job string, fn func(context.Context, journal.Store) error) error {
	if !locksAcrossProcesses(store) {
		return fn(ctx, store)
	}
	lease, err := NewLocker(store, LockOptions{}).TryLock(ctx, job)
	if err != nil {
		return err
	}
	defer lease.Release()
	return fn(lease.Context(), lease.Store(store))
}

// localLocker keeps one Locker's own runs of a job apart, for a store with
// no locks of its own (a test double; the embedded journal off Unix).
type localLocker struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *localLocker) TryLock(ctx context.Context, job string) (*Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[job] {
		return nil, &BusyError{Job: job}
	}
	l.held[job] = true
	lctx, cancel := context.WithCancelCause(ctx)
	return &Lease{Job: job, ctx: lctx, cancel: cancel, backend: localLease{l, job}, log: slog.New(slog.DiscardHandler)}, nil
}

type localLease struct {
	l   *localLocker
	job string
}

func (localLease) setRun(context.Context, int64) error        { return nil }
func (localLease) handoff(context.Context, int64, bool) error { return nil }
func (b localLease) release() {
	b.l.mu.Lock()
	defer b.l.mu.Unlock()
	delete(b.l.held, b.job)
}

// storeLocker takes the locks a store provides itself (journal.JobLocker).
// Such a lock cannot be lost while the process lives, so its lease's
// context is canceled only with the caller's.
type storeLocker struct {
	st journal.JobLocker
	o  LockOptions
}

func (l *storeLocker) TryLock(ctx context.Context, job string) (*Lease, error) {
	jl, err := l.st.TryLockJob(ctx, job, l.o.Owner)
	if busy := (*journal.JobBusyError)(nil); errors.As(err, &busy) {
		return nil, &BusyError{Job: job, Owner: busy.Holder.Owner, Since: busy.Holder.Since, RunID: busy.Holder.RunID}
	}
	if err != nil {
		return nil, fmt.Errorf("lock job %s: %w", job, err)
	}
	p := jl.Previous
	lctx, cancel := context.WithCancelCause(ctx)
	return &Lease{Job: job, Previous: Previous{Owner: p.Owner, RunID: p.RunID, BeatAge: p.BeatAge, Handoff: p.Handoff},
		ctx: lctx, cancel: cancel, backend: storeLease{jl}, log: l.o.Logger}, nil
}

type storeLease struct{ l *journal.JobLock }

func (b storeLease) setRun(ctx context.Context, runID int64) error { return b.l.SetRun(ctx, runID) }
func (b storeLease) handoff(ctx context.Context, runID int64, on bool) error {
	return b.l.Handoff(ctx, runID, on)
}
func (b storeLease) release() { _ = b.l.Release() }

// pgLocker takes session-level advisory locks on a connection it keeps for
// the lease's lifetime: a session lock lives exactly as long as the
// session, which is what frees a dead replica's jobs.
type pgLocker struct {
	pool      *pgxpool.Pool
	o         LockOptions
	relockFor time.Duration
}

func (l *pgLocker) TryLock(ctx context.Context, job string) (*Lease, error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock job %s: %w", job, err)
	}
	b := &pgLease{pool: l.pool, conn: conn, job: job, o: l.o, relockFor: l.relockFor,
		stop: make(chan struct{}), done: make(chan struct{})}
	prev, busy, err := b.lock(ctx)
	if err != nil || busy != nil {
		conn.Release()
		if busy != nil {
			return nil, busy
		}
		return nil, fmt.Errorf("lock job %s: %w", job, err)
	}
	lctx, cancel := context.WithCancelCause(ctx)
	b.cancel = cancel
	go b.beat()
	return &Lease{Job: job, Previous: prev, ctx: lctx, cancel: cancel, backend: b, log: l.o.Logger}, nil
}

// afterTryLock, when set by a test, runs between taking the advisory lock
// and recording the holder, where a contender used to read a stale lease.
var afterTryLock func(job string)

// lock takes the job's advisory lock and records this holder, or reports
// who holds it. Lockers of one job take turns through a transaction-scoped
// advisory lock (leaseClass) around both steps: a contender that finds the
// job locked therefore reads the lease only after the holder has written
// it, and names the process running the job, not its predecessor.
func (b *pgLease) lock(ctx context.Context) (Previous, *BusyError, error) {
	tx, err := b.conn.Begin(ctx)
	if err != nil {
		return Previous{}, nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, leaseClass, jobKey(b.job)); err != nil {
		return Previous{}, nil, err
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, jobKey(b.job)).Scan(&ok); err != nil {
		// The lock may have been granted with the answer lost: end the
		// session rather than pool a connection that might hold it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = b.conn.Conn().Close(cctx)
		cancel()
		return Previous{}, nil, err
	}
	if !ok {
		return Previous{}, b.holder(ctx, tx), nil
	}
	if afterTryLock != nil {
		afterTryLock(b.job)
	}
	// A session lock outlives the transaction, even a rolled-back one, so
	// from here on every failure must unlock.
	prev, err := b.take(ctx, tx)
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		_ = tx.Rollback(ctx)
		b.unlockSession()
		return Previous{}, nil, err
	}
	return prev, nil, nil
}

// holder describes the lock's holder from its lease. A holder that took
// the lock through an older importer, which wrote no lease under
// leaseClass, may not have recorded itself yet: then only the job is named.
func (b *pgLease) holder(ctx context.Context, tx pgx.Tx) *BusyError {
	busy := &BusyError{Job: b.job}
	var runID *int64
	err := tx.QueryRow(ctx, `SELECT owner, acquired_at, owner_run_id FROM job_leases WHERE job = $1`, b.job).
		Scan(&busy.Owner, &busy.Since, &runID)
	if err != nil {
		return &BusyError{Job: b.job}
	}
	if runID != nil {
		busy.RunID = *runID
	}
	return busy
}

type pgLease struct {
	pool      *pgxpool.Pool
	job       string
	o         LockOptions
	relockFor time.Duration // see relock
	cancel    context.CancelCauseFunc

	mu   sync.Mutex // a pgx connection serves one query at a time
	conn *pgxpool.Conn

	// What take recorded, by which relock recognizes its own lease, and
	// when the server it was taken on started.
	acquiredAt, serverStart time.Time

	stop, done chan struct{}
	once       sync.Once
}

// take reads what the previous holder left and records this one. Both
// happen under the lock, so no other process changes the row in between.
// run_id and handoff are kept: they point at a run that may need resuming;
// owner_run_id is this holder's own and starts empty.
func (b *pgLease) take(ctx context.Context, tx pgx.Tx) (Previous, error) {
	var (
		p     Previous
		runID *int64
		age   time.Duration
	)
	err := tx.QueryRow(ctx, `SELECT owner, run_id, handoff, now() - beat_at FROM job_leases WHERE job = $1`, b.job).
		Scan(&p.Owner, &runID, &p.Handoff, &age)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return p, err
	default:
		p.BeatAge = age
		if runID != nil {
			p.RunID = *runID
		}
	}
	err = tx.QueryRow(ctx, `INSERT INTO job_leases (job, owner) VALUES ($1, $2)
		ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, acquired_at = now(), beat_at = now(),
			owner_run_id = NULL
		RETURNING acquired_at, pg_postmaster_start_time()`, b.job, b.o.Owner).Scan(&b.acquiredAt, &b.serverStart)
	return p, err
}

// beat proves the holder alive every Heartbeat, on the lock's own
// connection: if that connection is gone, so is the lock, and the run is
// canceled before another replica can decide it was abandoned (stale_after
// is at least two heartbeats) — unless the server restarted and the lock
// can be taken back as it was (relock).
func (b *pgLease) beat() {
	defer close(b.done)
	t := time.NewTicker(b.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.o.Heartbeat)
		b.mu.Lock()
		_, err := b.conn.Exec(ctx, `UPDATE job_leases SET beat_at = now() WHERE job = $1 AND owner = $2`, b.job, b.o.Owner)
		closed := b.conn.Conn().IsClosed()
		b.mu.Unlock()
		cancel()
		if err == nil {
			continue
		}
		if closed {
			if b.relock() {
				b.o.Logger.Warn("job lock taken back after the database restarted", "job", b.job, "lost_with", err)
				continue
			}
			select {
			case <-b.stop:
				return // released meanwhile: nothing left to interrupt
			default:
			}
			b.o.Logger.Error("job lock lost; interrupting the run", "job", b.job, "err", err)
			b.cancel(ErrLockLost)
			return
		}
		b.o.Logger.Warn("heartbeat failed", "job", b.job, "err", err)
	}
}

// beforeRelock, when set by a test, runs before each attempt to take a lock
// back.
var beforeRelock func(job string)

// relock takes the lock back after the session holding it was lost. A
// restart frees every advisory lock; PostgreSQL coming back within seconds
// should not cost the run, whose journal writes ride it out. Taking the
// lock back is safe only if no one held it in between: anyone who did
// rewrote the lease (owner, acquired_at) under the same leaseClass lock
// this takes, so an unchanged lease proves the gap was empty. Only a
// restart (the server's start time changed) is ridden out: a session
// ended while the server stayed up was ended on purpose, or may still be
// alive on the server across a network cut. It tries for as long as the
// journal's writes ride out a lost connection (journal.Retry.Writes): past
// that the run fails anyway.
func (b *pgLease) relock() bool {
	if b.relockFor <= 0 {
		return false
	}
	deadline := time.Now().Add(b.relockFor)
	wait := 100 * time.Millisecond
	for {
		if beforeRelock != nil {
			beforeRelock(b.job)
		}
		ok, final, err := b.tryRelock()
		switch {
		case ok:
			return true
		case final:
			return false
		case time.Now().Add(wait).After(deadline):
			b.o.Logger.Warn("could not take the job lock back", "job", b.job, "err", err)
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-b.stop:
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// tryRelock is one attempt of relock. final says not to try again: the
// server did not restart, or someone else holds or held the lock.
func (b *pgLease) tryRelock() (ok, final bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(b.o.Heartbeat, 5*time.Second))
	defer cancel()
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return false, false, err
	}
	nb := &pgLease{job: b.job, conn: conn}
	var (
		locked bool
		start  time.Time
	)
	defer func() {
		if !ok {
			if locked {
				nb.unlockSession()
			}
			conn.Release()
		}
	}()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, leaseClass, jobKey(b.job)); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT pg_postmaster_start_time()`).Scan(&start); err != nil {
			return err
		}
		if start.Equal(b.serverStart) {
			final = true
			return nil
		}
		var (
			owner string
			since time.Time
		)
		err := tx.QueryRow(ctx, `SELECT owner, acquired_at FROM job_leases WHERE job = $1`, b.job).Scan(&owner, &since)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if owner != b.o.Owner || !since.Equal(b.acquiredAt) {
			final = true
			return nil
		}
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, jobKey(b.job)).Scan(&locked); err != nil {
			locked = true // maybe granted, answer lost: unlock to be sure
			return err
		}
		if !locked {
			final = true // held by an older importer, which takes no leaseClass lock
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE job_leases SET beat_at = now() WHERE job = $1 AND owner = $2`, b.job, b.o.Owner)
		ok = err == nil
		return err
	})
	if err != nil {
		ok = false
		return false, false, err
	}
	if ok {
		b.mu.Lock()
		b.conn.Release() // the dead session; the pool discards it
		b.conn, b.serverStart = conn, start
		b.mu.Unlock()
	}
	return ok, final, nil
}

func (b *pgLease) setRun(ctx context.Context, runID int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.conn.Exec(ctx, `UPDATE job_leases SET run_id = $2, owner_run_id = $2, handoff = false, beat_at = now()
		WHERE job = $1 AND owner = $3`, b.job, runID, b.o.Owner)
	return err
}

// handoff goes through the pool, not the lock connection: after a lock
// loss that connection is dead, and the request matters most then.
func (b *pgLease) handoff(ctx context.Context, runID int64, on bool) error {
	_, err := b.pool.Exec(ctx, `UPDATE job_leases SET handoff = $3 WHERE job = $1 AND run_id = $2`, b.job, runID, on)
	return err
}

func (b *pgLease) release() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.unlock()
	})
}

// unlock releases the advisory lock and the connection. If the unlock
// cannot be confirmed the connection is closed rather than returned to the
// pool: a pooled session still holding the lock would block the job forever.
func (b *pgLease) unlock() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.unlockSession()
	b.conn.Release()
}

// unlockSession releases the advisory lock, or closes the session when it
// cannot confirm that it did; the caller releases the connection.
func (b *pgLease) unlockSession() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ok bool
	if err := b.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1, $2)`, lockClass, jobKey(b.job)).Scan(&ok); err != nil || !ok {
		_ = b.conn.Conn().Close(ctx)
	}
}

// leasedStore records the run it starts in the lease, and labels the run's
// context for logging.
type leasedStore struct {
	journal.Store
	lease *Lease
}

func (s *leasedStore) StartRun(ctx context.Context, r journal.Run) (int64, error) {
	id, err := s.Store.StartRun(ctx, r)
	if err != nil {
		return id, err
	}
	if l := labelFrom(ctx); l != nil {
		l.runID.Store(id)
	}
	// Not fatal: the run is already recorded, and a lease that does not
	// name it only means a crash would leave it to a manual resume.
	if err := s.lease.backend.setRun(context.WithoutCancel(ctx), id); err != nil {
		s.lease.log.Warn("could not record the run in the job lease", "job", s.lease.Job, "run_id", id, "err", err)
	}
	return id, nil
}

// Unwrap returns the wrapped store, for code that needs the concrete type.
func (s *leasedStore) Unwrap() journal.Store { return s.Store }

func unwrap(st journal.Store) journal.Store {
	for {
		u, ok := st.(interface{ Unwrap() journal.Store })
		if !ok {
			return st
		}
		st = u.Unwrap()
	}
}
