package journal

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// The embedded journal's occurrence claims are PostgreSQL's (see
// postgres_coord.go) on a file: the primary key lets one insert win, which
// keeps two serve processes on one host from running an occurrence twice.
// Timestamps are sqliteStamp text, whose order is time order.

func (s *SQLite) ClaimOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO schedule_occurrences (job, scheduled_at, claimed_by, claimed_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (job, scheduled_at) DO NOTHING`,
		job, sqliteStamp(at), owner, sqliteStamp(time.Time{}))
	if err != nil {
		return false, fmt.Errorf("journal: claim %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return oneRow(res)
}

func (s *SQLite) StartOccurrence(ctx context.Context, job string, at time.Time, owner string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE schedule_occurrences SET started_at = $4
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $3 AND outcome = 'claimed' AND started_at IS NULL`,
		job, sqliteStamp(at), owner, sqliteStamp(time.Time{}))
	if err != nil {
		return false, fmt.Errorf("journal: start %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return oneRow(res)
}

func (s *SQLite) FinishOccurrence(ctx context.Context, job string, at time.Time, owner, outcome string, runID int64) error {
	if err := occurrenceOutcome(outcome); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `UPDATE schedule_occurrences SET outcome = $3, run_id = $4
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $5`, job, sqliteStamp(at), outcome, nullID(runID), owner)
	if err != nil {
		return fmt.Errorf("journal: record %s at %s: %w", job, at.UTC().Format(time.RFC3339), err)
	}
	return nil
}

func (s *SQLite) DeadClaims(ctx context.Context, jobs []string, staleAfter time.Duration) ([]Claim, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT o.job, o.scheduled_at, o.claimed_by FROM schedule_occurrences o
		WHERE o.outcome = 'claimed' AND o.started_at IS NULL AND o.claimed_at < $1
		  AND o.scheduled_at = (SELECT max(l.scheduled_at) FROM schedule_occurrences l WHERE l.job = o.job)
		ORDER BY o.job`, sqliteStamp(time.Now().Add(-staleAfter)))
	if err != nil {
		return nil, fmt.Errorf("journal: dead claims: %w", err)
	}
	defer rows.Close()
	var claims []Claim
	for rows.Next() {
		var (
			c  Claim
			at string
		)
		if err := rows.Scan(&c.Job, &at, &c.Owner); err != nil {
			return nil, fmt.Errorf("journal: dead claims: %w", err)
		}
		if !slices.Contains(jobs, c.Job) {
			continue
		}
		if c.At, err = parseSQLiteTime(at); err != nil {
			return nil, fmt.Errorf("journal: dead claims: %w", err)
		}
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: dead claims: %w", err)
	}
	return claims, nil
}

func (s *SQLite) Reclaim(ctx context.Context, c Claim, owner string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE schedule_occurrences
		SET claimed_by = $4, claimed_at = $5, reclaimed_from = claimed_by
		WHERE job = $1 AND scheduled_at = $2 AND claimed_by = $3 AND outcome = 'claimed' AND started_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM schedule_occurrences l WHERE l.job = $1 AND l.scheduled_at > $2)`,
		c.Job, sqliteStamp(c.At), c.Owner, owner, sqliteStamp(time.Time{}))
	if err != nil {
		return false, fmt.Errorf("journal: reclaim %s at %s: %w", c.Job, c.At.UTC().Format(time.RFC3339), err)
	}
	return oneRow(res)
}

func (s *SQLite) PruneOccurrences(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM schedule_occurrences WHERE scheduled_at < $1
		AND scheduled_at < (SELECT max(l.scheduled_at) FROM schedule_occurrences l WHERE l.job = schedule_occurrences.job)`,
		sqliteStamp(before))
	if err != nil {
		return 0, fmt.Errorf("journal: prune occurrences: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("journal: prune occurrences: %w", err)
	}
	return int(n), nil
}

func oneRow(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n == 1, err
}
