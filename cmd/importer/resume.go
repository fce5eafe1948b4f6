package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

func (a *app) resumeCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "resume RUN_ID --config FILE [--reload] [--replan] [--force] [--json]",
		Short: "Finish a run that failed or was interrupted: re-plan from the journal and WeCom, send what is still missing",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("RUN_ID %q: want a run number from `importer journal runs`", args[0])}
			}
			ctx := cmd.Context()
			c, err := loadConfig(f.config)
			if err != nil {
				return err
			}
			store, err := openConfigJournal(ctx, c)
			if err != nil {
				return err
			}
			defer store.Close()
			prev, err := store.GetRun(ctx, id)
			if errors.Is(err, journal.ErrNotFound) {
				return &exitError{code: exitUsage, err: fmt.Errorf("run %d is not in the journal", id)}
			}
			if err != nil {
				return fatal(err)
			}
			if prev.Status == journal.RunDone || prev.Status == journal.RunDryRun {
				return &exitError{code: exitUsage, err: fmt.Errorf("run %d is %s: nothing to resume", id, prev.Status)}
			}
			job, err := c.Job(prev.Job)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("run %d: %w", id, err)}
			}
			err = runner.CheckResume(ctx, store, prev, f.replan)
			var superseded *runner.SupersededError
			var changed *runner.SourceChangedError
			switch {
			case errors.As(err, &superseded):
				return &exitError{code: exitUsage, err: err}
			case errors.As(err, &changed):
				return &exitError{code: exitRefused, err: err}
			case err != nil:
				return fatal(err)
			}
			clients, err := a.jobClients(c, job)
			if err != nil {
				return err
			}
			// The same source the run read; state and the live directory
			// tell what already took effect, so only the rest is sent.
			f.source = prev.Source
			return a.locked(ctx, job.Name, store, func(ctx context.Context, st journal.Store) error {
				return a.execute(ctx, c, job, st, clients, f, id)
			})
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "config file (YAML)")
	cmd.Flags().BoolVar(&f.force, "force", false, "run a plan the mass-change guard refused")
	cmd.Flags().BoolVar(&f.reload, "reload", false, "also retry rows whose calls failed with a row error (after HR fixed the source)")
	cmd.Flags().BoolVar(&f.replan, "replan", false, "resume even though the source file changed since the run read it, planning against the file as it is now")
	cmd.Flags().BoolVar(&f.json, "json", false, "print one JSON summary object on stdout")
	return cmd
}
