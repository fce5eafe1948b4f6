package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/migrations"
)

func (a *app) migrateCommand() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "migrate --config FILE",
		Short: "Create or upgrade the journal's tables, listing the migrations applied (safe to repeat; runs also do it on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			dsn, err := c.JournalDSN()
			if err != nil {
				return fatal(err)
			}
			pending, err := pendingMigrations(cmd.Context(), dsn)
			if err != nil {
				return fatal(err)
			}
			// Opening the journal applies pending migrations under a lock.
			store, err := openConfigJournal(cmd.Context(), c)
			if err != nil {
				return err
			}
			defer store.Close()
			for _, m := range pending {
				fmt.Fprintf(a.stdout, "applied %04d_%s\n", m.Version, m.Name)
			}
			fmt.Fprintf(a.stdout, "journal %s is up to date (%d migrations applied now)\n", journal.Name(dsn), len(pending))
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "config file (YAML)")
	return cmd
}

// pendingMigrations lists what opening the journal at dsn will apply:
// every migration for an embedded journal not created yet. Another
// process migrating at the same moment can make the list name one it
// applied; the journal's own lock keeps the schema right either way.
func pendingMigrations(ctx context.Context, dsn string) ([]migrations.Migration, error) {
	if !journal.IsPostgresDSN(dsn) {
		if _, err := os.Stat(dsn); errors.Is(err, fs.ErrNotExist) {
			return migrations.ForSQLite()
		}
	}
	st, err := journal.Open(ctx, dsn, journal.ReadOnlyOpen())
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.Pending(ctx)
}
