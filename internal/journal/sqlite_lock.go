package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// TryLockJob takes job's lock on the embedded journal: an exclusive lock
// on the lock file beside the journal (see lockPath; an flock on Unix,
// see lockFile). The kernel drops a flock with the last descriptor of the
// open file, so a process killed by any signal frees its jobs, and two
// opens of the file in one process exclude each other as two processes do
// (unlike fcntl locks, which belong to the process and vanish when any of
// its descriptors of the file is closed). A lock that cannot outlive its
// holder needs no heartbeat: Previous.Gone is always true.
//
// The holder is recorded in job_leases. Taking the file lock, writing that
// row and a contender's reading it all happen inside a write transaction
// on the journal, which SQLite gives to one connection at a time: a
// contender therefore reads the row of the process that holds the lock
// now, never its predecessor's.
func (s *SQLite) TryLockJob(ctx context.Context, job string, o LockOptions) (*JobLock, error) {
	o = o.withDefaults()
	var (
		f    heldFile
		prev JobPrevious
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		f, err = lockFile(s.lockPath(job))
		if errors.Is(err, errFileLocked) {
			return sqliteHolder(ctx, tx, job)
		}
		if err != nil {
			return err
		}
		prev, err = sqliteTakeLease(ctx, tx, job, o.Owner)
		return err
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		var busy *JobBusyError
		if errors.As(err, &busy) {
			return nil, busy
		}
		return nil, fmt.Errorf("journal: lock job %s: %w", job, err)
	}
	prev.Gone = prev.Owner != ""
	return newJobLock(ctx, job, o.Owner, prev, &sqliteLease{s: s, job: job, owner: o.Owner, f: f}), nil
}

type sqliteLease struct {
	s          *SQLite
	job, owner string
	f          heldFile
}

func (l *sqliteLease) setRun(ctx context.Context, runID int64) error {
	_, err := l.s.db.ExecContext(ctx, `UPDATE job_leases SET run_id = $2, owner_run_id = $2, handoff = 0,
		beat_at = $4 WHERE job = $1 AND owner = $3`, l.job, runID, l.owner, sqliteStamp(time.Time{}))
	return err
}

func (l *sqliteLease) handoff(ctx context.Context, runID int64, on bool) error {
	_, err := l.s.db.ExecContext(ctx, `UPDATE job_leases SET handoff = $3 WHERE job = $1 AND run_id = $2`,
		l.job, runID, on)
	return err
}

// release closes the lock file and so unlocks it. The file stays:
// deleting it would let a process that opened it just before lock a file
// no one else can find any more.
func (l *sqliteLease) release() { _ = l.f.Close() }

// lockPath is job's lock file: beside the journal, so that every process
// using this journal finds it, and one per job (escaped, since a job name
// may hold a slash), so that jobs lock independently.
func (s *SQLite) lockPath(job string) string {
	return s.path + "." + url.PathEscape(job) + ".lock"
}

// heldFile is a locked lock file; closing it unlocks it.
type heldFile interface{ Close() error }

var errFileLocked = errors.New("file is locked")

func sqliteHolder(ctx context.Context, tx *sql.Tx, job string) *JobBusyError {
	var (
		busy  = &JobBusyError{Job: job}
		since string
		runID sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT owner, acquired_at, owner_run_id FROM job_leases WHERE job = $1`, job).
		Scan(&busy.Owner, &since, &runID)
	if err != nil {
		// Only a holder from before migration 0005, which did not record
		// itself, gets here: the job is still locked, by someone unnamed.
		return &JobBusyError{Job: job}
	}
	busy.Since, _ = parseSQLiteTime(since)
	busy.RunID = runID.Int64
	return busy
}

// sqliteTakeLease reads what the previous holder left and records owner,
// as the PostgreSQL lease does (pgLease.take): run_id and handoff are kept
// for whoever resumes an abandoned run, owner_run_id starts empty.
func sqliteTakeLease(ctx context.Context, tx *sql.Tx, job, owner string) (JobPrevious, error) {
	var (
		p     JobPrevious
		runID sql.NullInt64
		beat  string
	)
	err := tx.QueryRowContext(ctx, `SELECT owner, run_id, handoff, beat_at FROM job_leases WHERE job = $1`, job).
		Scan(&p.Owner, &runID, &p.Handoff, &beat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return p, err
	default:
		p.RunID = runID.Int64
		if t, err := parseSQLiteTime(beat); err == nil {
			p.BeatAge = time.Since(t)
		}
	}
	at := sqliteStamp(time.Time{})
	_, err = tx.ExecContext(ctx, `INSERT INTO job_leases (job, owner, acquired_at, beat_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
			beat_at = excluded.beat_at, owner_run_id = NULL`, job, owner, at)
	return p, err
}

// StaleRuns decides that a run's holder is gone by its job's lock file
// being free, whatever staleAfter says: a live holder keeps its lock. It
// tests the lock inside a write transaction, as TryLockJob takes it, so
// the test (which holds the lock for a moment) never makes another
// process's TryLockJob report the job busy.
func (s *SQLite) StaleRuns(ctx context.Context, jobs []string, _ time.Duration) ([]StaleRun, error) {
	var stale []StaleRun
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT l.job, l.run_id, l.owner, l.handoff, r.status
			FROM job_leases l JOIN runs r ON r.id = l.run_id
			WHERE r.status = 'running' OR (r.status = 'canceled' AND l.handoff) ORDER BY l.job`)
		if err != nil {
			return err
		}
		var (
			candidates []StaleRun
			running    []bool
		)
		for rows.Next() {
			var (
				r      StaleRun
				status RunStatus
			)
			if err := rows.Scan(&r.Job, &r.RunID, &r.Owner, &r.Handoff, &status); err != nil {
				_ = rows.Close()
				return err
			}
			if slices.Contains(jobs, r.Job) {
				candidates = append(candidates, r)
				running = append(running, status == RunRunning)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		_ = rows.Close()
		for i, r := range candidates {
			if running[i] {
				free, err := lockFree(s.lockPath(r.Job))
				if err != nil {
					return err
				}
				if !free {
					continue
				}
			}
			stale = append(stale, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: stale runs: %w", err)
	}
	return stale, nil
}
