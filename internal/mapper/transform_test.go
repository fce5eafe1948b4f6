package mapper

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTransformSteps(t *testing.T) {
	tests := []struct {
		name string
		t    Transform
		in   string
		want string
		rule string
	}{
		{name: "regex drops a bracketed note", t: Transform{Regex: `\s*[(（].*[)）]$`}, in: "张三（外包）", want: "张三"},
		{name: "regex with groups", t: Transform{Regex: `^(\d{3})(\d{4})(\d{4})$`, Replace: "$1-$2-$3"}, in: "13800000001", want: "138-0000-0001"},
		{name: "regex no match", t: Transform{Regex: `x+`, Replace: "y"}, in: "abc", want: "abc"},
		{name: "date iso", t: Transform{Date: "YYYY-MM-DD"}, in: "2024-01-05", want: "2024-01-05"},
		{name: "date excel display", t: Transform{Date: "YYYY-MM-DD"}, in: "2024/1/5", want: "2024-01-05"},
		{name: "date dots", t: Transform{Date: "YYYY-MM-DD"}, in: "2024.12.31", want: "2024-12-31"},
		{name: "date compact", t: Transform{Date: "YYYY-MM-DD"}, in: "20240105", want: "2024-01-05"},
		{name: "date chinese", t: Transform{Date: "YYYY-MM-DD"}, in: "2024年1月5日", want: "2024-01-05"},
		{name: "date with time", t: Transform{Date: "YYYY-MM-DD"}, in: "2024/1/5 0:00:00", want: "2024-01-05"},
		{name: "date iso time", t: Transform{Date: "YYYY-MM-DD"}, in: "2024-01-05T08:30:00+08:00", want: "2024-01-05"},
		{name: "date excel serial", t: Transform{Date: "YYYY-MM-DD"}, in: "45296", want: "2024-01-05"},
		{name: "date fullwidth", t: Transform{Date: "YYYY-MM-DD"}, in: "２０２４－０１－０５", want: "2024-01-05"},
		{name: "date leap day", t: Transform{Date: "YYYY-MM-DD"}, in: "2024-02-29", want: "2024-02-29"},
		{name: "date chinese out", t: Transform{Date: "YYYY年M月D日"}, in: "2024-01-05", want: "2024年1月5日"},
		{name: "date compact out", t: Transform{Date: "YYYYMMDD"}, in: "2024/1/5", want: "20240105"},
		{name: "date short year out", t: Transform{Date: "YY/M/D"}, in: "2009-10-01", want: "09/10/1"},
		{name: "date by name", t: Transform{Name: "date"}, in: "2024/1/5", want: "2024-01-05"},
		{name: "date empty stays empty", t: Transform{Date: "YYYY-MM-DD"}, in: "  ", want: ""},
		{name: "date not a day", t: Transform{Date: "YYYY-MM-DD"}, in: "2023-02-29", rule: "date_format"},
		{name: "date month 13", t: Transform{Date: "YYYY-MM-DD"}, in: "20241305", rule: "date_format"},
		{name: "date day first refused", t: Transform{Date: "YYYY-MM-DD"}, in: "05/01/2024", rule: "date_format"},
		{name: "date words", t: Transform{Date: "YYYY-MM-DD"}, in: "Jan 5 2024", rule: "date_format"},
		{name: "date two-digit year refused", t: Transform{Date: "YYYY-MM-DD"}, in: "24-1-5", rule: "date_format"},
		{name: "date six digits", t: Transform{Date: "YYYY-MM-DD"}, in: "240105", rule: "date_format"},
		{name: "date us export", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YY"}}, in: "07/05/11", want: "2011-07-05"},
		{name: "date us unpadded", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"M/D/YYYY"}}, in: "7/5/2011 0:00", want: "2011-07-05"},
		{name: "date go layout", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"01/02/06"}}, in: "12/31/99", want: "1999-12-31"},
		{name: "date day first", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"DD.MM.YYYY"}}, in: "05.01.2024", want: "2024-01-05"},
		{name: "date formats in order", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"DD/MM/YYYY", "MM/DD/YYYY"}}, in: "12/31/2024", want: "2024-12-31"},
		{name: "date formats keep year first", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YY"}}, in: "2011年7月5日", want: "2011-07-05"},
		{name: "date formats no 13th month", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YY"}}, in: "13/05/11", rule: "date_format"},
		{name: "date formats no feb 30", t: Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YYYY"}}, in: "02/30/2024", rule: "date_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := compileStep(tt.t)
			if err != nil {
				t.Fatalf("compileStep: %v", err)
			}
			got, serr := s(tt.in)
			switch {
			case tt.rule != "":
				if serr == nil || serr.rule != tt.rule {
					t.Errorf("%q: got %q, %v; want rule %s", tt.in, got, serr, tt.rule)
				}
			case serr != nil || got != tt.want:
				t.Errorf("%q: got %q, %v; want %q", tt.in, got, serr, tt.want)
			}
		})
	}
}

func TestTransformConfigErrors(t *testing.T) {
	tests := []struct {
		t    Transform
		want string
	}{
		{Transform{Name: "title"}, `unknown transform "title"`},
		{Transform{Name: "regex"}, "transform regex: write it as a mapping"},
		{Transform{Regex: "("}, "missing closing )"},
		{Transform{Replace: "x"}, "replace needs a regex"},
		{Transform{Date: "dd.mm.yyyy"}, "layout has none of YYYY"},
		{Transform{Name: "trim", Regex: "x"}, "give exactly one of"},
		{Transform{Name: "trim", Formats: []string{"MM/DD/YY"}}, "formats belong to a date step"},
		{Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/YY"}}, "does not name a year, a month and a day"},
		{Transform{Date: "YYYY-MM-DD", Formats: []string{"DD-MM-DD"}}, "does not name a year, a month and a day"},
		{Transform{Date: "YYYY-MM-DD", Formats: []string{"MM/DD/YYx"}}, "neither a token"},
		{Transform{}, "give exactly one of"},
	}
	for _, tt := range tests {
		if _, err := compileStep(tt.t); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tt.t, err, tt.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	row := Row{Ref: "r:2", Values: map[string]string{"姓": " 张", "名": "三 ", "工号": "E1", "空": ""}}
	tests := []struct {
		name string
		f    Field
		want string
	}{
		{name: "two columns", f: Field{Template: "{姓}{名}"}, want: "张三"},
		{name: "literal text", f: Field{Template: "{工号}@example.com", Transform: named("lower")}, want: "e1@example.com"},
		{name: "literal braces", f: Field{Template: "{{{工号}}}"}, want: "{E1}"},
		{name: "all cells empty gives default", f: Field{Template: "{空}@example.com", Default: "none"}, want: "none"},
		{name: "missing column reads empty", f: Field{Template: "{姓}{无}"}, want: "张"},
	}
	for _, tt := range tests {
		got, rerr := mustField(t, tt.f).value(row)
		if rerr != nil || got != tt.want {
			t.Errorf("%s: value = %q, %v; want %q", tt.name, got, rerr, tt.want)
		}
	}
	if cols := (Field{Template: "{姓}·{名}·{姓}"}).columns(); !cmp.Equal(cols, []string{"姓", "名"}) {
		t.Errorf("columns = %v", cols)
	}

	bad := []struct{ tmpl, want string }{
		{"{姓", "unclosed {"},
		{"{姓{名}", "unclosed {"},
		{"姓}", "} without {"},
		{"{}", "empty {}"},
		{"fixed", "names no {column}"},
	}
	for _, b := range bad {
		if _, err := parseTemplate(b.tmpl); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("parseTemplate(%q) = %v, want %q", b.tmpl, err, b.want)
		}
	}
}
