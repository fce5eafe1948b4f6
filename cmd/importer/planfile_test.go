package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/samples"
)

// TestPlanFileApply: a plan written with --out is carried out by apply
// exactly once; a second apply, a changed source or a changed config is
// refused with the reason, and nothing is sent.
func TestPlanFileApply(t *testing.T) {
	e := newCLIEnv(t, "")
	dir := filepath.Dir(e.config)
	pf := filepath.Join(dir, "plan.json")
	code, _, errOut := runCLI(t, "plan", "--config", e.config, "--out", pf)
	if code != 0 || !strings.Contains(errOut, "importer apply "+pf) {
		t.Fatalf("plan --out: exit %d\n%s", code, errOut)
	}
	var doc struct {
		Format     string `json:"format"`
		PlanDigest string `json:"plan_digest"`
		Plan       struct {
			Ops []struct {
				Kind   string `json:"kind"`
				Target string `json:"target"`
			} `json:"ops"`
		} `json:"plan"`
	}
	b, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	feed := countSample(t)
	if doc.Format != planFormat || len(doc.PlanDigest) != 64 || len(doc.Plan.Ops) != feed.firstImport() {
		t.Fatalf("plan file: format %q, digest %q, %d ops; want %d", doc.Format, doc.PlanDigest, len(doc.Plan.Ops), feed.firstImport())
	}
	if n := e.sim.Stats()["user/create"]; n != 0 {
		t.Fatalf("plan --out sent %d creates", n)
	}

	code, out, errOut := runCLI(t, "apply", pf, "--config", e.config, "--json")
	if s := parseSummary(t, out); code != 0 || s.Counts["user_create/ok"] != feed.members {
		t.Fatalf("apply: exit %d, %+v\n%s", code, s, errOut)
	}
	// The emulator received exactly the file's operations: one write per
	// op, each user/create for a userid the file lists as a create.
	planned := map[string]bool{}
	for _, op := range doc.Plan.Ops {
		if op.Kind == "user_create" {
			planned[op.Target] = true
		}
	}
	writesSeen := 0
	for _, c := range e.sim.CallLog() {
		switch c.API {
		case "user/create":
			if !planned[c.Target] {
				t.Errorf("apply created %s, which the plan file does not", c.Target)
			}
			delete(planned, c.Target)
			writesSeen++
		default:
			if slices.Contains(writeAPIs, c.API) {
				writesSeen++
			}
		}
	}
	if writesSeen != len(doc.Plan.Ops) || len(planned) != 0 {
		t.Errorf("apply sent %d writes for %d planned ops; creates planned but not sent: %v", writesSeen, len(doc.Plan.Ops), planned)
	}
	if code, out, _ := runCLI(t, "journal", "runs", "--config", e.config); code != 0 || !strings.Contains(out, "apply") {
		t.Errorf("journal runs should show the run's trigger apply:\n%s", out)
	}

	writes := e.sim.Stats()["user/create"]
	code, _, errOut = runCLI(t, "apply", pf, "--config", e.config)
	if msg, _ := fatalLine(errOut); code != exitRefused || !strings.Contains(msg, "out of date") || !strings.Contains(msg, "changed the journal") {
		t.Errorf("second apply of the same file: exit %d, %q", code, msg)
	}

	// A plan made, then the source changed under it.
	pf2 := filepath.Join(dir, "plan2.json")
	changed := strings.Replace(string(samples.StaffCSV), "后端组,工程师,男", "后端组,架构师,男", 1)
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, "plan", "--config", e.config, "--out", pf2); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	if err := os.WriteFile(e.feed, []byte(strings.Replace(changed, "架构师", "总监", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "apply", pf2, "--config", e.config)
	if msg, _ := fatalLine(errOut); code != exitRefused || !strings.Contains(msg, "source") {
		t.Errorf("apply after the source changed: exit %d, %q", code, msg)
	}
	// The config changed instead.
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(e.config)
	if err := os.WriteFile(e.config, append(cfg, []byte("# edited\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "apply", pf2, "--config", e.config)
	if msg, _ := fatalLine(errOut); code != exitRefused || !strings.Contains(msg, "config changed") {
		t.Errorf("apply after the config changed: exit %d, %q", code, msg)
	}
	if c, u := e.sim.Stats()["user/create"], e.sim.Stats()["user/update"]; c != writes || u != 0 {
		t.Errorf("refused applies sent %d creates and %d updates", c-writes, u)
	}

	bad := filepath.Join(dir, "not-a-plan.json")
	if err := os.WriteFile(bad, []byte(`{"format":"something/9","ops":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "apply", bad, "--config", e.config)
	if msg, _ := fatalLine(errOut); code != exitFatal || !strings.Contains(msg, "not a plan file") {
		t.Errorf("apply of a file that is not a plan: exit %d, %q", code, msg)
	}
}

// TestApplyApprovesAGuardRefusal: a plan the mass-change guard refuses
// is written to its file anyway; run refuses it again, and applying the
// reviewed file carries it out — the approval --force gives blindly.
func TestApplyApprovesAGuardRefusal(t *testing.T) {
	e := newCLIEnv(t, "max_delete_ratio: 0.1")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("first run exit %d: %s", code, errOut)
	}
	all := countSample(t).members
	const kept = 10
	lines := strings.SplitAfter(string(samples.StaffCSV), "\n")
	if err := os.WriteFile(e.feed, []byte(strings.Join(lines[:kept+1], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(filepath.Dir(e.config), "plan.json")
	code, _, errOut := runCLI(t, "plan", "--config", e.config, "--out", pf)
	if code != exitRefused {
		t.Fatalf("plan of a mass removal: exit %d, want %d\n%s", code, exitRefused, errOut)
	}
	h, err := readPlanHeader(pf)
	if err != nil || !strings.Contains(h.Refused, "plan refused") {
		t.Fatalf("plan file header: %+v, %v", h, err)
	}
	if code, _, _ := runCLI(t, "run", "--config", e.config); code != exitRefused {
		t.Fatalf("run without the approval: exit %d, want %d", code, exitRefused)
	}
	code, out, errOut := runCLI(t, "apply", pf, "--config", e.config, "--json")
	if s := parseSummary(t, out); code != 0 || s.Counts["user_disable/ok"] != all-kept {
		t.Fatalf("apply of the refused plan: exit %d, %+v, want %d disables\n%s", code, s, all-kept, errOut)
	}
}

// TestPlanXLSX: the plan as a workbook HR can sign off: a changes sheet
// with Chinese headers, one field per row with the member's department
// path and before → after, and the rows not applied with their rule.
func TestPlanXLSX(t *testing.T) {
	e := newCLIEnv(t, "")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	changed := strings.Replace(string(samples.StaffCSV), "后端组,工程师,男", "后端组,架构师,男", 1) +
		"E2001,错号码,1380013800x,,总部,职员,男,在职,,北京\n"
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join(filepath.Dir(e.config), "plan.xlsx")
	if code, _, errOut := runCLI(t, "plan", "--config", e.config, "--xlsx", book); code != exitRejects {
		t.Fatalf("plan --xlsx: exit %d, want %d\n%s", code, exitRejects, errOut)
	}
	f, err := excelize.OpenFile(book)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"变更 changes", "未导入 not applied", "概要 summary"}) {
		t.Fatalf("sheets %v", got)
	}
	rows, err := f.GetRows("变更 changes")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], planChangesHeader) {
		t.Errorf("header %v", rows[0])
	}
	found := false
	for _, r := range rows[1:] {
		if len(r) >= 8 && strings.Contains(r[1], "user_update") && r[2] == "E1011" && r[5] == "position" {
			found = r[3] == "徐强" && r[4] == "总部/研发中心/后端组" && r[6] == "工程师" && r[7] == "架构师"
			if !found {
				t.Errorf("the change row: %q", r)
			}
		}
	}
	if !found {
		t.Errorf("no row for E1011's position change:\n%q", rows)
	}
	bad, err := f.GetRows("未导入 not applied")
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 || !strings.Contains(bad[1][0], "rejected") || bad[1][2] != "E2001" || bad[1][3] != "手机" {
		t.Errorf("rows not applied: %q", bad)
	}
}

// TestApplyRefusedAfterWeComChanged: a member deleted by hand in WeCom
// after the plan was made turns its update into a create, so the plan a
// run would make is not the reviewed one: apply refuses, naming WeCom.
func TestApplyRefusedAfterWeComChanged(t *testing.T) {
	e := newCLIEnv(t, "")
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, errOut)
	}
	changed := strings.Replace(string(samples.StaffCSV), "后端组,工程师,男", "后端组,架构师,男", 1)
	if err := os.WriteFile(e.feed, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(filepath.Dir(e.config), "plan.json")
	if code, _, errOut := runCLI(t, "plan", "--config", e.config, "--out", pf); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	cl := byHand(t, e.config)
	if err := cl.DeleteUser(context.Background(), "E1011"); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "apply", pf, "--config", e.config)
	if msg, _ := fatalLine(errOut); code != exitRefused || !strings.Contains(msg, "WeCom's directory changed") || !strings.Contains(msg, "user_update 1") {
		t.Errorf("apply after a hand edit in WeCom: exit %d, %q", code, msg)
	}
	if n := e.sim.Stats()["user/update"] + e.sim.Stats()["user/create"]; n != countSample(t).members {
		t.Errorf("the refused apply sent calls: %d member writes after the first import", n)
	}
}

// TestJournalNamed: migrate lists what it applied (everything on a new
// journal, nothing the second time) and the journal commands say which
// journal they read.
func TestJournalNamed(t *testing.T) {
	e := newCLIEnv(t, "")
	code, out, errOut := runCLI(t, "migrate", "--config", e.config)
	if code != 0 || !strings.Contains(out, "applied 0001_journal") || !strings.Contains(out, "hrfeed-journal.db is up to date") {
		t.Fatalf("migrate of a new journal: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ = runCLI(t, "migrate", "--config", e.config); strings.Contains(out, "applied 0") || !strings.Contains(out, "(0 migrations applied now)") {
		t.Errorf("second migrate:\n%s", out)
	}
	code, _, errOut = runCLI(t, "journal", "runs", "--config", e.config)
	if code != 0 || !strings.Contains(errOut, `"journal":"`) || !strings.Contains(errOut, "hrfeed-journal.db") {
		t.Errorf("journal runs should name the journal on stderr: exit %d\n%s", code, errOut)
	}
}

// TestJournalShowFiltersAndCauses: `journal show` narrows to one
// operation or target, and `journal failures` sums the failed calls by
// cause, most frequent first, with the class and what to do.
func TestJournalShowFiltersAndCauses(t *testing.T) {
	e := newCLIEnv(t, "")
	cl := byHand(t, e.config)
	// Members made by hand hold two feed members' mobiles and one's email.
	for i, u := range []wecom.User{
		{UserID: "hand1", Name: "甲", Mobile: "13800138002", Department: []int{1}},
		{UserID: "hand2", Name: "乙", Mobile: "13800138003", Department: []int{1}},
		{UserID: "hand3", Name: "丙", Email: "liufang@example.com", Department: []int{1}},
	} {
		if err := cl.CreateUser(context.Background(), &u); err != nil {
			t.Fatalf("member %d made by hand: %v", i, err)
		}
	}
	if code, _, errOut := runCLI(t, "run", "--config", e.config); code != exitPartial {
		t.Fatalf("run with three values taken: exit %d, want %d\n%s", code, exitPartial, errOut)
	}
	_, out, _ := runCLI(t, "journal", "failures", "1", "--config", e.config)
	i, j := strings.Index(out, fmt.Sprintf("2 × %d (row)", wecom.CodeMobileTaken)), strings.Index(out, fmt.Sprintf("1 × %d (row)", wecom.CodeEmailTaken))
	if i < 0 || j < i {
		t.Errorf("failures by cause, most frequent first:\n%s", out)
	}
	_, out, _ = runCLI(t, "journal", "show", "1", "--config", e.config, "--json", "--target", "e1010")
	var shown struct {
		Calls []struct{ Target, Operation string }
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Calls) != 1 || shown.Calls[0].Target != "E1010" {
		t.Errorf("show --target e1010: %v %+v", err, shown)
	}
	_, out, _ = runCLI(t, "journal", "show", "1", "--config", e.config, "--json", "--operation", "department_create")
	shown.Calls = nil
	if err := json.Unmarshal([]byte(out), &shown); err != nil || len(shown.Calls) != countSample(t).departments {
		t.Errorf("show --operation department_create: %v, %d calls, want %d", err, len(shown.Calls), countSample(t).departments)
	}
}

// byHand is a WeCom client of the emulator a test config names, for the
// edits an admin makes in WeCom by hand.
func byHand(t *testing.T, configPath string) *wecom.Client {
	t.Helper()
	c, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := wecom.New(wecom.Config{BaseURL: c.WeCom.BaseURL, CorpID: c.WeCom.CorpID, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestSheetRowsStopAtExcelLimit: a workbook asked for more rows than a
// worksheet holds stops with errSheetFull instead of excelize's own error
// half way through a sheet.
func TestSheetRowsStopAtExcelLimit(t *testing.T) {
	x := excelize.NewFile()
	defer x.Close()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	w := sheetRows{sw: sw, n: excelize.TotalRows - 1}
	if err := w.emit([]string{"the last row a sheet holds"}); err != nil {
		t.Fatalf("row %d: %v", excelize.TotalRows, err)
	}
	if err := w.emit([]string{"one too many"}); !errors.Is(err, errSheetFull) {
		t.Fatalf("row %d: %v, want errSheetFull", excelize.TotalRows+1, err)
	}
	if err := w.done(); !errors.Is(err, errSheetFull) {
		t.Errorf("done after the limit: %v, want errSheetFull", err)
	}
}
