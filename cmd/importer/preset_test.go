package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPresetWeComConsole: `mapping: {preset: wecom-console}` reads the
// console's export as it is — the banner row, 账号 as well as 帐号, several
// departments per cell — with one ordinary key added for the corp-name
// prefix; columns the file lacks (企业邮箱, 地址) are not mapped, so a
// second run plans nothing.
func TestPresetWeComConsole(t *testing.T) {
	for _, id := range []string{"帐号", "账号"} {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			book := consoleWorkbook(t, dir, "姓名", id)
			config := filepath.Join(dir, "importer.yaml")
			cfg := `wecom:
  corp_id: ww-demo
journal: {path: journal.db}
jobs:
  - name: console
    source: {type: xlsx, path: ` + filepath.Base(book) + `}
    mapping:
      preset: wecom-console
      departments: {strip_prefix: 示例科技}
`
			if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			sim := pointAtEmulator(t, config)
			code, out, errOut := runCLI(t, "run", "--config", config, "--json")
			if s := parseSummary(t, out); code != 0 || s.Counts["user_create/ok"] != len(consolePeople) {
				t.Fatalf("run: exit %d, %+v\n%s", code, s, errOut)
			}
			checkConsolePlacement(t, sim)
			code, out, _ = runCLI(t, "run", "--config", config, "--json")
			if s := parseSummary(t, out); code != 0 || s.Writes != 0 {
				t.Errorf("second run: exit %d, %+v", code, s)
			}
		})
	}
}

// TestPresetWeComBatch: the batch import templates — members with
// department ids in 所在部门, departments in their own file — run with
// `preset: wecom-batch` and the department file as department_source.
func TestPresetWeComBatch(t *testing.T) {
	dir := t.TempDir()
	users := "姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用,禁用项说明：(0-启用;1-禁用)\n" +
		"张三,zhangsan,13800138001,,2;3,经理,男,1;0,,,,,0,\n" +
		"李四,lisi,13800138002,lisi@example.com,4,工程师,女,0,,Li Si,,,1,\n"
	parties := "部门名称,部门ID,父部门ID,排序\n示例科技,1,0,\n研发部,2,1,\n市场部,3,1,\n后端组,4,2,\n"
	for name, body := range map[string]string{"batch_user.csv": users, "batch_party.csv": parties} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	config := filepath.Join(dir, "importer.yaml")
	cfg := `wecom:
  corp_id: ww-demo
journal: {path: journal.db}
jobs:
  - name: batch
    source: {type: csv, path: batch_user.csv}
    department_source: {type: csv, path: batch_party.csv}
    mapping: {preset: wecom-batch}
`
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := pointAtEmulator(t, config)
	code, out, errOut := runCLI(t, "run", "--config", config, "--json")
	if s := parseSummary(t, out); code != 0 || s.Counts["user_create/ok"] != 2 || s.Counts["department_create/ok"] != 3 {
		t.Fatalf("run: exit %d, %+v\n%s", code, s, errOut)
	}
	snap := sim.Snapshot()
	names := map[int]string{}
	for _, d := range snap.Departments {
		names[d.ID] = d.Name
	}
	for _, u := range snap.Users {
		var got []string
		for _, id := range u.Department {
			got = append(got, names[id])
		}
		switch u.UserID {
		case "zhangsan":
			if strings.Join(got, ",") != "研发部,市场部" || u.Enable != 1 || len(u.IsLeaderInDept) != 2 || u.IsLeaderInDept[0] != 1 {
				t.Errorf("zhangsan: departments %v, enable %d, leader %v", got, u.Enable, u.IsLeaderInDept)
			}
		case "lisi":
			if strings.Join(got, ",") != "后端组" || u.Enable != 0 || u.Alias != "Li Si" {
				t.Errorf("lisi: departments %v, enable %d, alias %q", got, u.Enable, u.Alias)
			}
		}
	}
}
