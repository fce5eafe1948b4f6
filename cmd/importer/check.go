package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/schedule"
	"github.com/hrfeed/importer/internal/source"
	"github.com/hrfeed/importer/internal/wecom"
)

func (a *app) checkCommand() *cobra.Command {
	var configPath, jobName string
	var online bool
	cmd := &cobra.Command{
		Use:   "check --config FILE [--job NAME] [--online]",
		Short: "Check a config before the night: schedules, sources and their columns, the secrets, the journal",
		Long: `Reads the config and, for each job (or the one named), checks its schedule and time
zone, that its source and department table open and have every mapped column, that the
secret of each corp these jobs sync is present, and that the journal is reachable and
migrated. With --online it also fetches a token from WeCom with each corp's id and
secret. Exits 0 when all is well, 1 with the list of problems and where each is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.check(cmd.Context(), configPath, jobName, online)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML)")
	cmd.Flags().StringVar(&jobName, "job", "", "check only this job")
	cmd.Flags().BoolVar(&online, "online", false, "also get a token from WeCom with each corp's id and secret")
	return cmd
}

func (a *app) check(ctx context.Context, configPath, jobName string, online bool) error {
	c, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	var problems []string
	problem := func(where string, err error) { problems = append(problems, fmt.Sprintf("%s: %v", where, err)) }
	ok := func(format string, args ...any) { fmt.Fprintf(a.stdout, "ok    "+format+"\n", args...) }

	var corps []config.Corp // of the jobs checked, each once
	seen := map[string]bool{}
	for i := range c.Jobs {
		job := &c.Jobs[i]
		if jobName != "" && job.Name != jobName {
			continue
		}
		where := "job " + job.Name
		if corp, err := c.CorpOf(job); err == nil && !seen[corp.Key()] {
			seen[corp.Key()] = true
			corps = append(corps, corp)
		}
		if job.Schedule != "" {
			if s, err := schedule.ParseSpec(job.Schedule); err != nil {
				problem(where+": schedule", err)
			} else {
				ok("%s: schedule %q, next at %s", where, job.Schedule, s.Next(time.Now()).Format(time.RFC3339))
			}
		}
		params, err := runner.ForJob(c, job.Name, runner.Options{})
		if err != nil {
			problem(where, err)
			continue
		}
		if params.DepartmentSpec != nil {
			if err := openAndCheck(ctx, *params.DepartmentSpec, job.Mapping.CheckDepartmentColumns); err != nil {
				problem(where+": department_source", err)
			} else {
				ok("%s: department table opens, every mapped column is there", where)
			}
		}
		spec, err := job.SourceSpec(params.SourcePath)
		if err != nil {
			problem(where+": source", err)
			continue
		}
		if err := openAndCheck(ctx, spec, job.Mapping.CheckColumns); err != nil {
			problem(where+": source", err)
		} else {
			ok("%s: source opens, every mapped column is there", where)
		}
	}
	if jobName != "" {
		if _, err := c.Job(jobName); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}

	if jobName == "" {
		for _, name := range slices.Sorted(maps.Keys(c.Corps)) {
			if !seen["corps."+name] {
				fmt.Fprintf(a.stdout, "warn  corps.%s: no job names it (corp: %s)\n", name, name)
			}
		}
	}
	// Each corp's secret is read by the client a run would make, and with
	// --online that client gets the corp's token.
	clients := newCorpClients(a.logger(), nil)
	clients.secret = func(corp config.Corp, _ *slog.Logger) (string, error) {
		secret, warnings, err := corp.ReadSecret()
		for _, w := range warnings {
			fmt.Fprintf(a.stdout, "warn  %s\n", w)
		}
		return secret, err
	}
	type ready struct {
		corp config.Corp
		cl   *wecom.Client
	}
	var withSecret []ready
	for _, corp := range corps {
		cl, err := clients.client(corp)
		if err != nil {
			problem(corp.Key()+" secret", err)
			continue
		}
		ok("%s secret is set (corp %s)", corp.Key(), corp.CorpID)
		withSecret = append(withSecret, ready{corp, cl})
	}
	a.checkJournal(ctx, c, problem, ok)
	if online {
		for _, r := range withSecret {
			if _, err := r.cl.Token(ctx); err != nil {
				problem(r.corp.Key()+" "+r.corp.BaseURL, err)
			} else {
				ok("%s: corp %s and the secret get a token", r.corp.Key(), r.corp.CorpID)
			}
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(a.stdout, "FAIL  %s\n", p)
		}
		return &exitError{code: exitFatal, err: fmt.Errorf("%d problem(s) in %s", len(problems), configPath)}
	}
	return nil
}

// checkJournal opens the journal the config names without creating one.
func (a *app) checkJournal(ctx context.Context, c *config.Config, problem func(string, error), ok func(string, ...any)) {
	dsn, err := c.JournalDSN()
	if err != nil {
		problem("journal", err)
		return
	}
	if !journal.IsPostgresDSN(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			ok("journal: %s does not exist yet; the first run creates it", dsn)
			return
		}
	}
	st, err := journal.Open(ctx, dsn, journal.ReadOnlyOpen())
	if err != nil {
		problem("journal", err)
		return
	}
	defer st.Close()
	pending, err := st.Pending(ctx)
	switch {
	case err != nil:
		problem("journal", err)
	case len(pending) > 0:
		problem("journal", fmt.Errorf("%d migrations not applied: run importer migrate", len(pending)))
	default:
		ok("journal reachable and migrated")
	}
}

// openAndCheck opens a source and checks that it has the mapped columns.
func openAndCheck(ctx context.Context, spec source.Spec, columns func([]string) error) error {
	src, err := source.Open(ctx, spec)
	if err != nil {
		return err
	}
	defer src.Close()
	return columns(src.Columns())
}
