package schedule

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

// slowRun stands in for runner.Run in timing tests: it takes d unless its
// context is canceled first, and then reports the run canceled, as the
// runner does.
func slowRun(d time.Duration, started *[]time.Time, mu *sync.Mutex) RunFunc {
	var id int64
	return func(ctx context.Context, req RunRequest) (*runner.Report, error) {
		mu.Lock()
		id++
		rep := &runner.Report{RunID: id, Job: req.Job, Started: time.Now()}
		*started = append(*started, rep.Started)
		mu.Unlock()
		select {
		case <-time.After(d):
			rep.Status = journal.RunDone
		case <-ctx.Done():
			rep.Status = journal.RunCanceled
		}
		rep.Duration = time.Since(rep.Started)
		return rep, nil
	}
}

// bubbleJournal opens an embedded journal inside a synctest bubble, where
// its timestamps are the bubble's.
func bubbleJournal(t *testing.T) journal.Store {
	t.Helper()
	st, err := journal.Open(t.Context(), filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestGracefulShutdown(t *testing.T) {
	tests := []struct {
		name       string
		run        time.Duration
		wantStatus journal.RunStatus
		wantCause  error
		wantStop   time.Duration // since the start of the test
	}{
		// Started at 10 s, SIGTERM at 15 s: the run finishes at 40 s, well
		// within the grace period, and serve returns then.
		{"finishes within grace", 30 * time.Second, journal.RunDone, nil, 40 * time.Second},
		// A run of an hour is interrupted when the minute of grace is
		// over (15 s + 60 s) and recorded as canceled, resumable.
		{"interrupted after grace", time.Hour, journal.RunCanceled, ErrShutdown, 75 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu       sync.Mutex
					started  []time.Time
					finished []Finished
					causes   []error
				)
				run := slowRun(tt.run, &started, &mu)
				svc, err := New(Options{
					Jobs:  []Job{{Name: "staff", Spec: "*/10 * * * * *"}},
					Store: bubbleJournal(t),
					Run: func(ctx context.Context, req RunRequest) (*runner.Report, error) {
						rep, err := run(ctx, req)
						mu.Lock()
						causes = append(causes, context.Cause(ctx))
						mu.Unlock()
						return rep, err
					},
					OnFinish: func(_ context.Context, f Finished) {
						mu.Lock()
						finished = append(finished, f)
						mu.Unlock()
					},
					Grace: time.Minute,
				})
				if err != nil {
					t.Fatal(err)
				}
				begin := time.Now()
				ctx, sigterm := context.WithCancel(t.Context())
				var served error
				done := make(chan struct{})
				go func() { served = svc.Serve(ctx); close(done) }()
				time.Sleep(15 * time.Second)
				sigterm()
				<-done
				if served != nil {
					t.Fatalf("Serve: %v", served)
				}
				if stop := time.Since(begin); stop != tt.wantStop {
					t.Errorf("Serve returned after %v, want %v", stop, tt.wantStop)
				}
				if len(started) != 1 || len(finished) != 1 {
					t.Fatalf("%d runs started, %d finished; want one: nothing starts after SIGTERM", len(started), len(finished))
				}
				f := finished[0]
				if f.Report.Status != tt.wantStatus || f.Trigger != "schedule" || !f.ScheduledAt.Equal(epoch.Add(10*time.Second)) {
					t.Errorf("finished %+v (report %+v)", f, f.Report)
				}
				if tt.wantCause != nil && !errors.Is(causes[0], tt.wantCause) {
					t.Errorf("run canceled by %v, want %v", causes[0], tt.wantCause)
				}
			})
		})
	}
}

func TestServiceRunsJobsOnTheirOwnSchedules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		ran := map[string][]time.Time{}
		svc, err := New(Options{
			Store: bubbleJournal(t),
			Jobs: []Job{
				{Name: "staff", Spec: "CRON_TZ=Asia/Shanghai 0 2 * * *"},
				{Name: "contractors", Spec: "0 */6 * * *"},
				{Name: "manual-only"}, // no schedule: never run by serve
			},
			Run: func(ctx context.Context, req RunRequest) (*runner.Report, error) {
				mu.Lock()
				ran[req.Job] = append(ran[req.Job], time.Now().UTC())
				mu.Unlock()
				return &runner.Report{Job: req.Job, Status: journal.RunDone, Started: time.Now()}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { _ = svc.Serve(ctx); close(done) }()
		time.Sleep(23*time.Hour + 59*time.Minute)
		cancel()
		<-done
		if got := ran["staff"]; len(got) != 1 || !got[0].Equal(epoch.Add(18*time.Hour)) {
			t.Errorf("staff ran at %v, want once at 18:00 UTC (02:00 Asia/Shanghai)", got)
		}
		if got := ran["contractors"]; len(got) != 3 { // 06:00, 12:00, 18:00
			t.Errorf("contractors ran at %v, want 3 times", got)
		}
		if got := ran["manual-only"]; len(got) != 0 {
			t.Errorf("a job without a schedule ran at %v", got)
		}
	})
}

func TestNewRefusesBadSpecsAndNoSchedule(t *testing.T) {
	run := func(context.Context, RunRequest) (*runner.Report, error) { return nil, nil }
	if _, err := New(Options{Jobs: []Job{{Name: "a", Spec: "every night"}}, Run: run}); err == nil {
		t.Error("a bad spec was accepted")
	}
	if _, err := New(Options{Jobs: []Job{{Name: "a"}}, Run: run}); err == nil {
		t.Error("serve with nothing to schedule was accepted")
	}
	if _, err := New(Options{Jobs: []Job{{Name: "a", Spec: "@daily"}}, Run: run}); err == nil {
		t.Error("serve without a journal was accepted")
	}
}
