package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "importer-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := pgtest.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildImporter compiles this command once per test binary, so crash tests
// can kill a real process.
func buildImporter(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "importer")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// crashRig is an emulator, a config pointing at it, a 2,000-member feed
// and the environment a child importer process runs with.
type crashRig struct {
	bin, dir, cfgPath string
	sim               *wecomsim.Server
	env               []string
	want              map[string][]string
}

func newCrashRig(t *testing.T, dsn string, latency time.Duration) *crashRig {
	t.Helper()
	r := &crashRig{bin: buildImporter(t), dir: t.TempDir()}
	r.sim = wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}},
		Latency: latency})
	srv := httptest.NewServer(r.sim)
	t.Cleanup(srv.Close)
	r.cfgPath = filepath.Join(r.dir, "importer.yaml")
	if err := os.WriteFile(r.cfgPath, []byte(unlimitedConfig(srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	r.want = staffFeed(t, filepath.Join(r.dir, "staff.csv"), 2000, 1)
	r.env = append(os.Environ(), "WECOM_SECRET="+testSecret, "DATABASE_URL="+dsn)
	return r
}

// startRun starts `importer run --json` and returns once WeCom has received
// creates user/create calls, so what the test does next lands mid-import.
func (r *crashRig) startRun(t *testing.T, creates int) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := r.command("run", "--config", r.cfgPath, "--json")
	stdout := &bytes.Buffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for r.sim.Stats()["user/create"] < creates {
		time.Sleep(5 * time.Millisecond)
	}
	return cmd, stdout
}

// command is the importer with args, as the rig runs it.
func (r *crashRig) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, args...)
	cmd.Env = r.env
	return cmd
}

// staffFeed writes n members over a three-level tree in the sample's
// layout; version changes every position so a new import has work to do.
func staffFeed(t *testing.T, path string, n, version int) map[string][]string {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级"})
	want := map[string][]string{}
	for i := range n {
		id := fmt.Sprintf("U%05d", i)
		dept := fmt.Sprintf("集团/事业部%d/小组%d", i%5, i%40)
		leader := ""
		if i >= 40 {
			leader = fmt.Sprintf("U%05d", i%40) // the first member of each group leads it
		}
		pos := fmt.Sprintf("岗位v%d", version)
		row := []string{id, fmt.Sprintf("员工%d", i), fmt.Sprintf("139%08d", i), "", dept, pos, []string{"男", "女"}[i%2], "在职", leader}
		w.Write(row)
		want[id] = []string{dept, pos, leader}
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestKillNineAndResume kills the importer at random moments of a
// 2,000-member import, resumes each time, and checks that the directory
// ends as the feed says, that no create took effect twice, and that every
// write WeCom received has its journal row.
func TestKillNineAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills a real process; skipped with -short")
	}
	dsn := pgtest.DSN(t)
	rig := newCrashRig(t, dsn, time.Millisecond)
	sim, dir, cfgPath, want := rig.sim, rig.dir, rig.cfgPath, rig.want
	version := 1

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
	command := func() []string {
		r := latest()
		if r.ID == 0 || r.Status == journal.RunDone {
			return []string{"run", "--config", cfgPath, "--json"}
		}
		return []string{"resume", fmt.Sprint(r.ID), "--config", cfgPath, "--json"}
	}

	rng := rand.New(rand.NewPCG(20261125, 1))
	killed := 0
	for attempt := 0; killed < 20; attempt++ {
		if attempt > 200 {
			t.Fatalf("only %d kills landed mid-run in %d attempts", killed, attempt)
		}
		if r := latest(); r.ID != 0 && r.Status == journal.RunDone {
			// The import finished between kills: give the next run work.
			version++
			want = staffFeed(t, filepath.Join(dir, "staff.csv"), 2000, version)
		}
		cmd := rig.command(command()...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(600)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
			killed++
		}
	}

	// Let it finish: resume until the latest run is done.
	for i := 0; latest().Status != journal.RunDone; i++ {
		if i == 5 {
			t.Fatalf("still not done after 5 resumes: %+v", latest())
		}
		out, err := rig.command(command()...).Output()
		if err != nil {
			t.Logf("resume: %v\n%s", err, out)
		}
	}
	out, err := rig.command("run", "--config", cfgPath, "--json").Output()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	var final summary
	if err := json.Unmarshal(out, &final); err != nil || final.Writes != 0 {
		t.Fatalf("a final run after recovery still writes: %s", out)
	}

	checkDirectory(t, sim, want)
	checkNoDoubleEffects(t, sim)
	checkEveryCallJournaled(t, sim, store)
	t.Logf("%d kills mid-run over %d feed versions", killed, version)
}

func checkDirectory(t *testing.T, sim *wecomsim.Server, want map[string][]string) {
	t.Helper()
	snap := sim.Snapshot()
	paths := snap.Paths()
	path := func(id int) string { return paths[id] }
	seenPaths := map[string]int{}
	for _, d := range snap.Departments {
		if d.ID != 1 {
			seenPaths[path(d.ID)]++
		}
	}
	for p, n := range seenPaths {
		if n > 1 {
			t.Errorf("department %s exists %d times", p, n)
		}
	}
	if len(snap.Users) != len(want) {
		t.Errorf("WeCom holds %d members, the feed %d", len(snap.Users), len(want))
	}
	for _, u := range snap.Users {
		w, ok := want[u.UserID]
		if !ok {
			t.Errorf("unexpected member %s", u.UserID)
			continue
		}
		got := []string{"", u.Position, strings.Join(u.DirectLeader, ",")}
		if len(u.Department) == 1 {
			got[0] = path(u.Department[0])
		}
		if !slices.Equal(got, w) {
			t.Errorf("member %s = %v, want %v", u.UserID, got, w)
		}
	}
}

func checkNoDoubleEffects(t *testing.T, sim *wecomsim.Server) {
	t.Helper()
	creates := map[string]int{}
	for _, c := range sim.CallLog() {
		if c.Errcode == 0 && (c.API == "user/create" || c.API == "department/create") {
			creates[c.API+" "+c.Target]++
		}
	}
	for k, n := range creates {
		if n > 1 {
			t.Errorf("%s took effect %d times", k, n)
		}
	}
}

func checkEveryCallJournaled(t *testing.T, sim *wecomsim.Server, store journal.Store) {
	t.Helper()
	ctx := context.Background()
	runs, err := store.ListRuns(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	journaled := map[string]int{}
	for _, r := range runs {
		calls, err := store.ListCalls(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			journaled[c.API]++
			if strings.HasPrefix(c.API, "user/") {
				journaled[c.API+" "+strings.ToLower(c.Target)]++
			}
		}
	}
	received := map[string]int{}
	for _, c := range sim.CallLog() {
		if !slices.Contains(writeAPIs, c.API) {
			continue
		}
		received[c.API]++
		if strings.HasPrefix(c.API, "user/") {
			received[c.API+" "+strings.ToLower(c.Target)]++
		}
	}
	for k, n := range received {
		if journaled[k] < n {
			t.Errorf("%s: WeCom received %d calls, the journal has %d rows", k, n, journaled[k])
		}
	}
}

// TestPostgresStopsMidRun stops the journal's PostgreSQL under a running
// import: the run must stop without sending a call it could not journal,
// and resume after the restart must finish the import.
func TestPostgresStopsMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real process; skipped with -short")
	}
	pg := pgtest.NewPrivate(t)
	rig := newCrashRig(t, pg.DSN(), 2*time.Millisecond)
	sim := rig.sim
	// Stopped for good: the writes' retries need not wait the default 30 s.
	cfg, _ := os.ReadFile(rig.cfgPath)
	cfg = bytes.Replace(cfg, []byte("journal:\n"), []byte("journal:\n  retry_for: 2s\n"), 1)
	if err := os.WriteFile(rig.cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd, stdout := rig.startRun(t, 300)
	pg.Stop(t)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("with the journal gone the run must stop with exit 1, got %v\n%s", err, stdout.String())
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the run did not stop after its journal went away")
	}
	sentWhileDown := sim.Stats()["user/create"]

	pg.Start(t)
	ctx := context.Background()
	store, err := journal.Open(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkEveryCallJournaled(t, sim, store)

	runs, err := store.ListRuns(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if runs[0].Status != journal.RunRunning {
		t.Errorf("the interrupted run is %q; with the journal down nothing could record its end", runs[0].Status)
	}
	if out, err := rig.command("resume", fmt.Sprint(runs[0].ID), "--config", rig.cfgPath, "--json").Output(); err != nil {
		t.Fatalf("resume after restart: %v\n%s", err, out)
	}
	checkDirectory(t, sim, rig.want)
	checkNoDoubleEffects(t, sim)
	checkEveryCallJournaled(t, sim, store)
	t.Logf("stopped PostgreSQL after %d user/create calls; resume finished the import", sentWhileDown)
}

// TestInterruptStopsCleanly sends SIGINT (as Ctrl-C or systemd's SIGTERM
// would) mid-import: calls in flight finish and are recorded, nothing new
// starts, the run is marked canceled with exit 3, and resume finishes it.
func TestInterruptStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real process; skipped with -short")
	}
	dsn := pgtest.DSN(t)
	rig := newCrashRig(t, dsn, 2*time.Millisecond)
	sim := rig.sim

	cmd, stdout := rig.startRun(t, 300)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("interrupted run: want exit 3, got %v\n%s", err, stdout.String())
	}
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil || s.Status != journal.RunCanceled || s.Counts["user_create/canceled"] == 0 {
		t.Fatalf("interrupted run summary: %v\n%s", err, stdout.String())
	}

	ctx := context.Background()
	store, err := journal.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	calls, err := store.ListCalls(ctx, s.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if c.Outcome == journal.CallPending {
			t.Errorf("call %d %s %s left pending by a clean interrupt", c.Seq, c.Operation, c.Target)
		}
	}
	checkEveryCallJournaled(t, sim, store)

	if out, err := rig.command("resume", fmt.Sprint(s.RunID), "--config", rig.cfgPath, "--json").Output(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	checkDirectory(t, sim, rig.want)
	checkNoDoubleEffects(t, sim)
}

// unlimitedConfig is the sample config against the emulator at url with the
// client's rate limits off: these tests are about crashes, and at WeCom's
// documented 10,000 calls per minute a 2,000-member import takes 25 s.
func unlimitedConfig(url string) string {
	cfg := strings.Replace(string(samples.ImporterYAML), "http://127.0.0.1:8088", url, 1)
	return strings.Replace(cfg, "concurrency: 8", "concurrency: 8\n  per_minute: -1\n  per_hour: -1", 1)
}
