package mapper

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// excelEpoch is day 0 of Excel's 1900 date system as Excel counts after
// its 1900 leap-year bug, so serial 45296 is 2024-01-05.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// parseDate reads the year-first dates HR exports produce: 2024-01-05,
// 2024/1/5 (Excel's Chinese display), 2024.1.5, 2024年1月5日, 20240105, any
// of them with a time of day after a space or "T", and five-digit Excel
// serial days (an xlsx cell whose date format was lost). Day-first and
// month-first spellings are refused, not guessed: 01/05/2024 is January
// in one office and May in another.
func parseDate(s string) (y, m, d int, ok bool) {
	s = strings.TrimSpace(width.Narrow.String(s))
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	if allDigits(s) {
		switch len(s) {
		case 8:
			y, _ = strconv.Atoi(s[:4])
			m, _ = strconv.Atoi(s[4:6])
			d, _ = strconv.Atoi(s[6:])
		case 5:
			n, _ := strconv.Atoi(s)
			t := excelEpoch.AddDate(0, 0, n)
			return t.Year(), int(t.Month()), t.Day(), true
		default:
			return 0, 0, 0, false
		}
	} else {
		s = strings.TrimSuffix(s, "日")
		s = strings.NewReplacer("年", "-", "月", "-", "/", "-", ".", "-").Replace(s)
		parts := strings.Split(s, "-")
		if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) > 2 || len(parts[2]) > 2 ||
			!allDigits(parts[0]) || !allDigits(parts[1]) || !allDigits(parts[2]) {
			return 0, 0, 0, false
		}
		y, _ = strconv.Atoi(parts[0])
		m, _ = strconv.Atoi(parts[1])
		d, _ = strconv.Atoi(parts[2])
	}
	// time.Date normalises 2024-02-30 to March 1st; a date that does not
	// survive the round trip does not exist.
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

// dateTokens are the layout tokens, longest first so "YYYY" is not read
// as two "YY".
var dateTokens = []string{"YYYY", "YY", "MM", "M", "DD", "D"}

// eachLayoutPart calls f with each token of a token layout, or with each
// rune of literal text between tokens (tok ""), in order, stopping when f
// returns false.
func eachLayoutPart(layout string, f func(tok, lit string) bool) {
	for i := 0; i < len(layout); {
		tok := ""
		for _, t := range dateTokens {
			if strings.HasPrefix(layout[i:], t) {
				tok = t
				break
			}
		}
		if tok != "" {
			if !f(tok, "") {
				return
			}
			i += len(tok)
			continue
		}
		_, size := utf8.DecodeRuneInString(layout[i:])
		if !f("", layout[i:i+size]) {
			return
		}
		i += size
	}
}

// formatDate writes a date in a token layout. It does not use Go's
// reference-time layouts because an HR admin writing "YYYY年M月D日" should
// not have to know them, and because literal text in a Go layout (a "1"
// or "Mon") would be read as a field.
func formatDate(layout string, y, m, d int) string {
	var b strings.Builder
	eachLayoutPart(layout, func(tok, lit string) bool {
		switch tok {
		case "YYYY":
			b.WriteString(pad(y, 4))
		case "YY":
			b.WriteString(pad(y%100, 2))
		case "MM":
			b.WriteString(pad(m, 2))
		case "M":
			b.WriteString(strconv.Itoa(m))
		case "DD":
			b.WriteString(pad(d, 2))
		case "D":
			b.WriteString(strconv.Itoa(d))
		default:
			b.WriteString(lit)
		}
		return true
	})
	return b.String()
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func hasDateToken(layout string) bool {
	return strings.Contains(layout, "YY") || strings.ContainsAny(layout, "MD")
}

// goTokens are the Go reference-time fields of the layout tokens.
var goTokens = map[string]string{"YYYY": "2006", "YY": "06", "MM": "01", "M": "1", "DD": "02", "D": "2"}

// inputLayout turns a layout from a date transform's formats into a Go
// time layout. Token layouts (MM/DD/YY, D.M.YYYY, YYYY年M月D日) are the
// language of the output layout; Go reference layouts (01/02/06) are
// accepted as written. Either must survive a round trip of a day whose
// day, month and year differ, so a layout that swaps or drops a field is
// refused at config time, not discovered in a misread birthday.
func inputLayout(layout string) (string, error) {
	goLayout := layout
	if hasDateToken(layout) {
		var b strings.Builder
		var bad string
		eachLayoutPart(layout, func(tok, lit string) bool {
			if tok != "" {
				b.WriteString(goTokens[tok])
				return true
			}
			if r := lit[0]; len(lit) == 1 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				bad = lit
				return false
			}
			b.WriteString(lit)
			return true
		})
		if bad != "" {
			return "", fmt.Errorf("format %q: %q is neither a token (YYYY, YY, MM, M, DD, D) nor punctuation", layout, bad)
		}
		goLayout = b.String()
	}
	probe := time.Date(2011, 11, 25, 0, 0, 0, 0, time.UTC)
	if back, err := time.Parse(goLayout, probe.Format(goLayout)); err != nil || !back.Equal(probe) {
		return "", fmt.Errorf("format %q does not name a year, a month and a day (tokens YYYY or YY, MM or M, DD or D, e.g. MM/DD/YY)", layout)
	}
	return goLayout, nil
}

// parseDateIn reads s in one of the Go layouts, with or without a time of
// day after a space.
func parseDateIn(layouts []string, s string) (y, m, d int, ok bool) {
	s = strings.TrimSpace(width.Narrow.String(s))
	day, _, _ := strings.Cut(s, " ")
	for _, l := range layouts {
		for _, v := range []string{s, day} {
			if t, err := time.Parse(l, v); err == nil {
				return t.Year(), int(t.Month()), t.Day(), true
			}
		}
	}
	return 0, 0, 0, false
}
