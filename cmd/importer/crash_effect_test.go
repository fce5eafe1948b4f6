package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// answerHold holds back WeCom's answer to the n-th successful write from
// now on, after the effect, until released: the importer is then killed
// knowing nothing of a call that took effect.
type answerHold struct {
	mu       sync.Mutex
	api      string // "" for any write
	left     int
	held     chan string
	release  chan struct{}
	released bool
}

func newAnswerHold() *answerHold {
	return &answerHold{held: make(chan string, 1), release: make(chan struct{})}
}

func (h *answerHold) arm(n int, api string) {
	h.mu.Lock()
	h.left, h.api = n, api
	h.release, h.released = make(chan struct{}), false
	h.mu.Unlock()
}

func (h *answerHold) afterEffect(api string, code int) {
	if code != 0 || !slices.Contains(writeAPIs, api) {
		return
	}
	h.mu.Lock()
	if h.api != "" && h.api != api {
		h.mu.Unlock()
		return
	}
	h.left--
	fire, release := h.left == 0, h.release
	h.mu.Unlock()
	if fire {
		h.held <- api
		<-release
	}
}

func (h *answerHold) free() {
	h.mu.Lock()
	if !h.released {
		close(h.release)
		h.released = true
	}
	h.left = -1
	h.mu.Unlock()
}

// TestKillAfterEffect kills the importer while WeCom holds back the answer
// to a write it has applied, on both journals, and checks after recovery
// not only the directory but that the journal's applied state is what
// WeCom holds, member by member and department by department.
func TestKillAfterEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process; skipped with -short")
	}
	for _, journalKind := range []string{"postgres", "sqlite"} {
		t.Run(journalKind, func(t *testing.T) {
			hold := newAnswerHold()
			dir := t.TempDir()
			sim := wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}},
				Latency: time.Millisecond, AfterEffect: hold.afterEffect})
			srv := httptest.NewServer(sim)
			t.Cleanup(srv.Close)
			t.Cleanup(func() { hold.free() })
			rig := &crashRig{bin: buildImporter(t), dir: dir, sim: sim, cfgPath: filepath.Join(dir, "importer.yaml")}
			cfg := strings.Replace(unlimitedConfig(srv.URL), "leavers: disable", "leavers: delete", 1)
			if err := os.WriteFile(rig.cfgPath, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			rig.env = append(os.Environ(), "WECOM_SECRET="+testSecret)
			dsn := filepath.Join(dir, "hrfeed-journal.db")
			if journalKind == "postgres" {
				dsn = pgtest.DSN(t)
				rig.env = append(rig.env, "DATABASE_URL="+dsn)
			}
			// Each version drops 40 more members, so later runs delete.
			version := 1
			feed := func() map[string][]string {
				return staffFeed(t, filepath.Join(dir, "staff.csv"), 1000-40*(version-1), version)
			}
			var want map[string][]string
			ctx := context.Background()
			store, err := journal.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			latest := func() journal.Run {
				runs, err := store.ListRuns(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(runs) == 0 {
					return journal.Run{}
				}
				return runs[0]
			}
			next := func() []string {
				if r := latest(); r.ID != 0 && r.Status != journal.RunDone {
					return []string{"resume", fmt.Sprint(r.ID), "--config", rig.cfgPath, "--json"}
				}
				return []string{"run", "--config", rig.cfgPath, "--json"}
			}

			rng := rand.New(rand.NewPCG(20261201, uint64(len(journalKind))))
			heldAPIs := map[string]int{}
			finish := func() {
				for i := 0; latest().Status != journal.RunDone; i++ {
					if i == 5 {
						t.Fatalf("still not done after 5 resumes: %+v", latest())
					}
					if out, err := rig.command(next()...).Output(); err != nil {
						t.Logf("resume: %v\n%s", err, out)
					}
				}
			}
			// Three feed versions: the first import, then two with changed
			// positions and 40 members fewer (deletes), three kills each,
			// anywhere among the version's writes.
			for ; version <= 3; version++ {
				want = feed()
				for kills := 0; kills < 3; {
					if version > 1 && kills == 2 {
						hold.arm(1+rng.IntN(40), "user/delete")
					} else {
						hold.arm(1+rng.IntN(1000), "")
					}
					cmd := rig.command(next()...)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					exited := make(chan error, 1)
					go func() { exited <- cmd.Wait() }()
					select {
					case api := <-hold.held:
						_ = cmd.Process.Signal(syscall.SIGKILL)
						<-exited
						hold.free()
						heldAPIs[api]++
						kills++
					case <-exited:
						hold.free() // the version was done before the n-th write
						kills++
					case <-time.After(2 * time.Minute):
						_ = cmd.Process.Kill()
						t.Fatal("the importer neither finished nor reached the held write in 2 minutes")
					}
				}
				finish()
			}
			version--

			out, err := rig.command("run", "--config", rig.cfgPath, "--json").Output()
			var final summary
			if err != nil || json.Unmarshal(out, &final) != nil || final.Writes != 0 {
				t.Fatalf("a final run after recovery: %v, still writes: %s", err, out)
			}
			checkDirectory(t, sim, want)
			checkNoDoubleEffects(t, sim)
			checkEveryCallJournaled(t, sim, store)
			checkAppliedState(t, sim, store)
			checkNoRunLeftOpen(t, store)
			t.Logf("answers held back and killed: %v over %d feed versions", heldAPIs, version)
		})
	}
}

// checkAppliedState compares the journal's applied state with WeCom: the
// same members and departments, with the fields the importer set.
func checkAppliedState(t *testing.T, sim *wecomsim.Server, store journal.Store) {
	t.Helper()
	state, err := store.LoadState(context.Background(), "ww-demo")
	if err != nil {
		t.Fatal(err)
	}
	snap := sim.Snapshot()
	paths := snap.Paths()
	byID := map[int]wecomsim.SnapDept{}
	for _, d := range snap.Departments {
		byID[d.ID] = d
	}
	for key, d := range state.Departments {
		w, ok := byID[d.WeComID]
		if !ok {
			t.Errorf("journal state has department %s (id %d), WeCom does not", key, d.WeComID)
		} else if w.Name != d.Name || w.ParentID != d.ParentID {
			t.Errorf("department %s: journal %s under %d, WeCom %s under %d", key, d.Name, d.ParentID, w.Name, w.ParentID)
		}
	}
	if len(state.Departments) != len(snap.Departments)-1 {
		t.Errorf("journal state has %d departments, WeCom %d besides the root", len(state.Departments), len(snap.Departments)-1)
	}
	users := map[string]wecomsim.SnapUser{}
	for _, u := range snap.Users {
		users[strings.ToLower(u.UserID)] = u
	}
	for k, m := range state.Members {
		u, ok := users[k]
		if !ok {
			t.Errorf("journal state has member %s, WeCom does not", m.UserID)
			continue
		}
		r, err := member.ParseRecord(m.Payload)
		if err != nil {
			t.Fatal(err)
		}
		dept := ""
		if len(u.Department) == 1 {
			dept = paths[u.Department[0]]
		}
		got := []string{r.Position, strings.Join(r.DeptKeys, ";"), strings.Join(r.DirectLeader, ","), fmt.Sprint(r.Enabled)}
		have := []string{u.Position, dept, strings.Join(u.DirectLeader, ","), fmt.Sprint(u.Enable == 1)}
		if !slices.Equal(got, have) {
			t.Errorf("member %s: journal %v, WeCom %v", m.UserID, got, have)
		}
	}
	if len(state.Members) != len(snap.Users) {
		t.Errorf("journal state has %d members, WeCom %d", len(state.Members), len(snap.Users))
	}
}

// checkNoRunLeftOpen: after recovery no run is left running.
func checkNoRunLeftOpen(t *testing.T, store journal.Store) {
	t.Helper()
	runs, err := store.ListRuns(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == journal.RunRunning {
			t.Errorf("run %d is still running", r.ID)
		}
	}
}
