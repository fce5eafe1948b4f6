package mapper

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/source"
)

// staffConfig maps the columns of a typical Chinese HR export.
func staffConfig() Config {
	yes := map[string]string{"是": "1", "否": "0"}
	return Config{
		Fields: map[string]Field{
			FieldUserID:       {Column: "工号", Transform: named("trim")},
			FieldName:         {Column: "姓名", Transform: named("collapse_spaces")},
			FieldAlias:        {Column: "英文名"},
			FieldMobile:       {Column: "手机", Transform: named("halfwidth", "mobile")},
			FieldEmail:        {Column: "邮箱", Transform: named("trim", "lower")},
			FieldPosition:     {Column: "职位"},
			FieldGender:       {Column: "性别", Map: map[string]string{"男": "1", "女": "2"}},
			FieldTelephone:    {Column: "座机"},
			FieldAddress:      {Column: "地址"},
			FieldEnable:       {Column: "启用", Map: yes},
			FieldIsLeader:     {Column: "负责人", Map: yes},
			FieldOrder:        {Column: "排序"},
			FieldDirectLeader: {Column: "上级"},
			FieldToInvite:     {Const: "false"},
		},
		Status:      &Field{Column: "状态", Map: map[string]string{"在职": "active", "试用": "active", "离职": "leaver"}, Default: "active"},
		Departments: DeptConfig{PathColumn: "部门", Multi: ";"},
	}
}

// staffRow is a valid row; kv overrides columns.
func staffRow(ref string, kv ...string) Row {
	v := map[string]string{
		"工号": "zhangsan", "姓名": "张三", "英文名": "", "手机": "13800000001", "邮箱": "zhangsan@example.com",
		"职位": "工程师", "性别": "男", "座机": "", "地址": "", "启用": "是", "负责人": "否", "排序": "",
		"上级": "", "状态": "在职", "部门": "总部/研发中心/后端组",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i]] = kv[i+1]
	}
	return Row{Ref: ref, Values: v}
}

func mustNew(t *testing.T, cfg Config) *Mapper {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func TestRowRules(t *testing.T) {
	tests := []struct {
		name   string
		cfg    func(*Config)
		row    Row
		rule   string
		column string
	}{
		{name: "valid", row: staffRow("s.csv:2")},
		{name: "ragged", row: Row{Ref: "s.csv:2", Values: map[string]string{"工号": "a"}, Problem: "row has 1 fields, header has 15"}, rule: "ragged_row"},
		{name: "encoding", row: Row{Ref: "s.csv:2", Values: staffRow("").Values, Problem: "invalid characters for encoding utf-8 in column 姓名", ProblemRule: source.RuleInvalidEncoding, ProblemColumn: "姓名"}, rule: "invalid_encoding", column: "姓名"},
		{name: "userid empty", row: staffRow("s.csv:2", "工号", "  "), rule: "userid_required", column: "工号"},
		{name: "userid long", row: staffRow("s.csv:2", "工号", strings.Repeat("a", 65)), rule: "userid_length", column: "工号"},
		{name: "userid 64 bytes ok", row: staffRow("s.csv:2", "工号", strings.Repeat("a", 64))},
		{name: "userid chars", row: staffRow("s.csv:2", "工号", "张三"), rule: "userid_format", column: "工号"},
		{name: "userid first char", row: staffRow("s.csv:2", "工号", "_abc"), rule: "userid_format", column: "工号"},
		{name: "userid with @ and .", row: staffRow("s.csv:2", "工号", "zhang.san@hq")},
		{name: "status unmapped", row: staffRow("s.csv:2", "状态", "停薪留职"), rule: "unmapped_value", column: "状态"},
		{name: "status bad const", cfg: func(c *Config) { c.Status = &Field{Column: "状态"} }, row: staffRow("s.csv:2", "状态", "在职"), rule: "status_value", column: "状态"},
		{name: "name empty", row: staffRow("s.csv:2", "姓名", "\u3000"), rule: "name_required", column: "姓名"},
		{name: "name 65 chars", row: staffRow("s.csv:2", "姓名", strings.Repeat("张", 65)), rule: "name_length", column: "姓名"},
		{name: "name 64 chars ok", row: staffRow("s.csv:2", "姓名", strings.Repeat("张", 64))},
		{name: "alias long", row: staffRow("s.csv:2", "英文名", strings.Repeat("a", 65)), rule: "alias_length", column: "英文名"},
		{name: "mobile letters", row: staffRow("s.csv:2", "手机", "138abc00001"), rule: "mobile_format", column: "手机"},
		{name: "mobile short", row: staffRow("s.csv:2", "手机", "1234"), rule: "mobile_format", column: "手机"},
		{name: "mobile fullwidth ok", row: staffRow("s.csv:2", "手机", "１３８-0000-0001")},
		{name: "email short", row: staffRow("s.csv:2", "邮箱", "a@b.c"), rule: "email_length", column: "邮箱"},
		{name: "email long", row: staffRow("s.csv:2", "邮箱", strings.Repeat("a", 60)+"@x.com"), rule: "email_length", column: "邮箱"},
		{name: "email no at", row: staffRow("s.csv:2", "邮箱", "zhangsan.example.com"), rule: "email_format", column: "邮箱"},
		{name: "email space", row: staffRow("s.csv:2", "邮箱", "zhang san@example.com"), rule: "email_format", column: "邮箱"},
		{name: "position long", row: staffRow("s.csv:2", "职位", strings.Repeat("职", 129)), rule: "position_length", column: "职位"},
		{name: "gender unmapped", row: staffRow("s.csv:2", "性别", "未知"), rule: "unmapped_value", column: "性别"},
		{name: "gender raw", cfg: func(c *Config) { c.Fields[FieldGender] = Field{Column: "性别"} }, row: staffRow("s.csv:2", "性别", "M"), rule: "gender_value", column: "性别"},
		{name: "telephone letters", row: staffRow("s.csv:2", "座机", "010-1234 ext 5"), rule: "telephone_format", column: "座机"},
		{name: "telephone long", row: staffRow("s.csv:2", "座机", strings.Repeat("1", 33)), rule: "telephone_format", column: "座机"},
		{name: "telephone ok", row: staffRow("s.csv:2", "座机", "+86-10-12345678,801")},
		{name: "address long", row: staffRow("s.csv:2", "地址", strings.Repeat("路", 129)), rule: "address_length", column: "地址"},
		{name: "enable raw", cfg: func(c *Config) { c.Fields[FieldEnable] = Field{Column: "启用"} }, row: staffRow("s.csv:2", "启用", "yes"), rule: "enable_value", column: "启用"},
		{name: "is_leader raw", cfg: func(c *Config) { c.Fields[FieldIsLeader] = Field{Column: "负责人"} }, row: staffRow("s.csv:2", "负责人", "2"), rule: "is_leader_value", column: "负责人"},
		{name: "order negative", row: staffRow("s.csv:2", "排序", "-1"), rule: "order_value", column: "排序"},
		{name: "order too big", row: staffRow("s.csv:2", "排序", "4294967296"), rule: "order_value", column: "排序"},
		{name: "to_invite raw", cfg: func(c *Config) { c.Fields[FieldToInvite] = Field{Const: "no"} }, row: staffRow("s.csv:2"), rule: "to_invite_value"},
		{name: "leader format", row: staffRow("s.csv:2", "上级", "lisi, 王五"), rule: "direct_leader_format", column: "上级"},
		{name: "leader self", row: staffRow("s.csv:2", "上级", "ZhangSan"), rule: "direct_leader_self", column: "上级"},
		{name: "leader count", row: staffRow("s.csv:2", "上级", "a1,a2;a3|a4，a5；a6"), rule: "direct_leader_count", column: "上级"},
		// Today's WeCom pages allow one direct leader; five where the corp's WeCom still takes them.
		{name: "two leaders by default", row: staffRow("s.csv:2", "上级", "a1,a2"), rule: "direct_leader_count", column: "上级"},
		{name: "two leaders with max_direct_leaders 5", cfg: func(c *Config) { c.MaxDirectLeaders = 5 }, row: staffRow("s.csv:2", "上级", "a1,a2")},
		{name: "dept missing", row: staffRow("s.csv:2", "部门", " "), rule: "department_missing", column: "部门"},
		{name: "dept only multi separators", row: staffRow("s.csv:2", "部门", ";;"), rule: "department_missing", column: "部门"},
		{name: "dept only prefix", cfg: func(c *Config) { c.Departments.StripPrefix = "总部" }, row: staffRow("s.csv:2", "部门", "总部"), rule: "department_missing", column: "部门"},
		{name: "dept empty segment", row: staffRow("s.csv:2", "部门", "总部//后端组"), rule: "department_name_empty", column: "部门"},
		{name: "dept colon", row: staffRow("s.csv:2", "部门", "总部/研发:一部"), rule: "department_name_chars", column: "部门"},
		{name: "dept pipe", row: staffRow("s.csv:2", "部门", "总部/A|B"), rule: "department_name_chars", column: "部门"},
		{name: "dept fullwidth pipe", row: staffRow("s.csv:2", "部门", "总部/A｜B"), rule: "department_name_chars", column: "部门"},
		{name: "dept slash in name with other separator", cfg: func(c *Config) { c.Departments.Separator = ">" }, row: staffRow("s.csv:2", "部门", "总部>A/B"), rule: "department_name_chars", column: "部门"},
		{name: "dept name 33 chars", row: staffRow("s.csv:2", "部门", "总部/"+strings.Repeat("部", 33)), rule: "department_name_length", column: "部门"},
		{name: "dept name 33 chars with name_max 64", cfg: func(c *Config) { c.Departments.NameMax = 64 }, row: staffRow("s.csv:2", "部门", "总部/"+strings.Repeat("部", 33))},
		{name: "dept depth 15", row: staffRow("s.csv:2", "部门", strings.Repeat("层/", 14)+"层"), rule: "department_depth", column: "部门"},
		{name: "dept depth 14 ok", row: staffRow("s.csv:2", "部门", strings.Repeat("层/", 13)+"层")},
		{name: "dept count", row: staffRow("s.csv:2", "部门", deptList(101)), rule: "department_count", column: "部门"},
		{name: "dept count 100 ok", row: staffRow("s.csv:2", "部门", deptList(100))},
		{name: "mobile and email empty", row: staffRow("s.csv:2", "手机", "", "邮箱", " "), rule: "mobile_or_email"},
		{name: "only email ok", row: staffRow("s.csv:2", "手机", "")},
		{name: "biz_mail short", cfg: withField(FieldBizMail, Field{Column: "企业邮箱"}), row: staffRow("s.csv:2", "企业邮箱", "a@b.c"), rule: "biz_mail_length", column: "企业邮箱"},
		{name: "biz_mail format", cfg: withField(FieldBizMail, Field{Column: "企业邮箱"}), row: staffRow("s.csv:2", "企业邮箱", "zhangsan@@corp.com"), rule: "biz_mail_format", column: "企业邮箱"},
		{name: "biz_mail alone is not mobile or email", cfg: withField(FieldBizMail, Field{Column: "企业邮箱"}), row: staffRow("s.csv:2", "企业邮箱", "zs@corp.com", "手机", "", "邮箱", ""), rule: "mobile_or_email"},
		{name: "external_position 13 chars", cfg: withField(FieldExternalPosition, Field{Column: "对外职务"}), row: staffRow("s.csv:2", "对外职务", strings.Repeat("经", 13)), rule: "external_position_length", column: "对外职务"},
		{name: "external_position 12 chars ok", cfg: withField(FieldExternalPosition, Field{Column: "对外职务"}), row: staffRow("s.csv:2", "对外职务", strings.Repeat("经", 12))},
		{name: "template column label", cfg: withField(FieldName, Field{Template: "{姓}{名}"}), row: staffRow("s.csv:2", "姓", "", "名", ""), rule: "name_required", column: "姓,名"},
		{name: "date in position", cfg: withField(FieldPosition, Field{Column: "职位", Transform: []Transform{{Date: "YYYY"}}}), row: staffRow("s.csv:2", "职位", "2024-13-01"), rule: "date_format", column: "职位"},
		{name: "extattr date", cfg: withAttr("入职日期", AttrSource{Field: Field{Column: "入职", Transform: []Transform{{Name: "date"}}}}), row: staffRow("s.csv:2", "入职", "01/05/2024"), rule: "date_format", column: "入职"},
		{name: "extattr text long", cfg: withAttr("备注", AttrSource{Field: Field{Column: "备注"}}), row: staffRow("s.csv:2", "备注", strings.Repeat("备", 65)), rule: "extattr_text_length", column: "备注"},
		{name: "extattr web url", cfg: withAttr("主页", webAttr()), row: staffRow("s.csv:2", "主页", "wiki.example.com/zs", "主页标题", "主页"), rule: "extattr_web_url", column: "主页"},
		{name: "extattr web title long", cfg: withAttr("主页", webAttr()), row: staffRow("s.csv:2", "主页", "https://wiki.example.com/zs", "主页标题", strings.Repeat("标", 13)), rule: "extattr_web_title_length", column: "主页标题"},
		{name: "extattr web url without title", cfg: withAttr("主页", webAttr()), row: staffRow("s.csv:2", "主页", "https://wiki.example.com/zs", "主页标题", ""), rule: "extattr_web_incomplete", column: "主页标题"},
		{name: "extattr web title without url clears", cfg: withAttr("主页", webAttr()), row: staffRow("s.csv:2", "主页", "", "主页标题", "主页")},
		{name: "extattr web both empty ok", cfg: withAttr("主页", webAttr()), row: staffRow("s.csv:2", "主页", "", "主页标题", "")},
		{name: "is_leader one per department ok", row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "负责人", "是;否")},
		{name: "is_leader count", row: staffRow("s.csv:2", "部门", "总部/A;总部/B;总部/C", "负责人", "是;否"), rule: "is_leader_count", column: "负责人"},
		{name: "is_leader part unmapped", row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "负责人", "是;不是"), rule: "unmapped_value", column: "负责人"},
		{name: "order count", row: staffRow("s.csv:2", "部门", "总部/A", "排序", "1;2"), rule: "order_count", column: "排序"},
		{name: "order part bad", row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "排序", "1;x"), rule: "order_value", column: "排序"},
		{name: "order trailing separators ok", row: staffRow("s.csv:2", "部门", "总部/A;总部/B;", "排序", "1;2;")},
		{name: "main_department not a member's", cfg: withField(FieldMainDepartment, Field{Column: "主部门"}), row: staffRow("s.csv:2", "主部门", "总部/研发中心"), rule: "main_department_not_member", column: "主部门"},
		{name: "main_department ok", cfg: withField(FieldMainDepartment, Field{Column: "主部门"}), row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "主部门", "/总部/B/")},
		{name: "code count", cfg: func(c *Config) { c.Departments.CodeColumn = "部门编码" }, row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "部门编码", "D1"), rule: "department_code_count", column: "部门编码"},
		{name: "code per department ok", cfg: func(c *Config) { c.Departments.CodeColumn = "部门编码" }, row: staffRow("s.csv:2", "部门", "总部/A;总部/B", "部门编码", "D1;")},
		{name: "code clashes with its own ancestor's path", cfg: func(c *Config) { c.Departments.CodeColumn = "部门编码" }, row: staffRow("s.csv:2", "部门", "总部/A", "部门编码", "总部"), rule: "department_code_conflict", column: "部门编码"},
		// The fixed order: the first failing rule wins.
		{name: "order of rules", row: staffRow("s.csv:2", "姓名", "", "手机", "x", "部门", ""), rule: "name_required", column: "姓名"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := staffConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			m := mustNew(t, cfg)
			m.Add(tt.row)
			d := m.Directory()
			if tt.rule == "" {
				if len(d.Rejects) != 0 || len(d.Members) != 1 {
					t.Fatalf("want the row accepted; rejects: %v", d.Rejects)
				}
				return
			}
			if len(d.Rejects) != 1 || len(d.Members) != 0 {
				t.Fatalf("want one reject and no member, got %d members, rejects %v", len(d.Members), d.Rejects)
			}
			r := d.Rejects[0]
			if r.Rule != tt.rule || r.Column != tt.column || r.Ref != tt.row.Ref {
				t.Errorf("reject = %s/%q/%s, want %s/%q/%s (%s)", r.Ref, r.Column, r.Rule, tt.row.Ref, tt.column, tt.rule, r.Message)
			}
			if r.Message == "" {
				t.Error("reject has no message")
			}
		})
	}
}

// withField adds or replaces a member field in the config.
func withField(name string, f Field) func(*Config) {
	return func(c *Config) { c.Fields[name] = f }
}

// withAttr adds an extattr to the config.
func withAttr(name string, a AttrSource) func(*Config) {
	return func(c *Config) { c.ExtAttr = map[string]AttrSource{name: a} }
}

func webAttr() AttrSource {
	return AttrSource{Web: &WebSource{URL: Field{Column: "主页"}, Title: Field{Column: "主页标题"}}}
}

func deptList(n int) string {
	paths := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("总部/组%d", i)
	}
	return strings.Join(paths, ";")
}

type rej struct{ Ref, Column, Rule string }

func rejects(d Directory) []rej {
	var out []rej
	for _, r := range d.Rejects {
		out = append(out, rej{r.Ref, r.Column, r.Rule})
	}
	return out
}

func userids(d Directory) []string {
	var out []string
	for _, m := range d.Members {
		out = append(out, m.UserID())
	}
	return out
}

// shown is a Member as a test compares it: its record decoded.
type shown struct {
	member.Record
	Leaver, LeaderKept bool
	Ref                string
}

var decoded = cmp.Transformer("Record", func(m Member) shown { return shown{*m.Record(), m.Leaver, m.LeaderKept, m.Ref} })

// desired is the Member holding r, as the mapper makes it.
func desired(r member.Record, ref string) Member {
	m := NewMember(r)
	m.Ref = ref
	return m
}

func leaderKept(m Member) Member { m.LeaderKept = true; return m }
func leaving(m Member) Member    { m.Leaver = true; return m }

func TestFeedRules(t *testing.T) {
	tests := []struct {
		name    string
		rows    []Row
		members []string
		rejects []rej
		message string // substring of the first reject's message
		leaders string // on_unknown_leader; "" is the default (keep)
	}{
		{
			name: "duplicate userid ignores case; later row loses",
			rows: []Row{
				staffRow("s.csv:2"),
				staffRow("s.csv:3", "工号", "ZhangSan", "手机", "13800000002", "邮箱", "z2@example.com"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:3", "工号", "duplicate_userid"}},
			message: `userid "ZhangSan" is already used by row s.csv:2`,
		},
		{
			name: "duplicate mobile after normalisation",
			rows: []Row{
				staffRow("s.csv:2"),
				staffRow("s.csv:3", "工号", "lisi", "手机", "+86 138-0000-0001", "邮箱", "lisi@example.com"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:3", "手机", "duplicate_mobile"}},
			message: "already used by row s.csv:2",
		},
		{
			name: "duplicate email ignores case",
			rows: []Row{
				staffRow("s.csv:2"),
				staffRow("s.csv:3", "工号", "lisi", "手机", "", "邮箱", "ZhangSan@Example.com"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:3", "邮箱", "duplicate_email"}},
		},
		{
			name: "a rejected row claims nothing",
			rows: []Row{
				staffRow("s.csv:2", "部门", ""),
				staffRow("s.csv:3"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:2", "部门", "department_missing"}},
		},
		{
			name: "unknown leader",
			rows: []Row{
				staffRow("s.csv:2", "上级", "nobody"),
			},
			rejects: []rej{{"s.csv:2", "上级", "unknown_leader"}},
			message: `direct leader "nobody" is not in this feed: no row has that userid`,
			leaders: LeaderReject,
		},
		{
			name:    "unknown leader kept by default: the member is applied",
			rows:    []Row{staffRow("s.csv:2", "上级", "nobody")},
			members: []string{"zhangsan"},
		},
		{
			name: "a leader who left does not sink the rows they led",
			rows: []Row{
				staffRow("s.csv:2", "工号", "boss", "状态", "离职"),
				staffRow("s.csv:3", "上级", "boss"),
				staffRow("s.csv:4", "工号", "c", "手机", "13800000004", "邮箱", "", "上级", "zhangsan"),
			},
			members: []string{"boss", "zhangsan", "c"},
			leaders: LeaderDrop,
		},
		{
			name: "leader defined later in the feed is fine",
			rows: []Row{
				staffRow("s.csv:2", "上级", "LiSi"),
				staffRow("s.csv:3", "工号", "lisi", "手机", "13800000002", "邮箱", "lisi@example.com"),
			},
			members: []string{"zhangsan", "lisi"},
		},
		{
			name: "rejecting a leader orphans the rows it leads, transitively",
			rows: []Row{
				staffRow("s.csv:2", "工号", "a", "手机", "13800000002", "邮箱", "", "上级", "b"),
				staffRow("s.csv:3", "工号", "b", "手机", "13800000003", "邮箱", "", "上级", "c"),
				staffRow("s.csv:4", "工号", "c", "手机", "13800000004", "邮箱", "", "上级", "ghost"),
				staffRow("s.csv:5", "工号", "d", "手机", "13800000005", "邮箱", ""),
			},
			members: []string{"d"},
			rejects: []rej{{"s.csv:2", "上级", "unknown_leader"}, {"s.csv:3", "上级", "unknown_leader"}, {"s.csv:4", "上级", "unknown_leader"}},
			message: `direct leader "b" was rejected`,
			leaders: LeaderReject,
		},
		{
			name: "leader who is a leaver",
			rows: []Row{
				staffRow("s.csv:2", "工号", "boss", "状态", "离职"),
				staffRow("s.csv:3", "上级", "boss"),
			},
			members: []string{"boss"},
			rejects: []rej{{"s.csv:3", "上级", "unknown_leader"}},
			message: "is a leaver (row s.csv:2)",
			leaders: LeaderReject,
		},
		{
			name: "leavers are checked only for userid and status",
			rows: []Row{
				staffRow("s.csv:2", "状态", "离职", "手机", "bad", "部门", "", "性别", "?"),
			},
			members: []string{"zhangsan"},
		},
		{
			name: "a leaver claims no mobile",
			rows: []Row{
				staffRow("s.csv:2", "工号", "old", "状态", "离职"),
				staffRow("s.csv:3"),
			},
			members: []string{"old", "zhangsan"},
		},
		{
			name: "an active row beats an earlier leaver row for the same userid",
			rows: []Row{
				staffRow("s.csv:2", "状态", "离职"),
				staffRow("s.csv:3", "状态", "在职"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:2", "工号", "duplicate_userid"}},
			message: "also on row s.csv:3, which is active",
		},
		{
			name: "a later leaver row loses to an active row",
			rows: []Row{
				staffRow("s.csv:2"),
				staffRow("s.csv:3", "状态", "离职"),
			},
			members: []string{"zhangsan"},
			rejects: []rej{{"s.csv:3", "工号", "duplicate_userid"}},
		},
		{
			name: "an active row that loses on mobile keeps the leaver",
			rows: []Row{
				staffRow("s.csv:2", "工号", "x", "手机", "13800000009", "邮箱", "x@example.com"),
				staffRow("s.csv:3", "状态", "离职"),
				staffRow("s.csv:4", "手机", "13800000009"),
			},
			members: []string{"x", "zhangsan"},
			rejects: []rej{{"s.csv:4", "手机", "duplicate_mobile"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := staffConfig()
			cfg.OnUnknownLeader = tt.leaders
			m := mustNew(t, cfg)
			for _, r := range tt.rows {
				m.Add(r)
			}
			d := m.Directory()
			if diff := cmp.Diff(tt.members, userids(d)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rejects, rejects(d)); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			if tt.message != "" && (len(d.Rejects) == 0 || !strings.Contains(d.Rejects[0].Message, tt.message)) {
				t.Errorf("first reject message = %v, want it to contain %q", d.Rejects, tt.message)
			}
			if d.Rows != len(tt.rows) {
				t.Errorf("Rows = %d, want %d", d.Rows, len(tt.rows))
			}
		})
	}
}

// TestDirectory maps a small Chinese staff list and compares the whole
// result, so any change to a field, the tree, or the order shows up.
func TestDirectory(t *testing.T) {
	cfg := staffConfig()
	cfg.Departments.StripPrefix = "示例科技有限公司"
	m := mustNew(t, cfg)
	rows := []Row{
		staffRow("staff.csv:2", "工号", "wangwu", "姓名", "王五", "手机", "+86 139 0000 0003", "邮箱", "WangWu@Example.com",
			"职位", "研发总监", "负责人", "是", "排序", "100", "部门", "示例科技有限公司/总部/研发中心"),
		staffRow("staff.csv:3", "工号", "zhangsan", "姓名", "张  三", "上级", "WangWu", "座机", "010-12345678",
			"部门", "总部/研发中心/后端组;总部/研发中心/前端组"),
		staffRow("staff.csv:5", "工号", "lisi", "姓名", "李四", "性别", "女", "手机", "", "邮箱", "lisi@example.com",
			"职位", "销售经理", "启用", "否", "部门", "/总部/销售部/华东区/"),
		staffRow("staff.csv:6", "工号", "zhaoliu", "姓名", "赵六", "手机", "13800000001", "邮箱", "zl@example.com",
			"部门", "总部/销售部/华南区"), // same mobile as zhangsan
		staffRow("staff.csv:7", "工号", "qianqi", "姓名", "钱七", "手机", "13800000007", "邮箱", "", "部门", "总部/法务部",
			"上级", "nobody"), // unknown leader: applied, direct_leader kept as WeCom has it
		staffRow("staff.csv:8", "工号", "sunba", "姓名", "孙八", "状态", "离职", "部门", "总部/行政部"),
	}
	for _, r := range rows {
		m.Add(r)
	}
	no := false
	want := Directory{
		Departments: []Department{
			{Key: "总部", Name: "总部", Depth: 1, Ref: "staff.csv:2"},
			{Key: "总部/研发中心", Name: "研发中心", ParentKey: "总部", Depth: 2, Ref: "staff.csv:2"},
			{Key: "总部/销售部", Name: "销售部", ParentKey: "总部", Depth: 2, Ref: "staff.csv:5"},
			{Key: "总部/法务部", Name: "法务部", ParentKey: "总部", Depth: 2, Ref: "staff.csv:7"},
			{Key: "总部/研发中心/后端组", Name: "后端组", ParentKey: "总部/研发中心", Depth: 3, Ref: "staff.csv:3"},
			{Key: "总部/研发中心/前端组", Name: "前端组", ParentKey: "总部/研发中心", Depth: 3, Ref: "staff.csv:3"},
			{Key: "总部/销售部/华东区", Name: "华东区", ParentKey: "总部/销售部", Depth: 3, Ref: "staff.csv:5"},
		},
		Members: []Member{
			desired(member.Record{UserID: "wangwu", Name: "王五", Mobile: "13900000003", Email: "wangwu@example.com",
				Position: "研发总监", Gender: "1", Enabled: true, IsLeader: []int{1}, Order: []uint32{100}, ToInvite: &no,
				DeptKeys: []string{"总部/研发中心"}}, "staff.csv:2"),
			desired(member.Record{UserID: "zhangsan", Name: "张 三", Mobile: "13800000001", Email: "zhangsan@example.com",
				Position: "工程师", Gender: "1", Telephone: "010-12345678", Enabled: true, IsLeader: []int{0, 0},
				DirectLeader: []string{"wangwu"}, ToInvite: &no, DeptKeys: []string{"总部/研发中心/后端组", "总部/研发中心/前端组"}}, "staff.csv:3"),
			desired(member.Record{UserID: "lisi", Name: "李四", Email: "lisi@example.com", Position: "销售经理", Gender: "2",
				IsLeader: []int{0}, ToInvite: &no, DeptKeys: []string{"总部/销售部/华东区"}}, "staff.csv:5"),
			leaderKept(desired(member.Record{UserID: "qianqi", Name: "钱七", Mobile: "13800000007", Position: "工程师", Gender: "1",
				IsLeader: []int{0}, Enabled: true, ToInvite: &no, DeptKeys: []string{"总部/法务部"}}, "staff.csv:7")),
			leaving(desired(member.Record{UserID: "sunba", Name: "孙八"}, "staff.csv:8")),
		},
		Rejects: []*RowError{
			{Ref: "staff.csv:6", Column: "手机", Rule: "duplicate_mobile", Message: `mobile "13800000001" is already used by row staff.csv:3`, UserID: "zhaoliu"},
		},
		Warnings: []*RowError{
			{Ref: "staff.csv:7", Column: "上级", Rule: "leader_kept", UserID: "qianqi",
				Message: `direct leader "nobody" is not in this feed: no row has that userid, and WeCom only accepts a leader who exists; the rest of the row is applied and direct_leader stays as WeCom has it (on_unknown_leader: keep)`},
		},
		Fields: []string{"userid", "name", "alias", "mobile", "email", "position", "gender",
			"telephone", "address", "enable", "is_leader", "order", "direct_leader", "to_invite"},
		Rows: 6,
	}
	got := m.Directory()
	if diff := cmp.Diff(want, got, decoded); diff != "" {
		t.Errorf("Directory (-want +got):\n%s", diff)
	}
	// Directory is a view: asking twice gives the same answer.
	if diff := cmp.Diff(got, m.Directory(), decoded); diff != "" {
		t.Errorf("second Directory differs:\n%s", diff)
	}
}

func TestTransforms(t *testing.T) {
	tests := []struct{ transform, in, want string }{
		{"trim", "  a b \t", "a b"},
		{"collapse_spaces", " 张\u3000\u3000三  丰 ", "张 三 丰"},
		{"lower", "ZhangSan", "zhangsan"},
		{"upper", "e001", "E001"},
		{"halfwidth", "１３８ＡＢ\u3000", "138AB "},
		{"mobile", "+86 138-0000-0001", "13800000001"},
		{"mobile", "0086 13800000001", "13800000001"},
		{"mobile", "+86 10 1234 5678", "+861012345678"}, // not a mobile: keeps its code
		{"mobile", "+852 9123 4567", "+85291234567"},
		{"mobile", "138 0000 0001", "13800000001"},
	}
	for _, tt := range tests {
		if got := transforms[tt.transform](tt.in); got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.transform, tt.in, got, tt.want)
		}
	}
}

func TestFieldValue(t *testing.T) {
	row := Row{Ref: "r:2", Values: map[string]string{"c": " 未知 ", "e": "  "}}
	tests := []struct {
		name string
		f    Field
		want string
		rule string
	}{
		{name: "default after map", f: Field{Column: "e", Transform: named("trim"), Map: map[string]string{"x": "1"}, Default: "d"}, want: "d"},
		{name: "map to empty takes default", f: Field{Column: "c", Transform: named("trim"), Map: map[string]string{"未知": ""}, Default: "0"}, want: "0"},
		{name: "unmapped", f: Field{Column: "c", Transform: named("trim"), Map: map[string]string{"男": "1"}}, rule: "unmapped_value"},
		{name: "map sees transformed value", f: Field{Column: "c", Map: map[string]string{"未知": "x"}}, rule: "unmapped_value"},
		{name: "const is transformed", f: Field{Const: " K ", Transform: named("trim", "lower")}, want: "k"},
		{name: "missing column reads empty", f: Field{Column: "nope", Default: "z"}, want: "z"},
	}
	for _, tt := range tests {
		got, rerr := mustField(t, tt.f).value(row)
		switch {
		case tt.rule != "":
			if rerr == nil || rerr.Rule != tt.rule || rerr.Column != tt.f.Column {
				t.Errorf("%s: err = %v, want rule %s", tt.name, rerr, tt.rule)
			}
		case rerr != nil || got != tt.want:
			t.Errorf("%s: value = %q, %v; want %q", tt.name, got, rerr, tt.want)
		}
	}
}

// named is a list of argument-free transforms.
func named(names ...string) []Transform {
	out := make([]Transform, len(names))
	for i, n := range names {
		out[i] = Transform{Name: n}
	}
	return out
}

func mustField(t *testing.T, f Field) *field {
	t.Helper()
	c, err := compileField("f", f)
	if err != nil {
		t.Fatalf("compileField: %v", err)
	}
	return c
}

func TestCodeColumn(t *testing.T) {
	cfg := staffConfig()
	cfg.Departments.CodeColumn = "部门编码"
	cfg.Fields[FieldMainDepartment] = Field{Column: "主部门"}
	row := func(line int, path, code string, kv ...string) Row {
		id := fmt.Sprintf("u%d", line)
		return staffRow(fmt.Sprintf("s.csv:%d", line), append([]string{"工号", id, "手机", fmt.Sprintf("138%08d", line), "邮箱", id + "@example.com",
			"部门", path, "部门编码", code}, kv...)...)
	}
	m := mustNew(t, cfg)
	for _, r := range []Row{
		row(2, "总部/研发中心/后端组", "D42"),
		row(3, "总部/研发中心", "D10"),     // codes an ancestor of row 2's path
		row(4, "总部/研发中心/后端组", ""),    // uncoded: takes D42
		row(5, "总部/研发中心/后端组", "D43"), // the path already has D42
		row(6, "总部/销售部", "D42"),      // D42 is already 后端组
		row(7, "总部/D10", ""),         // the path key "总部/D10" is fine...
		row(8, "D10", ""),            // ...but a top-level "D10" would share D10's key
		row(9, "总部/销售部;总部/研发中心/前端组", ";D44", "主部门", "总部/研发中心/前端组"), // second path coded only
	} {
		m.Add(r)
	}
	d := m.Directory()
	var deps []string
	for _, dep := range d.Departments {
		deps = append(deps, dep.Key+"<"+dep.ParentKey+":"+dep.Name)
	}
	wantDeps := []string{"总部<:总部", "D10<总部:研发中心", "总部/D10<总部:D10", "总部/销售部<总部:销售部", "D42<D10:后端组", "D44<D10:前端组"}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("departments (-want +got):\n%s", diff)
	}
	var keys []string
	for _, mem := range d.Members {
		r := mem.Record()
		keys = append(keys, r.UserID+"="+strings.Join(r.DeptKeys, ",")+"^"+r.MainDept)
	}
	wantKeys := []string{"u2=D42^", "u3=D10^", "u4=D42^", "u7=总部/D10^", "u9=总部/销售部,D44^D44"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantRejects := []rej{
		{"s.csv:5", "部门编码", "department_code_conflict"},
		{"s.csv:6", "部门编码", "department_code_conflict"},
		{"s.csv:8", "部门编码", "department_code_conflict"},
	}
	if diff := cmp.Diff(wantRejects, rejects(d)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	for i, want := range []string{`department "总部/研发中心/后端组" already has code "D42" on row s.csv:2`, `code "D42" is already department "总部/研发中心/后端组" on row s.csv:2`, `department path "D10" is also the code of department "总部/研发中心" (row s.csv:3)`} {
		if i < len(d.Rejects) && !strings.Contains(d.Rejects[i].Message, want) {
			t.Errorf("reject %d message = %q, want it to contain %q", i, d.Rejects[i].Message, want)
		}
	}
}

func TestLeaderMessages(t *testing.T) {
	cfg := staffConfig()
	cfg.OnUnknownLeader = LeaderReject
	cfg.Fields[FieldBizMail] = Field{Template: "{工号}@corp.example.com"}
	m := mustNew(t, cfg)
	for _, r := range []Row{
		staffRow("s.csv:2", "工号", "boss", "手机", "bad"),
		staffRow("s.csv:3", "上级", "BOSS"),
		staffRow("s.csv:4", "工号", "Zhangsan", "手机", "13800000009", "邮箱", "z9@example.com"),
	} {
		m.Add(r)
	}
	d := m.Directory()
	want := []rej{{"s.csv:2", "手机", "mobile_format"}, {"s.csv:3", "上级", "unknown_leader"}, {"s.csv:4", "工号", "duplicate_userid"}}
	if diff := cmp.Diff(want, rejects(d)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if msg := d.Rejects[1].Message; msg != `direct leader "BOSS" is on row s.csv:2, which was rejected (mobile_format)` {
		t.Errorf("message = %q", msg)
	}

	// biz_mail is unique like email, ignoring case.
	cfg.Fields[FieldBizMail] = Field{Column: "企业邮箱"}
	m = mustNew(t, cfg)
	m.Add(staffRow("s.csv:2", "企业邮箱", "zs@corp.example.com"))
	m.Add(staffRow("s.csv:3", "工号", "lisi", "手机", "13800000002", "邮箱", "lisi@example.com", "企业邮箱", "ZS@corp.example.com"))
	if diff := cmp.Diff([]rej{{"s.csv:3", "企业邮箱", "duplicate_biz_mail"}}, rejects(m.Directory())); diff != "" {
		t.Errorf("biz_mail rejects (-want +got):\n%s", diff)
	}
}

// TestLeaderPolicies: what each on_unknown_leader setting makes of a row
// whose leader left, and of the row led by that row.
func TestLeaderPolicies(t *testing.T) {
	rows := []Row{
		staffRow("s.csv:2", "工号", "boss", "状态", "离职"),
		staffRow("s.csv:3", "上级", "boss"),
		staffRow("s.csv:4", "工号", "c", "手机", "13800000004", "邮箱", "", "上级", "zhangsan"),
	}
	for _, tt := range []struct {
		policy   string
		members  []string
		kept     bool
		leaders  []string // zhangsan's direct_leader
		warnings []rej
		rejects  []rej
	}{
		{policy: "", members: []string{"boss", "zhangsan", "c"}, kept: true,
			warnings: []rej{{"s.csv:3", "上级", RuleLeaderKept}}},
		{policy: LeaderDrop, members: []string{"boss", "zhangsan", "c"},
			warnings: []rej{{"s.csv:3", "上级", RuleLeaderDropped}}},
		{policy: LeaderReject, members: []string{"boss"},
			rejects: []rej{{"s.csv:3", "上级", RuleUnknownLeader}, {"s.csv:4", "上级", RuleUnknownLeader}}},
	} {
		t.Run("policy="+tt.policy, func(t *testing.T) {
			cfg := staffConfig()
			cfg.OnUnknownLeader = tt.policy
			m := mustNew(t, cfg)
			for _, r := range rows {
				m.Add(r)
			}
			d := m.Directory()
			if diff := cmp.Diff(tt.members, userids(d)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rejects, rejects(d)); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			var warns []rej
			for _, w := range d.Warnings {
				warns = append(warns, rej{w.Ref, w.Column, w.Rule})
				if w.UserID != "zhangsan" {
					t.Errorf("warning names %q, want zhangsan", w.UserID)
				}
			}
			if diff := cmp.Diff(tt.warnings, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			for _, mem := range d.Members {
				leaders := mem.Record().DirectLeader
				switch mem.UserID() {
				case "zhangsan":
					if mem.LeaderKept != tt.kept || len(leaders) != 0 {
						t.Errorf("zhangsan: LeaderKept %v direct_leader %v, want %v and none", mem.LeaderKept, leaders, tt.kept)
					}
				case "c":
					if mem.LeaderKept || !slices.Equal(leaders, []string{"zhangsan"}) {
						t.Errorf("c: LeaderKept %v direct_leader %v, want its leader zhangsan", mem.LeaderKept, leaders)
					}
				}
			}
			for _, r := range d.Rejects {
				if r.UserID == "" {
					t.Errorf("reject %s names no userid", r.Ref)
				}
			}
		})
	}
}

// TestSeparatorInFewRows: a column of single department names where one
// name holds the separator (IT/IS) is warned about, naming that row; a
// path column with a root department among nested paths is not.
func TestSeparatorInFewRows(t *testing.T) {
	feed := func(depts ...string) Directory {
		m := mustNew(t, staffConfig())
		for i, d := range depts {
			n := strconv.Itoa(i + 2)
			m.Add(staffRow("s.csv:"+n, "工号", "u"+n, "手机", "1380000000"+n, "邮箱", "u"+n+"@example.com", "部门", d))
		}
		return m.Directory()
	}
	d := feed("销售部", "财务部", "IT/IS", "销售部", "行政部")
	if len(d.Warnings) != 1 {
		t.Fatalf("warnings %+v, want one separator warning", d.Warnings)
	}
	w := d.Warnings[0]
	if w.Ref != "s.csv:4" || w.Column != "部门" || w.Rule != RuleSeparatorInFewRows || w.UserID != "u4" ||
		!strings.Contains(w.Message, `"IT/IS" is split at "/"`) || !strings.Contains(w.Message, "only 1 of 5 rows") {
		t.Errorf("warning %+v", w)
	}
	if len(d.Rejects) != 0 || len(d.Members) != 5 {
		t.Errorf("a warning must not hold anyone: %d members, rejects %v", len(d.Members), d.Rejects)
	}
	for _, depts := range [][]string{
		{"总部", "总部/研发中心", "总部/研发中心/后端组", "总部/财务部"}, // a root among paths
		{"销售部", "财务部", "行政部"},                      // names only
	} {
		if d := feed(depts...); len(d.Warnings) != 0 {
			t.Errorf("%v: warnings %+v, want none", depts, d.Warnings)
		}
	}
}

// TestTextsRoundTrip: an entry's packed values come back as they went in,
// empty ones and ones long enough for a multi-byte length included, and
// the leaders after them, in one allocation of the bytes they need.
func TestTextsRoundTrip(t *testing.T) {
	m := &Mapper{text: member.TextFields[:4]}
	vals := map[string]string{}
	lengths := []int{0, 127, 128, 20000}
	for i, f := range m.text {
		vals[f.Name] = strings.Repeat("值", lengths[i]/3) + strings.Repeat("x", lengths[i]%3)
	}
	leaders := []string{"boss", strings.Repeat("L", 200)}
	e := &entry{text: m.texts(vals, leaders...)}
	want := 0
	for i, f := range m.text {
		if got := m.textOf(e, f.Name); got != vals[f.Name] {
			t.Errorf("%s: %d bytes back, want %d", f.Name, len(got), lengths[i])
		}
		want += len(vals[f.Name]) + len(binary.AppendUvarint(nil, uint64(len(vals[f.Name]))))
	}
	if got := m.leaders(e); !slices.Equal(got, leaders) {
		t.Errorf("leaders %q, want %q", got, leaders)
	}
	for _, l := range leaders {
		want += len(l) + len(binary.AppendUvarint(nil, uint64(len(l))))
	}
	if len(e.text) != want {
		t.Errorf("packed %d bytes, want %d", len(e.text), want)
	}
	if n := testing.AllocsPerRun(10, func() { m.texts(vals, leaders...) }); n != 1 {
		t.Errorf("texts made %v allocations, want 1", n)
	}
	if got := m.leaders(&entry{text: m.texts(vals)}); got != nil {
		t.Errorf("no leaders packed, got %q", got)
	}
}
