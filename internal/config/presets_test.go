package config

import (
	"strings"
	"testing"
)

func presetJob(mapping string, extra ...string) string {
	return "wecom:\n  corp_id: ww-demo\njobs:\n  - name: j\n    source: {path: x.csv}\n" + strings.Join(extra, "") + "    mapping: " + mapping + "\n"
}

// TestPresets: every preset loads and validates; ordinary keys extend and
// override it; an unknown name is refused naming the known ones.
func TestPresets(t *testing.T) {
	for name := range presets {
		extra := ""
		if name == "wecom-batch" {
			extra = "    department_source: {path: d.csv}\n"
		}
		if _, err := Parse([]byte(presetJob("{preset: "+name+"}", extra))); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}

	c, err := Parse([]byte(presetJob(`{preset: wecom-console, fields: {userid: 工号, direct_leader: 直属上级}, departments: {strip_prefix: 示例科技}, status: {column: 状态, map: {在职: active, 离职: leaver}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Jobs[0].Mapping
	if f := m.Fields["userid"]; f.Column != "工号" || f.OneOf != nil {
		t.Errorf("userid should be the job's own column: %+v", f)
	}
	if f := m.Fields["direct_leader"]; f.Column != "直属上级" {
		t.Errorf("direct_leader added by the job: %+v", f)
	}
	if f := m.Fields["alias"]; f.Column != "别名" || !f.Optional {
		t.Errorf("alias from the preset: %+v", f)
	}
	if d := m.Departments; d.PathColumn != "部门" || d.Multi != ";" || d.StripPrefix != "示例科技" {
		t.Errorf("departments: %+v", d)
	}
	if m.Status == nil || m.Status.Column != "状态" {
		t.Errorf("status: %+v", m.Status)
	}

	// A department table in the job replaces the preset's path column.
	c, err = Parse([]byte(presetJob(`{preset: wecom-console, departments: {department_code_column: 部门编码, table: {id_column: id, parent_column: p, name_column: n}}}`, "    department_source: {path: d.csv}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Jobs[0].Mapping.Departments; d.PathColumn != "" || d.Table == nil || d.Multi != ";" {
		t.Errorf("departments with a table over the preset: %+v", d)
	}

	_, err = Parse([]byte(presetJob(`{preset: wecom-consol}`)))
	if err == nil || !strings.Contains(err.Error(), `"wecom-consol": unknown`) || !strings.Contains(err.Error(), "wecom-console") {
		t.Errorf("unknown preset: %v", err)
	}
}
