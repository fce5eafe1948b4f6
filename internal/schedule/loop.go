package schedule

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Entry is one job's schedule.
type Entry struct {
	Job      string
	Schedule cron.Schedule
	// Next, if set, is told each next occurrence as soon as it is known:
	// at start and after every run.
	Next func(at time.Time)
}

// Loop calls fire for every entry at each time its schedule names, with
// that nominal time, until ctx is done; it then waits for the fire calls in
// progress and returns.
//
// Each entry has its own goroutine and calls fire synchronously, so a job
// never overlaps itself in this process. Occurrences that pass while fire
// is still busy are skipped, not queued: the next run reads the newest
// feed anyway, and a backlog would only replay it.
//
// Loop reads the time package's clock, so tests drive it with
// testing/synctest.
func Loop(ctx context.Context, entries []Entry, log *slog.Logger, fire func(job string, at time.Time)) {
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Go(func() { loopEntry(ctx, e, log.With("job", e.Job), fire) })
	}
	wg.Wait()
}

func loopEntry(ctx context.Context, e Entry, log *slog.Logger, fire func(string, time.Time)) {
	next := e.Schedule.Next(time.Now())
	for {
		log.Debug("next occurrence", "at", next)
		if e.Next != nil {
			e.Next(next)
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if ctx.Err() != nil {
			return
		}
		fire(e.Job, next)
		now := time.Now()
		following := e.Schedule.Next(next)
		if skipped := 0; !following.After(now) {
			for !following.After(now) {
				skipped++
				following = e.Schedule.Next(following)
			}
			log.Warn("occurrences skipped: the job was still running", "skipped", skipped, "next", following)
		}
		next = following
	}
}
