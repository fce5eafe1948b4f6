package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Coordinator keeps the processes that run jobs against one journal out of
// each other's way: a lock per job, with a lease that says who holds it
// and which run it is on, and claims on the occurrences of scheduled jobs.
// It is part of Store, so a wrapper that embeds a Store passes it through,
// and one that does not cannot compile without it: nothing has to find the
// concrete store behind a wrapper to coordinate.
//
// On PostgreSQL any number of processes on any hosts may share the
// journal. The job lock is a session-level advisory lock, which the server
// frees when the holder's session ends; the holder heartbeats its lease on
// that session, and a holder whose heartbeat is older than StaleAfter is
// gone. On the embedded journal the processes must share one host (the
// journal is a local file): the job lock is an flock on a file beside the
// journal, which the kernel frees when the holder dies however it dies, so
// a free lock is proof that its last holder is gone and no heartbeat is
// needed.
//
// A process that dies while it holds a claim it has not yet started (see
// StartOccurrence) leaves it behind for DeadClaims. Its death is read the
// same way on both engines: a claimer starts its claim within moments, so
// a claim still unstarted after StaleAfter belongs to a dead process. A
// claimer that was only slow finds, once it holds the lock, that its claim
// was taken over (StartOccurrence answers false) and stands down, so an
// occurrence runs at most once even when the guess is wrong.
type Coordinator interface {
	// TryLockJob takes job's lock without waiting, or returns a
	// *JobBusyError naming the process that holds it.
	TryLockJob(ctx context.Context, job string, o LockOptions) (*JobLock, error)
	// StaleRuns lists the runs of jobs that their lock holder left behind:
	// still running although the holder is gone (on PostgreSQL, its
	// heartbeat is older than staleAfter; on the embedded journal, the
	// job's lock is free), or canceled and handed off. Whoever takes the
	// job's lock next finds them in JobLock.Previous.
	StaleRuns(ctx context.Context, jobs []string, staleAfter time.Duration) ([]StaleRun, error)

	// ClaimOccurrence claims job's occurrence at (a nominal time: every
	// process computes the same one) for owner, and reports whether this
	// call won it. Exactly one call per occurrence wins.
	ClaimOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error)
	// StartOccurrence marks owner's claim started. Call it holding job's
	// lock, before running anything for the occurrence: false means the
	// claim is no longer owner's (DeadClaims took it for dead and someone
	// reclaimed it), and owner must not run it.
	StartOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error)
	// FinishOccurrence records what became of an occurrence owner claimed
	// (an Occurrence* outcome, and the run it made or 0).
	FinishOccurrence(ctx context.Context, job string, at time.Time, owner, outcome string, runID int64) error
	// DeadClaims lists the claims on jobs' latest occurrences that were
	// neither started nor finished within staleAfter of being claimed:
	// their claimers died before they could run them. An older
	// occurrence is not listed: the job came due again since, and missed
	// occurrences are skipped, not made up.
	DeadClaims(ctx context.Context, jobs []string, staleAfter time.Duration) ([]Claim, error)
	// Reclaim takes c over for owner if it is still as DeadClaims found
	// it and still the job's latest occurrence. Call it holding c.Job's
	// lock, then StartOccurrence as for a claim of one's own.
	Reclaim(ctx context.Context, c Claim, owner string) (bool, error)
	// PruneOccurrences deletes the occurrences due before before, except
	// each job's latest, which still tells when the job last came due. It
	// returns how many it deleted.
	PruneOccurrences(ctx context.Context, before time.Time) (int, error)
}

// Occurrence outcomes, as FinishOccurrence records them.
const (
	OccurrenceClaimed = "claimed" // in progress, or its claimer died
	OccurrenceRan     = "ran"
	OccurrenceBusy    = "busy" // skipped: the job was already running
	OccurrenceError   = "error"
)

// Claim is an occurrence claimed by Owner.
type Claim struct {
	Job   string
	At    time.Time // the occurrence's nominal time
	Owner string
}

// StaleRun is a run its lock holder left behind (Coordinator.StaleRuns).
type StaleRun struct {
	Job     string
	RunID   int64
	Owner   string // the holder that left it
	Handoff bool   // interrupted on shutdown for someone to resume, rather than abandoned
}

// LockOptions tune TryLockJob. Zero values take the defaults.
type LockOptions struct {
	Owner string // host:pid, recorded in the lease; default DefaultOwner()
	// Heartbeat is how often a PostgreSQL holder proves itself alive
	// (default 10s); StaleAfter is how old a previous holder's proof must
	// be for it to count as gone (default 1m, and at least two
	// heartbeats, so a live holder notices a lost lock first).
	Heartbeat  time.Duration
	StaleAfter time.Duration
	Logger     *slog.Logger
}

func (o LockOptions) withDefaults() LockOptions {
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = max(time.Minute, 2*o.Heartbeat)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// DefaultOwner names this process in leases and claims.
func DefaultOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// ErrLockLost is the cause of a JobLock's context when the lock was lost
// (the PostgreSQL session holding it ended): another process may take the
// job over, so this one must stop.
var ErrLockLost = errors.New("job lock lost: the database session holding it ended")

// JobBusyError says another process holds the job's lock.
type JobBusyError struct {
	Job   string
	Owner string    // host:pid of the holder; empty if it has not recorded itself
	Since time.Time // when it took the lock
	RunID int64     // its own run, 0 until it starts one
}

func (e *JobBusyError) Error() string {
	if e.Owner == "" {
		return fmt.Sprintf("job %s is already running", e.Job)
	}
	msg := fmt.Sprintf("job %s is already running on %s since %s", e.Job, e.Owner, e.Since.Format(time.RFC3339))
	if e.RunID != 0 {
		msg += fmt.Sprintf(" (run %d)", e.RunID)
	}
	return msg
}

// JobPrevious is what the last holder of a job's lock left in its lease.
type JobPrevious struct {
	Owner   string
	RunID   int64         // the last run started under the lock
	BeatAge time.Duration // since it last proved itself alive
	Handoff bool          // it interrupted RunID on shutdown for someone to resume
	// Gone: there was a holder and it can no longer be working on RunID.
	// On PostgreSQL its heartbeat is older than StaleAfter; before that it
	// may have lost the lock only moments ago and not noticed yet. On the
	// embedded journal always: a live holder keeps its file lock.
	Gone bool
}

// JobLock is a held job lock. Release it exactly once.
type JobLock struct {
	Job      string
	Owner    string
	Previous JobPrevious

	ctx    context.Context
	cancel context.CancelCauseFunc
	held   heldLock
	once   sync.Once
}

// heldLock is what each engine does for a JobLock.
type heldLock interface {
	setRun(ctx context.Context, runID int64) error
	handoff(ctx context.Context, runID int64, on bool) error
	release()
}

func newJobLock(ctx context.Context, job, owner string, prev JobPrevious, held heldLock) *JobLock {
	lctx, cancel := context.WithCancelCause(ctx)
	return &JobLock{Job: job, Owner: owner, Previous: prev, ctx: lctx, cancel: cancel, held: held}
}

// Context is canceled when the lock is lost (cause ErrLockLost), when it
// is released, or with the context given to TryLockJob. Work done under
// the lock must use it.
func (l *JobLock) Context() context.Context { return l.ctx }

// SetRun records the run started under the lock in the lease: a contender
// is told which run is going on, and whoever takes the lock after a crash
// finds the run to resume.
func (l *JobLock) SetRun(ctx context.Context, runID int64) error { return l.held.setRun(ctx, runID) }

// Handoff marks runID, interrupted on shutdown or when the lock was lost,
// for another process to resume; on=false withdraws the request.
func (l *JobLock) Handoff(ctx context.Context, runID int64, on bool) error {
	return l.held.handoff(ctx, runID, on)
}

// Release unlocks the job and cancels Context. Later calls do nothing.
func (l *JobLock) Release() {
	l.once.Do(func() {
		l.held.release()
		l.cancel(context.Canceled)
	})
}
