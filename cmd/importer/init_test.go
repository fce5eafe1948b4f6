package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

// pointAtEmulator starts an emulator and writes its URL into a config
// init wrote (which names real WeCom), so the config can run in a test.
func pointAtEmulator(t *testing.T, config string) *wecomsim.Server {
	t.Helper()
	sim := wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "wecom:\n", "wecom:\n  base_url: "+srv.URL+"\n", 1)
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WECOM_SECRET", testSecret)
	t.Setenv("DATABASE_URL", "")
	return sim
}

// TestInitFromSampleRuns: the config init writes for the sample feed
// runs as it is and imports every member and department of the feed.
func TestInitFromSampleRuns(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "staff.csv")
	if err := os.WriteFile(feed, samples.StaffCSV, 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "importer.yaml")
	code, out, errOut := runCLI(t, "init", "--from", feed, "--out", config, "--corp-id", "ww-demo")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{`fields\.userid\s+← 工号`, `status\s+← 状态`, `departments\s+← 部门`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("init's report lacks %s:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(config)
	if !strings.Contains(string(b), "path: staff.csv\n") {
		t.Errorf("the source path should be relative to the config:\n%s", b)
	}
	sim := pointAtEmulator(t, config)

	code, out, errOut = runCLI(t, "run", "--config", config, "--json")
	s := parseSummary(t, out)
	feedCount := countSample(t)
	if code != 0 || s.Counts["user_create/ok"] != feedCount.members || s.Counts["department_create/ok"] != feedCount.departments {
		t.Fatalf("run with init's config: exit %d, %+v, want %d members and %d departments\n%s", code, s, feedCount.members, feedCount.departments, errOut)
	}
	if n := len(sim.Snapshot().Users); n != feedCount.members {
		t.Errorf("emulator holds %d members, want %d", n, feedCount.members)
	}

	if code, _, errOut := runCLI(t, "init", "--from", feed, "--out", config); code != exitUsage || !strings.Contains(errOut, "--force") {
		t.Errorf("init over an existing file: exit %d, want %d and a word of --force\n%s", code, exitUsage, errOut)
	}
}

// TestInitFromConsoleExport: a workbook laid out as WeCom's admin console
// exports members — a banner row above the header, 帐号 for the userid,
// department paths that start with the corp's name, several per cell
// separated by ";", mobiles stored as numbers — gets a config that runs
// and places everyone in the departments the file names.
func TestInitFromConsoleExport(t *testing.T) {
	dir := t.TempDir()
	book := consoleWorkbook(t, dir, "姓名*", "帐号*")
	config := filepath.Join(dir, "importer.yaml")
	code, out, errOut := runCLI(t, "init", "--from", book, "--out", config, "--corp-id", "ww-demo")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s\n%s", code, out, errOut)
	}
	b, _ := os.ReadFile(config)
	for _, want := range []string{`userid: "帐号*"`, `multi: ";"`, "strip_prefix: 示例科技", "telephone: 座机", "email: {column: 个人邮箱"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config lacks %q:\n%s", want, b)
		}
	}
	if !strings.Contains(out, "header on row 2") || !strings.Contains(out, "not read 激活状态") {
		t.Errorf("init's report should name the header row and the column not read:\n%s", out)
	}
	sim := pointAtEmulator(t, config)
	code, out, errOut = runCLI(t, "run", "--config", config, "--json")
	if s := parseSummary(t, out); code != 0 || s.Counts["user_create/ok"] != len(consolePeople) {
		t.Fatalf("run with init's config: exit %d, %+v\n%s", code, s, errOut)
	}
	checkConsolePlacement(t, sim)
}

// consolePeople are the rows of consoleWorkbook.
var consolePeople = [][]any{
	{"张三", "zhangsan", "", "经理", "示例科技/研发部;示例科技/市场部", "男", 13800138001, "", "", "已激活"},
	{"李四", "lisi", "Li Si", "工程师", "示例科技/研发部/后端组", "女", 13800138002, "", "lisi@example.com", "已激活"},
	{"王五", "wangwu", "", "专员", "示例科技/市场部", "男", 13800138003, "010-12345678", "", "未激活"},
}

// consoleWorkbook writes a workbook laid out as WeCom's admin console
// exports members, the name and userid columns headed as given, and
// returns its path.
func consoleWorkbook(t *testing.T, dir, nameHeader, idHeader string) string {
	t.Helper()
	book := filepath.Join(dir, "成员列表.xlsx")
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetCellValue(sh, "A1", "通讯录成员导出（2026-11-30）：带 * 的为必填项"))
	must(f.MergeCell(sh, "A1", "J1"))
	header := []any{nameHeader, idHeader, "别名", "职务", "部门", "性别", "手机", "座机", "个人邮箱", "激活状态"}
	must(f.SetSheetRow(sh, "A2", &header))
	for i, p := range consolePeople {
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		must(f.SetSheetRow(sh, cell, &p))
	}
	must(f.SaveAs(book))
	return book
}

// checkConsolePlacement: everyone of consolePeople sits in the departments
// their row names, the corp's name no department.
func checkConsolePlacement(t *testing.T, sim *wecomsim.Server) {
	t.Helper()
	snap := sim.Snapshot()
	names := map[int]string{}
	for _, d := range snap.Departments {
		names[d.ID] = d.Name
	}
	want := map[string][]string{"zhangsan": {"市场部", "研发部"}, "lisi": {"后端组"}, "wangwu": {"市场部"}}
	for _, u := range snap.Users {
		var got []string
		for _, id := range u.Department {
			got = append(got, names[id])
		}
		slices.Sort(got)
		if !slices.Equal(got, want[u.UserID]) {
			t.Errorf("%s is in %v, want %v", u.UserID, got, want[u.UserID])
		}
		if u.UserID == "lisi" && (u.Gender != "2" || u.Mobile != "13800138002") {
			t.Errorf("lisi: gender %q mobile %q, want 2 and the number as written", u.Gender, u.Mobile)
		}
	}
	for _, d := range snap.Departments {
		if d.Name == "示例科技" {
			t.Errorf("the corp's name became a department: %+v", d)
		}
	}
}

// TestInitRefusesWhatIsNotAStaffList: a file whose rows name no known
// column gets an error naming the file, not a config of placeholders.
func TestInitRefusesWhatIsNotAStaffList(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(feed, []byte("order,amount\n1,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "importer.yaml")
	code, _, errOut := runCLI(t, "init", "--from", feed, "--out", config)
	if msg, _ := fatalLine(errOut); code != exitFatal || !strings.Contains(msg, "orders.csv") || !strings.Contains(msg, "order, amount") {
		t.Errorf("init of a non-staff file: exit %d, %q", code, msg)
	}
	if _, err := os.Stat(config); err == nil {
		t.Error("a config was written for a file that is not a staff list")
	}
}
