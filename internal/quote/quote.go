// Package quote shows untrusted input in messages: a value cut to a
// short, quoted excerpt, a list of column names cut to a few. A hostile
// export (a 200 MB line, a header of 10,000 columns, binary noise) then
// costs an error line of a few hundred bytes, never the host's log.
package quote

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ExcerptBytes is the most of a value an error quotes: enough to
// recognise it, too little to flood a log with a hostile cell.
const ExcerptBytes = 64

// Excerpt is s quoted, cut to ExcerptBytes with "…" after the quote when
// cut, so that binary or huge values cost a log line at most a few
// hundred bytes.
func Excerpt(s string) string {
	if len(s) <= ExcerptBytes {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:RuneCut(s, ExcerptBytes)]) + "…"
}

// ExcerptAt is an excerpt of s that shows the byte at i.
func ExcerptAt(s string, i int) string {
	if i < ExcerptBytes*3/4 {
		return Excerpt(s)
	}
	from := i - ExcerptBytes/4
	for k := 1; k < utf8.UTFMax && !utf8.RuneStart(s[from]); k++ {
		from--
	}
	return "…" + Excerpt(s[from:])
}

// RuneCut is where to cut s, longer than max bytes, at max or up to three
// bytes before it so as not to split a character.
func RuneCut(s string, max int) int {
	for n := max; n > max-utf8.UTFMax; n-- {
		if utf8.RuneStart(s[n]) {
			return n
		}
	}
	return max // not UTF-8 here: any cut will do
}

// maxListed is how many column names a message lists.
const maxListed = 10

// Columns lists column names for an error message: at most ten, each
// quoted and cut to a short excerpt, then how many more there are. A
// header of thousands of columns, or of binary noise, stays one readable
// line.
func Columns(cols []string) string {
	n := min(len(cols), maxListed)
	parts := make([]string, n, n+1)
	for i, c := range cols[:n] {
		parts[i] = Excerpt(c)
	}
	if len(cols) > n {
		parts = append(parts, fmt.Sprintf("… and %d more", len(cols)-n))
	}
	return strings.Join(parts, ", ")
}
