package scaffold

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRecognise(t *testing.T) {
	cases := []struct {
		header []string
		want   map[string]string
	}{
		// WeCom's own 帐号 is the userid even beside an HR 工号, and each
		// column goes to one field.
		{[]string{"工号", "帐号", "姓名"}, map[string]string{"userid": "帐号", "name": "姓名"}},
		{[]string{"账号", "姓名"}, map[string]string{"userid": "账号", "name": "姓名"}},
		// Marks and notes around a name do not hide it; case and
		// punctuation do not either.
		{[]string{"姓名*", "手机号码（必填）", "E-Mail", "Employee ID"},
			map[string]string{"name": "姓名*", "mobile": "手机号码（必填）", "email": "E-Mail", "userid": "Employee ID"}},
		// 企业邮箱 is WeCom's business mail, not the member's email.
		{[]string{"工号", "企业邮箱", "邮箱"}, map[string]string{"userid": "工号", "biz_mail": "企业邮箱", "email": "邮箱"}},
		{[]string{"员工编号", "在职状态", "所在部门", "直属上级"},
			map[string]string{"userid": "员工编号", fieldStatus: "在职状态", fieldDepartments: "所在部门", "direct_leader": "直属上级"}},
		{[]string{"入职日期", "工作地点"}, map[string]string{}},
	}
	for _, c := range cases {
		got := recognise(c.header)
		if len(got) != len(c.want) {
			t.Errorf("%v: got %v, want %v", c.header, got, c.want)
			continue
		}
		for f, col := range c.want {
			if got[f] != col {
				t.Errorf("%v: %s is %q, want %q", c.header, f, got[f], col)
			}
		}
	}
}

func rows(col string, vals ...string) []map[string]string {
	out := make([]map[string]string, len(vals))
	for i, v := range vals {
		out[i] = map[string]string{"工号": "E" + string(rune('0'+i)), "姓名": "某", "手机": "13800138000", col: v}
	}
	return out
}

func write(t *testing.T, col string, vals ...string) Result {
	t.Helper()
	return Write(Input{Path: "staff.csv", Type: "csv", Header: []string{"工号", "姓名", "手机", col}, Rows: rows(col, vals...)})
}

func TestDepartmentsFromValues(t *testing.T) {
	cases := []struct {
		name string
		vals []string
		want []string // lines the config must hold
		not  []string // and must not
	}{
		{"slash paths under a corp name", []string{"某公司/研发部/后端组", "某公司/市场部"},
			[]string{`separator: "/"`, "strip_prefix: 某公司"}, []string{"multi:"}},
		{"a member at the top keeps the prefix", []string{"总部/研发中心", "总部"},
			[]string{`separator: "/"`, "# Every path starts with 总部"}, []string{"strip_prefix:"}},
		{"several per cell", []string{"研发部/后端组；市场部", "市场部"},
			[]string{`multi: "；"`}, nil},
		{"a dash inside names is not a separator", []string{"研发-北京", "市场部", "行政部"},
			[]string{`separator: "/"`}, []string{`separator: "-"`}},
		{"a dash in every path is", []string{"公司-研发部", "公司-市场部", "公司-研发部-后端组"},
			[]string{`separator: "-"`, "strip_prefix: 公司"}, nil},
		{"an arrow", []string{"研发中心>后端组", "研发中心>前端组", "行政部"},
			[]string{`separator: ">"`}, nil},
	}
	for _, c := range cases {
		res := write(t, "部门", c.vals...)
		y := string(res.YAML)
		for _, w := range c.want {
			if !strings.Contains(y, w) {
				t.Errorf("%s: config lacks %q:\n%s", c.name, w, y)
			}
		}
		for _, w := range c.not {
			if strings.Contains(y, w) {
				t.Errorf("%s: config holds %q:\n%s", c.name, w, y)
			}
		}
	}
}

func TestValuesMappedOrNoted(t *testing.T) {
	res := write(t, "状态", "在职", "离职", "停薪留职")
	if !strings.Contains(string(res.YAML), "status: {column: 状态, map: {在职: active, 离职: leaver}}") {
		t.Errorf("status map:\n%s", res.YAML)
	}
	if len(res.Notes) == 0 || !strings.Contains(strings.Join(res.Notes, "\n"), `"停薪留职"`) {
		t.Errorf("an unknown status value should be noted: %v", res.Notes)
	}
	if !strings.Contains(strings.Join(res.Missing, ","), "departments.path_column") {
		t.Errorf("no department column should be reported missing: %v", res.Missing)
	}

	res = write(t, "性别", "1", "2")
	if !strings.Contains(string(res.YAML), "gender: 性别\n") {
		t.Errorf("gender already in WeCom's form needs no map:\n%s", res.YAML)
	}
	res = write(t, "性别", "Male", "Female")
	if !strings.Contains(string(res.YAML), `gender: {column: 性别, map: {Male: "1", Female: "2"}}`) {
		t.Errorf("gender words:\n%s", res.YAML)
	}
}

// TestLeaderColumnOfNames: a leader column that holds names, not
// userids, would make every leader unknown; it is left out with a note.
func TestLeaderColumnOfNames(t *testing.T) {
	res := write(t, "直属上级", "张三", "李四")
	if strings.Contains(string(res.YAML), "direct_leader") {
		t.Errorf("a column of names mapped as direct_leader:\n%s", res.YAML)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "direct_leader is not mapped") {
		t.Errorf("notes: %v", res.Notes)
	}
	res = write(t, "直属上级", "E0", "E1", "")
	if !strings.Contains(string(res.YAML), "direct_leader: 直属上级") {
		t.Errorf("a column of userids should be direct_leader:\n%s", res.YAML)
	}
}

func TestYAMLStringReadsBack(t *testing.T) {
	for _, s := range []string{"总部", "CHANGE-ME", "yes", "No", "1", "0x1F", "1e3", "a: b", "#x", " lead", "-x", "帐号*", `"q"`, "a/b", "", "null", "~", "姓名（必填）"} {
		var got string
		if err := yaml.Unmarshal([]byte("k: "+yamlString(s)), &struct {
			K *string `yaml:"k"`
		}{&got}); err != nil {
			t.Errorf("%q written as %s: %v", s, yamlString(s), err)
			continue
		}
		if got != s {
			t.Errorf("%q written as %s reads back as %q", s, yamlString(s), got)
		}
	}
}
