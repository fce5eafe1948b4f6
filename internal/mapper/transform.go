package mapper

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/hrfeed/importer/internal/member"
	"golang.org/x/text/width"
)

// Transform is one cleanup step of a Field. Exactly one of Name, Regex
// (with Replace) or Date says what the step is.
type Transform struct {
	// Name is a step without arguments: trim, collapse_spaces, lower,
	// upper, halfwidth, mobile, or date (output layout DefaultDateLayout).
	Name string
	// Regex is an RE2 pattern; every match is replaced by Replace, which
	// may use $1 or ${name}. It is compiled by Config.Validate, so a typo
	// stops the run before any row is read.
	Regex   string
	Replace string
	// Date reads a year-first date in any common HR spelling and writes it
	// in this layout (tokens YYYY, YY, MM, M, DD, D; everything else is
	// literal), e.g. "YYYY-MM-DD" or "YYYY年M月D日".
	Date string
	// Formats are the input layouts of a feed whose dates are not year
	// first, tried in order before the year-first spellings, e.g.
	// [MM/DD/YY] for a US export's 07/05/11. Two-digit years 69-99 are
	// 1900s, 00-68 2000s.
	Formats []string
}

// Transform names and defaults.
const (
	TransformRegex    = "regex"
	TransformDate     = "date"
	DefaultDateLayout = "YYYY-MM-DD"
)

// transforms are the steps that take no argument and cannot fail.
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
	"mobile":    member.NormalizeMobile,
}

// transformNames is every name a Transform.Name may hold, for messages.
var transformNames = []string{"trim", "collapse_spaces", "lower", "upper", "halfwidth", "mobile", TransformDate}

// String is the step as a person would write it, for messages.
func (t Transform) String() string {
	switch {
	case t.Name != "":
		return t.Name
	case t.Regex != "" || t.Replace != "":
		return fmt.Sprintf("{regex: %q, replace: %q}", t.Regex, t.Replace)
	case t.Date != "" && len(t.Formats) > 0:
		return fmt.Sprintf("{date: %q, formats: %q}", t.Date, t.Formats)
	case t.Date != "":
		return fmt.Sprintf("{date: %q}", t.Date)
	case len(t.Formats) > 0:
		return fmt.Sprintf("{formats: %q}", t.Formats)
	}
	return "{}"
}

// step is a compiled Transform. A non-nil *stepError is a row problem
// (the value cannot be cleaned), never a config one.
type step func(string) (string, *stepError)

type stepError struct{ rule, msg string }

// compileStep checks t and returns it ready to run; the error names what
// is wrong with the config.
func compileStep(t Transform) (step, error) {
	kinds := 0
	for _, set := range []bool{t.Name != "", t.Regex != "" || t.Replace != "", t.Date != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, fmt.Errorf("transform %s: give exactly one of a name, regex (with replace) or date", t)
	}
	if len(t.Formats) > 0 && t.Date == "" {
		return nil, fmt.Errorf("transform %s: formats belong to a date step: {date: YYYY-MM-DD, formats: [...]}", t)
	}
	switch {
	case t.Name == TransformDate || t.Date != "":
		layout := cmp.Or(t.Date, DefaultDateLayout)
		if !hasDateToken(layout) {
			return nil, fmt.Errorf("transform %s: layout has none of YYYY, YY, MM, M, DD, D", t)
		}
		inputs := make([]string, len(t.Formats))
		for i, f := range t.Formats {
			l, err := inputLayout(f)
			if err != nil {
				return nil, fmt.Errorf("transform %s: %w", t, err)
			}
			inputs[i] = l
		}
		want := "year first: 2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105, or an Excel serial day"
		if len(t.Formats) > 0 {
			want = strings.Join(t.Formats, ", ") + ", or " + want
		}
		return func(s string) (string, *stepError) {
			if strings.TrimSpace(s) == "" {
				return "", nil // empty stays empty, so a default can apply
			}
			y, m, d, ok := parseDateIn(inputs, s)
			if !ok {
				y, m, d, ok = parseDate(s)
			}
			if !ok {
				return "", &stepError{RuleDateFormat, fmt.Sprintf("%q is not a date (want %s)", s, want)}
			}
			return formatDate(layout, y, m, d), nil
		}, nil
	case t.Name == TransformRegex:
		return nil, fmt.Errorf("transform regex: write it as a mapping {regex: PATTERN, replace: TEXT}")
	case t.Name != "":
		f, ok := transforms[t.Name]
		if !ok {
			return nil, fmt.Errorf("unknown transform %q (want %s, or a mapping with regex/replace or date)", t.Name, strings.Join(transformNames, ", "))
		}
		return func(s string) (string, *stepError) { return f(s), nil }, nil
	case t.Regex == "":
		return nil, fmt.Errorf("transform %s: replace needs a regex", t)
	}
	re, err := regexp.Compile(t.Regex)
	if err != nil {
		return nil, fmt.Errorf("transform %s: %w", t, err)
	}
	return func(s string) (string, *stepError) { return re.ReplaceAllString(s, t.Replace), nil }, nil
}
