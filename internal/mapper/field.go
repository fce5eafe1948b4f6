package mapper

import (
	"fmt"
	"slices"
	"strings"
)

// Field says where one value comes from and how its raw text is cleaned:
// exactly one of Column, OneOf, Const and Template.
type Field struct {
	Column string
	// OneOf names several spellings of one column (WeCom's console writes
	// 帐号 in one export and 账号 in another): the field reads the first the
	// source's header has (Config.ForHeader).
	OneOf []string
	// Optional leaves the field out when the source has none of its
	// columns, instead of failing: not mapped, so WeCom keeps what it
	// holds. A preset maps every column a format may have this way.
	Optional bool
	Const    string
	// Template builds the value from several columns: "{姓}{名}" or
	// "{工号}@example.com". Each cell is trimmed before it is put in, and a
	// template whose cells are all empty yields "" (so default applies
	// rather than a lone "@example.com"). "{{" and "}}" are literal braces.
	Template  string
	Transform []Transform       // ordered, see Transform
	Map       map[string]string // value map applied after transforms; unmapped non-empty value → RowError rule "unmapped_value"
	Default   string            // when empty after transforms and map
}

// tmplPart is a literal text or, when col is set, a column reference.
type tmplPart struct{ lit, col string }

// parseTemplate splits "{姓}·{名}" into its parts.
func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "{{"), strings.HasPrefix(s[i:], "}}"):
			lit.WriteByte(s[i])
			i += 2
		case s[i] == '{':
			end := strings.IndexAny(s[i+1:], "{}")
			if end < 0 || s[i+1+end] != '}' {
				return nil, fmt.Errorf("template %q: unclosed { at byte %d", s, i)
			}
			col := s[i+1 : i+1+end]
			if strings.TrimSpace(col) == "" {
				return nil, fmt.Errorf("template %q: empty {} at byte %d", s, i)
			}
			if lit.Len() > 0 {
				parts = append(parts, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, tmplPart{col: col})
			i += end + 2
		case s[i] == '}':
			return nil, fmt.Errorf("template %q: } without { at byte %d (write }} for a literal brace)", s, i)
		default:
			lit.WriteByte(s[i])
			i++
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, tmplPart{lit: lit.String()})
	}
	if !slices.ContainsFunc(parts, func(p tmplPart) bool { return p.col != "" }) {
		return nil, fmt.Errorf("template %q names no {column}; use const for fixed text", s)
	}
	return parts, nil
}

// columns lists the source columns the field reads, in template order.
func (f Field) columns() []string {
	if f.Column != "" {
		return []string{f.Column}
	}
	if len(f.OneOf) > 0 {
		return f.OneOf
	}
	parts, _ := parseTemplate(f.Template) // nil for a const or a broken template
	var cols []string
	for _, p := range parts {
		if p.col != "" && !slices.Contains(cols, p.col) {
			cols = append(cols, p.col)
		}
	}
	return cols
}

// field is a Field ready to apply to rows.
type field struct {
	name string // member field name, for messages
	Field
	// label is RowError.Column: the column, or a template's columns
	// joined by ",", or "" for a const.
	label string
	tmpl  []tmplPart
	steps []step
}

// compileField readies f; the error names what is wrong with the config.
func compileField(name string, f Field) (*field, error) {
	c := &field{name: name, Field: f, label: strings.Join(f.columns(), ",")}
	if f.Template != "" {
		tmpl, err := parseTemplate(f.Template)
		if err != nil {
			return nil, err
		}
		c.tmpl = tmpl
	}
	for _, t := range f.Transform {
		s, err := compileStep(t)
		if err != nil {
			return nil, err
		}
		c.steps = append(c.steps, s)
	}
	return c, nil
}

// raw is the field's text before any cleaning.
func (f *field) raw(row Row) string {
	switch {
	case f.Column != "":
		return row.Values[f.Column]
	case f.tmpl == nil:
		return f.Const
	}
	var b strings.Builder
	filled := false
	for _, p := range f.tmpl {
		if p.col == "" {
			b.WriteString(p.lit)
			continue
		}
		v := strings.TrimSpace(row.Values[p.col])
		filled = filled || v != ""
		b.WriteString(v)
	}
	if !filled {
		return ""
	}
	return b.String()
}

// value is the field's final text for row: source, const or template,
// transforms, map, then default.
func (f *field) value(row Row) (string, *RowError) {
	return f.clean(row.Ref, f.raw(row))
}

// clean runs one raw text through transforms, map and default. Multi-valued
// fields run it once per part of the cell.
func (f *field) clean(ref, v string) (string, *RowError) {
	for _, s := range f.steps {
		var serr *stepError
		if v, serr = s(v); serr != nil {
			return "", &RowError{Ref: ref, Column: f.label, Rule: serr.rule, Message: f.name + " " + serr.msg}
		}
	}
	if v != "" && f.Map != nil {
		m, ok := f.Map[v]
		if !ok {
			return "", &RowError{Ref: ref, Column: f.label, Rule: RuleUnmappedValue,
				Message: fmt.Sprintf("%s value %q is not in the configured map", f.name, v)}
		}
		v = m
	}
	if v == "" {
		v = f.Default
	}
	return v, nil
}
