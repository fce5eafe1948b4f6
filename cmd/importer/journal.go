package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
)

type journalFlags struct {
	config, path string
	json         bool
	limit        int
	// operation and target narrow `journal show` to the calls of one
	// kind or about one member or department.
	operation, target string
}

func (a *app) journalCommand() *cobra.Command {
	var f journalFlags
	cmd := &cobra.Command{
		Use:   "journal runs | show RUN_ID | failures RUN_ID | member USERID | export …",
		Short: "Read the journal: runs, one run's calls, its failures and rejected rows",
	}
	cmd.PersistentFlags().StringVar(&f.config, "config", "", "config file naming the journal")
	cmd.PersistentFlags().StringVar(&f.path, "journal", "", "journal file or PostgreSQL URL (instead of --config)")
	cmd.PersistentFlags().BoolVar(&f.json, "json", false, "print JSON on stdout")

	runs := &cobra.Command{
		Use:   "runs",
		Short: "List recent runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withJournal(cmd.Context(), f, func(st journal.Store) error {
				list, err := st.ListRuns(cmd.Context(), f.limit)
				if err != nil {
					return fatal(err)
				}
				if f.json {
					out := make([]runJSON, len(list))
					for i, r := range list {
						out[i] = toRunJSON(r)
					}
					return writeJSON(a.stdout, out)
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RUN\tJOB\tMODE\tSTATUS\tSTARTED\tDURATION\tROWS\tREJECTED\tRESUMES\tTRIGGER\tBY")
				for _, r := range list {
					resumes := ""
					if r.ResumedFrom != 0 {
						resumes = strconv.FormatInt(r.ResumedFrom, 10)
					}
					by := r.OSUser
					if r.Host != "" {
						by += "@" + r.Host
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, r.Job, r.Mode, r.Status,
						r.StartedAt.Local().Format(time.DateTime), duration(r), r.Counts["rows"], r.Counts["rejected"], resumes, r.Trigger, by)
				}
				return tw.Flush()
			})
		},
	}
	runs.Flags().IntVar(&f.limit, "limit", 20, "how many runs to list")

	show := &cobra.Command{
		Use:   "show RUN_ID [--operation KIND] [--target ID]",
		Short: "One run: its summary, every call with its errcode (or those of one kind or target), and rejected rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showRun(cmd.Context(), f, args[0], false)
		},
	}
	show.Flags().StringVar(&f.operation, "operation", "", "only calls of this operation (user_update, department_create, …)")
	show.Flags().StringVar(&f.target, "target", "", "only calls about this userid or department key")
	failures := &cobra.Command{
		Use:   "failures RUN_ID",
		Short: "One run's failed or unfinished calls and rejected rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showRun(cmd.Context(), f, args[0], true)
		},
	}
	member := &cobra.Command{
		Use:   "member USERID",
		Short: "Every change to one member across runs: when, which run and why, each field before → after, WeCom's answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withJournal(cmd.Context(), f, func(st journal.Store) error {
				return a.memberHistory(cmd.Context(), st, args[0], f.json)
			})
		},
	}
	cmd.AddCommand(runs, show, failures, member, a.journalExportCommand(&f))
	return cmd
}

func (a *app) withJournal(ctx context.Context, f journalFlags, fn func(journal.Store) error) error {
	dsn := f.path
	if dsn == "" {
		c, err := loadConfig(f.config)
		if err != nil {
			return &exitError{code: exitUsage, err: errors.New("name the journal with --config FILE or --journal PATH")}
		}
		if dsn, err = c.JournalDSN(); err != nil {
			return fatal(err)
		}
	}
	if f.path != "" && passwordIn(f.path) {
		return &exitError{code: exitUsage, err: errors.New("--journal holds a password, which the command line shows to every user of the host: put the URL in DATABASE_URL (or the config's journal.dsn_env), or the password in ~/.pgpass")}
	}
	if !journal.IsPostgresDSN(dsn) {
		// Reading commands must not create an empty journal at a mistyped
		// path and report that it holds no runs.
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return fatal(fmt.Errorf("no journal at %s: the embedded journal is created by the first run; check --journal or the config's journal.path, or set the PostgreSQL URL in the environment", dsn))
		}
	}
	st, err := openJournal(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := fn(st); err != nil {
		return err
	}
	// Which history was read: a forgotten DATABASE_URL would otherwise
	// show an empty file journal as if it were the whole story. Stderr,
	// so --json output stays one object.
	if a.jsonStream() {
		a.logger().Info("journal read", "journal", journal.Name(dsn))
	} else {
		fmt.Fprintf(a.stderr, "journal: %s\n", journal.Name(dsn))
	}
	return nil
}

// passwordIn reports whether a PostgreSQL connection string carries a
// password (in the URL's user info or as password=).
func passwordIn(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, set := u.User.Password(); set {
			return true
		}
	}
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(f, "password=") {
			return true
		}
	}
	return strings.Contains(dsn, "password=")
}

type runJSON struct {
	ID           int64             `json:"run_id"`
	Job          string            `json:"job"`
	CorpID       string            `json:"corp_id"`
	Mode         string            `json:"mode"`
	Status       journal.RunStatus `json:"status"`
	Source       string            `json:"source"`
	SourceDigest string            `json:"source_digest"`
	ResumedFrom  int64             `json:"resumed_from,omitempty"`
	Host         string            `json:"host"`
	StartedAt    time.Time         `json:"started_at"`
	FinishedAt   *time.Time        `json:"finished_at,omitempty"`
	Counts       map[string]int    `json:"counts"`
	Trigger      string            `json:"trigger,omitempty"`
	OSUser       string            `json:"os_user,omitempty"`
	Version      string            `json:"importer_version,omitempty"`
	ConfigDigest string            `json:"config_digest,omitempty"`
}

func toRunJSON(r journal.Run) runJSON {
	j := runJSON{ID: r.ID, Job: r.Job, CorpID: r.CorpID, Mode: r.Mode, Status: r.Status, Source: r.Source,
		SourceDigest: r.SourceDigest, ResumedFrom: r.ResumedFrom, Host: r.Host, StartedAt: r.StartedAt, Counts: r.Counts,
		Trigger: r.Trigger, OSUser: r.OSUser, Version: r.Version, ConfigDigest: r.ConfigDigest}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt
		j.FinishedAt = &t
	}
	return j
}

func duration(r journal.Run) string {
	if r.FinishedAt.IsZero() {
		return "-"
	}
	return r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
}

type callJSON struct {
	Seq       int                 `json:"seq"`
	Phase     string              `json:"phase"`
	Operation string              `json:"operation"`
	API       string              `json:"api"`
	Target    string              `json:"target"`
	SourceRef string              `json:"source_ref,omitempty"`
	Attempt   int                 `json:"attempt"`
	Outcome   journal.CallOutcome `json:"outcome"`
	Errcode   int                 `json:"errcode"`
	Errmsg    string              `json:"errmsg,omitempty"`
	Payload   json.RawMessage     `json:"payload,omitempty"`
	Started   time.Time           `json:"started_at"`
	Finished  *time.Time          `json:"finished_at,omitempty"`
}

type showJSON struct {
	Run     runJSON      `json:"run"`
	Calls   []callJSON   `json:"calls"`
	Rejects []rejectJSON `json:"rejects"`
}

func (a *app) showRun(ctx context.Context, f journalFlags, arg string, failuresOnly bool) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("RUN_ID %q: want a run number", arg)}
	}
	return a.withJournal(ctx, f, func(st journal.Store) error {
		run, err := st.GetRun(ctx, id)
		if errors.Is(err, journal.ErrNotFound) {
			return &exitError{code: exitUsage, err: fmt.Errorf("run %d is not in the journal", id)}
		}
		if err != nil {
			return fatal(err)
		}
		out := showJSON{Run: toRunJSON(run), Calls: []callJSON{}, Rejects: []rejectJSON{}}
		// Only the calls asked for are kept: a first import's run has one
		// per member, and --failures or --target usually wants a few.
		err = st.EachCall(ctx, id, func(c journal.Call) error {
			if failuresOnly && c.Outcome == journal.CallOK ||
				f.operation != "" && c.Operation != f.operation ||
				f.target != "" && !strings.EqualFold(c.Target, f.target) {
				return nil
			}
			cj := callJSON{Seq: c.Seq, Phase: c.Phase, Operation: c.Operation, API: c.API, Target: c.Target,
				SourceRef: c.SourceRef, Attempt: c.Attempt, Outcome: c.Outcome, Errcode: c.Errcode, Errmsg: c.Errmsg,
				Payload: json.RawMessage(c.Payload), Started: c.StartedAt}
			if !c.FinishedAt.IsZero() {
				t := c.FinishedAt
				cj.Finished = &t
			}
			out.Calls = append(out.Calls, cj)
			return nil
		})
		if err != nil {
			return fatal(err)
		}
		rejects, err := st.ListRejects(ctx, id)
		if err != nil {
			return fatal(err)
		}
		for _, r := range rejects {
			out.Rejects = append(out.Rejects, rejectJSON{Ref: r.SourceRef, Column: r.Column, Rule: r.Rule, Message: r.Message})
		}
		if f.json {
			return writeJSON(a.stdout, out)
		}
		a.printRun(run, out, failuresOnly)
		return nil
	})
}

func (a *app) printRun(run journal.Run, out showJSON, failuresOnly bool) {
	w := a.stdout
	fmt.Fprintf(w, "run %d  job %s  mode %s  status %s\n", run.ID, run.Job, run.Mode, run.Status)
	fmt.Fprintf(w, "  corp %s  host %s  started %s  took %s\n", run.CorpID, run.Host, run.StartedAt.Local().Format(time.DateTime), duration(run))
	fmt.Fprintf(w, "  source %s (%s)\n", run.Source, run.SourceDigest)
	if run.ResumedFrom != 0 {
		fmt.Fprintf(w, "  resumes run %d\n", run.ResumedFrom)
	}
	if !failuresOnly {
		for _, k := range slices.Sorted(maps.Keys(run.Counts)) {
			fmt.Fprintf(w, "  %-28s %d\n", k, run.Counts[k])
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "calls (%d):\n", len(out.Calls))
	fmt.Fprintln(tw, "  SEQ\tPHASE\tOPERATION\tTARGET\tROW\tOUTCOME\tERRCODE\tERRMSG")
	for _, c := range out.Calls {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", c.Seq, c.Phase, c.Operation, c.Target, c.SourceRef, c.Outcome, c.Errcode, c.Errmsg)
	}
	tw.Flush()
	// What each errcode of the run means, once, rather than on every
	// line, most frequent first: the first cause is usually the one to fix.
	count, api := map[int]int{}, map[int]string{}
	for _, c := range out.Calls {
		if c.Errcode != 0 {
			count[c.Errcode]++
			api[c.Errcode] = cmp.Or(api[c.Errcode], c.API)
		}
	}
	codes := slices.Collect(maps.Keys(count))
	slices.SortFunc(codes, func(x, y int) int { return cmp.Or(count[y]-count[x], x-y) })
	if len(codes) > 0 {
		fmt.Fprintln(w, "by cause:")
	}
	for _, c := range codes {
		class := wecom.ClassifyCode(api[c], c)
		if m, ok := wecom.Describe(c); ok {
			fmt.Fprintf(w, "  %d × %d (%s): %s (%s). %s\n", count[c], c, class, m.ZH, m.EN, m.Do)
		} else {
			fmt.Fprintf(w, "  %d × %d (%s)\n", count[c], c, class)
		}
	}
	fmt.Fprintf(w, "rejected rows (%d):\n", len(out.Rejects))
	for _, r := range out.Rejects {
		col := ""
		if r.Column != "" {
			col = " column " + strconv.Quote(r.Column)
		}
		fmt.Fprintf(w, "  %s%s: %s: %s\n", r.Ref, col, r.Rule, r.Message)
	}
}
