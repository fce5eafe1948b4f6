package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/metrics"
	"github.com/hrfeed/importer/internal/runlog"
	"github.com/hrfeed/importer/internal/runner"
)

// ErrShutdown is the cause of a run's cancellation when the grace period
// after SIGTERM ran out.
var ErrShutdown = errors.New("serve is shutting down and the grace period ran out")

// Job is a job to schedule.
type Job struct {
	Name string
	Spec string // cron spec, see ParseSpec
}

// RunRequest is one run the service wants made.
type RunRequest struct {
	Job string
	// Store must be passed as runner.Params.Store: it records the run in
	// the job's lease so the run can be found if this process dies.
	Store       journal.Store
	ResumedFrom int64
	Source      string // the resumed run's source path; "" for the job's own
	Logger      *slog.Logger
}

// RunFunc makes one run (runner.Run with the process's config and WeCom
// client). Its error means no run could be recorded at all.
type RunFunc func(ctx context.Context, req RunRequest) (*runner.Report, error)

// Finished describes a run the service made.
type Finished struct {
	Job         string
	Trigger     string    // "schedule" or "resume"
	ScheduledAt time.Time // for "schedule"
	ResumedFrom int64     // for "resume"
	Report      *runner.Report
	Err         error
}

// Options configure a Service.
type Options struct {
	Jobs  []Job
	Store journal.Store
	Run   RunFunc
	// OnFinish is called after every run, with a context that outlives
	// shutdown by a little so notifications still go out.
	OnFinish func(context.Context, Finished)
	Logger   *slog.Logger
	Metrics  *metrics.Importer

	Grace       time.Duration // default 5m
	Heartbeat   time.Duration // default 10s
	StaleAfter  time.Duration // default 1m
	StaleCheck  time.Duration // default 30s
	ResumeStale bool
	Owner       string // default host:pid
	// KeepOccurrences is how long occurrences stay in the journal (default
	// 30 days); each job's latest stays however old.
	KeepOccurrences time.Duration
}

// DefaultKeepOccurrences is Options.KeepOccurrences when unset.
const DefaultKeepOccurrences = 30 * 24 * time.Hour

// pruneEvery is how often old occurrences are pruned: they come at one per
// job per occurrence, so an hour more or less of them costs nothing.
const pruneEvery = time.Hour

// Service schedules jobs and runs them under the coordination the package
// describes.
type Service struct {
	o       Options
	entries []Entry
	jobs    []string // the scheduled ones
	log     *slog.Logger
	lock    journal.LockOptions

	runCtx context.Context // outlives the serve context by the grace period
	wg     sync.WaitGroup  // every run in progress
}

// New checks the jobs' specs. Jobs without a spec are not scheduled.
func New(o Options) (*Service, error) {
	if o.Grace <= 0 {
		o.Grace = 5 * time.Minute
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = time.Minute
	}
	if o.StaleCheck <= 0 {
		o.StaleCheck = 30 * time.Second
	}
	if o.Owner == "" {
		o.Owner = journal.DefaultOwner()
	}
	if o.KeepOccurrences <= 0 {
		o.KeepOccurrences = DefaultKeepOccurrences
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{o: o, log: o.Logger,
		lock: journal.LockOptions{Owner: o.Owner, Heartbeat: o.Heartbeat, StaleAfter: o.StaleAfter, Logger: o.Logger}}
	for _, j := range o.Jobs {
		if j.Spec == "" {
			continue
		}
		sched, err := ParseSpec(j.Spec)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.Name, err)
		}
		job := j.Name
		s.entries = append(s.entries, Entry{Job: job, Schedule: sched, Next: func(at time.Time) {
			s.log.Info("serve: next run", "job", job, "at", at.Format(time.RFC3339))
			s.o.Metrics.NextRun(job, at)
		}})
		s.jobs = append(s.jobs, j.Name)
	}
	if len(s.entries) == 0 {
		return nil, errors.New("no job has a schedule: add schedule: \"CRON_TZ=Asia/Shanghai 0 2 * * *\" (for example) to a job")
	}
	if o.Store == nil {
		return nil, errors.New("schedule: no journal")
	}
	return s, nil
}

// Serve runs until ctx is done. It then stops scheduling, lets runs in
// progress finish within the grace period, interrupts those still going at
// a resumable point (and hands them off to be resumed), and returns nil
// once every run has returned.
func (s *Service) Serve(ctx context.Context) error {
	runCtx, cancelRuns := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelRuns(nil)
	s.runCtx = runCtx
	for _, e := range s.entries {
		s.o.Metrics.Touch(e.Job)
	}
	s.log.Info("serve: scheduling", "jobs", len(s.entries), "owner", s.o.Owner)

	var loops sync.WaitGroup
	loops.Go(func() { Loop(ctx, s.entries, s.log, s.occurrence) })
	loops.Go(func() { s.watch(ctx) })
	<-ctx.Done()
	s.log.Info("serve: stopping; runs in progress may finish", "grace", s.o.Grace.String())

	done := make(chan struct{})
	go func() {
		loops.Wait()
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.o.Grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("serve: grace period over; interrupting runs at a resumable point")
		cancelRuns(ErrShutdown)
		<-done
	}
	s.log.Info("serve: stopped")
	return nil
}

// occurrence is one scheduled firing of job.
func (s *Service) occurrence(job string, at time.Time) {
	s.wg.Add(1)
	defer s.wg.Done()
	log := s.log.With("job", job, "scheduled_at", at)
	won, err := s.o.Store.ClaimOccurrence(s.runCtx, job, at, s.o.Owner)
	if err != nil {
		log.Error("could not claim the occurrence", "err", err)
		s.o.Metrics.Occurrence(job, journal.OccurrenceError)
		return
	}
	if !won {
		log.Debug("occurrence claimed by another replica")
		s.o.Metrics.Occurrence(job, "claimed_elsewhere")
		return
	}
	s.claimed(job, at, nil, log)
}

// claimed runs an occurrence this process holds the claim of, under lock
// when the caller already holds the job's lock (and gives it up), or under
// a lock it takes.
func (s *Service) claimed(job string, at time.Time, lock *journal.JobLock, log *slog.Logger) {
	if lock == nil {
		var err error
		if lock, err = s.o.Store.TryLockJob(s.runCtx, job, s.lock); err != nil {
			outcome := journal.OccurrenceError
			if busy := (*journal.JobBusyError)(nil); errors.As(err, &busy) {
				outcome = journal.OccurrenceBusy
				log.Warn("occurrence skipped: the job is already running", "holder", busy.Owner, "holder_run_id", busy.RunID)
			} else {
				log.Error("could not lock the job", "err", err)
			}
			s.o.Metrics.Occurrence(job, outcome)
			s.finish(job, at, outcome, 0, log)
			return
		}
	}
	defer lock.Release()
	// Once started, the claim is this process's for good; until then
	// another one may have taken it for dead and run it.
	started, err := s.o.Store.StartOccurrence(lock.Context(), job, at, s.o.Owner)
	if err != nil {
		log.Error("could not start the occurrence", "err", err)
		s.o.Metrics.Occurrence(job, journal.OccurrenceError)
		s.finish(job, at, journal.OccurrenceError, 0, log)
		return
	}
	if !started {
		log.Warn("occurrence taken over by another replica, which found it unstarted for serve.stale_after")
		s.o.Metrics.Occurrence(job, "claimed_elsewhere")
		return
	}
	if pending := s.recover(lock, log); pending {
		// The last holder lost the lock moments ago; its run is not yet
		// provably abandoned. The stale watcher resumes it shortly, and
		// running now would plan against a directory it is still
		// half-way through changing.
		log.Warn("occurrence skipped: the job's last run was interrupted and awaits resumption",
			"run_id", lock.Previous.RunID)
		s.o.Metrics.Occurrence(job, journal.OccurrenceBusy)
		s.finish(job, at, journal.OccurrenceBusy, 0, log)
		return
	}
	f := s.execute(lock, RunRequest{Job: job}, Finished{Job: job, Trigger: "schedule", ScheduledAt: at})
	outcome, runID := journal.OccurrenceRan, int64(0)
	if f.Report != nil {
		runID = f.Report.RunID
	} else {
		outcome = journal.OccurrenceError
	}
	s.o.Metrics.Occurrence(job, outcome)
	s.finish(job, at, outcome, runID, log)
}

func (s *Service) finish(job string, at time.Time, outcome string, runID int64, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.runCtx), 10*time.Second)
	defer cancel()
	if err := s.o.Store.FinishOccurrence(ctx, job, at, s.o.Owner, outcome, runID); err != nil {
		log.Warn("could not record the occurrence's outcome", "outcome", outcome, "err", err)
	}
}

// execute makes one run under lock and reports it.
func (s *Service) execute(lock *journal.JobLock, req RunRequest, f Finished) Finished {
	ctx := runlog.WithJob(lock.Context(), req.Job)
	req.Store = leased(s.o.Store, lock, s.log)
	req.Logger = s.log
	s.o.Metrics.Running(req.Job, true)
	rep, err := s.o.Run(ctx, req)
	s.o.Metrics.Running(req.Job, false)
	f.Report, f.Err = rep, err
	log := s.log.With("job", req.Job)
	if rep != nil {
		log = log.With("run_id", rep.RunID)
	}
	switch {
	case err != nil:
		log.Error("run could not start", "err", err)
	case rep.Status == journal.RunCanceled:
		cause := context.Cause(ctx)
		if errors.Is(cause, ErrShutdown) || errors.Is(cause, journal.ErrLockLost) {
			hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := lock.Handoff(hctx, rep.RunID, true); err != nil {
				log.Warn("could not hand the interrupted run off", "err", err)
			} else {
				log.Info("interrupted run handed off to be resumed", "cause", cause.Error())
			}
			cancel()
		}
	}
	s.o.Metrics.ObserveRun(rep)
	if s.o.OnFinish != nil {
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		s.o.OnFinish(octx, f)
		cancel()
	}
	return f
}

// recover deals with a run the previous holder of lock's job left behind:
// one still marked running although its holder is gone (the process
// died), or one it interrupted on shutdown and handed off. It resumes the
// run or, with ResumeStale off or when the job now syncs another corp than
// the run did (runner.CorpChangedError), marks it failed. It returns true
// when the previous run is still running and its holder is not known to be
// gone: it lost the lock only moments ago and may not have noticed yet.
func (s *Service) recover(lock *journal.JobLock, log *slog.Logger) (pending bool) {
	p := lock.Previous
	if p.RunID == 0 {
		return false
	}
	ctx := lock.Context()
	run, err := s.o.Store.GetRun(ctx, p.RunID)
	if err != nil {
		log.Error("could not read the job's last run", "run_id", p.RunID, "err", err)
		return false
	}
	switch {
	case run.Status == journal.RunRunning && !p.Gone:
		return true
	case run.Status == journal.RunRunning:
		log.Warn("found an abandoned run", "run_id", run.ID, "owner", p.Owner, "heartbeat_age", p.BeatAge.Round(time.Second).String())
	case run.Status == journal.RunCanceled && p.Handoff:
		log.Info("found a run handed off on shutdown", "run_id", run.ID, "owner", p.Owner)
	default:
		return false
	}
	msg, attrs := "abandoned run left for a manual resume (serve.resume_stale is false)",
		[]any{"run_id", run.ID, "resume", fmt.Sprintf("importer resume %d", run.ID)}
	if s.o.ResumeStale {
		// The runner's resume closes the old run's pending calls and marks it
		// failed once the new run is recorded, then re-plans against the
		// journal and the live directory, so nothing is sent twice.
		f := s.execute(lock, RunRequest{Job: lock.Job, ResumedFrom: run.ID, Source: run.Source},
			Finished{Job: lock.Job, Trigger: "resume", ResumedFrom: run.ID})
		if moved := (*runner.CorpChangedError)(nil); !errors.As(f.Err, &moved) {
			s.o.Metrics.StaleRun(lock.Job, "resumed")
			return false
		}
		// The config moved the job to another corp: the run will not be
		// resumed under it, and would otherwise be tried again at every
		// look until the job's next run.
		msg, attrs = "abandoned run marked failed: the job now syncs another corp", []any{"run_id", run.ID, "corp_id", run.CorpID}
	}
	if run.Status == journal.RunRunning {
		counts := map[string]int{"abandoned": 1}
		for k, v := range run.Counts {
			counts[k] = v
		}
		if err := s.o.Store.FinishRun(ctx, run.ID, journal.RunFailed, counts); err != nil && !errors.Is(err, journal.ErrCompleted) {
			log.Error("could not mark the abandoned run failed", "run_id", run.ID, "err", err)
			return false
		}
	}
	if err := lock.Handoff(ctx, run.ID, false); err != nil {
		log.Warn("could not clear the handoff", "run_id", run.ID, "err", err)
	}
	log.Warn(msg, attrs...)
	s.o.Metrics.StaleRun(lock.Job, "marked_failed")
	return false
}

// watch looks after what dead processes left in the journal, at start
// and every StaleCheck: runs abandoned or handed off on shutdown, and
// occurrences claimed but never started. It also prunes old occurrences,
// at start and every pruneEvery. The looks read the journal only; only a
// job with a candidate is locked, so idle replicas do not contend for
// locks that scheduled occurrences need.
func (s *Service) watch(ctx context.Context) {
	t := time.NewTicker(s.o.StaleCheck)
	defer t.Stop()
	var pruned time.Time
	for ctx.Err() == nil {
		if pruned.IsZero() || time.Since(pruned) >= pruneEvery {
			s.prune(ctx)
			pruned = time.Now()
		}
		s.resumeStale(ctx)
		s.reclaim(ctx)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

func (s *Service) resumeStale(ctx context.Context) {
	runs, err := s.o.Store.StaleRuns(ctx, s.jobs, s.o.StaleAfter)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("stale run check failed", "err", err)
		}
		return
	}
	for _, r := range runs {
		if ctx.Err() != nil {
			return
		}
		s.takeOver(r.Job)
	}
}

// reclaim runs the occurrences whose claimers died before starting them.
// This process's own claims are left alone: it is alive, so they are in
// hand.
func (s *Service) reclaim(ctx context.Context) {
	claims, err := s.o.Store.DeadClaims(ctx, s.jobs, s.o.StaleAfter)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("dead claim check failed", "err", err)
		}
		return
	}
	for _, c := range claims {
		if ctx.Err() != nil {
			return
		}
		if c.Owner != s.o.Owner {
			s.takeClaim(c)
		}
	}
}

func (s *Service) takeClaim(c journal.Claim) {
	s.wg.Add(1)
	defer s.wg.Done()
	log := s.log.With("job", c.Job, "scheduled_at", c.At)
	lock, err := s.o.Store.TryLockJob(s.runCtx, c.Job, s.lock)
	if err != nil {
		// A busy job may be running this very occurrence after all; if
		// not, the claim waits for the next look or is overtaken by the
		// job's next occurrence.
		if busy := (*journal.JobBusyError)(nil); !errors.As(err, &busy) {
			log.Warn("could not lock the job to take over a dead claim", "err", err)
		}
		return
	}
	won, err := s.o.Store.Reclaim(lock.Context(), c, s.o.Owner)
	if err != nil || !won {
		lock.Release()
		if err != nil {
			log.Warn("could not take over a dead claim", "claimed_by", c.Owner, "err", err)
		}
		return
	}
	log.Warn("took over an occurrence whose claimer died before starting it", "claimed_by", c.Owner)
	s.claimed(c.Job, c.At, lock, log)
}

func (s *Service) prune(ctx context.Context) {
	n, err := s.o.Store.PruneOccurrences(ctx, time.Now().Add(-s.o.KeepOccurrences))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("could not prune old occurrences", "err", err)
	case n > 0:
		s.log.Info("pruned old occurrences", "deleted", n, "kept_for", s.o.KeepOccurrences.String())
	}
}

func (s *Service) takeOver(job string) {
	s.wg.Add(1)
	defer s.wg.Done()
	log := s.log.With("job", job)
	lock, err := s.o.Store.TryLockJob(s.runCtx, job, s.lock)
	if err != nil {
		if busy := (*journal.JobBusyError)(nil); !errors.As(err, &busy) {
			log.Warn("could not lock the job to check its last run", "err", err)
		}
		return
	}
	defer lock.Release()
	s.recover(lock, log)
}
