package mapper

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/width"

	"github.com/hrfeed/importer/internal/source"
)

// Field says where one member field comes from and how its raw text is
// cleaned. In YAML it is either a mapping or, for the common case, a plain
// scalar naming the column:
//
//	name: 姓名
//	gender: {column: 性别, transform: [trim], map: {男: "1", 女: "2"}}
type Field struct {
	Column    string            `yaml:"column"`
	Const     string            `yaml:"const"`
	Transform []string          `yaml:"transform"` // ordered: "trim", "collapse_spaces", "lower", "upper", "halfwidth", "mobile"
	Map       map[string]string `yaml:"map"`       // value map applied after transforms; unmapped non-empty value → RowError rule "unmapped_value"
	Default   string            `yaml:"default"`   // when empty after transforms and map
}

// fieldKeys are the keys a Field mapping may hold. UnmarshalYAML checks
// them itself because yaml.Node.Decode ignores the caller's KnownFields:
// without this a typo such as "defualt" would be dropped silently.
var fieldKeys = []string{"column", "const", "transform", "map", "default"}

// UnmarshalYAML accepts a scalar (the column name) or a mapping.
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*f = Field{}
			return nil
		}
		*f = Field{Column: n.Value}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !slices.Contains(fieldKeys, k.Value) {
				return fmt.Errorf("line %d: field %q not found in a field mapping (want one of %s)", k.Line, k.Value, strings.Join(fieldKeys, ", "))
			}
		}
		type plain Field // drops the method, so Decode does not recurse
		var p plain
		if err := n.Decode(&p); err != nil {
			return err
		}
		*f = Field(p)
		return nil
	default:
		return fmt.Errorf("line %d: a field is a column name or a mapping with column/const/transform/map/default", n.Line)
	}
}

// transforms are the named cleanups a Field may list.
var transforms = map[string]func(string) string{
	"trim": strings.TrimSpace,
	// strings.Fields splits on every Unicode space, so the ideographic
	// space U+3000 that Chinese input methods type is collapsed too.
	"collapse_spaces": func(s string) string { return strings.Join(strings.Fields(s), " ") },
	"lower":           strings.ToLower,
	"upper":           strings.ToUpper,
	// Full-width digits and letters (１３８…, ＡＢＣ) are common in
	// hand-typed Chinese HR data and fail every WeCom format check.
	"halfwidth": width.Narrow.String,
	"mobile":    normalizeMobile,
}

// normalizeMobile strips spaces and dashes and drops the +86/0086 country
// code from an 11-digit mainland number, which WeCom accepts bare; other
// countries keep their code because WeCom needs it.
func normalizeMobile(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	for _, cc := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(s, cc); ok && isCNMobile(rest) {
			return rest
		}
	}
	return s
}

func isCNMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// field is a Field ready to apply to rows.
type field struct {
	name string // member field name, for messages
	Field
	steps []func(string) string
}

func compileField(name string, f Field) *field {
	c := &field{name: name, Field: f}
	for _, t := range f.Transform {
		c.steps = append(c.steps, transforms[t]) // Validate vouched for t
	}
	return c
}

// value is the field's final text for row: source or const, transforms,
// map, then default.
func (f *field) value(row source.Row) (string, *RowError) {
	v := f.Const
	if f.Column != "" {
		v = row.Values[f.Column]
	}
	for _, step := range f.steps {
		v = step(v)
	}
	if v != "" && f.Map != nil {
		m, ok := f.Map[v]
		if !ok {
			return "", &RowError{Ref: row.Ref, Column: f.Column, Rule: RuleUnmappedValue,
				Message: fmt.Sprintf("%s value %q is not in the configured map", f.name, v)}
		}
		v = m
	}
	if v == "" {
		v = f.Default
	}
	return v, nil
}
