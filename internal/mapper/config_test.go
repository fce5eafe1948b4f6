package mapper

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	base := func() Config {
		return Config{
			Fields:      map[string]Field{"userid": {Column: "工号"}, "name": {Column: "姓名"}, "mobile": {Column: "手机"}},
			Departments: DeptConfig{PathColumn: "部门"},
		}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   []string // every line of the joined error, in order
	}{
		{"ok", func(*Config) {}, nil},
		{"unknown fields are listed sorted", func(c *Config) {
			c.Fields["wechat"] = Field{Column: "x"}
			c.Fields["dept"] = Field{Column: "y"}
		}, []string{
			"fields.dept: unknown member field (want one of userid, name, alias, mobile, email, biz_mail, position, gender, telephone, address, external_position, nickname, enable, is_leader, order, main_department, direct_leader, to_invite)",
			"fields.wechat: unknown member field (want one of userid, name, alias, mobile, email, biz_mail, position, gender, telephone, address, external_position, nickname, enable, is_leader, order, main_department, direct_leader, to_invite)",
		}},
		{"missing userid, name and path", func(c *Config) {
			delete(c.Fields, "userid")
			delete(c.Fields, "name")
			c.Departments.PathColumn = " "
		}, []string{"fields.userid: required", "fields.name: required", "departments.path_column: required (or departments.table)"}},
		{"neither mobile nor email", func(c *Config) { delete(c.Fields, "mobile") },
			[]string{"fields: map mobile or email: WeCom rejects a member with neither (60129)"}},
		{"field with neither column nor const", func(c *Config) { c.Fields["email"] = Field{Default: "x"} },
			[]string{"fields.email: needs a column, a const or a template"}},
		{"field with both column and const", func(c *Config) { c.Fields["email"] = Field{Column: "a", Const: "b"} },
			[]string{`fields.email: give only one of column "a", const "b" and template ""; use default for a fallback`}},
		{"unknown transform", func(c *Config) { c.Fields["name"] = Field{Column: "姓名", Transform: named("trim", "title")} },
			[]string{`fields.name: unknown transform "title" (want trim, collapse_spaces, lower, upper, halfwidth, mobile, date, or a mapping with regex/replace or date)`}},
		{"enum map and default", func(c *Config) {
			c.Fields["gender"] = Field{Column: "性别", Map: map[string]string{"男": "M", "女": "2", "?": ""}, Default: "0"}
		}, []string{`fields.gender: map "男": "M": want one of 1, 2`, `fields.gender: default "0": want one of 1, 2`}},
		{"status map", func(c *Config) { c.Status = &Field{Column: "状态", Map: map[string]string{"离职": "left"}} },
			[]string{`status: map "离职": "left": want one of active, leaver`}},
		{"status without source", func(c *Config) { c.Status = &Field{} }, []string{"status: needs a column, a const or a template"}},
		{"departments limits", func(c *Config) {
			c.Departments.MaxDepth = 15
			c.Departments.NameMax = 65
			c.Departments.Multi = "/"
		}, []string{
			`departments.multi: "/" is also the path separator`,
			"departments.max_depth: 15: want 1 to 14 (WeCom allows 15 levels counting the root)",
			"departments.name_max: 65: want 1 to 64",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
			_, nerr := New(c)
			if (nerr == nil) != (err == nil) {
				t.Errorf("New error = %v, Validate error = %v", nerr, err)
			}
		})
	}
}

func TestCheckColumns(t *testing.T) {
	c := staffConfig()
	header := []string{"工号", "姓名", "英文名", "手机", "邮箱", "职位", "性别", "座机", "地址", "启用", "负责人", "排序", "上级", "状态", "部门"}
	if err := c.CheckColumns(header); err != nil {
		t.Fatalf("CheckColumns: %v", err)
	}
	err := c.CheckColumns([]string{"工号", "姓名"})
	if err == nil || !strings.HasPrefix(err.Error(), `source has no column "上级", "启用"`) {
		t.Fatalf("CheckColumns = %v", err)
	}

	// A header of a thousand columns, none of them the mapped ones, is
	// named by its first few.
	wide := make([]string, 1000)
	for i := range wide {
		wide[i] = fmt.Sprintf("column %d with a long title", i)
	}
	err = c.CheckColumns(wide)
	if err == nil || len(err.Error()) > 1000 || !strings.Contains(err.Error(), `"column 9 with a long title", … and 990 more)`) {
		t.Fatalf("CheckColumns = %v (%d bytes)", err, len(err.Error()))
	}
}

func TestValidateNewKeys(t *testing.T) {
	base := func() Config {
		return Config{
			Fields:      map[string]Field{"userid": {Column: "工号"}, "name": {Column: "姓名"}, "mobile": {Column: "手机"}},
			Departments: DeptConfig{PathColumn: "部门"},
		}
	}
	table := func(c *Config) {
		c.Departments = DeptConfig{Table: &DeptTable{IDColumn: "编码", ParentColumn: "上级", NameColumn: "名称"}, DepartmentCodeColumn: "部门编码"}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"table ok", table, nil},
		{"table needs its columns and a member code column", func(c *Config) {
			c.Departments = DeptConfig{Table: &DeptTable{IDColumn: "编码"}}
		}, []string{
			"departments.table.parent_column: required",
			"departments.table.name_column: required",
			"departments.department_code_column: required with departments.table",
		}},
		{"path keys with a table", func(c *Config) {
			table(c)
			c.Departments.PathColumn = "部门"
			c.Departments.CodeColumn = "x"
		}, []string{
			"departments.path_column: only for a path column; with departments.table members name departments by department_code_column",
			"departments.code_column: only for a path column; with departments.table members name departments by department_code_column",
		}},
		{"department_code_column without a table", func(c *Config) { c.Departments.DepartmentCodeColumn = "x" },
			[]string{"departments.department_code_column: only with departments.table; in path mode use code_column"}},
		{"bad regex and template", func(c *Config) {
			c.Fields["name"] = Field{Template: "{姓", Transform: []Transform{{Regex: "[a-"}}}
		}, []string{
			`fields.name: template "{姓": unclosed { at byte 0`,
			"fields.name: transform {regex: \"[a-\", replace: \"\"}: error parsing regexp: missing closing ]: `[a-`",
		}},
		{"column and template", func(c *Config) { c.Fields["name"] = Field{Column: "姓名", Template: "{姓}"} },
			[]string{`fields.name: give only one of column "姓名", const "" and template "{姓}"; use default for a fallback`}},
		{"extattr problems", func(c *Config) {
			c.ExtAttr = map[string]AttrSource{
				"":   {Field: Field{Column: "x"}},
				"主页": {Web: &WebSource{URL: Field{Column: "u"}}},
				"备注": {Field: Field{Column: "b", Transform: []Transform{{Date: "DD/MM"}, {Name: "titlecase"}}}},
			}
		}, []string{
			"extattr: an attribute needs a name",
			"extattr.主页.web.title: needs a column, a const or a template",
			`extattr.备注: unknown transform "titlecase" (want trim, collapse_spaces, lower, upper, halfwidth, mobile, date, or a mapping with regex/replace or date)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestForHeader: a field with several spellings reads the one the header
// has; an optional field the header lacks is left out (WeCom keeps its
// value), where a required one fails naming all its spellings; the
// mapper refuses a config whose spellings were never resolved.
func TestForHeader(t *testing.T) {
	c := Config{
		Fields: map[string]Field{
			FieldUserID: {OneOf: []string{"帐号", "账号"}},
			FieldName:   {Column: "姓名"},
			FieldMobile: {Column: "手机"},
			FieldAlias:  {Column: "别名", Optional: true},
			FieldEmail:  {OneOf: []string{"个人邮箱", "邮箱"}, Optional: true},
		},
		Departments: DeptConfig{PathColumn: "部门"},
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "ForHeader") {
		t.Errorf("New of an unresolved config: %v", err)
	}
	got, err := c.ForHeader([]string{"姓名", "账号", "手机", "部门", "邮箱"})
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Fields[FieldUserID]; f.Column != "账号" || f.OneOf != nil {
		t.Errorf("userid: %+v, want column 账号", f)
	}
	if f := got.Fields[FieldEmail]; f.Column != "邮箱" {
		t.Errorf("email: %+v, want column 邮箱", f)
	}
	if _, ok := got.Fields[FieldAlias]; ok {
		t.Error("alias is mapped although the header has no 别名")
	}
	if len(c.Fields[FieldUserID].OneOf) != 2 {
		t.Error("ForHeader changed the config it was called on")
	}
	m, err := New(got)
	if err != nil {
		t.Fatal(err)
	}
	m.Add(Row{Ref: "a.xlsx!3", Values: map[string]string{"姓名": "张三", "账号": "zhangsan", "手机": "13800000001", "部门": "研发部", "邮箱": ""}})
	d := m.Directory()
	if len(d.Members) != 1 || d.Members[0].UserID() != "zhangsan" || slices.Contains(d.Fields, FieldAlias) {
		t.Fatalf("directory: %+v", d)
	}

	_, err = c.ForHeader([]string{"姓名", "手机"})
	if err == nil || !strings.HasPrefix(err.Error(), `source has no column "帐号" or "账号", "部门"`) {
		t.Errorf("ForHeader of a header without userid or departments: %v", err)
	}
}
