package mapper

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// decodeStrict decodes the way the lead's config loader does.
func decodeStrict(src string) (Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	var c Config
	err := dec.Decode(&c)
	return c, err
}

func TestConfigYAML(t *testing.T) {
	src := `
fields:
  userid: 工号
  name: {column: 姓名, transform: [trim, collapse_spaces]}
  mobile:
    column: 手机
    transform: [mobile]
  gender:
    column: 性别
    map: {男: 1, 女: "2"}
  to_invite: {const: "false"}
  email: &mail 邮箱
  alias: *mail
status:
  column: 在职状态
  map: {在职: active, 离职: leaver}
  default: active
departments:
  path_column: 部门
  separator: " > "
  strip_prefix: 示例科技
  multi: ";"
  max_depth: 10
  name_max: 64
`
	got, err := decodeStrict(src)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Fields: map[string]Field{
			"userid":    {Column: "工号"},
			"name":      {Column: "姓名", Transform: named("trim", "collapse_spaces")},
			"mobile":    {Column: "手机", Transform: named("mobile")},
			"gender":    {Column: "性别", Map: map[string]string{"男": "1", "女": "2"}},
			"to_invite": {Const: "false"},
			"email":     {Column: "邮箱"},
			"alias":     {Column: "邮箱"},
		},
		Status:      &Field{Column: "在职状态", Map: map[string]string{"在职": "active", "离职": "leaver"}, Default: "active"},
		Departments: DeptConfig{PathColumn: "部门", Separator: " > ", StripPrefix: "示例科技", Multi: ";", MaxDepth: 10, NameMax: 64},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded config (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if s := strings.Join(got.Columns(), ","); s != "在职状态,姓名,工号,性别,手机,邮箱,部门" {
		t.Errorf("Columns = %s", s)
	}
}

func TestConfigYAMLErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key in a field mapping", "fields:\n  name: {column: 姓名, defualt: x}\n", `line 2: field "defualt" not found in a field mapping`},
		{"unknown key at top level", "feilds: {}\n", "field feilds not found"},
		{"unknown key in departments", "departments: {path: 部门}\n", "field path not found"},
		{"field as a list", "fields:\n  name: [姓名]\n", "line 2: a field is a column name or a mapping"},
		{"transform not a list", "fields:\n  name: {column: 姓名, transform: {a: b}}\n", "cannot unmarshal"},
	}
	for _, tt := range tests {
		_, err := decodeStrict(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

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

func TestConfigYAMLNewKeys(t *testing.T) {
	src := `
fields:
  userid: 工号
  name: {template: "{姓}{名}"}
  email: {column: 邮箱, transform: [trim, {regex: '\s+', replace: ""}, lower]}
  biz_mail: {template: "{工号}@corp.example.com", transform: [lower]}
  main_department: 主部门编码
  external_position: {column: 对外职务, default: 员工}
  is_leader: {column: 负责人, map: {是: "1", 否: "0"}}
extattr:
  入职日期: {column: 入职日期, transform: [date]}
  生日: {column: 生日, transform: [{date: YYYY年M月D日}]}
  转正日期: {column: 转正日期, transform: [{date: YYYY-MM-DD, formats: [MM/DD/YY, "01/02/2006"]}]}
  工位: 工位号
  主页: {web: {url: {template: "https://wiki.example.com/{工号}"}, title: {const: 个人主页}}}
departments:
  table: {id_column: 部门编码, parent_column: 上级编码, name_column: 部门名称, order_column: 排序, root_id: "1"}
  department_code_column: 所属部门编码
  multi: ";"
`
	got, err := decodeStrict(src)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Fields: map[string]Field{
			"userid":            {Column: "工号"},
			"name":              {Template: "{姓}{名}"},
			"email":             {Column: "邮箱", Transform: []Transform{{Name: "trim"}, {Regex: `\s+`}, {Name: "lower"}}},
			"biz_mail":          {Template: "{工号}@corp.example.com", Transform: named("lower")},
			"main_department":   {Column: "主部门编码"},
			"external_position": {Column: "对外职务", Default: "员工"},
			"is_leader":         {Column: "负责人", Map: map[string]string{"是": "1", "否": "0"}},
		},
		ExtAttr: map[string]AttrSource{
			"入职日期": {Field: Field{Column: "入职日期", Transform: named("date")}},
			"生日":   {Field: Field{Column: "生日", Transform: []Transform{{Date: "YYYY年M月D日"}}}},
			"转正日期": {Field: Field{Column: "转正日期", Transform: []Transform{{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YY", "01/02/2006"}}}}},
			"工位":   {Field: Field{Column: "工位号"}},
			"主页":   {Web: &WebSource{URL: Field{Template: "https://wiki.example.com/{工号}"}, Title: Field{Const: "个人主页"}}},
		},
		Departments: DeptConfig{
			Table:                &DeptTable{IDColumn: "部门编码", ParentColumn: "上级编码", NameColumn: "部门名称", OrderColumn: "排序", RootID: "1"},
			DepartmentCodeColumn: "所属部门编码",
			Multi:                ";",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded config (-want +got):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if s := strings.Join(got.Columns(), ","); s != "主部门编码,入职日期,名,姓,对外职务,工位号,工号,所属部门编码,生日,负责人,转正日期,邮箱" {
		t.Errorf("Columns = %s", s)
	}
	if s := strings.Join(got.DepartmentColumns(), ","); s != "上级编码,排序,部门名称,部门编码" {
		t.Errorf("DepartmentColumns = %s", s)
	}
	if err := got.CheckDepartmentColumns([]string{"部门编码", "部门名称"}); err == nil || !strings.HasPrefix(err.Error(), `source has no column "上级编码", "排序"`) {
		t.Errorf("CheckDepartmentColumns = %v", err)
	}
}

func TestConfigYAMLNewKeyErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key in a transform mapping", "fields:\n  name: {column: 姓名, transform: [{regexp: x}]}\n", `line 2: field "regexp" not found in a transform mapping`},
		{"transform as a list in a list", "fields:\n  name: {column: 姓名, transform: [[trim]]}\n", "a transform is a name or a mapping"},
		{"unknown key in a web attribute", "extattr:\n  主页: {web: {link: x}}\n", `field "link" not found in a web attribute`},
		{"web beside a column", "extattr:\n  主页: {column: a, web: {url: b}}\n", "a web attribute holds only web"},
		{"unknown key in the table", "departments: {table: {id: 编码}}\n", "field id not found"},
	}
	for _, tt := range tests {
		_, err := decodeStrict(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
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
