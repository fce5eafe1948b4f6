package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

const robotKey = "robot-key-never-logged-0193"

// serveEnv is one throwaway PostgreSQL journal, a WeCom emulator, a robot
// endpoint and a config with a job due every second.
type serveEnv struct {
	bin, config string
	env         []string
	pool        *pgxpool.Pool
	robot       *robotInbox
	replicas    []*replica // every one started, for waitFor to watch
}

type robotInbox struct {
	mu   sync.Mutex
	msgs []string
}

func (r *robotInbox) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/cgi-bin/webhook/send" || req.URL.Query().Get("key") != robotKey {
		http.Error(w, "wrong robot", http.StatusNotFound)
		return
	}
	var body struct {
		Msgtype  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.NewDecoder(req.Body).Decode(&body); err != nil || body.Msgtype != "markdown" {
		fmt.Fprint(w, `{"errcode":40008,"errmsg":"invalid message type"}`)
		return
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, body.Markdown.Content)
	r.mu.Unlock()
	fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
}

func (r *robotInbox) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

func newServeEnv(t *testing.T, latency time.Duration, concurrency int) *serveEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("serve tests run real processes; skipped with -short")
	}
	dsn := pgtest.DSN(t)
	bin := filepath.Join(t.TempDir(), "importer")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sim := wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}},
		Latency: latency})
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	robot := &robotInbox{}
	robotSrv := httptest.NewServer(robot)
	t.Cleanup(robotSrv.Close)

	dir := t.TempDir()
	cfg := string(samples.ImporterYAML)
	for old, repl := range map[string]string{
		"http://127.0.0.1:8088":           simSrv.URL,
		"CRON_TZ=Asia/Shanghai 0 2 * * *": "@every 1s",
		"concurrency: 64":                 fmt.Sprintf("concurrency: %d", concurrency),
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("sample config has no %q", old)
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfg += fmt.Sprintf(`
serve:
  listen: 127.0.0.1:0
  grace: 20s
  heartbeat: 200ms
  stale_after: 1s
  stale_check: 300ms
  notify:
    wecom_robot: {key_env: HRFEED_ROBOT_KEY, base_url: %s}
`, robotSrv.URL)
	config := filepath.Join(dir, "importer.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "staff.csv"), samples.StaffCSV, 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := journal.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &serveEnv{
		bin: bin, config: config, robot: robot, pool: store.(*journal.Postgres).Pool(),
		env: append(os.Environ(), "WECOM_SECRET="+testSecret, "DATABASE_URL="+dsn, "HRFEED_ROBOT_KEY="+robotKey),
	}
}

// replica is one `importer serve` process.
type replica struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string
	done    chan struct{}
	mu      sync.Mutex
	logs    []string
	err     error // from Wait
	stopped bool  // the test ended it, so its exit is no failure
}

func (e *serveEnv) start(t *testing.T) *replica {
	t.Helper()
	cmd := exec.Command(e.bin, "serve", "--config", e.config)
	cmd.Env = e.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{t: t, cmd: cmd, done: make(chan struct{})}
	e.replicas = append(e.replicas, r)
	addr := make(chan string, 1)
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.logs = append(r.logs, line)
			r.mu.Unlock()
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "serve: listening" {
				addr <- rec["addr"].(string)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		r.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.done
	})
	select {
	case r.addr = <-addr:
	case <-r.done:
		t.Fatalf("serve exited before listening: %v\n%s", r.err, r.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start listening\n%s", r.output())
	}
	return r
}

// output is the replica's log so far, for a failure message.
func (r *replica) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

// stop sends SIGTERM and returns the exit code.
func (r *replica) stop() int {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatalf("serve did not exit after SIGTERM\n%s", r.output())
	}
	return r.cmd.ProcessState.ExitCode()
}

// kill sends SIGKILL, as a crash would, and waits for the exit.
func (r *replica) kill() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatal("serve did not exit after SIGKILL")
	}
}

// exited reports whether the replica ended without the test ending it.
func (r *replica) exited() bool {
	select {
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.stopped
	default:
		return false
	}
}

func (r *replica) scrape(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one sample line, 0 when absent.
func metric(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// checkLogs asserts every line is JSON, run lines carry the run id and
// job, and no secret appears.
func (r *replica) checkLogs(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range r.logs {
		for _, secret := range []string{testSecret, robotKey} {
			if strings.Contains(line, secret) {
				t.Errorf("log line leaks a secret: %s", line)
			}
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if m, _ := rec["msg"].(string); strings.HasPrefix(m, "run ") || m == "wecom call" {
			if rec["run_id"] == nil || rec["job"] != "staff" {
				t.Errorf("run log line without run_id and job: %s", line)
			}
		}
	}
}

// waitFor polls cond until it holds. A replica that exits meanwhile
// without the test ending it fails the test at once, with its log: what
// the test waits for would then never come.
func (e *serveEnv) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		for _, r := range e.replicas {
			if r.exited() {
				t.Fatalf("replica %d exited (%v) while the test waited for %s\n%s", r.cmd.Process.Pid, r.err, what, r.output())
			}
		}
		if time.Now().After(deadline) {
			var logs []string
			for _, r := range e.replicas {
				logs = append(logs, fmt.Sprintf("replica %d:\n%s", r.cmd.Process.Pid, r.output()))
			}
			t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, strings.Join(logs, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *serveEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type runRow struct {
	id, resumedFrom int64
	status          string
	started         time.Time
	finished        *time.Time
}

func (e *serveEnv) runs(t *testing.T) []runRow {
	t.Helper()
	rows, err := e.pool.Query(context.Background(),
		`SELECT id, coalesce(resumed_from, 0), status, started_at, finished_at FROM runs ORDER BY started_at, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.id, &r.resumedFrom, &r.status, &r.started, &r.finished); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// checkNoOverlap asserts that each run started after the one before it
// finished, leaving out the runs in skip.
func checkNoOverlap(t *testing.T, runs []runRow, skip map[int64]bool) {
	t.Helper()
	var prev *runRow
	for i := range runs {
		r := &runs[i]
		if skip[r.id] {
			continue
		}
		if prev != nil && (prev.finished == nil || r.started.Before(*prev.finished)) {
			t.Errorf("run %d (started %v) overlaps run %d (finished %v)", r.id, r.started, prev.id, prev.finished)
		}
		prev = r
	}
}

func TestServeReplicasRunEachOccurrenceOnce(t *testing.T) {
	e := newServeEnv(t, 0, 8)
	a, b := e.start(t), e.start(t)

	for _, r := range []*replica{a, b} {
		if code, body := r.scrape(t, "/healthz"); code != 200 {
			t.Errorf("/healthz: %d %s", code, body)
		}
		if code, body := r.scrape(t, "/readyz"); code != 200 {
			t.Errorf("/readyz: %d %s", code, body)
		}
	}
	const n = 6
	e.waitFor(t, fmt.Sprintf("%d occurrences", n), 30*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM schedule_occurrences WHERE outcome = 'ran'`) >= n
	})
	_, after := a.scrape(t, "/metrics")
	_, afterB := b.scrape(t, "/metrics")
	if code, b := a.scrape(t, "/metrics"); code != 200 || !strings.Contains(b, "# TYPE hrfeed_runs_total counter") {
		t.Errorf("/metrics: %d\n%s", code, b)
	}
	for _, r := range []*replica{a, b} {
		if code := r.stop(); code != 0 {
			t.Errorf("exit code after SIGTERM: %d", code)
		}
		r.checkLogs(t)
	}

	// Each occurrence was claimed by one replica (the primary key says at
	// most one; claimed_by names which), and each one it ran produced a run
	// of its own, and every run came from one. Whether every second got
	// its occurrence is not checked: on a loaded machine a replica may wake
	// after the next one is due, and a missed occurrence is skipped, not
	// queued, by design.
	var first time.Time
	if err := e.pool.QueryRow(context.Background(),
		`SELECT min(scheduled_at) FROM schedule_occurrences`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	owners := map[string]bool{}
	for _, r := range []*replica{a, b} {
		owners[fmt.Sprint(r.cmd.Process.Pid)] = true
	}
	rows, err := e.pool.Query(context.Background(), `SELECT DISTINCT claimed_by FROM schedule_occurrences`)
	if err != nil {
		t.Fatal(err)
	}
	var claimants []string
	for rows.Next() {
		var by string
		if err := rows.Scan(&by); err != nil {
			t.Fatal(err)
		}
		claimants = append(claimants, by)
		if !owners[by[strings.LastIndex(by, ":")+1:]] {
			t.Errorf("an occurrence was claimed by %q, neither replica", by)
		}
	}
	rows.Close()
	if n := e.count(t, `SELECT count(*) FROM schedule_occurrences WHERE outcome NOT IN ('ran', 'busy')`); n > 0 {
		t.Errorf("%d occurrences neither ran nor were skipped as busy", n)
	}
	ran := e.count(t, `SELECT count(*) FROM schedule_occurrences WHERE outcome = 'ran'`)
	distinctRuns := e.count(t, `SELECT count(DISTINCT run_id) FROM schedule_occurrences WHERE outcome = 'ran'`)
	runs := e.runs(t)
	if distinctRuns != ran || len(runs) != ran {
		t.Errorf("%d occurrences ran, with %d distinct runs; %d runs in the journal; want all equal", ran, distinctRuns, len(runs))
	}
	if n := e.count(t, `SELECT count(*) FROM runs WHERE id NOT IN (SELECT run_id FROM schedule_occurrences WHERE run_id IS NOT NULL)`); n > 0 {
		t.Errorf("%d runs in the journal belong to no occurrence", n)
	}
	t.Logf("%d occurrences ran from %v, claimed by %v", ran, first, claimants)
	for _, r := range runs {
		if r.status != string(journal.RunDone) {
			t.Errorf("run %d: %s", r.id, r.status)
		}
	}
	checkNoOverlap(t, runs, nil)

	// Each process counts from zero and marks an occurrence ran only after
	// counting its run, so the two counts add up to at least the n runs
	// waited for. (A scrape before the wait is no baseline: a replica may
	// have run an occurrence while the other was starting.)
	doneAfter := metric(after, `hrfeed_runs_total{job="staff",status="done"}`) +
		metric(afterB, `hrfeed_runs_total{job="staff",status="done"}`)
	if doneAfter < n {
		t.Errorf("hrfeed_runs_total{status=done} is %v after %d runs", doneAfter, n)
	}
	created := metric(after, `hrfeed_operations_total{job="staff",kind="user_create",outcome="ok"}`) +
		metric(afterB, `hrfeed_operations_total{job="staff",kind="user_create",outcome="ok"}`)
	calls := metric(after, `hrfeed_wecom_calls_total{corp="ww-demo",api="user/create",errcode="0"}`) +
		metric(afterB, `hrfeed_wecom_calls_total{corp="ww-demo",api="user/create",errcode="0"}`)
	if created != 29 || calls != 29 {
		t.Errorf("user_create/ok %v, user/create calls %v; want 29 (the sample's members, once)", created, calls)
	}
	if v := metric(after, `hrfeed_last_success_timestamp_seconds{job="staff"}`) +
		metric(afterB, `hrfeed_last_success_timestamp_seconds{job="staff"}`); v < float64(first.Unix()) {
		t.Errorf("last success timestamp %v", v)
	}

	msgs := e.robot.messages()
	if len(msgs) != len(runs) {
		t.Errorf("robot got %d messages for %d runs", len(msgs), len(runs))
	}
	if len(msgs) > 0 && (!strings.Contains(msgs[0], "importer journal show") || !strings.Contains(msgs[0], "`staff`")) {
		t.Errorf("robot message:\n%s", msgs[0])
	}
}

func TestServeResumesRunOfKilledReplica(t *testing.T) {
	// Slow WeCom and one worker: the first import takes a few seconds,
	// long enough to kill its replica in the middle.
	e := newServeEnv(t, 40*time.Millisecond, 1)
	replicas := map[int]*replica{}
	for range 2 {
		r := e.start(t)
		replicas[r.cmd.Process.Pid] = r
	}

	var victim int64
	var owner string
	e.waitFor(t, "a run with some calls made", 20*time.Second, func() bool {
		err := e.pool.QueryRow(context.Background(), `SELECT l.run_id, l.owner FROM job_leases l
			JOIN runs r ON r.id = l.run_id
			WHERE r.status = 'running' AND (SELECT count(*) FROM calls c WHERE c.run_id = r.id) >= 10`).Scan(&victim, &owner)
		return err == nil
	})
	pid, err := strconv.Atoi(owner[strings.LastIndex(owner, ":")+1:])
	if err != nil || replicas[pid] == nil {
		t.Fatalf("lease owner %q is not one of the replicas", owner)
	}
	replicas[pid].kill()
	delete(replicas, pid)
	var survivor *replica
	for _, r := range replicas {
		survivor = r
	}

	var resumed int64
	e.waitFor(t, "the survivor to resume the killed run", 30*time.Second, func() bool {
		err := e.pool.QueryRow(context.Background(),
			`SELECT id FROM runs WHERE resumed_from = $1 AND status = 'done'`, victim).Scan(&resumed)
		return err == nil
	})
	// And the job goes on: a later scheduled run finds nothing to do.
	e.waitFor(t, "a scheduled run after the resume", 10*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM runs WHERE id > $1 AND status = 'done'
			AND counts->>'unchanged_members' = '29' AND NOT counts ? 'user_create/ok'`, resumed) > 0
	})
	_, page := survivor.scrape(t, "/metrics")
	if code := survivor.stop(); code != 0 {
		t.Errorf("survivor exit code after SIGTERM: %d", code)
	}
	survivor.checkLogs(t)

	var status string
	if err := e.pool.QueryRow(context.Background(), `SELECT status FROM runs WHERE id = $1`, victim).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status == string(journal.RunRunning) {
		t.Errorf("the killed run %d still looks alive", victim)
	}
	if n := e.count(t, `SELECT count(*) FROM runs WHERE resumed_from = $1`, victim); n != 1 {
		t.Errorf("the killed run was resumed %d times, want once", n)
	}
	if v := metric(page, `hrfeed_stale_runs_total{job="staff",action="resumed"}`); v != 1 {
		t.Errorf("hrfeed_stale_runs_total resumed = %v, want 1", v)
	}
	// The killed run ends when the resume takes over; the rest never overlap.
	checkNoOverlap(t, e.runs(t), map[int64]bool{victim: true})
}
