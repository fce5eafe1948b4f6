package schedule

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/runner"
)

// The tests in this file drive whole Services against real journals with
// short real intervals: the PostgreSQL ones cannot run in a synctest
// bubble (pgx does network I/O). They wait for what they expect with a
// deadline that only bounds a failure; nothing is asserted about how long
// anything took.

// never is a schedule that does not come due while a test runs, for
// services whose work here is only what they find in the journal.
const never = "@every 87600h"

func pgJournal(t *testing.T, dsn string) *journal.Postgres {
	t.Helper()
	st, err := journal.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*journal.Postgres)
}

func liteJournal(t *testing.T, path string) *journal.SQLite {
	t.Helper()
	st, err := journal.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(*journal.SQLite)
}

// runLog stands in for runner.Run: it records each run in the journal
// through the request's store, as the runner does, and notes the request.
// With hold set, a scheduled run holds until its context is canceled and
// ends canceled, as the runner does when interrupted.
type runLog struct {
	hold     bool
	started  chan int64 // each held run's id, once recorded
	mu       sync.Mutex
	requests []RunRequest
}

func (l *runLog) run(ctx context.Context, req RunRequest) (*runner.Report, error) {
	l.mu.Lock()
	l.requests = append(l.requests, req)
	l.mu.Unlock()
	mode := "run"
	if req.ResumedFrom != 0 {
		mode = "resume"
	}
	id, err := req.Store.StartRun(ctx, journal.Run{Job: req.Job, CorpID: "ww", Mode: mode, ResumedFrom: req.ResumedFrom})
	if err != nil {
		return nil, err
	}
	status := journal.RunDone
	if l.hold && req.ResumedFrom == 0 {
		l.started <- id
		<-ctx.Done()
		status = journal.RunCanceled
	}
	if err := req.Store.FinishRun(context.WithoutCancel(ctx), id, status, nil); err != nil {
		return nil, err
	}
	return &runner.Report{RunID: id, Job: req.Job, Status: status}, nil
}

func (l *runLog) resumes() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []int64
	for _, r := range l.requests {
		if r.ResumedFrom != 0 {
			ids = append(ids, r.ResumedFrom)
		}
	}
	return ids
}

func (l *runLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.requests)
}

// serving runs svc until the returned stop is called; stop returns once
// Serve has.
func serving(t *testing.T, svc *Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, failing the test if it has not
// within a generous bound.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func finishedCh(n int) (chan Finished, func(context.Context, Finished)) {
	ch := make(chan Finished, n)
	return ch, func(_ context.Context, f Finished) { ch <- f }
}

func waitFinished(t *testing.T, ch chan Finished, what string) Finished {
	t.Helper()
	select {
	case f := <-ch:
		return f
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	return Finished{}
}

func pgCount(t *testing.T, st *journal.Postgres, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// deadLease leaves in job_leases what a process that died while running
// the job leaves: itself as the holder, its run, and a heartbeat beatAgo
// old (PostgreSQL).
func deadLease(t *testing.T, st *journal.Postgres, job, owner string, beatAgo time.Duration) int64 {
	t.Helper()
	ctx := context.Background()
	run, err := st.StartRun(ctx, journal.Run{Job: job, CorpID: "ww", Mode: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `INSERT INTO job_leases (job, owner, acquired_at, beat_at, run_id, owner_run_id)
		VALUES ($1, $2, now() - $4::interval, now() - $4::interval, $3, $3)`,
		job, owner, run, fmt.Sprintf("%d microseconds", beatAgo.Microseconds())); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestServiceResumeStaleOffLeavesTheRun: with resume_stale false an
// abandoned run is marked failed for a manual resume, never resumed.
func TestServiceResumeStaleOffLeavesTheRun(t *testing.T) {
	st := pgJournal(t, pgtest.DSN(t))
	ctx := context.Background()
	abandoned := deadLease(t, st, "staff", "dead:1", time.Hour)
	runs := &runLog{}
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: st, Run: runs.run, ResumeStale: false,
		Heartbeat: 50 * time.Millisecond, StaleAfter: 200 * time.Millisecond, StaleCheck: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := serving(t, svc)
	eventually(t, "the abandoned run to be dealt with", func() bool {
		r, err := st.GetRun(ctx, abandoned)
		return err == nil && r.Status != journal.RunRunning
	})
	// Serve returns only once what it started has returned: a resume
	// decided along with the marking would have been requested by now.
	stop()
	r, err := st.GetRun(ctx, abandoned)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != journal.RunFailed || r.Counts["abandoned"] != 1 {
		t.Errorf("abandoned run: %s %v, want failed and counted abandoned", r.Status, r.Counts)
	}
	if got := runs.resumes(); len(got) != 0 {
		t.Errorf("resumed %v with resume_stale false", got)
	}
}

// TestServiceHandsOffRunInterruptedOnShutdown: a replica shut down with a
// run in progress interrupts it when the grace period is over and hands
// it off; another replica serving the same journal resumes it.
func TestServiceHandsOffRunInterruptedOnShutdown(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := pgJournal(t, dsn), pgJournal(t, dsn)
	held := &runLog{hold: true, started: make(chan int64, 1)}
	aFinished, aOnFinish := finishedCh(4)
	svcA, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: "@every 1s"}}, Store: a, Run: held.run, OnFinish: aOnFinish, Owner: "a:1",
		Grace: 10 * time.Millisecond, Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, StaleCheck: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	resumer := &runLog{}
	bFinished, bOnFinish := finishedCh(4)
	svcB, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: b, Run: resumer.run, OnFinish: bOnFinish, Owner: "b:2",
		ResumeStale: true, Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, StaleCheck: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopA := serving(t, svcA)
	serving(t, svcB)
	var interrupted int64
	select {
	case interrupted = <-held.started:
	case <-time.After(30 * time.Second):
		t.Fatal("replica a did not start a run")
	}
	stopA() // SIGTERM; the grace period runs out with the run going on
	if f := waitFinished(t, aFinished, "replica a's run to end"); f.Report == nil || f.Report.Status != journal.RunCanceled {
		t.Fatalf("replica a's run: %+v, want it canceled", f)
	}
	f := waitFinished(t, bFinished, "replica b to resume the run")
	if f.Trigger != "resume" || f.ResumedFrom != interrupted || f.Report == nil || f.Report.Status != journal.RunDone {
		t.Errorf("replica b finished %+v (report %+v), want run %d resumed", f, f.Report, interrupted)
	}
	if got := resumer.resumes(); !slices.Equal(got, []int64{interrupted}) {
		t.Errorf("replica b resumed %v, want [%d]", got, interrupted)
	}
}

// TestServiceSkipsOccurrenceWhileLastRunIsPending: the job's lock is free
// but its last run is still marked running with a fresh heartbeat: its
// holder lost the lock moments ago and may not have noticed. The
// occurrence is skipped as busy rather than run over the top of it.
func TestServiceSkipsOccurrenceWhileLastRunIsPending(t *testing.T) {
	st := pgJournal(t, pgtest.DSN(t))
	ctx := context.Background()
	pending := deadLease(t, st, "staff", "vanishing:1", 0)
	runs := &runLog{}
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: "@every 1s"}}, Store: st, Run: runs.run, Owner: "live:2",
		Heartbeat: 50 * time.Millisecond, StaleAfter: time.Hour, StaleCheck: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := serving(t, svc)
	eventually(t, "an occurrence skipped as busy", func() bool {
		return pgCount(t, st, `SELECT count(*) FROM schedule_occurrences WHERE outcome = 'busy' AND claimed_by = 'live:2'`) > 0
	})
	stop()
	if n := runs.count(); n != 0 {
		t.Errorf("%d runs made while the last one was pending", n)
	}
	if n := pgCount(t, st, `SELECT count(*) FROM schedule_occurrences WHERE outcome <> 'busy'`); n != 0 {
		t.Errorf("%d occurrences not skipped as busy", n)
	}
	if r, err := st.GetRun(ctx, pending); err != nil || r.Status != journal.RunRunning {
		t.Errorf("the pending run: %+v, %v; want it left running", r, err)
	}
}

// TestServiceReclaimsOccurrenceOfDeadClaimer: a replica claimed the job's
// latest occurrence and died before it took the job's lock. Another
// replica takes the claim over and runs the occurrence; before, the
// occurrence was lost.
func TestServiceReclaimsOccurrenceOfDeadClaimer(t *testing.T) {
	st := pgJournal(t, pgtest.DSN(t))
	ctx := context.Background()
	at := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	if _, err := st.Pool().Exec(ctx, `INSERT INTO schedule_occurrences (job, scheduled_at, claimed_by, claimed_at)
		VALUES ('staff', $1, 'dead:1', now() - interval '1 hour')`, at); err != nil {
		t.Fatal(err)
	}
	runs := &runLog{}
	finished, onFinish := finishedCh(4)
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: st, Run: runs.run, OnFinish: onFinish, Owner: "live:2",
		Heartbeat: 50 * time.Millisecond, StaleAfter: 200 * time.Millisecond, StaleCheck: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := serving(t, svc)
	f := waitFinished(t, finished, "the dead replica's occurrence to run")
	stop()
	if f.Trigger != "schedule" || !f.ScheduledAt.Equal(at) || f.Report == nil || f.Report.Status != journal.RunDone {
		t.Fatalf("finished %+v, want the occurrence at %v run", f, at)
	}
	var (
		by, outcome string
		runID       int64
	)
	if err := st.Pool().QueryRow(ctx, `SELECT claimed_by, outcome, run_id FROM schedule_occurrences
		WHERE job = 'staff' AND scheduled_at = $1`, at).Scan(&by, &outcome, &runID); err != nil {
		t.Fatal(err)
	}
	if by != "live:2" || outcome != journal.OccurrenceRan || runID != f.Report.RunID {
		t.Errorf("occurrence claimed by %s, %s, run %d; want live:2, ran, run %d", by, outcome, runID, f.Report.RunID)
	}
	if n := runs.count(); n != 1 {
		t.Errorf("%d runs, want the one occurrence's", n)
	}
}

// TestServicePrunesOldOccurrences: occurrences older than the retention
// (30 days by default) are deleted, except each job's latest, which still
// says when the job last came due.
func TestServicePrunesOldOccurrences(t *testing.T) {
	st := pgJournal(t, pgtest.DSN(t))
	ctx := context.Background()
	now := time.Now().Truncate(time.Second).UTC()
	day := 24 * time.Hour
	for _, o := range []struct {
		job string
		age time.Duration
	}{{"staff", 40 * day}, {"staff", 31 * day}, {"staff", day}, {"contractors", 40 * day}} {
		if _, err := st.Pool().Exec(ctx, `INSERT INTO schedule_occurrences (job, scheduled_at, claimed_by, outcome)
			VALUES ($1, $2, 'old:1', 'ran')`, o.job, now.Add(-o.age)); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: st, Run: (&runLog{}).run,
		Heartbeat: 50 * time.Millisecond, StaleAfter: 200 * time.Millisecond, StaleCheck: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	serving(t, svc)
	eventually(t, "old occurrences to be pruned", func() bool {
		return pgCount(t, st, `SELECT count(*) FROM schedule_occurrences WHERE job = 'staff'`) == 1
	})
	if n := pgCount(t, st, `SELECT count(*) FROM schedule_occurrences WHERE job = 'staff' AND scheduled_at = $1`, now.Add(-day)); n != 1 {
		t.Error("the recent occurrence was pruned")
	}
	if n := pgCount(t, st, `SELECT count(*) FROM schedule_occurrences WHERE job = 'contractors'`); n != 1 {
		t.Error("another job's only (latest) occurrence was pruned")
	}
}

// TestEmbeddedServeResumesRunOfDeadProcessAtStart: on the embedded
// journal, a process died running the job (its lease names it, by host
// and pid, and its file lock went with it). serve, started afterwards,
// finds the run at once and resumes it; before, nothing noticed it.
func TestEmbeddedServeResumesRunOfDeadProcessAtStart(t *testing.T) {
	st := liteJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	ctx := context.Background()
	host, _ := os.Hostname()
	run, err := st.StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww", Mode: "run", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO job_leases (job, owner, acquired_at, beat_at, run_id, owner_run_id)
		VALUES ('staff', $1, $2, $2, $3, $3)`, fmt.Sprintf("%s:%d", host, deadPID(t)), stamp, run); err != nil {
		t.Fatal(err)
	}
	runs := &runLog{}
	finished, onFinish := finishedCh(4)
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: st, Run: runs.run, OnFinish: onFinish, ResumeStale: true,
		// Only the look at start can find it within the test.
		StaleCheck: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	serving(t, svc)
	f := waitFinished(t, finished, "the dead process's run to be resumed")
	if f.Trigger != "resume" || f.ResumedFrom != run || f.Report == nil || f.Report.Status != journal.RunDone {
		t.Errorf("finished %+v, want run %d resumed", f, run)
	}
}

// deadPID is the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestServeMarksAbandonedRunOfAnotherCorpFailed: the job's abandoned run
// was of a corp the config no longer gives the job, so its resume is
// refused (runner.CorpChangedError). The run is marked failed once, not
// tried again at every look until the job's next run.
func TestServeMarksAbandonedRunOfAnotherCorpFailed(t *testing.T) {
	st := liteJournal(t, filepath.Join(t.TempDir(), "journal.db"))
	ctx := context.Background()
	host, _ := os.Hostname()
	run, err := st.StartRun(ctx, journal.Run{Job: "staff", CorpID: "ww-old", Mode: "run", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := st.DB().ExecContext(ctx, `INSERT INTO job_leases (job, owner, acquired_at, beat_at, run_id, owner_run_id)
		VALUES ('staff', $1, $2, $2, $3, $3)`, fmt.Sprintf("%s:%d", host, deadPID(t)), stamp, run); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var resumes []int64
	finished := make(chan Finished, 1)
	// Never blocks: a service that retried would otherwise hang in it.
	onFinish := func(_ context.Context, f Finished) {
		select {
		case finished <- f:
		default:
		}
	}
	svc, err := New(Options{
		Jobs: []Job{{Name: "staff", Spec: never}}, Store: st, OnFinish: onFinish, ResumeStale: true, StaleCheck: 10 * time.Millisecond,
		Run: func(_ context.Context, req RunRequest) (*runner.Report, error) {
			mu.Lock()
			resumes = append(resumes, req.ResumedFrom)
			mu.Unlock()
			return nil, &runner.CorpChangedError{Run: req.ResumedFrom, Job: req.Job, Was: "ww-old", Now: "ww-new"}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := serving(t, svc)
	waitFinished(t, finished, "the refused resume")
	eventually(t, "the abandoned run to be marked failed", func() bool {
		r, err := st.GetRun(ctx, run)
		return err == nil && r.Status == journal.RunFailed && r.Counts["abandoned"] == 1
	})
	time.Sleep(100 * time.Millisecond) // ten more looks
	stop()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(resumes, []int64{run}) {
		t.Errorf("resume requests %v, want one of run %d", resumes, run)
	}
}
