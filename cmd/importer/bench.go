package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/bench"
)

func (a *app) benchCommand() *cobra.Command {
	var (
		quick bool
		out   string
		only  []string
		sizes []int
		first []int
	)
	cmd := &cobra.Command{
		Use:   "bench [--quick] [--out FILE] [--only NAME,...] [--nightly-members N,...] [--first-members N,...]",
		Short: "Run the performance and fault scenarios against the emulator and print one results table",
		Long: "Runs the importer for real against the in-process WeCom emulator and an embedded or private\n" +
			"PostgreSQL journal, and prints one markdown table. Scenarios: " + strings.Join(bench.Scenarios, ", ") + ".\n" +
			"Exits 1 when a correctness check fails (rows lost, duplicate effects, write calls other than\n" +
			"the changed records), never because of time.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The bench starts this same binary for the scenarios that need
			// a process of their own (peak RSS, kill -9).
			exe, err := os.Executable()
			if err != nil {
				return fatal(fmt.Errorf("find the importer binary: %w", err))
			}
			command := "importer bench"
			if quick {
				command += " --quick"
			}
			if len(only) > 0 {
				command += " --only " + strings.Join(only, ",")
			}
			for _, f := range []struct {
				flag  string
				sizes []int
			}{{"--nightly-members", sizes}, {"--first-members", first}} {
				if len(f.sizes) == 0 {
					continue
				}
				parts := make([]string, len(f.sizes))
				for i, n := range f.sizes {
					if n < 1 {
						return &exitError{code: exitUsage, err: fmt.Errorf("%s: %d is not a directory size", f.flag, n)}
					}
					parts[i] = strconv.Itoa(n)
				}
				command += " " + f.flag + " " + strings.Join(parts, ",")
			}
			res, err := bench.Run(cmd.Context(), bench.Options{
				Quick: quick, Only: only, NightlyMembers: sizes, FirstMembers: first, Importer: exe, Command: command, Log: a.stderr,
			})
			switch {
			case errors.Is(err, bench.ErrUnknownScenario):
				return &exitError{code: exitUsage, err: err}
			case err != nil && res == nil:
				return fatal(err)
			}
			res.WriteMarkdown(a.stdout)
			if out != "" {
				f, ferr := os.Create(out)
				if ferr != nil {
					return fatal(ferr)
				}
				res.WriteMarkdown(f)
				if ferr := f.Close(); ferr != nil {
					return fatal(ferr)
				}
			}
			switch {
			case err != nil:
				return fatal(err)
			case res.Failed():
				return fatal(errors.New("bench: a correctness check failed (see the table)"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&quick, "quick", false, "small size of every scenario (CI): checks correctness, in well under a minute")
	cmd.Flags().StringVar(&out, "out", "", "also write the table to FILE")
	cmd.Flags().StringSliceVar(&only, "only", nil, "run only these scenarios: "+strings.Join(bench.Scenarios, ","))
	cmd.Flags().IntSliceVar(&sizes, "nightly-members", nil, "run the nightly scenario at each of these directory sizes (default: 100,000, or 2,000 with --quick)")
	cmd.Flags().IntSliceVar(&first, "first-members", nil, "run the first-import-scale scenario at each of these feed sizes (default: 100,000, or 2,000 with --quick)")
	cmd.AddCommand(a.benchReadSourceCommand())
	return cmd
}

// benchReadSourceCommand is the child process of the source-read scenario:
// hidden, because it is the bench's instrument, not a user command.
func (a *app) benchReadSourceCommand() *cobra.Command {
	var r bench.ReadArgs
	cmd := &cobra.Command{
		Use:    "read-source --type TYPE [--path FILE] [--view NAME --key COLUMN]",
		Short:  "Read a source to the end and print the row count and time (the bench's child process)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bench.ReadSource(cmd.Context(), r, a.stdout); err != nil {
				return fatal(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&r.Type, "type", "csv", "csv, xlsx, postgres or none")
	cmd.Flags().StringVar(&r.Path, "path", "", "file to read (csv, xlsx)")
	cmd.Flags().StringVar(&r.View, "view", "", "view to read (postgres; the URL is in "+bench.SourceDSNEnv+")")
	cmd.Flags().StringVar(&r.Key, "key", "", "key column of the view")
	return cmd
}
