package journal

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// TryLockJob takes a session-level advisory lock on a connection kept for
// the lock's lifetime: a session lock lives exactly as long as the session,
// which is what frees a dead process's jobs. The lease is heartbeated on
// that connection every o.Heartbeat; if the connection dies, so has the
// lock, and Context is canceled with ErrLockLost unless the lock can be
// taken back as it was (see relock).
func (p *Postgres) TryLockJob(ctx context.Context, job string, o LockOptions) (*JobLock, error) {
	o = o.withDefaults()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("journal: lock job %s: %w", job, err)
	}
	b := &pgLease{pool: p.pool, conn: conn, job: job, o: o, relockFor: max(p.retry.Writes, 0),
		stop: make(chan struct{}), done: make(chan struct{})}
	prev, busy, err := b.lock(ctx)
	if err != nil || busy != nil {
		conn.Release()
		if busy != nil {
			return nil, busy
		}
		return nil, fmt.Errorf("journal: lock job %s: %w", job, err)
	}
	prev.Gone = prev.Owner != "" && prev.BeatAge >= o.StaleAfter
	l := newJobLock(ctx, job, o.Owner, prev, b)
	b.cancel = l.cancel
	go b.beat()
	return l, nil
}

// afterTryLock, when set by a test, runs between taking the advisory lock
// and recording the holder, where a contender used to read a stale lease.
var afterTryLock func(job string)

// lock takes the job's advisory lock and records this holder, or reports
// who holds it. Lockers of one job take turns through a transaction-scoped
// advisory lock (leaseClass) around both steps: a contender that finds the
// job locked therefore reads the lease only after the holder has written
// it, and names the process running the job, not its predecessor.
func (b *pgLease) lock(ctx context.Context) (JobPrevious, *JobBusyError, error) {
	tx, err := b.conn.Begin(ctx)
	if err != nil {
		return JobPrevious{}, nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }() // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, leaseClass, jobKey(b.job)); err != nil {
		return JobPrevious{}, nil, err
	}
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, lockClass, jobKey(b.job)).Scan(&ok); err != nil {
		// The lock may have been granted with the answer lost: end the
		// session rather than pool a connection that might hold it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = b.conn.Conn().Close(cctx)
		cancel()
		return JobPrevious{}, nil, err
	}
	if !ok {
		return JobPrevious{}, b.holder(ctx, tx), nil
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
		return JobPrevious{}, nil, err
	}
	return prev, nil, nil
}

// holder describes the lock's holder from its lease. A holder that took
// the lock through an older importer, which wrote no lease under
// leaseClass, may not have recorded itself yet: then only the job is named.
func (b *pgLease) holder(ctx context.Context, tx pgx.Tx) *JobBusyError {
	busy := &JobBusyError{Job: b.job}
	var runID *int64
	err := tx.QueryRow(ctx, `SELECT owner, acquired_at, owner_run_id FROM job_leases WHERE job = $1`, b.job).
		Scan(&busy.Owner, &busy.Since, &runID)
	if err != nil {
		return &JobBusyError{Job: b.job}
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
func (b *pgLease) take(ctx context.Context, tx pgx.Tx) (JobPrevious, error) {
	var (
		p     JobPrevious
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
// connection: if that connection is gone, so is the lock, and the work
// under it is canceled before another process can decide it was abandoned
// (StaleAfter is at least two heartbeats) — unless the server restarted
// and the lock can be taken back as it was (relock).
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
// journal's writes ride out a lost connection (Retry.Writes): past that
// the run fails anyway.
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
