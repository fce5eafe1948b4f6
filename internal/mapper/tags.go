package mapper

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// TagRule gives members WeCom tags (标签) from their row. A rule reads a
// column, and gives a tag per value (Prefix + the value; several values in
// one cell split by Separator), or names one fixed tag (Name). When, if
// set, limits the rule to the rows it matches.
type TagRule struct {
	Column    string
	Prefix    string
	Separator string
	Name      string
	When      *TagCondition
}

// TagCondition matches a row whose Column, trimmed, is Equals or one of In.
type TagCondition struct {
	Column string
	Equals string
	In     []string
}

// TagNameMax is WeCom's limit on a tag name, in characters, a Chinese
// character counting one like a letter (tag/create, 90210; 40072).
const TagNameMax = 32

// RuleTagNameLength rejects a row whose column gives a tag name longer
// than TagNameMax: WeCom would refuse to create it (40072), and a tag the
// row cannot have must not cost the member the tags they hold.
const RuleTagNameLength = "tag_name_length"

func (r TagRule) validate(key string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch col, name := strings.TrimSpace(r.Column), strings.TrimSpace(r.Name); {
	case col == "" && name == "":
		bad("needs a column (a tag per value) or a name (one fixed tag)")
	case col != "" && name != "":
		bad("give a column or a name, not both")
	case name != "":
		if r.Prefix != "" || r.Separator != "" {
			bad("prefix and separator are for a column's values; a name is the tag itself")
		}
		if msg := checkTagName(r.Name); msg != "" {
			bad("name %q: %s", r.Name, msg)
		}
	default:
		if n := utf8.RuneCountInString(r.Prefix); n >= TagNameMax {
			bad("prefix %q is %d characters: with a value it passes WeCom's %d", r.Prefix, n, TagNameMax)
		}
		if r.Separator != "" && strings.TrimSpace(r.Separator) == "" {
			bad("separator %q is only spaces, which values are trimmed of", r.Separator)
		}
	}
	if w := r.When; w != nil {
		if strings.TrimSpace(w.Column) == "" {
			bad("when: needs a column")
		}
		if (w.Equals == "") == (len(w.In) == 0) {
			bad("when: give equals or in, one of the two")
		}
	}
	return errs
}

// checkTagName says what WeCom's rules find wrong with a tag name, or "".
func checkTagName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return "empty"
	case n > TagNameMax:
		return fmt.Sprintf("%d characters, WeCom allows %d (40072)", n, TagNameMax)
	}
	return ""
}

func (r TagRule) columns() []string {
	var out []string
	if r.Column != "" {
		out = append(out, r.Column)
	}
	if r.When != nil && r.When.Column != "" {
		out = append(out, r.When.Column)
	}
	return out
}

func (w *TagCondition) match(row Row) bool {
	if w == nil {
		return true
	}
	v := strings.TrimSpace(row.Values[w.Column])
	if w.Equals != "" {
		return v == w.Equals
	}
	return slices.Contains(w.In, v)
}

// tagger applies a mapping's tag rules to rows.
type tagger struct {
	rules []TagRule
	// names interns tag names, so 100,000 members tagged with twenty
	// locations hold twenty strings.
	names map[string]string
}

func newTagger(rules []TagRule) *tagger {
	if len(rules) == 0 {
		return nil
	}
	return &tagger{rules: rules, names: map[string]string{}}
}

// tags are the row's tags, sorted and without repeats.
func (t *tagger) tags(row Row) ([]string, *RowError) {
	if t == nil {
		return nil, nil
	}
	var out []string
	add := func(name string) {
		if n, ok := t.names[name]; ok {
			name = n
		} else {
			t.names[name] = name
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, r := range t.rules {
		if !r.When.match(row) {
			continue
		}
		if r.Name != "" {
			add(r.Name)
			continue
		}
		parts := []string{row.Values[r.Column]}
		if r.Separator != "" {
			parts = strings.Split(parts[0], r.Separator)
		}
		for _, p := range parts {
			v := strings.TrimSpace(p)
			if v == "" {
				continue
			}
			name := r.Prefix + v
			if n := utf8.RuneCountInString(name); n > TagNameMax {
				return nil, &RowError{Ref: row.Ref, Column: r.Column, Rule: RuleTagNameLength,
					Message: fmt.Sprintf("tag %q is %d characters; WeCom allows %d (40072)", name, n, TagNameMax)}
			}
			add(name)
		}
	}
	slices.Sort(out)
	return out, nil
}
