package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/hrfeed/importer/migrations"
)

// migrateLockKey is the PostgreSQL advisory lock every importer takes while
// migrating. It is a constant, not derived from the database, so two
// processes (a scheduler starting up while an operator runs "importer
// migrate") always contend on the same key. The value spells "hrfeed" then 1.
const migrateLockKey int64 = 0x6872_6665_6564_0001

// The runner creates schema_migrations itself: it must exist before the
// first migration can be recorded, so it cannot live in a migration file.
const pgSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL,
	name       text        NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
)`

const sqliteSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	CONSTRAINT schema_migrations_pkey PRIMARY KEY (version)
) STRICT`

// Migrate applies the pending PostgreSQL migrations. Each migration runs in
// its own transaction holding a transaction-scoped advisory lock, and checks
// schema_migrations only once it holds the lock: a concurrent migrator
// therefore waits, then finds the version recorded and skips it. A
// transaction-scoped lock (rather than a session lock) cannot leak on a
// pooled connection when the context is canceled mid-way.
func (p *Postgres) Migrate(ctx context.Context) error {
	list, err := migrations.ForPostgres()
	if err != nil {
		return fmt.Errorf("journal: migrate: %w", err)
	}
	for _, m := range list {
		err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			if _, err := tx.Exec(ctx, pgSchemaMigrations); err != nil {
				return err
			}
			var done bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
				m.Version).Scan(&done)
			if err != nil || done {
				return err
			}
			// No arguments: pgx sends this over the simple protocol, which
			// accepts a file of several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				m.Version, m.Name)
			return err
		})
		if err != nil {
			return fmt.Errorf("journal: migrate %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// Migrate applies the pending SQLite migrations. Transactions on this
// database begin IMMEDIATE (see OpenSQLite), which takes SQLite's single
// write lock up front; that plays the part of the advisory lock for other
// processes sharing the file, and busy_timeout makes them wait for it.
func (s *SQLite) Migrate(ctx context.Context) error {
	list, err := migrations.ForSQLite()
	if err != nil {
		return fmt.Errorf("journal: migrate: %w", err)
	}
	for _, m := range list {
		if err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, sqliteSchemaMigrations); err != nil {
				return err
			}
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = $1`,
				m.Version).Scan(&one)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				m.Version, m.Name)
			return err
		}); err != nil {
			return fmt.Errorf("journal: migrate %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// Pending lists the migrations this binary embeds that the database has
// not recorded, for readiness checks; a newer binary's extra versions are
// not a problem, since migrations only add.
func (p *Postgres) Pending(ctx context.Context) ([]migrations.Migration, error) {
	rows, err := p.pool.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return pending(migrations.ForPostgres, have)
}

// Pending is Postgres.Pending for the embedded journal.
func (s *SQLite) Pending(ctx context.Context) ([]migrations.Migration, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var have []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		have = append(have, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return pending(migrations.ForSQLite, have)
}

func pending(embedded func() ([]migrations.Migration, error), have []int) ([]migrations.Migration, error) {
	want, err := embedded()
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return slices.DeleteFunc(want, func(m migrations.Migration) bool { return slices.Contains(have, m.Version) }), nil
}
