package journal

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StaleRuns reads the leases only; whoever acts on a run takes the job's
// lock first, which a holder that is alive after all still has.
func (p *Postgres) StaleRuns(ctx context.Context, jobs []string, staleAfter time.Duration) ([]StaleRun, error) {
	rows, err := p.pool.Query(ctx, `SELECT l.job, l.run_id, l.owner, l.handoff FROM job_leases l JOIN runs r ON r.id = l.run_id
		WHERE l.job = ANY($1)
		  AND ((r.status = 'running' AND l.beat_at < now() - make_interval(secs => $2))
		       OR (r.status = 'canceled' AND l.handoff))
		ORDER BY l.job`, jobs, staleAfter.Seconds())
	if err != nil {
		return nil, fmt.Errorf("journal: stale runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaleRun, error) {
		var r StaleRun
		err := row.Scan(&r.Job, &r.RunID, &r.Owner, &r.Handoff)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: stale runs: %w", err)
	}
	return runs, nil
}

// ClaimOccurrence inserts the occurrence's row: the primary key on (job,
// scheduled_at) lets exactly one insert succeed, whatever the processes'
// clocks and however fast the winner's run finishes. A lock alone would
// not do: a process waking late could take the lock after the winner
// released it and run the occurrence again.
func (p *Postgres) ClaimOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error) {
	tag, err := p.pool.Exec(ctx, `INSERT INTO schedule_occurrences (job, scheduled_at, claimed_by)
		VALUES ($1, $2, $3) ON CONFLICT (job, scheduled_at) DO NOTHING`, job, at.UTC(), owner)
	if err != nil {
		return false, fmt.Errorf("journal: claim %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}

func (p *Postgres) StartOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error) {
	tag, err := p.pool.Exec(ctx, `UPDATE schedule_occurrences SET started_at = now()
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $3 AND outcome = 'claimed' AND started_at IS NULL`,
		job, at.UTC(), owner)
	if err != nil {
		return false, fmt.Errorf("journal: start %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}

func (p *Postgres) FinishOccurrence(ctx context.Context, job string, at time.Time, owner, outcome string, runID int64) error {
	if err := occurrenceOutcome(outcome); err != nil {
		return err
	}
	_, err := p.pool.Exec(ctx, `UPDATE schedule_occurrences SET outcome = $3, run_id = $4
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $5`, job, at.UTC(), outcome, nullID(runID), owner)
	if err != nil {
		return fmt.Errorf("journal: record %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return nil
}

func (p *Postgres) DeadClaims(ctx context.Context, jobs []string, staleAfter time.Duration) ([]Claim, error) {
	rows, err := p.pool.Query(ctx, `SELECT o.job, o.scheduled_at, o.claimed_by FROM schedule_occurrences o
		WHERE o.job = ANY($1) AND o.outcome = 'claimed' AND o.started_at IS NULL
		  AND o.claimed_at < now() - make_interval(secs => $2)
		  AND o.scheduled_at = (SELECT max(l.scheduled_at) FROM schedule_occurrences l WHERE l.job = o.job)
		ORDER BY o.job`, jobs, staleAfter.Seconds())
	if err != nil {
		return nil, fmt.Errorf("journal: dead claims: %w", err)
	}
	claims, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Claim, error) {
		var c Claim
		err := row.Scan(&c.Job, &c.At, &c.Owner)
		c.At = c.At.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("journal: dead claims: %w", err)
	}
	return claims, nil
}

func (p *Postgres) Reclaim(ctx context.Context, c Claim, owner string) (bool, error) {
	tag, err := p.pool.Exec(ctx, `UPDATE schedule_occurrences o
		SET claimed_by = $4, claimed_at = now(), reclaimed_from = o.claimed_by
		WHERE o.job = $1 AND o.scheduled_at = $2 AND o.claimed_by = $3 AND o.outcome = 'claimed' AND o.started_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM schedule_occurrences l WHERE l.job = o.job AND l.scheduled_at > o.scheduled_at)`,
		c.Job, c.At.UTC(), c.Owner, owner)
	if err != nil {
		return false, fmt.Errorf("journal: reclaim %s at %s: %w", c.Job, c.At.UTC().Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}

func (p *Postgres) PruneOccurrences(ctx context.Context, before time.Time) (int, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM schedule_occurrences o WHERE o.scheduled_at < $1
		AND o.scheduled_at < (SELECT max(l.scheduled_at) FROM schedule_occurrences l WHERE l.job = o.job)`, before.UTC())
	if err != nil {
		return 0, fmt.Errorf("journal: prune occurrences: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
