package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/width"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
)

// runSummary is the --json contract: one object with the run id, status,
// counts per operation kind and outcome, and the errcodes seen.
type runSummary struct {
	RunID      int64             `json:"run_id"`
	Job        string            `json:"job"`
	Status     journal.RunStatus `json:"status"`
	ExitCode   int               `json:"exit_code"`
	Rows       int               `json:"rows"`
	Rejected   int               `json:"rejected"`
	Counts     map[string]int    `json:"counts"`
	Planned    map[string]int    `json:"planned,omitempty"`
	Errcodes   map[string]int    `json:"errcodes"`
	Unchanged  map[string]int    `json:"unchanged,omitempty"`
	Writes     int               `json:"writes"`
	DurationMS int64             `json:"duration_ms"`
	Error      string            `json:"error,omitempty"`
	Rejects    []rejectJSON      `json:"rejects,omitempty"`
	// RejectsNotListed counts the rejects past the first
	// runner.MaxJournaledRejects, which are neither listed nor journaled.
	RejectsNotListed int `json:"rejects_not_listed,omitempty"`
	// Held lists members whose row is in the feed but was not applied, and
	// Warnings rows applied with a caveat.
	Held     []heldJSON   `json:"held,omitempty"`
	Warnings []rejectJSON `json:"warnings,omitempty"`
	// Suspended says why no one was treated as absent in this run.
	Suspended string `json:"suspended,omitempty"`
	// A dry run's summary ends with "ops", the whole plan, which
	// writeReportJSON streams one operation at a time.
}

type opJSON struct {
	Seq     int                `json:"seq"`
	Phase   string             `json:"phase"`
	Kind    plan.Kind          `json:"kind"`
	Target  string             `json:"target"`
	Ref     string             `json:"ref,omitempty"`
	Changes []plan.FieldChange `json:"changes,omitempty"`
}

type heldJSON struct {
	UserID  string `json:"userid"`
	Ref     string `json:"ref"`
	Rule    string `json:"rule"`
	Message string `json:"message,omitempty"`
}

type rejectJSON struct {
	Ref     string `json:"ref"`
	Column  string `json:"column,omitempty"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func reportJSON(r *runner.Report) runSummary {
	s := runSummary{
		RunID: r.RunID, Job: r.Job, Status: r.Status, ExitCode: exitCode(r), Rows: r.Rows,
		Rejected: len(r.Rejects), Counts: map[string]int{}, Errcodes: map[string]int{},
		DurationMS: r.Duration.Milliseconds(),
	}
	maps.Copy(s.Counts, r.Summary.Counts)
	for code, n := range r.Summary.Errcodes {
		s.Errcodes[strconv.Itoa(code)] += n
	}
	s.Writes = writes(r)
	if r.Plan != nil {
		s.Planned = map[string]int{}
		for k, n := range r.Plan.Counts() {
			s.Planned[string(k)] = n
		}
		s.Unchanged = map[string]int{"members": r.Plan.UnchangedMembers, "departments": r.Plan.UnchangedDepartments}
	}
	switch {
	case r.Fatal != nil:
		s.Error = r.Fatal.Error()
	case r.Stale != nil:
		s.Error = r.Stale.Error()
	case r.Refusal != nil:
		s.Error = r.Refusal.Error()
	}
	for i, re := range r.Rejects {
		if i == runner.MaxJournaledRejects {
			s.RejectsNotListed = len(r.Rejects) - i
			break
		}
		s.Rejects = append(s.Rejects, rejectJSON{Ref: re.Ref, Column: re.Column, Rule: re.Rule, Message: re.Message})
	}
	for _, w := range r.Warnings {
		s.Warnings = append(s.Warnings, rejectJSON{Ref: w.Ref, Column: w.Column, Rule: w.Rule, Message: w.Message})
	}
	if r.Plan != nil {
		for _, h := range r.Plan.Held {
			s.Held = append(s.Held, heldJSON{UserID: h.UserID, Ref: h.Ref, Rule: h.Rule, Message: h.Message})
		}
		s.Suspended = r.Plan.Suspended
	}
	return s
}

// writeReportJSON writes v, a JSON object whose innermost last member at
// depth (1: v is the summary, 2: the summary is v's last member) is r's
// summary, and on a dry run adds the plan's operations to that summary as
// "ops". The operations are encoded one at a time as they are written: a
// first import's plan lists every member with each field it sets, and
// holding all of it as one value would cost several times the plan.
func writeReportJSON(w io.Writer, v any, r *runner.Report, depth int) error {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return err
	}
	if r.Status != journal.RunDryRun || r.Plan == nil || len(r.Plan.Ops) == 0 {
		_, err := w.Write(buf.Bytes())
		return err
	}
	// The objects' closing braces, innermost first, each on its own line.
	var closing strings.Builder
	for d := depth - 1; d >= 0; d-- {
		closing.WriteString("\n" + strings.Repeat("  ", d) + "}")
	}
	closing.WriteString("\n")
	head, ok := bytes.CutSuffix(buf.Bytes(), []byte(closing.String()))
	if !ok {
		return fmt.Errorf("report JSON does not end in %d closing braces", depth)
	}
	indent := strings.Repeat("  ", depth)
	bw := bufio.NewWriter(w)
	bw.Write(head)
	bw.WriteString(",\n" + indent + `"ops": [`)
	// The encoder ends each value with a newline; the separator written
	// before the next one takes its place.
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	enc.SetIndent(indent+"  ", "  ")
	for i, op := range r.Plan.Ops {
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n" + indent + "  ")
		one.Reset()
		if err := enc.Encode(opJSON{Seq: op.Seq, Phase: op.Phase, Kind: op.Kind, Target: op.Target, Ref: op.Ref, Changes: op.Changes()}); err != nil {
			return err
		}
		bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
	}
	bw.WriteString("\n" + indent + "]" + closing.String())
	return bw.Flush()
}

// writes counts the operations that were sent to WeCom.
func writes(r *runner.Report) int {
	n := 0
	for k, v := range r.Summary.Counts {
		if _, outcome, _ := strings.Cut(k, "/"); executor.Outcome(outcome) != executor.Skipped && executor.Outcome(outcome) != executor.Canceled {
			n += v
		}
	}
	return n
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// shownPerKind is how many operations of each kind a plan lists on a
// terminal before "… and N more"; --all lists every one.
const shownPerKind = 10

func printReport(w io.Writer, r *runner.Report, all bool) {
	fmt.Fprintf(w, "run %d (job %s): %s in %s\n", r.RunID, r.Job, r.Status, r.Duration.Round(1e6))
	fmt.Fprintf(w, "  rows read: %d, rejected: %d\n", r.Rows, len(r.Rejects))
	for i, re := range r.Rejects {
		if i == 10 {
			fmt.Fprintf(w, "    … %d more (importer journal failures %d)\n", len(r.Rejects)-10, r.RunID)
			break
		}
		fmt.Fprintf(w, "    %s\n", re.Error())
	}
	if r.Plan != nil && len(r.Plan.Held) > 0 {
		fmt.Fprintf(w, "  held (in the feed, left as WeCom has them): %d\n", len(r.Plan.Held))
		for i, h := range r.Plan.Held {
			if i == 10 {
				fmt.Fprintf(w, "    … %d more\n", len(r.Plan.Held)-10)
				break
			}
			line := fmt.Sprintf("    %s (row %s, %s)", h.UserID, h.Ref, h.Rule)
			if h.Message != "" {
				line += ": " + h.Message
			}
			fmt.Fprintln(w, line)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(w, "  applied with a warning: %d\n", len(r.Warnings))
		for i, wr := range r.Warnings {
			if i == 10 {
				fmt.Fprintf(w, "    … %d more\n", len(r.Warnings)-10)
				break
			}
			fmt.Fprintf(w, "    %s\n", wr.Error())
		}
	}
	if r.Plan != nil && r.Plan.Suspended != "" {
		fmt.Fprintf(w, "  leavers and cleanup suspended: %s\n", r.Plan.Suspended)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	planned := r.Plan != nil && (r.Status == journal.RunDryRun || r.Status == journal.RunRefused)
	if planned {
		counts := r.Plan.Counts()
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			fmt.Fprintf(tw, "  %s\tplanned\t%d\n", k, counts[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Summary.Counts)) {
		fmt.Fprintf(tw, "  %s\t\t%d\n", k, r.Summary.Counts[k])
	}
	tw.Flush()
	if planned {
		printChanges(w, r.Plan, all)
		fmt.Fprintf(w, "  writes planned: %d; unchanged: %d members, %d departments\n", len(r.Plan.Ops), r.Plan.UnchangedMembers, r.Plan.UnchangedDepartments)
	} else if r.Plan != nil {
		fmt.Fprintf(w, "  writes: %d; unchanged: %d members, %d departments\n", writes(r), r.Plan.UnchangedMembers, r.Plan.UnchangedDepartments)
	}
	if len(r.Summary.Errcodes) > 0 {
		fmt.Fprintln(w, "  errcodes:")
		for _, c := range slices.Sorted(maps.Keys(r.Summary.Errcodes)) {
			fmt.Fprintf(w, "    %d ×%d", c, r.Summary.Errcodes[c])
			if m, ok := wecom.Describe(c); ok {
				fmt.Fprintf(w, "  %s (%s): %s", m.ZH, m.EN, m.Do)
			}
			fmt.Fprintln(w)
		}
	}
	switch {
	case r.Fatal != nil:
		fmt.Fprintf(w, "  stopped: %v\n", r.Fatal)
	case r.Stale != nil:
		fmt.Fprintf(w, "  refused: %v\n", r.Stale)
	case r.Refusal != nil:
		fmt.Fprintf(w, "  guard: %v\n", r.Refusal)
	}
}

// printChanges lists the plan's operations, shownPerKind of each kind
// (every one with all), each with what it changes field by field, so a dry
// run says what would change, not only how much. Columns are aligned by
// display width, where a Chinese character takes two cells.
func printChanges(w io.Writer, p *plan.Plan, all bool) {
	type line struct{ cells []string }
	var lines []line
	shown, total := map[plan.Kind]int{}, p.Counts()
	for _, op := range p.Ops {
		if shown[op.Kind] == shownPerKind && !all {
			shown[op.Kind]++
			lines = append(lines, line{[]string{"    …", fmt.Sprintf("and %d more %s (--all)", total[op.Kind]-shownPerKind, op.Kind)}})
		}
		if shown[op.Kind] >= shownPerKind && !all {
			continue
		}
		shown[op.Kind]++
		head := []string{"    " + string(op.Kind), op.Target, op.Ref}
		if op.Kind == plan.UserCreate && op.After != nil {
			head = append(head, op.After.Name, strings.Join(op.After.DeptKeys, "; "))
		}
		lines = append(lines, line{head})
		if op.Kind == plan.UserCreate {
			continue // every field is new: the name and departments say who it is
		}
		for _, c := range op.Changes() {
			if op.Tag != nil && !all {
				c.Before, c.After = fewMembers(c.Before), fewMembers(c.After)
			}
			lines = append(lines, line{[]string{"      " + c.Field, fmt.Sprintf("%q → %q", c.Before, c.After)}})
		}
	}
	var widths []int
	for _, l := range lines {
		for i, c := range l.cells[:len(l.cells)-1] {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	for _, l := range lines {
		var b strings.Builder
		for i, c := range l.cells {
			b.WriteString(c)
			if i < len(l.cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// fewMembers is a tag call's list of up to 1,000 userids cut to its
// first shownPerKind for a terminal; --all, --json and the plan file
// have them all.
func fewMembers(list string) string {
	ids := strings.Split(list, ", ")
	if len(ids) <= shownPerKind {
		return list
	}
	return fmt.Sprintf("%s … and %d more (--all)", strings.Join(ids[:shownPerKind], ", "), len(ids)-shownPerKind)
}

// displayWidth is how many terminal cells s takes: two for East Asian
// wide and fullwidth characters, one for the rest.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}
