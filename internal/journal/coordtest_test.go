package journal_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
)

func TestSQLiteCoordinator(t *testing.T) {
	testCoordinator(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "journal.db") })
}

func TestPostgresCoordinator(t *testing.T) {
	testCoordinator(t, func(t *testing.T) string { return pgtest.DSN(t) })
}

// testCoordinator is the conformance suite of journal.Coordinator. Each
// case opens one new journal twice, as two processes would; newDSN is as
// for testStore.
func testCoordinator(t *testing.T, newDSN func(t *testing.T) string) {
	pair := func(t *testing.T) (journal.Store, journal.Store) {
		t.Helper()
		dsn := newDSN(t)
		open := func() journal.Store {
			st, err := journal.Open(context.Background(), dsn)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
		return open(), open()
	}
	lock := func(t *testing.T, st journal.Store, job, owner string) *journal.JobLock {
		t.Helper()
		l, err := st.TryLockJob(context.Background(), job, journal.LockOptions{Owner: owner})
		if err != nil {
			t.Fatalf("%s locks %s: %v", owner, job, err)
		}
		t.Cleanup(l.Release)
		return l
	}
	busy := func(t *testing.T, st journal.Store, job, owner string) *journal.JobBusyError {
		t.Helper()
		l, err := st.TryLockJob(context.Background(), job, journal.LockOptions{Owner: owner})
		var b *journal.JobBusyError
		if !errors.As(err, &b) {
			if err == nil {
				l.Release()
			}
			t.Fatalf("%s locks %s: %v, want a *JobBusyError", owner, job, err)
		}
		return b
	}
	// tick makes sure the clocks the stores compare with have moved on
	// since the last write, for the cases that call everything older
	// than a nanosecond stale. It bounds nothing.
	tick := func() { time.Sleep(2 * time.Millisecond) }

	t.Run("LockExcludes", func(t *testing.T) {
		t.Parallel()
		a, b := pair(t)
		before := time.Now().Add(-time.Minute)
		held := lock(t, a, "staff", "a:1")
		got := busy(t, b, "staff", "b:2")
		if got.Job != "staff" || got.Owner != "a:1" || got.RunID != 0 || got.Since.Before(before) {
			t.Errorf("busy %+v, want staff held by a:1 since it locked, no run yet", got)
		}
		if msg := got.Error(); !strings.Contains(msg, "a:1") {
			t.Errorf("busy message %q does not name the holder", msg)
		}
		// Within one process too: the lock is the job's, not the process's.
		if got := busy(t, a, "staff", "a:3"); got.Owner != "a:1" {
			t.Errorf("second lock through the holder's own store: busy %+v, want a:1 named", got)
		}
		lock(t, b, "contractors", "b:2").Release() // other jobs are independent

		held.Release()
		if held.Context().Err() == nil {
			t.Error("a released lock's context is not done")
		}
		lock(t, b, "staff", "b:2")
	})

	t.Run("BusyNamesTheCurrentHolderAndItsRun", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, b := pair(t)
		first := lock(t, a, "staff", "first:1")
		oldRun := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := first.SetRun(ctx, oldRun); err != nil {
			t.Fatal(err)
		}
		first.Release()

		second := lock(t, a, "staff", "second:2")
		// The lease still names first's run; the contender must hear of
		// the holder now, which has none yet.
		if got := busy(t, b, "staff", "third:3"); got.Owner != "second:2" || got.RunID != 0 {
			t.Errorf("before the holder's run: busy %+v, want second:2 and no run (run %d was first's)", got, oldRun)
		}
		newRun := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := second.SetRun(ctx, newRun); err != nil {
			t.Fatal(err)
		}
		got := busy(t, b, "staff", "third:3")
		if got.Owner != "second:2" || got.RunID != newRun {
			t.Errorf("during the holder's run: busy %+v, want second:2 and run %d", got, newRun)
		}
		if msg := got.Error(); !strings.Contains(msg, "second:2") || !strings.Contains(msg, fmt.Sprintf("(run %d)", newRun)) {
			t.Errorf("busy message %q does not name the holder and its run", msg)
		}
	})

	t.Run("PreviousHolder", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, b := pair(t)
		first := lock(t, a, "staff", "first:1")
		if first.Previous != (journal.JobPrevious{}) {
			t.Errorf("the first holder's previous: %+v, want none", first.Previous)
		}
		run := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := first.SetRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if err := a.FinishRun(ctx, run, journal.RunCanceled, nil); err != nil {
			t.Fatal(err)
		}
		if err := first.Handoff(ctx, run, true); err != nil {
			t.Fatal(err)
		}
		first.Release()
		tick()

		second, err := b.TryLockJob(ctx, "staff", journal.LockOptions{Owner: "second:2", StaleAfter: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		p := second.Previous
		if p.Owner != "first:1" || p.RunID != run || !p.Handoff || !p.Gone || p.BeatAge <= 0 {
			t.Errorf("previous %+v, want first:1's run %d handed off, its holder gone", p, run)
		}
		if err := second.Handoff(ctx, run, false); err != nil {
			t.Fatal(err)
		}
		second.Release()
		if p := lock(t, a, "staff", "third:3").Previous; p.Owner != "second:2" || p.RunID != run || p.Handoff {
			t.Errorf("after the hand-off was withdrawn: previous %+v, want second:2, run %d kept, no hand-off", p, run)
		}
	})

	t.Run("StaleRuns", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, b := pair(t)
		jobs := []string{"staff"}
		held := lock(t, a, "staff", "a:1")
		abandoned := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := held.SetRun(ctx, abandoned); err != nil {
			t.Fatal(err)
		}
		staleRuns := func(jobs []string, after time.Duration) []journal.StaleRun {
			t.Helper()
			runs, err := b.StaleRuns(ctx, jobs, after)
			if err != nil {
				t.Fatal(err)
			}
			return runs
		}
		if got := staleRuns(jobs, time.Hour); len(got) != 0 {
			t.Errorf("while its holder runs it: %+v", got)
		}
		held.Release() // without finishing the run: as its holder's death would
		tick()
		if diff := cmp.Diff([]journal.StaleRun{{Job: "staff", RunID: abandoned, Owner: "a:1"}}, staleRuns(jobs, time.Nanosecond)); diff != "" {
			t.Errorf("abandoned (-want +got):\n%s", diff)
		}
		if got := staleRuns([]string{"contractors"}, time.Nanosecond); len(got) != 0 {
			t.Errorf("for another job: %+v", got)
		}

		l := lock(t, b, "staff", "b:2")
		handed := startRun(t, b, journal.Run{Job: "staff", CorpID: "ww"})
		if err := l.SetRun(ctx, handed); err != nil {
			t.Fatal(err)
		}
		if err := b.FinishRun(ctx, handed, journal.RunCanceled, nil); err != nil {
			t.Fatal(err)
		}
		if err := l.Handoff(ctx, handed, true); err != nil {
			t.Fatal(err)
		}
		l.Release()
		// A hand-off is the holder's own word, however fresh its heartbeat.
		if diff := cmp.Diff([]journal.StaleRun{{Job: "staff", RunID: handed, Owner: "b:2", Handoff: true}}, staleRuns(jobs, time.Hour)); diff != "" {
			t.Errorf("handed off (-want +got):\n%s", diff)
		}

		l = lock(t, a, "staff", "a:3")
		done := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := l.SetRun(ctx, done); err != nil {
			t.Fatal(err)
		}
		if err := a.FinishRun(ctx, done, journal.RunDone, nil); err != nil {
			t.Fatal(err)
		}
		l.Release()
		tick()
		if got := staleRuns(jobs, time.Nanosecond); len(got) != 0 {
			t.Errorf("after a run that finished: %+v", got)
		}
	})

	t.Run("ClaimOnce", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, b := pair(t)
		at := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
		claim := func(st journal.Store, at time.Time, owner string) bool {
			t.Helper()
			won, err := st.ClaimOccurrence(ctx, "staff", at, owner)
			if err != nil {
				t.Fatal(err)
			}
			return won
		}
		start := func(st journal.Store, at time.Time, owner string) bool {
			t.Helper()
			ok, err := st.StartOccurrence(ctx, "staff", at, owner)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim(a, at, "a:1") {
			t.Fatal("the first claim lost")
		}
		// The same instant in another zone is the same occurrence.
		if claim(b, at.In(time.FixedZone("CST", 8*3600)), "b:2") || claim(a, at, "a:1") {
			t.Error("an occurrence was claimed twice")
		}
		if !claim(b, at.Add(time.Second), "b:2") {
			t.Error("the next occurrence was not claimable")
		}
		if start(b, at, "b:2") {
			t.Error("a replica started an occurrence it did not claim")
		}
		if !start(a, at, "a:1") {
			t.Fatal("the claimer could not start its occurrence")
		}
		if start(a, at, "a:1") {
			t.Error("an occurrence was started twice")
		}
		run := startRun(t, a, journal.Run{Job: "staff", CorpID: "ww"})
		if err := b.FinishOccurrence(ctx, "staff", at, "b:2", journal.OccurrenceBusy, 0); err != nil {
			t.Fatal(err)
		}
		if err := a.FinishOccurrence(ctx, "staff", at, "a:1", journal.OccurrenceRan, run); err != nil {
			t.Fatal(err)
		}
		if n := count(t, a, `SELECT count(*) FROM schedule_occurrences WHERE claimed_by = 'a:1' AND outcome = 'ran' AND run_id = $1`, run); n != 1 {
			t.Errorf("%d occurrences of a:1 ran run %d, want 1 (and b:2's word ignored)", n, run)
		}
		if err := a.FinishOccurrence(ctx, "staff", at, "a:1", journal.OccurrenceClaimed, 0); err == nil {
			t.Error("an occurrence finished claimed")
		}
	})

	t.Run("DeadClaimIsReclaimed", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, b := pair(t)
		at := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			job string
			at  time.Time
		}{{"staff", at}, {"contractors", at}, {"contractors", at.Add(time.Hour)}, {"interns", at}} {
			if won, err := a.ClaimOccurrence(ctx, c.job, c.at, "a:1"); err != nil || !won {
				t.Fatalf("claim %s at %v: %v, %v", c.job, c.at, won, err)
			}
		}
		// interns: skipped as busy, which settles it.
		if err := a.FinishOccurrence(ctx, "interns", at, "a:1", journal.OccurrenceBusy, 0); err != nil {
			t.Fatal(err)
		}
		jobs := []string{"staff", "contractors", "interns"}
		dead := func(after time.Duration) []journal.Claim {
			t.Helper()
			claims, err := b.DeadClaims(ctx, jobs, after)
			if err != nil {
				t.Fatal(err)
			}
			return claims
		}
		if got := dead(time.Hour); len(got) != 0 {
			t.Errorf("claims made just now: %+v", got)
		}
		tick()
		// contractors' earlier occurrence was overtaken by its next one.
		want := []journal.Claim{{Job: "contractors", At: at.Add(time.Hour), Owner: "a:1"}, {Job: "staff", At: at, Owner: "a:1"}}
		if diff := cmp.Diff(want, dead(time.Nanosecond)); diff != "" {
			t.Fatalf("dead claims (-want +got):\n%s", diff)
		}

		lock(t, b, "staff", "b:2")
		reclaim := func(c journal.Claim) bool {
			t.Helper()
			ok, err := b.Reclaim(ctx, c, "b:2")
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !reclaim(want[1]) {
			t.Fatal("the dead claim was not taken over")
		}
		if reclaim(want[1]) {
			t.Error("a claim was taken over twice")
		}
		if reclaim(journal.Claim{Job: "contractors", At: at, Owner: "a:1"}) {
			t.Error("an occurrence the job's next one overtook was taken over")
		}
		// The first claimer, only slow after all, stands down.
		if ok, err := a.StartOccurrence(ctx, "staff", at, "a:1"); err != nil || ok {
			t.Errorf("the first claimer started the taken-over claim: %v, %v", ok, err)
		}
		if ok, err := b.StartOccurrence(ctx, "staff", at, "b:2"); err != nil || !ok {
			t.Fatalf("the new claimer could not start it: %v, %v", ok, err)
		}
		if n := count(t, b, `SELECT count(*) FROM schedule_occurrences WHERE job = 'staff' AND claimed_by = 'b:2' AND reclaimed_from = 'a:1'`); n != 1 {
			t.Errorf("the taken-over claim does not name both claimers")
		}
		tick()
		if diff := cmp.Diff(want[:1], dead(time.Nanosecond)); diff != "" {
			t.Errorf("after staff's was started (-want +got):\n%s", diff)
		}
	})

	t.Run("PruneOccurrences", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		a, _ := pair(t)
		now := time.Now().UTC().Truncate(time.Second)
		day := 24 * time.Hour
		for _, c := range []struct {
			job string
			age time.Duration
		}{{"staff", 40 * day}, {"staff", 31 * day}, {"staff", day}, {"contractors", 40 * day}} {
			if _, err := a.ClaimOccurrence(ctx, c.job, now.Add(-c.age), "a:1"); err != nil {
				t.Fatal(err)
			}
		}
		n, err := a.PruneOccurrences(ctx, now.Add(-30*day))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("pruned %d, want staff's two old occurrences", n)
		}
		if got := count(t, a, `SELECT count(*) FROM schedule_occurrences WHERE job = 'staff'`); got != 1 {
			t.Errorf("staff has %d occurrences left, want its recent one", got)
		}
		if got := count(t, a, `SELECT count(*) FROM schedule_occurrences WHERE job = 'contractors'`); got != 1 {
			t.Error("a job's latest occurrence was pruned")
		}
		if n, err := a.PruneOccurrences(ctx, now.Add(-30*day)); err != nil || n != 0 {
			t.Errorf("second prune: %d, %v", n, err)
		}
	})
}
