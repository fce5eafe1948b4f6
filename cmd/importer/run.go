package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/schedule"
)

type runFlags struct {
	config, job, source string
	dryRun, force, json bool
	reload, replan      bool
	all                 bool   // list every planned operation, not the first of each kind
	out, xlsx           string // plan: write the plan file, the workbook here
	approved            *runner.Approval
}

func (a *app) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE [--job NAME] [--source PATH] [--dry-run] [--force] [--json]",
		Short: "Import the job's source into WeCom and journal every call",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runJob(cmd.Context(), f, 0)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "config file (YAML)")
	cmd.Flags().StringVar(&f.job, "job", "", "job name (needed when the config has several)")
	cmd.Flags().StringVar(&f.source, "source", "", "read this file instead of the job's source.path")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "plan only: read WeCom, write nothing to it")
	cmd.Flags().BoolVar(&f.force, "force", false, "run a plan the mass-change guard refused")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON summary object on stdout")
	return cmd
}

func (a *app) planCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "plan --config FILE [--job NAME] [--source PATH] [--all] [--json] [--out PLAN.json] [--xlsx PLAN.xlsx]",
		Short: "Show what run would change, without changing it (same as run --dry-run)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.dryRun = true
			return a.runJob(cmd.Context(), f, 0)
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "config file (YAML)")
	cmd.Flags().StringVar(&f.job, "job", "", "job name (needed when the config has several)")
	cmd.Flags().StringVar(&f.source, "source", "", "read this file instead of the job's source.path")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON summary object on stdout")
	cmd.Flags().BoolVar(&f.all, "all", false, "list every planned operation (default: the first 10 of each kind)")
	cmd.Flags().StringVar(&f.out, "out", "", "also write the whole plan to this file, for review and `importer apply`")
	cmd.Flags().StringVar(&f.xlsx, "xlsx", "", "also write the plan as a workbook to sign off: changes with before and after, rows not applied")
	return cmd
}

// runJob wires config, journal and client for one run and reports it.
func (a *app) runJob(ctx context.Context, f runFlags, resumedFrom int64) error {
	c, err := loadConfig(f.config)
	if err != nil {
		return err
	}
	job, err := c.Job(f.job)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if _, err := c.DepartmentSpec(job); err != nil {
		return fatal(err)
	}
	clients, err := a.jobClients(c, job)
	if err != nil {
		return err
	}
	if f.dryRun {
		store, err := a.planJournal(ctx, c)
		if err != nil {
			return err
		}
		defer store.Close()
		return a.execute(ctx, c, job, store, clients, f, resumedFrom)
	}
	store, err := openConfigJournal(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	return a.locked(ctx, job.Name, store, func(ctx context.Context, st journal.Store) error {
		return a.execute(ctx, c, job, st, clients, f, resumedFrom)
	})
}

// jobClients makes the client of job's corp before anything is opened, so
// a missing secret stops the command before the journal is touched.
func (a *app) jobClients(c *config.Config, job *config.Job) (*corpClients, error) {
	corp, err := c.CorpOf(job)
	if err != nil {
		return nil, fatal(err)
	}
	clients := newCorpClients(a.logger(), nil)
	if _, err := clients.client(corp); err != nil {
		return nil, fatal(err)
	}
	return clients, nil
}

// locked runs fn holding the job's lock, the one `serve` replicas take, so a
// manual run never overlaps a scheduled one on the same PostgreSQL journal.
func (a *app) locked(ctx context.Context, job string, store journal.Store, fn func(context.Context, journal.Store) error) error {
	err := schedule.WithJobLock(ctx, store, job, fn)
	var busy *journal.JobBusyError
	if errors.As(err, &busy) {
		return fatal(busy)
	}
	return err
}

func (a *app) execute(ctx context.Context, c *config.Config, job *config.Job, store journal.Store, clients *corpClients, f runFlags, resumedFrom int64) error {
	log := a.logger()
	// The executor logs each failure as a warning; a person at a terminal
	// gets it again as a plain line beside the progress, a JSON stream only once.
	prog := newProgress(a.stderr, !a.verbose && !a.jsonStream())
	trigger := "manual"
	switch {
	case resumedFrom != 0:
		trigger = "resume"
	case f.approved != nil:
		trigger = "apply"
	}
	params, err := runner.ForJob(c, job.Name, runner.Options{
		Source: f.source, DryRun: f.dryRun, Force: f.force, ResumedFrom: resumedFrom, Reload: f.reload,
		Store: store, Clients: clients.forRun, Logger: log, OnPlan: prog.plan, OnResult: prog.result,
		Trigger: trigger, Version: buildVersion(), Approved: f.approved,
	})
	if err != nil {
		return fatal(err)
	}
	rep, err := runner.Run(ctx, params)
	prog.finish()
	if moved := (*runner.CorpChangedError)(nil); errors.As(err, &moved) {
		return &exitError{code: exitUsage, err: err}
	}
	if err != nil {
		return fatal(err)
	}
	if (f.out != "" || f.xlsx != "") && rep.Status == journal.RunDryRun && rep.Plan != nil {
		h, err := newPlanHeader(c, f.config, rep)
		if err != nil {
			return fatal(err)
		}
		if f.out != "" {
			if err := writePlanFile(f.out, h, rep); err != nil {
				return fatal(err)
			}
			cfg, _ := filepath.Abs(f.config)
			fmt.Fprintf(a.stderr, "plan written to %s; to carry it out as reviewed: importer apply %s --config %s\n", f.out, f.out, cfg)
		}
		if f.xlsx != "" {
			if err := writePlanXLSX(f.xlsx, h, rep); err != nil {
				if errors.Is(err, errSheetFull) {
					err = fmt.Errorf("plan workbook %s: %w; the plan lists every change in --out PLAN.json and --json", f.xlsx, err)
				}
				return fatal(err)
			}
			fmt.Fprintf(a.stderr, "plan workbook written to %s\n", f.xlsx)
		}
	}
	if f.json {
		if err := writeReportJSON(a.stdout, reportJSON(rep), rep, 1); err != nil {
			return fatal(err)
		}
	} else {
		printReport(a.stdout, rep, f.all)
		if dsn, err := c.JournalDSN(); err == nil {
			// Which history this run went into: a forgotten DATABASE_URL
			// would otherwise split it silently.
			fmt.Fprintf(a.stdout, "  journal: %s\n", journal.Name(dsn))
		}
	}
	switch rep.Status {
	case journal.RunPartial, journal.RunCanceled, journal.RunFailed:
		if rep.RunID != 0 {
			// The next step, spelled out for whoever reads this at 2 a.m.
			cfg, _ := filepath.Abs(f.config)
			fmt.Fprintf(a.stderr, "to finish this run: importer resume %d --config %s\n", rep.RunID, cfg)
		}
	}
	if code := exitCode(rep); code != 0 {
		var err error
		if rep.Fatal != nil {
			err = rep.Fatal
		}
		if rep.Refusal != nil && !f.dryRun {
			err = rep.Refusal
		}
		if rep.Stale != nil {
			err = rep.Stale
		}
		return &exitError{code: code, err: err}
	}
	return nil
}

// planJournal is the journal a dry run reads. A plan must not create a
// journal by accident (a mistyped journal.path would otherwise leave an
// empty one that later runs trust), yet a plan before the first run is
// what a newcomer does first: when the embedded journal does not exist
// yet, the plan is made against an empty journal in a temporary file,
// removed when the plan is done, and the report says so.
func (a *app) planJournal(ctx context.Context, c *config.Config) (journal.Store, error) {
	dsn, err := c.JournalDSN()
	if err != nil {
		return nil, fatal(err)
	}
	if journal.IsPostgresDSN(dsn) {
		return openConfigJournal(ctx, c)
	}
	if _, err := os.Stat(dsn); !errors.Is(err, fs.ErrNotExist) {
		return openConfigJournal(ctx, c)
	}
	dir, err := os.MkdirTemp("", "hrfeed-plan-")
	if err != nil {
		return nil, fatal(err)
	}
	st, err := openJournal(ctx, filepath.Join(dir, "empty-journal.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fmt.Fprintf(a.stderr, "journal %s does not exist yet (the first run creates it): planned against an empty journal, as a first import\n", dsn)
	return tempJournal{Store: st, dir: dir}, nil
}

// tempJournal is a journal that is removed once closed.
type tempJournal struct {
	journal.Store
	dir string
}

func (t tempJournal) Close() error {
	err := t.Store.Close()
	return errors.Join(err, os.RemoveAll(t.dir))
}
