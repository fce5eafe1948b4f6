package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/bench"
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
// and the environment a child importer process runs with. The feed and the
// checks are the fault campaign's (internal/bench), which also runs the
// kill -9 campaign these tests leave to it.
type crashRig struct {
	bin, dir, cfgPath string
	sim               *wecomsim.Server
	env               []string
	want              bench.Want
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
	var err error
	if r.want, err = bench.WriteFeed(filepath.Join(r.dir, "staff.csv"), 2000); err != nil {
		t.Fatal(err)
	}
	r.env = append(os.Environ(), "WECOM_SECRET="+testSecret, "DATABASE_URL="+dsn)
	return r
}

// childDeadline bounds every wait for a child: one that has neither
// finished nor reached what the test waits for by then is hung.
const childDeadline = 2 * time.Minute

// child is an importer process a test started.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{} // closed once it exited; err is Wait's then
	err            error
}

func (r *crashRig) start(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{cmd: r.command(args...), done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// output is what the child printed; only once it exited.
func (c *child) output() string {
	return fmt.Sprintf("%v\nstdout:\n%s\nstderr:\n%s", c.err, c.stdout.String(), c.stderr.String())
}

// wait returns Wait's error once the child exited, failing the test when
// that takes longer than childDeadline.
func (c *child) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.done:
		return c.err
	case <-time.After(childDeadline):
		_ = c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("importer %s still running after %s; killed\n%s", c.cmd.Args[1], childDeadline, c.output())
		return nil
	}
}

// startRun starts `importer run --json` and returns once WeCom has received
// creates user/create calls, so what the test does next lands mid-import.
// A child that exits first, or never gets there, fails the test at once.
func (r *crashRig) startRun(t *testing.T, creates int) *child {
	t.Helper()
	c := r.start(t, "run", "--config", r.cfgPath, "--json")
	deadline := time.After(childDeadline)
	for r.sim.Stats()["user/create"] < creates {
		select {
		case <-c.done:
			t.Fatalf("importer run exited after %d user/create calls, before the test's %d\n%s",
				r.sim.Stats()["user/create"], creates, c.output())
		case <-deadline:
			t.Fatalf("importer run sent %d user/create calls in %s, not %d", r.sim.Stats()["user/create"], childDeadline, creates)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return c
}

// command is the importer with args, as the rig runs it.
func (r *crashRig) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, args...)
	cmd.Env = r.env
	return cmd
}

// resume runs `importer resume runID` to its end.
func (r *crashRig) resume(t *testing.T, runID int64) {
	t.Helper()
	c := r.start(t, "resume", fmt.Sprint(runID), "--config", r.cfgPath, "--json")
	if err := c.wait(t); err != nil {
		t.Fatalf("resume %d: %s", runID, c.output())
	}
}

// expect fails the test with the problems a bench check found.
func expect(t *testing.T, what string, problems []string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
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

	run := rig.startRun(t, 300)
	pg.Stop(t)
	var ee *exec.ExitError
	if err := run.wait(t); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("with the journal gone the run must stop with exit 1\n%s", run.output())
	}
	sentWhileDown := sim.Stats()["user/create"]

	pg.Start(t)
	ctx := context.Background()
	store, err := journal.Open(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	problems, err := bench.CheckJournaled(ctx, sim, store)
	expect(t, "after the journal stopped", problems, err)

	runs, err := store.ListRuns(ctx, 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %v", runs, err)
	}
	if runs[0].Status != journal.RunRunning {
		t.Errorf("the interrupted run is %q; with the journal down nothing could record its end", runs[0].Status)
	}
	rig.resume(t, runs[0].ID)
	problems, err = bench.CheckRecovered(ctx, sim, store, "ww-demo", rig.want)
	expect(t, "after resume", problems, err)
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

	run := rig.startRun(t, 300)
	if err := run.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var ee *exec.ExitError
	if err := run.wait(t); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("interrupted run: want exit 3\n%s", run.output())
	}
	var s summary
	if err := json.Unmarshal(run.stdout.Bytes(), &s); err != nil || s.Status != string(journal.RunCanceled) || s.Counts["user_create/canceled"] == 0 {
		t.Fatalf("interrupted run summary: %v\n%s", err, run.output())
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
	problems, err := bench.CheckJournaled(ctx, sim, store)
	expect(t, "after the interrupt", problems, err)

	rig.resume(t, s.RunID)
	problems, err = bench.CheckRecovered(ctx, sim, store, "ww-demo", rig.want)
	expect(t, "after resume", problems, err)
}

// unlimitedConfig is the sample config against the emulator at url with the
// client's rate limits off: these tests are about crashes, and at WeCom's
// documented 10,000 calls per minute a 2,000-member import takes 25 s.
func unlimitedConfig(url string) string {
	cfg := strings.Replace(string(samples.ImporterYAML), "http://127.0.0.1:8088", url, 1)
	return strings.Replace(cfg, "\njournal:", "  per_minute: -1\n  per_hour: -1\n\njournal:", 1)
}
