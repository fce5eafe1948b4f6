package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Row is one line of the results table.
type Row struct {
	Scenario string
	Setup    string // what was measured: sizes, journal, emulator settings
	Result   string // the figures
	Check    string // "ok: ...", "FAIL: ...", "skipped: ..."
	Failed   bool
}

// Results is a whole bench run.
type Results struct {
	Mode    string // "full" or "quick"
	Command string // how to reproduce it
	Machine Machine
	Rows    []Row
	Took    time.Duration
	// Limits lists what held a scenario back, for the notes under the table.
	Limits []string
}

// Failed reports whether any correctness check failed.
func (r *Results) Failed() bool {
	for _, row := range r.Rows {
		if row.Failed {
			return true
		}
	}
	return false
}

// WriteMarkdown prints the table with the machine and the command above it.
func (r *Results) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "Machine: %s  \n", r.Machine)
	fmt.Fprintf(w, "Command: `%s` (%s mode, %s)\n\n", r.Command, r.Mode, r.Took.Round(time.Second))
	fmt.Fprintln(w, "| scenario | setup | result | check |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", cell(row.Scenario), cell(row.Setup), cell(row.Result), cell(row.Check))
	}
	if len(r.Limits) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.Limits {
			fmt.Fprintf(w, "- %s\n", l)
		}
	}
}

// cell keeps a value from breaking the markdown row.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// num formats an integer with thousands separators, as the issues quote
// sizes ("100,000 rows").
func num[T ~int | ~int64](n T) string {
	s := fmt.Sprint(int64(n))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func secs(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
}

// perMember is a time divided over n members, for figures that should
// stay flat as a directory grows.
func perMember(d time.Duration, n int) string {
	return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1000/float64(max(n, 1)))
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// verdict builds a check cell from the problems found: none is ok.
func verdict(ok string, problems []string) (string, bool) {
	if len(problems) == 0 {
		return "ok: " + ok, false
	}
	return "FAIL: " + strings.Join(problems, "; "), true
}
