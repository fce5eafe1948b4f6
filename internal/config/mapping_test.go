package config

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/hrfeed/importer/internal/mapper"
)

// decodeStrict decodes a job's mapping key the way Parse does, and
// translates it.
func decodeStrict(src string) (mapper.Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	var m mapping
	err := dec.Decode(&m)
	return m.toMapper(), err
}

// named is a list of argument-free transforms.
func named(names ...string) []mapper.Transform {
	out := make([]mapper.Transform, len(names))
	for i, n := range names {
		out[i] = mapper.Transform{Name: n}
	}
	return out
}

func TestMappingYAML(t *testing.T) {
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
	want := mapper.Config{
		Fields: map[string]mapper.Field{
			"userid":    {Column: "工号"},
			"name":      {Column: "姓名", Transform: named("trim", "collapse_spaces")},
			"mobile":    {Column: "手机", Transform: named("mobile")},
			"gender":    {Column: "性别", Map: map[string]string{"男": "1", "女": "2"}},
			"to_invite": {Const: "false"},
			"email":     {Column: "邮箱"},
			"alias":     {Column: "邮箱"},
		},
		Status:      &mapper.Field{Column: "在职状态", Map: map[string]string{"在职": "active", "离职": "leaver"}, Default: "active"},
		Departments: mapper.DeptConfig{PathColumn: "部门", Separator: " > ", StripPrefix: "示例科技", Multi: ";", MaxDepth: 10, NameMax: 64},
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

func TestMappingYAMLErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown key in a field mapping", "fields:\n  name: {column: 姓名, defualt: x}\n", `line 2: field "defualt" not found in a field mapping`},
		{"unknown key at top level", "feilds: {}\n", "field feilds not found"},
		{"unknown key in departments", "departments: {path: 部门}\n", "field path not found"},
		{"field as a mapping of mappings", "fields:\n  name: {column: {a: b}}\n", "line 2: a column is a name or a list of its spellings"},
		{"empty list of spellings", "fields:\n  name: []\n", "line 2: a list of column names needs at least one"},
		{"transform not a list", "fields:\n  name: {column: 姓名, transform: {a: b}}\n", "cannot unmarshal"},
		{"unknown key in a transform mapping", "fields:\n  name: {column: 姓名, transform: [{regexp: x}]}\n", `line 2: field "regexp" not found in a transform mapping`},
		{"transform as a list in a list", "fields:\n  name: {column: 姓名, transform: [[trim]]}\n", "a transform is a name or a mapping"},
		{"unknown key in a web attribute", "extattr:\n  主页: {web: {link: x}}\n", `field "link" not found in a web attribute`},
		{"web beside a column", "extattr:\n  主页: {column: a, web: {url: b}}\n", "a web attribute holds only web"},
		{"web not a mapping", "extattr:\n  主页: {web: [url]}\n", "line 2: web is a mapping with url and title"},
		{"unknown key in the table", "departments: {table: {id: 编码}}\n", "field id not found"},
	}
	for _, tt := range tests {
		_, err := decodeStrict(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestMappingYAMLNewKeys(t *testing.T) {
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
	want := mapper.Config{
		Fields: map[string]mapper.Field{
			"userid":            {Column: "工号"},
			"name":              {Template: "{姓}{名}"},
			"email":             {Column: "邮箱", Transform: []mapper.Transform{{Name: "trim"}, {Regex: `\s+`}, {Name: "lower"}}},
			"biz_mail":          {Template: "{工号}@corp.example.com", Transform: named("lower")},
			"main_department":   {Column: "主部门编码"},
			"external_position": {Column: "对外职务", Default: "员工"},
			"is_leader":         {Column: "负责人", Map: map[string]string{"是": "1", "否": "0"}},
		},
		ExtAttr: map[string]mapper.AttrSource{
			"入职日期": {Field: mapper.Field{Column: "入职日期", Transform: named("date")}},
			"生日":   {Field: mapper.Field{Column: "生日", Transform: []mapper.Transform{{Date: "YYYY年M月D日"}}}},
			"转正日期": {Field: mapper.Field{Column: "转正日期", Transform: []mapper.Transform{{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YY", "01/02/2006"}}}}},
			"工位":   {Field: mapper.Field{Column: "工位号"}},
			"主页":   {Web: &mapper.WebSource{URL: mapper.Field{Template: "https://wiki.example.com/{工号}"}, Title: mapper.Field{Const: "个人主页"}}},
		},
		Departments: mapper.DeptConfig{
			Table:                &mapper.DeptTable{IDColumn: "部门编码", ParentColumn: "上级编码", NameColumn: "部门名称", OrderColumn: "排序", RootID: "1"},
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

// TestMappingReachesEveryField: every field of mapper.Config, and of the
// types it holds, is set by some key, so a field the mapper gains cannot be
// left out of the translation unnoticed. The mapping is not a valid one
// (path and table at once): it only has to set everything.
func TestMappingReachesEveryField(t *testing.T) {
	src := `
fields:
  userid: [帐号, 账号]
  alias: {column: 别名, optional: true}
  name: {template: "{姓}{名}", transform: [trim, {regex: '\s+', replace: " "}, {date: YYYY-MM-DD, formats: [MM/DD/YY]}]}
  gender: {const: "1", map: {男: "1"}, default: "2"}
status: 状态
extattr:
  工位: 工位号
  主页: {web: {url: 链接, title: {const: 主页}}}
departments:
  path_column: 部门
  separator: " > "
  strip_prefix: 示例科技
  multi: ";"
  max_depth: 10
  name_max: 64
  code_column: 部门编码
  table: {id_column: 编码, parent_column: 上级, name_column: 名称, order_column: 排序, root_id: "1"}
  department_code_column: 所属部门
tags:
  - {column: 项目, prefix: "项目-", separator: ";"}
  - {name: 外包, when: {column: 用工类型, equals: 外包}}
  - {name: 管理层, when: {column: 职级, in: [M1, M2]}}
on_unknown_leader: drop
max_direct_leaders: 5
`
	got, err := decodeStrict(src)
	if err != nil {
		t.Fatal(err)
	}
	var all []string // "Type.Field", each struct type once
	seen := map[reflect.Type]bool{}
	var fieldsOf func(reflect.Type)
	fieldsOf = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			fieldsOf(typ.Elem())
		case reflect.Struct:
			if seen[typ] {
				return
			}
			seen[typ] = true
			for f := range typ.Fields() {
				all = append(all, typ.Name()+"."+f.Name)
				fieldsOf(f.Type)
			}
		}
	}
	fieldsOf(reflect.TypeFor[mapper.Config]())

	set := map[string]bool{}
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, e := range v.Seq2() {
				walk(e)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if !v.Field(i).IsZero() {
					set[v.Type().Name()+"."+v.Type().Field(i).Name] = true
				}
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(got))
	for _, name := range all {
		if !set[name] {
			t.Errorf("mapper %s is set by no key of the mapping", name)
		}
	}
}
