package schedule

import (
	"context"
	"log/slog"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runlog"
)

// WithJobLock runs fn holding job's lock, the same lock `importer serve`
// takes for its runs, so a manual `importer run --job NAME` never overlaps
// a scheduled one. If the job is busy it returns a *journal.JobBusyError
// without calling fn. fn gets a context that is also canceled if the lock
// is lost, and a store to hand to runner.Run: the run started through it
// is recorded in the job's lease, so if this process dies a serving
// process finds the abandoned run and resumes it.
func WithJobLock(ctx context.Context, store journal.Store, job string, fn func(context.Context, journal.Store) error) error {
	lock, err := store.TryLockJob(ctx, job, journal.LockOptions{})
	if err != nil {
		return err
	}
	defer lock.Release()
	return fn(lock.Context(), leased(store, lock, nil))
}

// leasedStore records the run started through it in its job's lease, and
// in its context's log label: the runner starts the run, and only the
// lock's holder knows the lease.
type leasedStore struct {
	journal.Store
	lock *journal.JobLock
	log  *slog.Logger
}

func leased(st journal.Store, lock *journal.JobLock, log *slog.Logger) journal.Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &leasedStore{Store: st, lock: lock, log: log}
}

func (s *leasedStore) StartRun(ctx context.Context, r journal.Run) (int64, error) {
	id, err := s.Store.StartRun(ctx, r)
	if err != nil {
		return id, err
	}
	runlog.SetRunID(ctx, id)
	// Not fatal: the run is already recorded, and a lease that does not
	// name it only means a crash would leave it to a manual resume.
	if err := s.lock.SetRun(context.WithoutCancel(ctx), id); err != nil {
		s.log.Warn("could not record the run in the job lease", "job", s.lock.Job, "run_id", id, "err", err)
	}
	return id, nil
}
