package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/metrics"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

// southSecret is the second corp's secret; testSecret is the first's.
const southSecret = "south-corp-secret-value"

// corpSim is an emulator of one corp, answering only that corp's secret.
func corpSim(corpID, secret string, perMinute int) *wecomsim.Server {
	return wecomsim.New(wecomsim.Options{CorpID: corpID, Secrets: []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}},
		CorpPerMinute: perMinute})
}

// writeGroupConfig writes, in dir, a config of two corps under corps: —
// north (ww-north, its secret in HRFEED_NORTH_SECRET) and south (ww-south,
// its secret in the file south.secret) — with corps holding the rest of
// their entries, and the sample job once for each: north reads the sample
// staff, south the same but for E1001's position (董事长 for 总经理), so
// the same userids are in two corps, one of them with other values. It
// returns the config's path.
func writeGroupConfig(t *testing.T, dir, corps, schedule string) string {
	t.Helper()
	sample := string(samples.ImporterYAML)
	job := sample[strings.Index(sample, "  - name: staff\n"):]
	job = strings.Replace(job, "CRON_TZ=Asia/Shanghai 0 2 * * *", schedule, 1)
	cfg := "wecom:\n  concurrency: 8\ncorps:\n" + corps + "journal: {path: journal.db}\njobs:\n" +
		strings.Replace(job, "  - name: staff\n", "  - name: north-staff\n    corp: north\n", 1) +
		strings.Replace(strings.Replace(job, "  - name: staff\n", "  - name: south-staff\n    corp: south\n", 1), "path: staff.csv", "path: south.csv", 1)
	southFeed := strings.Replace(string(samples.StaffCSV), ",总部,总经理,", ",总部,董事长,", 1)
	for name, text := range map[string]string{"importer.yaml": cfg, "staff.csv": string(samples.StaffCSV), "south.csv": southFeed, "south.secret": southSecret + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HRFEED_NORTH_SECRET", testSecret)
	t.Setenv("DATABASE_URL", "")
	return filepath.Join(dir, "importer.yaml")
}

// TestTwoCorpsKeptApart: with two corps in one config, check reads and
// tries each corp's secret; each job's calls reach its own corp with its
// own token; the journal keeps each corp's state, so the same staff is a
// first import in the second corp and a second run of either sends
// nothing; a member's history follows each corp's values apart; a plan
// file names its job's corp; a corp's missing secret stops only its own
// jobs; and a run is not resumed once its job has moved to another corp.
func TestTwoCorpsKeptApart(t *testing.T) {
	north, south := corpSim("ww-north", testSecret, 0), corpSim("ww-south", southSecret, 0)
	nsrv, ssrv := httptest.NewServer(north), httptest.NewServer(south)
	t.Cleanup(nsrv.Close)
	t.Cleanup(ssrv.Close)
	dir := t.TempDir()
	cfg := writeGroupConfig(t, dir, fmt.Sprintf(
		"  north: {corp_id: ww-north, base_url: %q, secret_env: HRFEED_NORTH_SECRET}\n  south: {corp_id: ww-south, base_url: %q, secret_file: south.secret}\n",
		nsrv.URL, ssrv.URL), "CRON_TZ=Asia/Shanghai 0 2 * * *")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, append(args, "--config", cfg)...)
		if strings.Contains(out+errOut, southSecret) {
			t.Errorf("output of %v leaks the south corp's secret:\n%s%s", args, out, errOut)
		}
		return code, out, errOut
	}
	members := countSample(t).members

	code, out, errOut := cli("check", "--online")
	for _, want := range []string{
		"ok    corps.north secret is set (corp ww-north)", "ok    corps.south secret is set (corp ww-south)",
		"ok    corps.north: corp ww-north and the secret get a token", "ok    corps.south: corp ww-south and the secret get a token",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("check: exit %d, want %q in:\n%s%s", code, want, out, errOut)
		}
	}

	if code, _, errOut := cli("run", "--job", "north-staff"); code != 0 {
		t.Fatalf("run north-staff: exit %d\n%s", code, errOut)
	}
	if n, s := len(north.Snapshot().Users), len(south.Snapshot().Users); n != members || s != 0 {
		t.Fatalf("after north-staff: north holds %d members, south %d; want %d and 0", n, s, members)
	}
	if code, _, errOut := cli("run", "--job", "south-staff"); code != 0 {
		t.Fatalf("run south-staff: exit %d\n%s", code, errOut)
	}
	if n := len(south.Snapshot().Users); n != members {
		t.Errorf("after south-staff: south holds %d members, want %d (the journal's north state must not count)", n, members)
	}
	// A call with the other corp's token would be answered 40014 or 42001.
	for name, sim := range map[string]*wecomsim.Server{"north": north, "south": south} {
		for _, c := range sim.CallLog() {
			if c.Errcode != 0 {
				t.Errorf("%s: %s %s answered %d", name, c.API, c.Target, c.Errcode)
			}
		}
		if n := sim.Stats()["gettoken"]; n == 0 {
			t.Errorf("%s: no gettoken", name)
		}
	}

	before := []int{simWrites(north), simWrites(south)}
	for _, job := range []string{"north-staff", "south-staff"} {
		if code, _, errOut := cli("run", "--job", job); code != 0 {
			t.Fatalf("second run of %s: exit %d\n%s", job, code, errOut)
		}
	}
	if after := []int{simWrites(north), simWrites(south)}; !slices.Equal(before, after) {
		t.Errorf("second runs wrote: north %d, south %d calls; want none", after[0]-before[0], after[1]-before[1])
	}

	st, err := journal.Open(context.Background(), filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	for corp, position := range map[string]string{"ww-north": "总经理", "ww-south": "董事长"} {
		state, err := st.LoadState(context.Background(), corp, func(plan.State) []string { return []string{"e1001"} })
		if err != nil {
			t.Fatal(err)
		}
		if got := state.Records["e1001"].Position; len(state.Members) != members || got != position {
			t.Errorf("journal state of %s: %d members, e1001 position %q; want %d, position %s", corp, len(state.Members), got, members, position)
		}
	}
	st.Close()

	code, out, _ = cli("journal", "runs", "--json")
	var runs []struct {
		Job    string `json:"job"`
		CorpID string `json:"corp_id"`
	}
	if err := json.Unmarshal([]byte(out), &runs); code != 0 || err != nil || len(runs) != 4 {
		t.Fatalf("journal runs: exit %d, %v, %d runs\n%s", code, err, len(runs), out)
	}
	for _, r := range runs {
		if want := "ww-" + strings.TrimSuffix(r.Job, "-staff"); r.CorpID != want {
			t.Errorf("a run of %s recorded corp %s, want %s", r.Job, r.CorpID, want)
		}
	}

	// The same userid in both corps: south's create shows every field it
	// sent as new, not as north's values again.
	code, out, _ = cli("journal", "member", "e1001", "--json")
	var history []struct {
		CorpID    string `json:"corp_id"`
		Operation string `json:"operation"`
		Fields    []struct{ Field, Before, After string }
	}
	if err := json.Unmarshal([]byte(out), &history); code != 0 || err != nil {
		t.Fatalf("journal member: exit %d, %v\n%s", code, err, out)
	}
	creates := map[string]int{}
	for _, h := range history {
		if h.Operation != "user_create" {
			continue
		}
		creates[h.CorpID]++
		if len(h.Fields) == 0 {
			t.Errorf("corp %s: the create of e1001 lists no field", h.CorpID)
		}
		for _, f := range h.Fields {
			if f.Before != "" {
				t.Errorf("corp %s: create of e1001: %s before %q, want \"\"", h.CorpID, f.Field, f.Before)
			}
		}
	}
	if creates["ww-north"] != 1 || creates["ww-south"] != 1 {
		t.Errorf("creates of e1001 by corp: %v, want one in each", creates)
	}
	if _, text, _ := cli("journal", "member", "e1001"); !strings.Contains(text, "(south-staff of corp ww-south,") {
		t.Errorf("journal member of a userid in two corps does not name the corp:\n%s", text)
	}

	planFile := filepath.Join(dir, "south-plan.json")
	if code, _, errOut := cli("plan", "--job", "south-staff", "--out", planFile); code != 0 {
		t.Fatalf("plan --out: exit %d\n%s", code, errOut)
	}
	if h, err := readPlanHeader(planFile); err != nil || h.CorpID != "ww-south" {
		t.Errorf("plan file of south-staff: corp %q, %v; want ww-south", h.CorpID, err)
	}

	if err := os.Remove(filepath.Join(dir, "south.secret")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli("run", "--job", "north-staff"); code != 0 {
		t.Errorf("north-staff without south's secret: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := cli("run", "--job", "south-staff"); code != 1 || !strings.Contains(errOut, "corps.south.secret_file") {
		t.Errorf("south-staff without its secret: exit %d, want 1 naming corps.south.secret_file\n%s", code, errOut)
	}
	if code, out, _ := cli("check"); code != 1 || !strings.Contains(out, "FAIL  corps.south secret: corps.south.secret_file") || !strings.Contains(out, "ok    corps.north secret is set") {
		t.Errorf("check without south's secret: exit %d\n%s", code, out)
	}

	// A run of north-staff failed (north unreachable); the config then
	// moves the job to the south corp: the run is not resumed there.
	if err := os.WriteFile(filepath.Join(dir, "south.secret"), []byte(southSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	nsrv.Close()
	if code, _, errOut := cli("run", "--job", "north-staff"); code != 1 {
		t.Fatalf("north-staff with north unreachable: exit %d, want 1\n%s", code, errOut)
	}
	_, out, _ = cli("journal", "runs", "--json", "--limit", "1")
	var failed []struct {
		ID     int64  `json:"run_id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &failed); err != nil || len(failed) != 1 || failed[0].Status != string(journal.RunFailed) {
		t.Fatalf("the newest run: %v\n%s", err, out)
	}
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(text), "corp: north\n", "corp: south\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	before = []int{simWrites(south)}
	code, _, errOut = cli("resume", fmt.Sprint(failed[0].ID))
	if code != 2 || !strings.Contains(errOut, "synced corp ww-north, but job north-staff now syncs corp ww-south") {
		t.Errorf("resume of a north run after the job moved to south: exit %d, want 2\n%s", code, errOut)
	}
	if simWrites(south) != before[0] {
		t.Errorf("the refused resume wrote to the south corp")
	}
}

// hostTransport hands each request to the emulator of its host in
// memory, so serve's runs can go inside a testing/synctest bubble: a
// goroutine waiting on a socket is not durably blocked, and over loopback
// the bubble's clock would never move.
type hostTransport map[string]http.Handler

func (h hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sim := h[req.URL.Host]
	if sim == nil {
		return nil, fmt.Errorf("no emulator at %s", req.URL.Host)
	}
	in := req.Clone(req.Context())
	in.RemoteAddr = "192.0.2.10:40000"
	in.RequestURI = req.URL.RequestURI()
	if req.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	sim.ServeHTTP(rec, in)
	return rec.Result(), nil
}

// TestServeTwoCorpsEachWithinItsLimits: one serve runs the jobs of two
// corps at the same time, each corp's calls paced by its own per_minute
// against an emulator that enforces just that rate (a corp given the
// top-level block's rate, or another corp's, would be answered 45009),
// and the next occurrence of each finds nothing to do. The bubble's clock
// makes minutes of pacing pass at once.
func TestServeTwoCorpsEachWithinItsLimits(t *testing.T) {
	dir := t.TempDir()
	path := writeGroupConfig(t, dir,
		"  north: {corp_id: ww-north, base_url: http://north.invalid, secret_env: HRFEED_NORTH_SECRET, per_minute: 20}\n"+
			"  south: {corp_id: ww-south, base_url: http://south.invalid, secret_file: south.secret, per_minute: 30}\n",
		"@every 1m")
	members := countSample(t).members
	synctest.Test(t, func(t *testing.T) {
		north, south := corpSim("ww-north", testSecret, 20), corpSim("ww-south", southSecret, 30)
		c, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		store, err := journal.Open(t.Context(), c.Resolve(c.Journal.Path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		log := slog.New(slog.DiscardHandler)
		m := metrics.NewImporter()
		clients := newCorpClients(log, m.ObserveCall)
		clients.transport = hostTransport{"north.invalid": north, "south.invalid": south}
		if err := serveCorps(c, clients, log); err != nil {
			t.Fatal(err)
		}
		svc, err := serveService(c, store, clients, m, log)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- svc.Serve(ctx) }()

		finished := map[string][]journal.Run{}
		for minute := 0; len(finished["north-staff"]) < 2 || len(finished["south-staff"]) < 2; minute++ {
			if minute == 15 {
				t.Fatalf("after 15 minutes, finished runs: %v", finished)
			}
			time.Sleep(time.Minute)
			runs, err := store.ListRuns(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			clear(finished)
			for _, r := range slices.Backward(runs) {
				if r.Status != journal.RunRunning {
					finished[r.Job] = append(finished[r.Job], r)
				}
			}
		}
		stop()
		if err := <-served; err != nil {
			t.Fatal(err)
		}

		for job, corp := range map[string]string{"north-staff": "ww-north", "south-staff": "ww-south"} {
			first, second := finished[job][0], finished[job][1]
			if first.Status != journal.RunDone || first.CorpID != corp || first.Counts["user_create/ok"] != members {
				t.Errorf("%s: first run %s of corp %s created %d, want done, %s, %d", job, first.Status, first.CorpID, first.Counts["user_create/ok"], corp, members)
			}
			if second.Status != journal.RunDone || second.Counts["unchanged_members"] != members || second.Counts["user_create/ok"] != 0 {
				t.Errorf("%s: second run %s, counts %v; want done with every member unchanged", job, second.Status, second.Counts)
			}
		}
		n, s := finished["north-staff"][0], finished["south-staff"][0]
		if !n.StartedAt.Before(s.FinishedAt) || !s.StartedAt.Before(n.FinishedAt) {
			t.Errorf("the corps' first runs did not overlap: north %v–%v, south %v–%v", n.StartedAt, n.FinishedAt, s.StartedAt, s.FinishedAt)
		}
		var page strings.Builder
		if err := m.Registry().WriteText(&page); err != nil {
			t.Fatal(err)
		}
		for corp, sim := range map[string]*wecomsim.Server{"ww-north": north, "ww-south": south} {
			for _, call := range sim.CallLog() {
				if call.Errcode != 0 {
					t.Errorf("%s: %s %s answered %d", corp, call.API, call.Target, call.Errcode)
				}
			}
			if got := len(sim.Snapshot().Users); got != members {
				t.Errorf("%s holds %d members, want %d", corp, got, members)
			}
			if v := metric(page.String(), fmt.Sprintf(`hrfeed_wecom_calls_total{corp=%q,api="user/create",errcode="0"}`, corp)); v != float64(members) {
				t.Errorf("%s: %v user/create calls counted, want %d", corp, v, members)
			}
			if v := metric(page.String(), fmt.Sprintf(`hrfeed_wecom_limiter_wait_seconds_total{corp=%q,api="user/create"}`, corp)); v < 30 {
				t.Errorf("%s: user/create waited %vs for its corp's limiter; %d creates at its rate wait longer", corp, v, members)
			}
		}
	})
}

// TestCorpClientsOnePerCorp: the jobs of one corp get one client (one
// token cache, one set of per-API limiters), its secret read once; another
// corp gets its own.
func TestCorpClientsOnePerCorp(t *testing.T) {
	job := "    source: {path: staff.csv}\n    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}\n"
	c, err := config.Parse([]byte("corps:\n  a: {corp_id: ww-a, secret_env: A_SECRET}\n  b: {corp_id: ww-b, secret_env: B_SECRET}\njobs:\n" +
		"  - name: a-staff\n    corp: a\n" + job + "  - name: a-contractors\n    corp: a\n" + job + "  - name: b-staff\n    corp: b\n" + job))
	if err != nil {
		t.Fatal(err)
	}
	clients := newCorpClients(slog.New(slog.DiscardHandler), nil)
	reads := map[string]int{}
	clients.secret = func(corp config.Corp, _ *slog.Logger) (string, error) {
		reads[corp.CorpID]++
		return "secret-of-" + corp.CorpID, nil
	}
	got := map[string]runner.Client{}
	for i := range c.Jobs {
		corp, err := c.CorpOf(&c.Jobs[i])
		if err != nil {
			t.Fatal(err)
		}
		if got[c.Jobs[i].Name], err = clients.forRun(corp); err != nil {
			t.Fatal(err)
		}
	}
	if got["a-staff"] != got["a-contractors"] || got["a-staff"] == got["b-staff"] {
		t.Errorf("clients: a-staff %p, a-contractors %p, b-staff %p; want the first two one client, the third another", got["a-staff"], got["a-contractors"], got["b-staff"])
	}
	if reads["ww-a"] != 1 || reads["ww-b"] != 1 {
		t.Errorf("secret reads per corp: %v, want one each", reads)
	}
}
