package source

import (
	"fmt"
	"strconv"

	"github.com/hrfeed/importer/internal/quote"
)

// Row is one data row of a source, with a stable reference a person can
// find it by: "staff.csv:12" (physical line of the row's first line),
// "Sheet1!12", or "hr.staff_v:E1001".
type Row struct {
	Ref    string
	Values map[string]string // by header text as written in the source

	// Problem is set when the source could read the row but not trust it
	// (wrong field count, bytes that do not decode). It is a row-level
	// fault, not a fatal one: the mapper rejects the row and the run goes
	// on, so one bad line in an HR export does not stop a whole sync.
	Problem string
	// ProblemRule is the stable rule id of Problem ("ragged_row",
	// "invalid_encoding"); "" with a Problem means "ragged_row".
	ProblemRule string
	// ProblemColumn is the column the Problem is about, "" for the row.
	ProblemColumn string
}

// Rule ids a source puts in Row.ProblemRule.
const (
	RuleRaggedRow       = "ragged_row"
	RuleInvalidEncoding = "invalid_encoding"
	// RuleCellTooLarge: a cell over MaxCellBytes.
	RuleCellTooLarge = "cell_too_large"
	// RuleControlCharacter: a cell holding a C0 control character other
	// than tab, line feed and carriage return, or DEL. NUL in particular
	// cannot be stored in a PostgreSQL journal and should never reach
	// WeCom; the others are invisible and break what a person sees.
	RuleControlCharacter = "control_character"
)

// Reader streams rows with bounded memory, in the shape of pgx's
// CopyFromSource: call Next until it returns false, then check Err.
type Reader interface {
	// Columns is the header as read from the source.
	Columns() []string
	Next() bool
	Row() Row
	Err() error
	Close() error
}

// vet applies the checks every reader shares to a row it is about to
// yield, in column order, and sets the first problem found unless the
// row already has one. Every reader calls it, so no source can hand the
// mapper a value another source would have refused.
func vet(row *Row, columns []string, lim limits) {
	if row.Problem != "" {
		return
	}
	for _, col := range columns {
		if col == "" {
			continue
		}
		if rule, msg := vetCell(row.Values[col], col, lim); rule != "" {
			row.Problem, row.ProblemRule, row.ProblemColumn = msg, rule, col
			return
		}
	}
}

// vetCell names what is wrong with the value v of column col, or returns
// "" for both.
func vetCell(v, col string, lim limits) (rule, msg string) {
	if len(v) > lim.cellBytes {
		return RuleCellTooLarge, fmt.Sprintf("the cell in column %s is %s, over the %s limit for one cell (it starts %s)",
			col, byteSize(int64(len(v))), byteSize(int64(lim.cellBytes)), quote.Excerpt(v))
	}
	if i := controlAt(v); i >= 0 {
		return RuleControlCharacter, fmt.Sprintf("control character %U in column %s, byte %d of %s", rune(v[i]), col, i+1, quote.ExcerptAt(v, i))
	}
	return "", ""
}

// controlAt is the index of the first C0 control character or DEL in v,
// or -1. Tab, line feed and carriage return are text: quoted CSV cells
// and wrapped spreadsheet cells hold line breaks, addresses hold tabs.
func controlAt(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F {
			return i
		}
	}
	return -1
}

// byteSize is n in the largest binary unit that keeps it readable.
func byteSize(n int64) string {
	units := []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}}
	for _, u := range units {
		if n >= u.size {
			if n%u.size == 0 {
				return fmt.Sprintf("%d %s", n/u.size, u.name)
			}
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// count is n with thousands separators, as the limits are written.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// errTooManyRows ends a stream at row lim+1, whose reference is ref.
func errTooManyRows(ref string, lim int) error {
	return fmt.Errorf("%s: more than %s data rows, the limit for one source: this is not one HR export", ref, count(lim))
}

// errTooManyColumns refuses a header of n columns, listed in cols.
func errTooManyColumns(where string, n, lim int, cols []string) error {
	return fmt.Errorf("%s: the header has %s columns, over the limit of %s: is this the header? (%s)", where, count(n), count(lim), quote.Columns(cols))
}

// maxErrorText is how much of an error from a library underneath a
// reader's error quotes: they quote what they failed on, which may be a
// hostile value.
const maxErrorText = 512

// clipped is an error whose text is cut short; Unwrap reaches the
// original.
type clipped struct {
	msg string
	err error
}

func (e *clipped) Error() string { return e.msg }
func (e *clipped) Unwrap() error { return e.err }

// clip cuts err's text to maxErrorText.
func clip(err error) error {
	msg := err.Error()
	if len(msg) <= maxErrorText {
		return err
	}
	return &clipped{msg: msg[:quote.RuneCut(msg, maxErrorText)] + "…", err: err}
}
