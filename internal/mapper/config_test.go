package mapper

import (
	"bytes"
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
			"name":      {Column: "姓名", Transform: []string{"trim", "collapse_spaces"}},
			"mobile":    {Column: "手机", Transform: []string{"mobile"}},
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
			"fields.dept: unknown member field (want one of userid, name, alias, mobile, email, position, gender, telephone, address, enable, is_leader, order, direct_leader, to_invite)",
			"fields.wechat: unknown member field (want one of userid, name, alias, mobile, email, position, gender, telephone, address, enable, is_leader, order, direct_leader, to_invite)",
		}},
		{"missing userid, name and path", func(c *Config) {
			delete(c.Fields, "userid")
			delete(c.Fields, "name")
			c.Departments.PathColumn = " "
		}, []string{"fields.userid: required", "fields.name: required", "departments.path_column: required"}},
		{"neither mobile nor email", func(c *Config) { delete(c.Fields, "mobile") },
			[]string{"fields: map mobile or email: WeCom rejects a member with neither (60129)"}},
		{"field with neither column nor const", func(c *Config) { c.Fields["email"] = Field{Default: "x"} },
			[]string{"fields.email: needs a column or a const"}},
		{"field with both column and const", func(c *Config) { c.Fields["email"] = Field{Column: "a", Const: "b"} },
			[]string{`fields.email: has both column "a" and const "b"; use default for a fallback`}},
		{"unknown transform", func(c *Config) { c.Fields["name"] = Field{Column: "姓名", Transform: []string{"trim", "title"}} },
			[]string{`fields.name: unknown transform "title" (want trim, collapse_spaces, lower, upper, halfwidth or mobile)`}},
		{"enum map and default", func(c *Config) {
			c.Fields["gender"] = Field{Column: "性别", Map: map[string]string{"男": "M", "女": "2", "?": ""}, Default: "0"}
		}, []string{`fields.gender: map "男": "M": want one of 1, 2`, `fields.gender: default "0": want one of 1, 2`}},
		{"status map", func(c *Config) { c.Status = &Field{Column: "状态", Map: map[string]string{"离职": "left"}} },
			[]string{`status: map "离职": "left": want one of active, leaver`}},
		{"status without source", func(c *Config) { c.Status = &Field{} }, []string{"status: needs a column or a const"}},
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
}
