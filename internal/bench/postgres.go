package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hrfeed/importer/internal/pgcluster"
)

// pgCluster is a PostgreSQL server of the bench's own. It is private so the
// fault campaign may stop it under a running import, and it keeps
// PostgreSQL's default flushing (fsync, synchronous commit) so journal
// latency is what a production server would show and committed rows
// survive the stop.
type pgCluster struct{ *pgcluster.Cluster }

// startPostgres initialises and starts a cluster, or says why it cannot.
func startPostgres() (*pgCluster, error) {
	c, err := pgcluster.Start("hrfeed-bench-pg-", true)
	if err != nil {
		return nil, err
	}
	return &pgCluster{c}, nil
}

func (c *pgCluster) halt() error          { return c.Halt() }
func (c *pgCluster) serve() error         { return c.Serve() }
func (c *pgCluster) remove() error        { return c.Remove() }
func (c *pgCluster) dsn(db string) string { return c.URL(db) }

// createDB creates a fresh database and returns its URL.
func (c *pgCluster) createDB(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to the bench's PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return c.dsn(name), nil
}
