package journal

import (
	"context"
	"fmt"
	"time"
)

// JobLocker is implemented by stores that keep two runs of one job apart
// by themselves: the embedded journal, with a file lock per job. Package
// schedule finds it behind any store wrapper and puts it behind the same
// entry point (WithJobLock) as PostgreSQL's advisory locks.
type JobLocker interface {
	// TryLockJob takes job's lock for owner (host:pid) without waiting, or
	// returns a *JobBusyError naming the process that holds it.
	TryLockJob(ctx context.Context, job, owner string) (*JobLock, error)
}

// JobHolder is the process holding a job's lock, as it recorded itself.
type JobHolder struct {
	Owner string    // host:pid; empty if it has not recorded itself
	Since time.Time // when it took the lock
	RunID int64     // its run, 0 until it starts one
}

// JobBusyError says another process holds the job's lock.
type JobBusyError struct {
	Job    string
	Holder JobHolder
}

func (e *JobBusyError) Error() string {
	if e.Holder.Owner == "" {
		return fmt.Sprintf("job %s is locked", e.Job)
	}
	return fmt.Sprintf("job %s is locked by %s", e.Job, e.Holder.Owner)
}

// JobPrevious is what the last holder of a job's lock left in its lease.
type JobPrevious struct {
	Owner   string
	RunID   int64         // the last run started under the lock
	BeatAge time.Duration // since it last recorded itself alive
	Handoff bool          // it interrupted RunID on shutdown for someone to resume
}

// JobLock is a held job lock. Release it exactly once.
type JobLock struct {
	Previous JobPrevious

	setRun  func(ctx context.Context, runID int64) error
	handoff func(ctx context.Context, runID int64, on bool) error
	release func() error
}

// SetRun records the run started under the lock, so a contender is told
// which run is going on.
func (l *JobLock) SetRun(ctx context.Context, runID int64) error { return l.setRun(ctx, runID) }

// Handoff marks runID, interrupted on shutdown, for another process to
// resume; on=false withdraws the request.
func (l *JobLock) Handoff(ctx context.Context, runID int64, on bool) error {
	return l.handoff(ctx, runID, on)
}

// Release unlocks the job.
func (l *JobLock) Release() error { return l.release() }
