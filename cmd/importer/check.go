package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/schedule"
	"github.com/hrfeed/importer/internal/source"
)

func (a *app) checkCommand() *cobra.Command {
	var configPath, jobName string
	var online bool
	cmd := &cobra.Command{
		Use:   "check --config FILE [--job NAME] [--online]",
		Short: "Check a config before the night: schedules, sources and their columns, the secret, the journal",
		Long: `Reads the config and, for each job (or the one named), checks its schedule and time
zone, that its source and department table open and have every mapped column, that the
corp secret is present, and that the journal is reachable and migrated. With --online it
also fetches a token from WeCom with the corp id and secret. Exits 0 when all is well,
1 with the list of problems and where each is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.check(cmd.Context(), configPath, jobName, online)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML)")
	cmd.Flags().StringVar(&jobName, "job", "", "check only this job")
	cmd.Flags().BoolVar(&online, "online", false, "also get a token from WeCom with the corp id and secret")
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

	for i := range c.Jobs {
		job := &c.Jobs[i]
		if jobName != "" && job.Name != jobName {
			continue
		}
		where := "job " + job.Name
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

	secret, warnings, err := c.ReadSecret()
	for _, w := range warnings {
		fmt.Fprintf(a.stdout, "warn  %s\n", w)
	}
	if err != nil {
		problem("wecom secret", err)
	} else {
		ok("wecom secret is set")
	}
	a.checkJournal(ctx, c, problem, ok)
	if online && err == nil {
		cl, cerr := newClient(c, secret, a.logger(), nil)
		if cerr == nil {
			_, cerr = cl.Token(ctx)
		}
		if cerr != nil {
			problem("wecom "+c.WeCom.BaseURL, cerr)
		} else {
			ok("wecom: corp %s and the secret get a token", c.WeCom.CorpID)
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
