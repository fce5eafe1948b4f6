package schedule

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Occurrence outcomes, as recorded in schedule_occurrences.outcome.
const (
	OccurrenceClaimed = "claimed"
	OccurrenceRan     = "ran"
	OccurrenceBusy    = "busy"
	OccurrenceError   = "error"
)

// claims decides which replica runs a scheduled occurrence.
type claims interface {
	// claim reports whether this replica won job's occurrence at.
	claim(ctx context.Context, job string, at time.Time) (bool, error)
	// record notes what became of an occurrence this replica won.
	record(ctx context.Context, job string, at time.Time, outcome string, runID int64) error
}

// pgClaims claims an occurrence by inserting its row: the primary key on
// (job, scheduled_at) lets exactly one insert succeed, whatever the
// replicas' clocks and however fast the winner's run finishes. A lock alone
// would not do: a replica waking late could take the lock after the
// winner released it and run the occurrence again.
type pgClaims struct {
	pool  *pgxpool.Pool
	owner string
}

func (c *pgClaims) claim(ctx context.Context, job string, at time.Time) (bool, error) {
	tag, err := c.pool.Exec(ctx, `INSERT INTO schedule_occurrences (job, scheduled_at, claimed_by)
		VALUES ($1, $2, $3) ON CONFLICT (job, scheduled_at) DO NOTHING`, job, at.UTC(), c.owner)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func (c *pgClaims) record(ctx context.Context, job string, at time.Time, outcome string, runID int64) error {
	var id *int64
	if runID != 0 {
		id = &runID
	}
	_, err := c.pool.Exec(ctx, `UPDATE schedule_occurrences SET outcome = $3, run_id = $4
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $5`, job, at.UTC(), outcome, id, c.owner)
	return err
}

// localClaims serves a single replica: every occurrence is its own.
type localClaims struct{}

func (localClaims) claim(context.Context, string, time.Time) (bool, error)         { return true, nil }
func (localClaims) record(context.Context, string, time.Time, string, int64) error { return nil }
