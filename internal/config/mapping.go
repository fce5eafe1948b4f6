package config

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hrfeed/importer/internal/mapper"
)

// mapping is a job's mapping key as the file spells it. What each setting
// means, and the checks of the whole (Config.Validate), are the mapper's:
// this type only reads the YAML, and toMapper translates it.
type mapping struct {
	// Preset starts the mapping from one of WeCom's own file formats
	// (presets.go); the keys below extend or override it.
	Preset           string                `yaml:"preset"`
	Fields           map[string]field      `yaml:"fields"`
	Departments      departments           `yaml:"departments"`
	Status           *field                `yaml:"status"`
	ExtAttr          map[string]attrSource `yaml:"extattr"`
	Tags             []tagRule             `yaml:"tags"`
	OnUnknownLeader  string                `yaml:"on_unknown_leader"`
	MaxDirectLeaders int                   `yaml:"max_direct_leaders"`
}

// departments is mapping.departments (mapper.DeptConfig).
type departments struct {
	PathColumn           string           `yaml:"path_column"`
	Separator            string           `yaml:"separator"`
	StripPrefix          string           `yaml:"strip_prefix"`
	Multi                string           `yaml:"multi"`
	MaxDepth             int              `yaml:"max_depth"`
	NameMax              int              `yaml:"name_max"`
	CodeColumn           string           `yaml:"code_column"`
	Table                *departmentTable `yaml:"table"`
	DepartmentCodeColumn string           `yaml:"department_code_column"`
}

// departmentTable is mapping.departments.table: mapper.DeptTable with the
// file's names for its fields. The two have the same fields in the same
// order, so the conversion in toMapper stops compiling when they drift.
type departmentTable struct {
	IDColumn     string `yaml:"id_column"`
	ParentColumn string `yaml:"parent_column"`
	NameColumn   string `yaml:"name_column"`
	OrderColumn  string `yaml:"order_column"`
	RootID       string `yaml:"root_id"`
}

// tagRule is a mapper.TagRule:
//
//	tags:
//	  - {column: 工作地点, prefix: "地点-"}
//	  - {column: 项目, separator: ";"}
//	  - {name: 外包, when: {column: 用工类型, equals: 外包}}
//	  - {name: 管理层, when: {column: 职级, in: [M1, M2, M3]}}
type tagRule struct {
	Column    string        `yaml:"column"`
	Prefix    string        `yaml:"prefix"`
	Separator string        `yaml:"separator"`
	Name      string        `yaml:"name"`
	When      *tagCondition `yaml:"when"`
}

// tagCondition is mapper.TagCondition, field for field, so the
// conversion in toMapper stops compiling when the two drift.
type tagCondition struct {
	Column string   `yaml:"column"`
	Equals string   `yaml:"equals"`
	In     []string `yaml:"in"`
}

// field is a mapper.Field: either a mapping or, for the common case, a
// plain scalar naming the column, or a list of the column's spellings:
//
//	name: 姓名
//	userid: [帐号, 账号]
//	name: {template: "{姓}{名}"}
//	gender: {column: 性别, transform: [trim], map: {男: "1", 女: "2"}}
//	alias: {column: 别名, optional: true}
type field struct {
	Column    columnNames       `yaml:"column"`
	Optional  bool              `yaml:"optional"`
	Const     string            `yaml:"const"`
	Template  string            `yaml:"template"`
	Transform []transform       `yaml:"transform"`
	Map       map[string]string `yaml:"map"`
	Default   string            `yaml:"default"`
}

// fieldKeys are the keys a field mapping may hold. UnmarshalYAML checks
// them itself because yaml.Node.Decode ignores the caller's KnownFields:
// without this a typo such as "defualt" would be dropped silently.
var fieldKeys = []string{"column", "optional", "const", "template", "transform", "map", "default"}

// columnNames is a column, or several spellings of one: the field reads
// the first the source's header has.
type columnNames []string

// UnmarshalYAML accepts a column name or a list of them.
func (c *columnNames) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*c = nil
			return nil
		}
		*c = columnNames{n.Value}
		return nil
	case yaml.SequenceNode:
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		if len(names) == 0 {
			return fmt.Errorf("line %d: a list of column names needs at least one", n.Line)
		}
		*c = names
		return nil
	default:
		return fmt.Errorf("line %d: a column is a name or a list of its spellings", n.Line)
	}
}

// UnmarshalYAML accepts a column name, a list of its spellings, or a mapping.
func (f *field) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode, yaml.SequenceNode:
		var c columnNames
		if err := c.UnmarshalYAML(n); err != nil {
			return err
		}
		*f = field{Column: c}
		return nil
	case yaml.MappingNode:
		if err := checkKeys(n, fieldKeys, "a field mapping"); err != nil {
			return err
		}
		type plain field // drops the method, so Decode does not recurse
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*f = field(p)
		return nil
	default:
		return fmt.Errorf("line %d: a field is a column name, a list of its spellings, or a mapping with %s", n.Line, strings.Join(fieldKeys, "/"))
	}
}

// checkKeys rejects a mapping key outside keys, for the types that decode
// themselves and so lose the decoder's KnownFields.
func checkKeys(n *yaml.Node, keys []string, what string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: field %q not found in %s (want one of %s)", k.Line, k.Value, what, strings.Join(keys, ", "))
		}
	}
	return nil
}

// transform is a mapper.Transform: a name or, for the steps that take
// arguments, a mapping:
//
//	transform: [trim, halfwidth, {regex: '\s*[(（].*[)）]$', replace: ""}, {date: YYYY-MM-DD}]
//
// It has mapper.Transform's fields in the same order, so the conversion
// in toMapper stops compiling when the two drift.
type transform struct {
	Name    string   `yaml:"-"`
	Regex   string   `yaml:"regex"`
	Replace string   `yaml:"replace"`
	Date    string   `yaml:"date"`
	Formats []string `yaml:"formats"`
}

var transformKeys = []string{"regex", "replace", "date", "formats"}

// UnmarshalYAML accepts a name or a mapping with regex/replace or date.
// It checks the mapping's keys itself because yaml.Node.Decode ignores the
// caller's KnownFields.
func (t *transform) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		*t = transform{Name: n.Value}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !slices.Contains(transformKeys, k.Value) {
				return fmt.Errorf("line %d: field %q not found in a transform mapping (want regex and replace, or date with optional formats)", k.Line, k.Value)
			}
		}
		type plain transform // drops the method, so Decode does not recurse
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*t = transform(p)
		return nil
	default:
		return fmt.Errorf("line %d: a transform is a name or a mapping with regex/replace or date", n.Line)
	}
}

// attrSource is a mapper.AttrSource. A text attribute is a field, written
// inline; a web attribute has a url and a title, each a field:
//
//	extattr:
//	  入职日期: {column: 入职日期, transform: [{date: YYYY-MM-DD}]}
//	  工位: 工位号
//	  个人主页: {web: {url: {template: "https://wiki.example.com/{工号}"}, title: {const: 主页}}}
type attrSource struct {
	field
	Web *webSource `yaml:"web"`
}

// webSource is the url and title of a web attribute.
type webSource struct {
	URL   field `yaml:"url"`
	Title field `yaml:"title"`
}

var webKeys = []string{"url", "title"}

// UnmarshalYAML reads a column name, a field mapping, or {web: {url, title}}.
func (a *attrSource) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "web" {
		w := n.Content[1]
		if w.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: web is a mapping with url and title", w.Line)
		}
		if err := checkKeys(w, webKeys, "a web attribute"); err != nil {
			return err
		}
		type plain webSource
		var p plain
		if err := w.Decode(&p); err != nil {
			return err
		}
		*a = attrSource{Web: (*webSource)(&p)}
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "web" {
				return fmt.Errorf("line %d: a web attribute holds only web: {url, title}", n.Content[i].Line)
			}
		}
	}
	*a = attrSource{}
	return a.field.UnmarshalYAML(n)
}

// toMapper is m as the mapper takes it. Nil maps, slices and pointers stay
// nil: the mapper tells an absent map from an empty one (map: {} refuses
// every value).
func (m mapping) toMapper() mapper.Config {
	c := mapper.Config{
		Fields:           mapValues(m.Fields, field.toMapper),
		Departments:      m.Departments.toMapper(),
		ExtAttr:          mapValues(m.ExtAttr, attrSource.toMapper),
		OnUnknownLeader:  m.OnUnknownLeader,
		MaxDirectLeaders: m.MaxDirectLeaders,
	}
	if m.Status != nil {
		s := m.Status.toMapper()
		c.Status = &s
	}
	for _, t := range m.Tags {
		c.Tags = append(c.Tags, mapper.TagRule{Column: t.Column, Prefix: t.Prefix, Separator: t.Separator, Name: t.Name,
			When: (*mapper.TagCondition)(t.When)})
	}
	return c
}

func (d departments) toMapper() mapper.DeptConfig {
	return mapper.DeptConfig{
		PathColumn:           d.PathColumn,
		Separator:            d.Separator,
		StripPrefix:          d.StripPrefix,
		Multi:                d.Multi,
		MaxDepth:             d.MaxDepth,
		NameMax:              d.NameMax,
		CodeColumn:           d.CodeColumn,
		Table:                (*mapper.DeptTable)(d.Table),
		DepartmentCodeColumn: d.DepartmentCodeColumn,
	}
}

func (f field) toMapper() mapper.Field {
	var steps []mapper.Transform
	if f.Transform != nil {
		steps = make([]mapper.Transform, len(f.Transform))
		for i, t := range f.Transform {
			steps[i] = mapper.Transform(t)
		}
	}
	out := mapper.Field{Optional: f.Optional, Const: f.Const, Template: f.Template, Transform: steps, Map: f.Map, Default: f.Default}
	switch len(f.Column) {
	case 0:
	case 1:
		out.Column = f.Column[0]
	default:
		out.OneOf = f.Column
	}
	return out
}

func (a attrSource) toMapper() mapper.AttrSource {
	s := mapper.AttrSource{Field: a.field.toMapper()}
	if a.Web != nil {
		s.Web = &mapper.WebSource{URL: a.Web.URL.toMapper(), Title: a.Web.Title.toMapper()}
	}
	return s
}

// mapValues is m with each value translated by f; nil stays nil.
func mapValues[V, W any](m map[string]V, f func(V) W) map[string]W {
	if m == nil {
		return nil
	}
	out := make(map[string]W, len(m))
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}
