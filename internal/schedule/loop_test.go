package schedule

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fires runs Loop on one spec for d of fake time and returns the nominal
// times fire was called with, and the fake times at which it was called.
func fires(t *testing.T, spec string, d time.Duration, work time.Duration) (at, called []time.Time, maxConcurrent int32) {
	t.Helper()
	sched, err := ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var (
			mu          sync.Mutex
			inFlight    atomic.Int32
			maxInFlight atomic.Int32
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			Loop(ctx, []Entry{{Job: "j", Schedule: sched}}, slog.New(slog.DiscardHandler), func(_ string, nominal time.Time) {
				n := inFlight.Add(1)
				if n > maxInFlight.Load() {
					maxInFlight.Store(n)
				}
				mu.Lock()
				at = append(at, nominal)
				called = append(called, time.Now())
				mu.Unlock()
				time.Sleep(work)
				inFlight.Add(-1)
			})
		}()
		time.Sleep(d)
		cancel()
		<-done
		maxConcurrent = maxInFlight.Load()
	})
	return at, called, maxConcurrent
}

// synctest's clock starts at 2000-01-01 00:00:00 UTC, a Saturday.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func TestLoopFiresOnSpec(t *testing.T) {
	utc := func(day, h, m, s int) time.Time { return time.Date(2000, 1, day, h, m, s, 0, time.UTC) }
	tests := []struct {
		name string
		spec string
		run  time.Duration
		want []time.Time
	}{
		{
			// 02:00 in Shanghai (UTC+8) is 18:00 UTC the day before; the
			// first one after the start is 2000-01-02 02:00 CST.
			name: "time zone", spec: "CRON_TZ=Asia/Shanghai 0 2 * * *", run: 48 * time.Hour,
			want: []time.Time{utc(1, 18, 0, 0), utc(2, 18, 0, 0)},
		},
		{
			name: "weekdays in UTC", spec: "30 9 * * 1-5", run: 72 * time.Hour,
			want: []time.Time{utc(3, 9, 30, 0)}, // Monday; the 1st and 2nd are a weekend
		},
		{
			name: "seconds field", spec: "*/20 * * * * *", run: 70 * time.Second,
			want: []time.Time{utc(1, 0, 0, 20), utc(1, 0, 0, 40), utc(1, 0, 1, 0)},
		},
		{
			name: "every, aligned to the clock", spec: "@every 90m", run: 4 * time.Hour,
			want: []time.Time{utc(1, 1, 30, 0), utc(1, 3, 0, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, called, _ := fires(t, tt.spec, tt.run, 0)
			if !equalTimes(at, tt.want) {
				t.Errorf("fired for %v, want %v", at, tt.want)
			}
			for i := range called {
				if !called[i].Equal(at[i]) {
					t.Errorf("occurrence %v fired at %v", at[i], called[i])
				}
			}
		})
	}
}

func TestLoopNeverOverlapsAJob(t *testing.T) {
	// Due every 10 s, but each firing takes 25 s: the occurrences at 20 s
	// and 30 s pass while the first is busy and are skipped, not queued.
	at, _, maxConcurrent := fires(t, "*/10 * * * * *", 80*time.Second, 25*time.Second)
	want := []time.Time{epoch.Add(10 * time.Second), epoch.Add(40 * time.Second), epoch.Add(70 * time.Second)}
	if !equalTimes(at, want) {
		t.Errorf("fired for %v, want %v", at, want)
	}
	if maxConcurrent != 1 {
		t.Errorf("%d firings of one job ran at once", maxConcurrent)
	}
}

func TestParseSpecErrors(t *testing.T) {
	for _, spec := range []string{"", "61 * * * *", "CRON_TZ=Mars/Olympus 0 2 * * *", "@fortnightly"} {
		if _, err := ParseSpec(spec); err == nil {
			t.Errorf("ParseSpec(%q) accepted", spec)
		}
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// Next must announce each occurrence before it fires, so the next-run
// gauge and log never lag behind a run.
func TestLoopAnnouncesNextBeforeFiring(t *testing.T) {
	sched, err := ParseSpec("@every 1h")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var (
			mu         sync.Mutex
			announced  []time.Time
			fired      []time.Time
			unheralded int
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			e := Entry{Job: "j", Schedule: sched, Next: func(at time.Time) {
				mu.Lock()
				announced = append(announced, at)
				mu.Unlock()
			}}
			Loop(ctx, []Entry{e}, slog.New(slog.DiscardHandler), func(_ string, nominal time.Time) {
				mu.Lock()
				if len(announced) == 0 || !announced[len(announced)-1].Equal(nominal) {
					unheralded++
				}
				fired = append(fired, nominal)
				mu.Unlock()
			})
		}()
		time.Sleep(3*time.Hour + time.Minute)
		cancel()
		<-done
		if len(fired) != 3 || unheralded != 0 {
			t.Fatalf("fired %v, %d without a prior announcement", fired, unheralded)
		}
		if want := epoch.Add(4 * time.Hour); !announced[len(announced)-1].Equal(want) {
			t.Errorf("last announcement %v, want the pending occurrence %v", announced[len(announced)-1], want)
		}
	})
}
