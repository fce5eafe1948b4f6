//go:build unix

package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"syscall"
	"time"
)

var _ JobLocker = (*SQLite)(nil)

// TryLockJob takes job's lock on the embedded journal: an exclusive flock
// on the lock file beside the journal (see lockPath). The kernel drops a
// flock with the last descriptor of the open file, so a process killed by
// any signal frees its jobs, and two opens of the file in one process
// exclude each other as two processes do (unlike fcntl locks, which
// belong to the process and vanish when any of its descriptors of the
// file is closed).
//
// The holder is recorded in job_leases. Taking the flock, writing that row
// and a contender's reading it all happen inside a write transaction on
// the journal, which SQLite gives to one connection at a time: a contender
// therefore reads the row of the process that holds the lock now, never
// its predecessor's.
func (s *SQLite) TryLockJob(ctx context.Context, job, owner string) (*JobLock, error) {
	var f *os.File
	var prev JobPrevious
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		f, err = flockFile(s.lockPath(job))
		if errors.Is(err, errFileLocked) {
			return &JobBusyError{Job: job, Holder: sqliteHolder(ctx, tx, job)}
		}
		if err != nil {
			return err
		}
		prev, err = sqliteTakeLease(ctx, tx, job, owner)
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
	var once sync.Once
	return &JobLock{
		Previous: prev,
		setRun: func(ctx context.Context, runID int64) error {
			_, err := s.db.ExecContext(ctx, `UPDATE job_leases SET run_id = $2, owner_run_id = $2, handoff = 0,
				beat_at = $4 WHERE job = $1 AND owner = $3`, job, runID, owner, sqliteStamp(time.Time{}))
			return err
		},
		handoff: func(ctx context.Context, runID int64, on bool) error {
			_, err := s.db.ExecContext(ctx, `UPDATE job_leases SET handoff = $3 WHERE job = $1 AND run_id = $2`,
				job, runID, on)
			return err
		},
		release: func() error {
			// The file stays: deleting it would let a process that opened
			// it just before lock a file no one else can find any more.
			var err error
			once.Do(func() { err = f.Close() })
			return err
		},
	}, nil
}

// lockPath is job's lock file: beside the journal, so that every process
// using this journal finds it, and one per job (escaped, since a job name
// may hold a slash), so that jobs lock independently.
func (s *SQLite) lockPath(job string) string {
	return s.path + "." + url.PathEscape(job) + ".lock"
}

var errFileLocked = errors.New("file is locked")

// flockFile opens path and locks it exclusively without waiting.
func flockFile(path string) (*os.File, error) {
	for {
		// Private like the journal; the file holds no data, but anyone who
		// can open it could lock every run out.
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		for errors.Is(err, syscall.EINTR) {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		}
		if err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, errFileLocked
			}
			return nil, err
		}
		// A lock on a file someone has since deleted or replaced excludes
		// no one who opens the path now: lock the file that is there.
		held, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			return f, nil
		}
		_ = f.Close()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
}

func sqliteHolder(ctx context.Context, tx *sql.Tx, job string) JobHolder {
	var (
		h     JobHolder
		since string
		runID sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT owner, acquired_at, owner_run_id FROM job_leases WHERE job = $1`, job).
		Scan(&h.Owner, &since, &runID)
	if err != nil {
		// Only a holder from before migration 0005, which did not record
		// itself, gets here: the job is still locked, by someone unnamed.
		return JobHolder{}
	}
	h.Since, _ = parseSQLiteTime(since)
	h.RunID = runID.Int64
	return h
}

// sqliteTakeLease reads what the previous holder left and records owner,
// as the PostgreSQL lease does (schedule.pgLease.take): run_id and handoff
// are kept for whoever resumes an abandoned run, owner_run_id starts empty.
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
