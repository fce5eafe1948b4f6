package mapper

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/member"
)

func tagConfig(rules ...TagRule) Config {
	cfg := staffConfig()
	cfg.Tags = rules
	return cfg
}

var (
	byLocation = TagRule{Column: "工作地点", Prefix: "地点-"}
	byProject  = TagRule{Column: "项目", Separator: ";"}
	contractor = TagRule{Name: "外包", When: &TagCondition{Column: "用工类型", Equals: "外包"}}
	managers   = TagRule{Name: "管理层", When: &TagCondition{Column: "职级", In: []string{"M1", "M2"}}}
)

// tagRow is a valid staff row with the tag columns; kv overrides columns.
func tagRow(ref string, kv ...string) Row {
	r := staffRow(ref)
	for k, v := range map[string]string{"工作地点": "北京", "项目": "", "用工类型": "正式", "职级": "P5"} {
		r.Values[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Values[kv[i]] = kv[i+1]
	}
	return r
}

// TestTagRules: each rule gives the tags its row asks for, sorted and
// without repeats: a tag per value with its prefix, several values split
// by the separator and trimmed, a fixed tag where the condition matches.
func TestTagRules(t *testing.T) {
	tests := []struct {
		name string
		row  Row
		want []string
	}{
		{"a location", tagRow("s:2"), []string{"地点-北京"}},
		{"no location", tagRow("s:2", "工作地点", "  "), nil},
		{"several projects, trimmed, empty parts dropped", tagRow("s:2", "项目", " 凤凰 ;;天网; 凤凰"), []string{"凤凰", "地点-北京", "天网"}},
		{"contractor", tagRow("s:2", "用工类型", " 外包 "), []string{"地点-北京", "外包"}},
		{"manager by one of several grades", tagRow("s:2", "职级", "M2"), []string{"地点-北京", "管理层"}},
		{"no condition met", tagRow("s:2", "用工类型", "外包人员", "职级", "M3"), []string{"地点-北京"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tagConfig(byLocation, byProject, contractor, managers))
			m.Add(tt.row)
			dir := m.Directory()
			if len(dir.Rejects) > 0 || len(dir.Members) != 1 {
				t.Fatalf("rejects %v", dir.Rejects)
			}
			if !dir.TagsMapped {
				t.Error("TagsMapped is false with tag rules")
			}
			if diff := cmp.Diff(tt.want, dir.Members[0].Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTagNameTooLongRejectsTheRow: a value whose tag WeCom would refuse
// (over 32 characters with its prefix) rejects the row, naming the row,
// the column and the rule, and the row still names its member so the
// planner holds them, tags and all.
func TestTagNameTooLongRejectsTheRow(t *testing.T) {
	m := mustNew(t, tagConfig(byLocation))
	long := strings.Repeat("城", TagNameMax-len([]rune("地点-"))+1)
	m.Add(tagRow("s.csv:2", "工作地点", long))
	m.Add(tagRow("s.csv:3", "工号", "lisi", "手机", "13800000002", "邮箱", "lisi@example.com", "工作地点", strings.Repeat("城", TagNameMax-3)))
	dir := m.Directory()
	if len(dir.Rejects) != 1 {
		t.Fatalf("rejects %v, want the row with the long value", dir.Rejects)
	}
	r := dir.Rejects[0]
	if r.Ref != "s.csv:2" || r.Column != "工作地点" || r.Rule != RuleTagNameLength || r.UserID != "zhangsan" {
		t.Errorf("reject %+v, want s.csv:2, column 工作地点, rule %s, userid zhangsan", r, RuleTagNameLength)
	}
	if !strings.Contains(r.Message, "33 characters") {
		t.Errorf("message %q does not say how long the name is", r.Message)
	}
	if len(dir.Members) != 1 || len(dir.Members[0].Tags) != 1 {
		t.Errorf("members %+v, want lisi with the 32-character tag", dir.Members)
	}
}

// TestLeaverRowGivesNoTags: a leaver's row is read for its userid and
// status only, so a tag column cannot reject it, and it asks for no tag.
func TestLeaverRowGivesNoTags(t *testing.T) {
	m := mustNew(t, tagConfig(byLocation))
	m.Add(tagRow("s:2", "状态", "离职", "工作地点", strings.Repeat("城", 40)))
	dir := m.Directory()
	if len(dir.Rejects) != 0 || len(dir.Members) != 1 || dir.Members[0].Tags != nil {
		t.Errorf("rejects %v, members %+v", dir.Rejects, dir.Members)
	}
}

func TestNoTagRulesMapsNoTags(t *testing.T) {
	m := mustNew(t, staffConfig())
	m.Add(tagRow("s:2"))
	if dir := m.Directory(); dir.TagsMapped || dir.Members[0].Tags != nil {
		t.Errorf("TagsMapped %v, tags %v without tag rules", dir.TagsMapped, dir.Members[0].Tags)
	}
}

func TestTagRuleValidation(t *testing.T) {
	tests := []struct {
		rule TagRule
		want string
	}{
		{TagRule{}, "tags[0]: needs a column (a tag per value) or a name"},
		{TagRule{Column: "a", Name: "b"}, "give a column or a name, not both"},
		{TagRule{Name: "b", Prefix: "x"}, "prefix and separator are for a column's values"},
		{TagRule{Name: strings.Repeat("签", 33)}, "33 characters, WeCom allows 32 (40072)"},
		{TagRule{Name: "  "}, "needs a column"},
		{TagRule{Column: "a", Prefix: strings.Repeat("前", 32)}, "with a value it passes WeCom's 32"},
		{TagRule{Column: "a", Separator: " "}, "only spaces"},
		{TagRule{Name: "b", When: &TagCondition{Equals: "x"}}, "when: needs a column"},
		{TagRule{Name: "b", When: &TagCondition{Column: "c"}}, "when: give equals or in"},
		{TagRule{Name: "b", When: &TagCondition{Column: "c", Equals: "x", In: []string{"y"}}}, "when: give equals or in"},
	}
	for _, tt := range tests {
		err := tagConfig(tt.rule).Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want it to contain %q", tt.rule, err, tt.want)
		}
	}
	if err := tagConfig(byLocation, byProject, contractor, managers).Validate(); err != nil {
		t.Errorf("valid rules: %v", err)
	}
}

// TestTagColumnsAreChecked: the columns tag rules read, their conditions'
// included, are columns of the config, and a header without them is
// refused before any row is read.
func TestTagColumnsAreChecked(t *testing.T) {
	cfg := tagConfig(byLocation, contractor)
	cols := cfg.Columns()
	for _, c := range []string{"工作地点", "用工类型"} {
		if !strings.Contains(strings.Join(cols, ","), c) {
			t.Errorf("Columns %v lacks %s", cols, c)
		}
	}
	var header []string
	for _, c := range cols {
		if c != "用工类型" {
			header = append(header, c)
		}
	}
	if _, err := cfg.ForHeader(header); err == nil || !strings.Contains(err.Error(), `no column "用工类型"`) {
		t.Errorf("ForHeader = %v, want the condition's column missing", err)
	}
	if _, err := cfg.ForHeader(cols); err != nil {
		t.Errorf("ForHeader with every column: %v", err)
	}
}

// TestTagsAreNotPartOfTheDigest: a member's tags sit beside its record,
// so a row that only moves to another tag digests as before (the planner
// sends no user/update for it, and a job that adds tag rules does not
// re-send every member), and Edit keeps them.
func TestTagsAreNotPartOfTheDigest(t *testing.T) {
	plain := mustNew(t, staffConfig())
	plain.Add(tagRow("s:2"))
	tagged := mustNew(t, tagConfig(byLocation))
	tagged.Add(tagRow("s:2", "工作地点", "上海"))
	p, g := plain.Directory().Members[0], tagged.Directory().Members[0]
	if p.Digest() != g.Digest() {
		t.Errorf("tags %v changed the record's digest", g.Tags)
	}
	g.Edit(func(r *member.Record) { r.Position = "经理" })
	if diff := cmp.Diff([]string{"地点-上海"}, g.Tags); diff != "" {
		t.Errorf("tags after Edit (-want +got):\n%s", diff)
	}
}
