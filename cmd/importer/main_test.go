package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

const testSecret = "cli-test-secret-value"

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	for _, s := range []string{out.String(), errOut.String()} {
		if strings.Contains(s, testSecret) {
			t.Errorf("output of %v leaks the secret:\n%s", args, s)
		}
	}
	return code, out.String(), errOut.String()
}

// fatalLine finds the error that ended a command in a JSON stream (stderr
// not a terminal): a JSON line with level ERROR and the exit code. Every
// line of the stream must be JSON.
func fatalLine(stderr string) (msg string, code int) {
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var l struct {
			Level    string `json:"level"`
			Msg      string `json:"msg"`
			ExitCode *int   `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return "not JSON: " + line, -1
		}
		if l.Level == "ERROR" && l.ExitCode != nil {
			msg, code = l.Msg, *l.ExitCode
		}
	}
	return msg, code
}

func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := runCLI(t, "demo", "--dir", dir)
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(errOut, "run started") {
		t.Errorf("demo output is the story; info logs should not interleave with it:\n%s", errOut)
	}
	passes := strings.Split(out, "== ")
	if len(passes) != 4 {
		t.Fatalf("want 3 passes in the demo output, got:\n%s", out)
	}
	writes := make([]int, 3)
	for i := range writes {
		_, after, ok := strings.Cut(passes[i+1], "WeCom write calls received by the emulator: ")
		if _, err := fmt.Sscan(after, &writes[i]); !ok || err != nil {
			t.Fatalf("pass %d names no write count:\n%s", i+1, passes[i+1])
		}
	}
	countSample(t).firstImportWrites(t, "demo pass 1", writes[0])
	// The same feed again changes nothing; the third pass changes one
	// member's position and marks one leaver, a call each, and moves one
	// member between two location tags: out of one, into the other.
	if writes[1] != 0 || writes[2] != 4 {
		t.Errorf("demo passes 2 and 3: %d and %d writes, want 0 and 4", writes[1], writes[2])
	}
	if _, err := os.Stat(filepath.Join(dir, "hrfeed-journal.db")); err != nil {
		t.Errorf("demo journal: %v", err)
	}
	code, out, _ = runCLI(t, "journal", "runs", "--journal", filepath.Join(dir, "hrfeed-journal.db"), "--json")
	var runs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 3 {
		t.Errorf("journal runs after demo: exit %d, %d runs\n%s", code, len(runs), out)
	}
}

// cliEnv is an emulator and a config file pointing at it.
type cliEnv struct {
	sim    *wecomsim.Server
	config string
	feed   string
}

func newCLIEnv(t *testing.T, policy string) cliEnv {
	t.Helper()
	sim := wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := strings.Replace(string(samples.ImporterYAML), "http://127.0.0.1:8088", srv.URL, 1)
	if policy != "" {
		cfg = strings.Replace(cfg, "max_delete_ratio: 0.2", policy, 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "importer.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	feed := filepath.Join(dir, "staff.csv")
	if err := os.WriteFile(feed, samples.StaffCSV, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WECOM_SECRET", testSecret)
	t.Setenv("DATABASE_URL", "")
	return cliEnv{sim: sim, config: filepath.Join(dir, "importer.yaml"), feed: feed}
}

type summary struct {
	RunID    int64          `json:"run_id"`
	Status   string         `json:"status"`
	ExitCode int            `json:"exit_code"`
	Counts   map[string]int `json:"counts"`
	Planned  map[string]int `json:"planned"`
	Errcodes map[string]int `json:"errcodes"`
	Writes   int            `json:"writes"`
	Rejected int            `json:"rejected"`
	Ops      []struct {
		Kind    string `json:"kind"`
		Target  string `json:"target"`
		Changes []struct{ Field, Before, After string }
	} `json:"ops"`
}

func parseSummary(t *testing.T, out string) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
	}
	return s
}

func TestRunJSONAndExitCodes(t *testing.T) {
	e := newCLIEnv(t, "")

	code, out, errOut := runCLI(t, "plan", "--config", e.config, "--json")
	s := parseSummary(t, out)
	feed := countSample(t)
	if code != 0 || s.Status != "dry_run" || s.Planned["user_create"] != feed.members || s.Writes != 0 {
		t.Fatalf("plan: exit %d, %+v\n%s", code, s, errOut)
	}
	feed.firstImportWrites(t, "plan", len(s.Ops))
	if n := e.sim.Stats()["user/create"]; n != 0 {
		t.Fatalf("plan sent %d user/create calls", n)
	}
	// A plan before the first run does not create the journal: a mistyped
	// journal.path must not leave an empty journal behind.
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.config), "hrfeed-journal.db")); err == nil || !strings.Contains(errOut, "does not exist yet") {
		t.Errorf("plan before the first run: journal created (stat err %v), stderr:\n%s", err, errOut)
	}

	code, out, errOut = runCLI(t, "run", "--config", e.config, "--json")
	s = parseSummary(t, out)
	if code != 0 || s.Status != "done" || s.Counts["user_create/ok"] != feed.members || s.Counts["department_create/ok"] != feed.departments {
		t.Fatalf("run: exit %d, %+v\n%s", code, s, errOut)
	}

	code, out, errOut = runCLI(t, "run", "--config", e.config, "--json", "--verbose", "--log-json")
	s = parseSummary(t, out)
	if code != 0 || s.Writes != 0 || len(s.Counts) != 0 {
		t.Fatalf("second run: exit %d, %+v", code, s)
	}
	// Debug logs of every WeCom call carry neither the secret (runCLI
	// checks) nor the token, which travels in the URL.
	if !strings.Contains(errOut, `"msg":"wecom call"`) || strings.Contains(errOut, "access_token") {
		t.Errorf("verbose log should show calls without tokens:\n%s", errOut)
	}

	changed := strings.Replace(string(samples.StaffCSV), "后端组,工程师,男", "后端组,架构师,男", 1)
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "plan", "--config", e.config)
	if code != 0 || !strings.Contains(out, `position`) || !strings.Contains(out, `"工程师" → "架构师"`) {
		t.Errorf("plan should show the field change before → after: exit %d\n%s", code, out)
	}

	code, out, _ = runCLI(t, "journal", "show", "1", "--config", e.config)
	if code != 0 || !strings.Contains(out, "user_create") || !strings.Contains(out, "E1010") {
		t.Errorf("journal show: exit %d\n%s", code, out)
	}
}

// TestRejectedRowsExitFive: a run whose calls all succeeded but that
// rejected a row ends done_with_rejects and exits 5, and plan exits the
// same way beforehand.
func TestRejectedRowsExitFive(t *testing.T) {
	e := newCLIEnv(t, "")
	bad := string(samples.StaffCSV) + "E2001,错号码,1380013800x,,总部,职员,男,在职,,北京\n"
	if err := os.WriteFile(e.feed, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "plan", "--config", e.config, "--json")
	if s := parseSummary(t, out); code != 5 || s.Status != "dry_run" || s.Rejected != 1 {
		t.Fatalf("plan: exit %d, %+v", code, s)
	}
	code, out, _ = runCLI(t, "run", "--config", e.config, "--json")
	s := parseSummary(t, out)
	if code != 5 || s.Status != "done_with_rejects" || s.Rejected != 1 {
		t.Fatalf("exit %d, %+v", code, s)
	}
	code, out, _ = runCLI(t, "journal", "failures", "1", "--config", e.config)
	if code != 0 || !strings.Contains(out, "staff.csv:32") || !strings.Contains(out, "手机") {
		t.Errorf("journal failures should name the row and column: exit %d\n%s", code, out)
	}
}

func TestGuardRefusesThenForce(t *testing.T) {
	e := newCLIEnv(t, "max_delete_ratio: 0.1")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("first run exit %d: %s", code, errOut)
	}
	// HR sends a feed with only the first ten staff: the others would be disabled.
	const kept = 10
	lines := strings.SplitAfter(string(samples.StaffCSV), "\n")
	if err := os.WriteFile(e.feed, []byte(strings.Join(lines[:kept+1], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	updates := e.sim.Stats()["user/update"]
	code, out, _ := runCLI(t, "run", "--config", e.config, "--json")
	if s := parseSummary(t, out); code != 4 || s.Status != "refused" || e.sim.Stats()["user/update"] != updates {
		t.Fatalf("guard: exit %d, %+v, updates %d, were %d", code, s, e.sim.Stats()["user/update"], updates)
	}
	code, out, _ = runCLI(t, "run", "--config", e.config, "--json", "--force")
	if s := parseSummary(t, out); code != 0 || s.Counts["user_disable/ok"] != countSample(t).members-kept {
		t.Fatalf("forced: exit %d, %+v", code, s)
	}
}

func TestUsageAndConfigErrors(t *testing.T) {
	e := newCLIEnv(t, "")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run"}, 2, "--config FILE is required"},
		{[]string{"run", "--config", e.config, "--bogus"}, 2, "unknown flag"},
		{[]string{"resume", "x", "--config", e.config}, 2, "RUN_ID"},
		{[]string{"resume", "99", "--config", e.config}, 2, "run 99 is not in the journal"},
		{[]string{"run", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, 1, "no such file"},
		{[]string{"run", "--config", e.config, "--job", "nope"}, 2, `no job named "nope"`},
		// Reading commands never create a journal at a mistyped path.
		{[]string{"journal", "runs", "--journal", filepath.Join(t.TempDir(), "typo", "x.db")}, 1, "no journal at"},
		// A password on the command line is seen by every user of the host.
		{[]string{"journal", "runs", "--journal", "postgres://hr:s3cr3t-pw@db.example/hrfeed"}, 2, "holds a password"},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		msg, logged := fatalLine(errOut)
		if code != tt.code || logged != code || !strings.Contains(msg, tt.msg) || strings.Contains(errOut, "s3cr3t-pw") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q as one JSON line, and no password", tt.args, code, errOut, tt.code, tt.msg)
		}
	}

	t.Setenv("WECOM_SECRET", "")
	code, _, errOut := runCLI(t, "run", "--config", e.config)
	if code != 1 || !strings.Contains(errOut, "export WECOM_SECRET") {
		t.Errorf("missing secret: exit %d, %q", code, errOut)
	}

	t.Setenv("WECOM_SECRET", "wrong-secret")
	code, _, errOut = runCLI(t, "run", "--config", e.config)
	if code != 1 || !strings.Contains(errOut, "40001") || strings.Contains(errOut, "wrong-secret") {
		t.Errorf("wrong secret: exit %d, %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "importer ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

// TestRunsRecordWhoAndWhy: a run records what started it, the OS user,
// the importer's version and the config's digest, and journal runs shows them.
func TestRunsRecordWhoAndWhy(t *testing.T) {
	e := newCLIEnv(t, "")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("run: exit %d %s", code, errOut)
	}
	code, out, _ := runCLI(t, "journal", "runs", "--config", e.config, "--json")
	var runs []struct {
		Trigger      string `json:"trigger"`
		OSUser       string `json:"os_user"`
		Version      string `json:"importer_version"`
		ConfigDigest string `json:"config_digest"`
	}
	if err := json.Unmarshal([]byte(out), &runs); code != 0 || err != nil || len(runs) != 1 {
		t.Fatalf("journal runs: exit %d, %v\n%s", code, err, out)
	}
	r := runs[0]
	if r.Trigger != "manual" || r.OSUser == "" || r.Version == "" || !strings.HasPrefix(r.ConfigDigest, "sha256:") {
		t.Errorf("run records %+v, want trigger manual, a user, a version and the config's digest", r)
	}
}

// TestJournalMember: one member's history across runs, each field before
// → after, in the order WeCom took the calls.
func TestJournalMember(t *testing.T) {
	e := newCLIEnv(t, "")
	feed := string(samples.StaffCSV)
	steps := []string{feed,
		strings.Replace(feed, "后端组,高级工程师,女", "后端组,架构师,女", 1),
		strings.Replace(strings.Replace(feed, "后端组,高级工程师,女", "后端组,架构师,女", 1), "架构师,女,在职", "架构师,女,离职", 1)}
	for i, f := range steps {
		if err := os.WriteFile(e.feed, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
			t.Fatalf("run %d: exit %d %s", i+1, code, errOut)
		}
	}
	code, out, _ := runCLI(t, "journal", "member", "e1010", "--config", e.config, "--json")
	var changes []struct {
		RunID     int64  `json:"run_id"`
		Operation string `json:"operation"`
		Fields    []struct{ Field, Before, After string }
	}
	if err := json.Unmarshal([]byte(out), &changes); code != 0 || err != nil {
		t.Fatalf("journal member: exit %d %v\n%s", code, err, out)
	}
	var got []string
	for _, c := range changes {
		for _, f := range c.Fields {
			if f.Field == "position" || f.Field == "enable" {
				got = append(got, fmt.Sprintf("%d %s %s %q→%q", c.RunID, c.Operation, f.Field, f.Before, f.After))
			}
		}
	}
	want := []string{`1 user_create enable ""→"1"`, `1 user_create position ""→"高级工程师"`,
		`2 user_update position "高级工程师"→"架构师"`, `3 user_disable enable "1"→"0"`}
	if !slices.Equal(got, want) {
		t.Errorf("history of E1010:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCheck: check accepts the sample config as the tests write it, and
// lists each problem with where it is: a schedule that cannot be, a
// source without a mapped column, a missing secret.
func TestCheck(t *testing.T) {
	e := newCLIEnv(t, "")
	if code, out, errOut := runCLI(t, "check", "--config", e.config, "--online"); code != 0 || !strings.Contains(out, "get a token") {
		t.Fatalf("check of a good config: exit %d\n%s\n%s", code, out, errOut)
	}
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(cfg), "CRON_TZ=Asia/Shanghai 0 2 * * *", "CRON_TZ=Asia/Beijing 0 25 * * *", 1)
	if err := os.WriteFile(e.config, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.feed, []byte(strings.Replace(string(samples.StaffCSV), "直属上级", "上级", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WECOM_SECRET", "")
	code, out, _ := runCLI(t, "check", "--config", e.config)
	for _, want := range []string{"job staff: schedule", "job staff: source", "直属上级", "wecom secret"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("check of a bad config: exit %d, want a problem naming %q:\n%s", code, want, out)
		}
	}
}

// TestJournalExport: a run's calls as CSV with a UTF-8 BOM and as a
// workbook, read back: the header, one row per call, the Chinese intact.
func TestJournalExport(t *testing.T) {
	e := newCLIEnv(t, "")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("run: exit %d %s", code, errOut)
	}
	want := countSample(t)
	dir := t.TempDir()
	csvPath, xlsxPath := filepath.Join(dir, "run1.csv"), filepath.Join(dir, "run1.xlsx")
	for _, args := range [][]string{{"--csv", csvPath}, {"--xlsx", xlsxPath}} {
		if code, out, errOut := runCLI(t, append([]string{"journal", "export", "--run", "1", "--config", e.config}, args...)...); code != 0 {
			t.Fatalf("export %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Errorf("the CSV does not start with a UTF-8 BOM")
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "运行 run" || !strings.Contains(string(b), "王建国") {
		t.Errorf("CSV header %v", rows[0])
	}
	// One row per field a create set (at least one per call): every member
	// create says why (new) and where the member sits, by path.
	// A tag's addition names its members.
	creates, tagged := map[string]bool{}, map[string]bool{}
	for _, r := range rows[1:] {
		switch r[5] {
		case "user_create":
			creates[r[7]] = true
			if !strings.HasSuffix(r[6], " new") || !strings.HasPrefix(r[9], "总部") {
				t.Errorf("create row without its reason or department path: %q", r)
			}
		case "tag_add_users":
			tagged[r[7]] = true
			if r[10] != "members" || r[12] == "" {
				t.Errorf("tag row without the members it added: %q", r)
			}
		}
	}
	if len(tagged) != want.tags {
		t.Errorf("CSV: additions to %d tags, want %d", len(tagged), want.tags)
	}
	if len(creates) != want.members || len(rows) < 1+want.firstImport() {
		t.Errorf("CSV: %d rows, creates of %d members; want at least a row per call and %d members", len(rows), len(creates), want.members)
	}
	x, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheetRows, err := x.GetRows("调用 calls")
	if err != nil {
		t.Fatal(err)
	}
	if len(sheetRows) != len(rows) || sheetRows[0][7] != "对象 target" || sheetRows[1][0] != "1" {
		t.Errorf("workbook: %d rows, header %v", len(sheetRows), sheetRows[0])
	}

	// A second run changes one field of one member and rejects a row: the
	// export has one row for the change, before and after, and one for
	// the rejected row.
	changed := strings.Replace(string(samples.StaffCSV), "后端组,工程师,男", "后端组,架构师,男", 1) +
		"E2001,错号码,1380013800x,,总部,职员,男,在职,,北京\n"
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != exitRejects {
		t.Fatalf("second run: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "journal", "export", "--run", "2", "--config", e.config, "--csv", csvPath); code != 0 {
		t.Fatalf("export run 2: exit %d %s", code, errOut)
	}
	b, _ = os.ReadFile(csvPath)
	rows, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("run 2's export: %d rows, want a header, the change and the rejected row:\n%q", len(rows), rows)
	}
	if r := rows[1]; r[5] != "user_update" || r[6] != "资料变更 feed_change" || r[7] != "E1011" || r[8] != "徐强" ||
		r[9] != "总部/研发中心/后端组" || r[10] != "position" || r[11] != "工程师" || r[12] != "架构师" || r[13] != "ok" {
		t.Errorf("the change row: %q", r)
	}
	if r := rows[2]; !strings.Contains(r[6], "rejected: mobile_format") || r[10] != "手机" || r[17] != "staff.csv:32" {
		t.Errorf("the rejected row: %q", r)
	}
}
