package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
)

// SQLite is the journal in a single local file, the default for one-off runs
// on a machine with no database server.
type SQLite struct {
	db   *sql.DB
	path string // the journal file, beside which job lock files live

	// writes feeds the group committer (sqlite_batch.go); closeMu keeps
	// Close from closing it under a sender.
	writes  chan write
	stopped chan struct{}
	closeMu sync.RWMutex
	closed  bool
}

var errClosed = errors.New("journal is closed")

var _ Store = (*SQLite)(nil)

// The pragmas are set by the driver on every new connection:
//   - busy_timeout: another process (a second importer, an auditor's sqlite3
//     shell) may hold the write lock briefly; wait instead of failing.
//   - foreign_keys: SQLite leaves them off unless asked, per connection.
//   - journal_mode=WAL: readers do not block the writer.
//   - synchronous=FULL: every commit is fsynced, so a call journaled by
//     BeginCall survives kill -9 and power loss alike.
//   - _txlock=immediate: transactions take the write lock at BEGIN, so two
//     writers queue on busy_timeout rather than one failing with
//     SQLITE_BUSY when it upgrades from reader to writer mid-transaction.
const sqliteParams = "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
	"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate"

// sqliteTime is how timestamps are stored: UTC, fixed width, so that text
// order is time order and an auditor reading the file sees plain dates.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// OpenSQLite opens (creating if needed) the journal file at path and its
// parent directory. It does not migrate.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	s, err := openSQLite(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("journal: open sqlite %s: %w", path, err)
	}
	return s, nil
}

func openSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	// The driver reads everything after '?' as its own parameters.
	if strings.ContainsRune(path, '?') {
		return nil, errors.New("path must not contain '?'")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	// The journal holds member payloads (names, mobiles, emails): create it
	// readable by its owner only. SQLite gives the -wal and -shm files the
	// same permissions as the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path+sqliteParams)
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has a single writer anyway, and this keeps
	// callers in this process queueing in database/sql rather than spinning
	// on busy_timeout against each other.
	db.SetMaxOpenConns(1)
	if err := pingSQLite(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	s := &SQLite{db: db, path: path, writes: make(chan write), stopped: make(chan struct{})}
	go s.groupCommit()
	return s, nil
}

// pingSQLite opens the first connection. Turning a new file to WAL takes
// an exclusive lock that SQLite does not wait for with busy_timeout, so
// processes opening one new journal at once (serve and a manual run, the
// first night) can see SQLITE_BUSY here; a few short retries settle it.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := db.PingContext(ctx)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// DB exposes the database handle, for tools and tests that query the journal
// tables directly. With a single connection, a caller holding rows open
// blocks the store until it closes them.
func (s *SQLite) DB() *sql.DB { return s.db }

// Close closes the database file.
func (s *SQLite) Close() error {
	s.closeMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.writes)
	}
	s.closeMu.Unlock()
	<-s.stopped
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("journal: close sqlite: %w", err)
	}
	return nil
}

func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.tx(ctx, nil, fn)
}

// inReadTx runs fn in a deferred (snapshot) transaction: the driver begins
// IMMEDIATE only for transactions that may write.
func (s *SQLite) inReadTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.tx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (s *SQLite) tx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func sqliteStamp(t time.Time) string { return stamp(t).Format(sqliteTime) }

func parseSQLiteTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad timestamp %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseNullSQLiteTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseSQLiteTime(s.String)
}

func (s *SQLite) StartRun(ctx context.Context, r Run) (int64, error) {
	id, err := s.startRun(ctx, r)
	if err != nil {
		return 0, fmt.Errorf("journal: start run %s: %w", r.Job, err)
	}
	return id, nil
}

func (s *SQLite) startRun(ctx context.Context, r Run) (int64, error) {
	if err := startStatus(r.Status); err != nil {
		return 0, err
	}
	counts, err := encodeCounts(r.Counts)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.QueryRowContext(ctx, sqlInsertRun, r.Job, r.CorpID, r.Source, r.SourceDigest, r.Mode,
		nullID(r.ResumedFrom), r.Host, sqliteStamp(r.StartedAt), counts,
		r.Trigger, r.OSUser, r.Version, r.ConfigDigest).Scan(&id)
	return id, err
}

func (s *SQLite) FinishRun(ctx context.Context, id int64, status RunStatus, counts map[string]int) error {
	if err := s.finishRun(ctx, id, status, counts); err != nil {
		return fmt.Errorf("journal: finish run %d: %w", id, err)
	}
	return nil
}

func (s *SQLite) finishRun(ctx context.Context, id int64, status RunStatus, counts map[string]int) error {
	if err := finalStatus(status); err != nil {
		return err
	}
	enc, err := encodeCounts(counts)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, sqlFinishRun, id, status, enc, sqliteStamp(time.Time{}))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var exists bool
	if err := s.db.QueryRowContext(ctx, sqlRunExists, id).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return ErrNotFound
	}
	return ErrCompleted
}

type scanner interface{ Scan(dest ...any) error }

func scanSQLiteRun(row scanner) (Run, error) {
	var (
		r               Run
		started, counts string
		finished        sql.NullString
	)
	err := row.Scan(&r.ID, &r.Job, &r.CorpID, &r.Source, &r.SourceDigest, &r.Mode, &r.Status,
		&r.ResumedFrom, &r.Host, &started, &finished, &counts, &r.Trigger, &r.OSUser, &r.Version, &r.ConfigDigest)
	if err != nil {
		return Run{}, err
	}
	if r.StartedAt, err = parseSQLiteTime(started); err != nil {
		return Run{}, err
	}
	if r.FinishedAt, err = parseNullSQLiteTime(finished); err != nil {
		return Run{}, err
	}
	if r.Counts, err = decodeCounts([]byte(counts)); err != nil {
		return Run{}, err
	}
	return r, nil
}

func (s *SQLite) GetRun(ctx context.Context, id int64) (Run, error) {
	r, err := scanSQLiteRun(s.db.QueryRowContext(ctx, `SELECT `+sqlRunColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("journal: get run %d: %w", id, err)
	}
	return r, nil
}

func (s *SQLite) ListRuns(ctx context.Context, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite's "no limit"
	}
	runs, err := sqliteRows(ctx, s.db, scanSQLiteRun, `SELECT `+sqlRunColumns+` FROM runs
		ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	return runs, nil
}

// sqliteRows runs a query and scans every row with scan, closing the rows
// before returning so the single connection is free again.
func sqliteRows[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := sqliteEach(ctx, db, scan, func(v T) error {
		out = append(out, v)
		return nil
	}, query, args...)
	return out, err
}

// sqliteEach calls fn with each row of the query as scan reads it, and
// stops at the first error.
func sqliteEach[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), fn func(T) error, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *SQLite) BeginCall(ctx context.Context, c Call) (int64, error) {
	id, err := s.beginCall(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("journal: begin call %s: %w", c.Target, err)
	}
	return id, nil
}

func (s *SQLite) beginCall(ctx context.Context, c Call) (int64, error) {
	if c.Outcome != "" && c.Outcome != CallPending {
		return 0, fmt.Errorf("a call begins %s, not %s", CallPending, c.Outcome)
	}
	payload, err := nullableJSON("payload", c.Payload)
	if err != nil {
		return 0, err
	}
	before, err := nullableJSON("before", c.Before)
	if err != nil {
		return 0, err
	}
	after, err := nullableJSON("after", c.After)
	if err != nil {
		return 0, err
	}
	// Group-committed with synchronous=FULL: the row is on disk when this returns.
	var id int64
	err = s.batched(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, sqlInsertCall, c.RunID, c.Seq, c.Phase, c.Operation, c.API, c.Target,
			c.SourceRef, payload, c.Attempt, sqliteStamp(c.StartedAt), rand.Text(), before, after, c.Reason).Scan(&id)
	})
	return id, err
}

func (s *SQLite) CompleteCall(ctx context.Context, id int64, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	if err := s.completeCall(ctx, id, outcome, errcode, errmsg, change); err != nil {
		return fmt.Errorf("journal: complete call %d: %w", id, err)
	}
	return nil
}

func (s *SQLite) completeCall(ctx context.Context, id int64, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	if err := answerOutcome(outcome); err != nil {
		return err
	}
	if err := checkChange(change); err != nil {
		return err
	}
	// The transaction began IMMEDIATE, so no other writer can complete the
	// call between this check and the update.
	return s.batched(ctx, func(tx *sql.Tx) error {
		var (
			current, corp string
			runID         int64
		)
		err := tx.QueryRowContext(ctx, `SELECT c.outcome, c.run_id, r.corp_id
			FROM calls c JOIN runs r ON r.id = c.run_id WHERE c.id = $1`, id).Scan(&current, &runID, &corp)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if CallOutcome(current) != CallPending {
			return fmt.Errorf("outcome is %s: %w", current, ErrCompleted)
		}
		if _, err := tx.ExecContext(ctx, sqlCompleteCall, id, outcome, errcode, errmsg, sqliteStamp(time.Time{})); err != nil {
			return err
		}
		return applySQLite(ctx, tx, corp, runID, change)
	})
}

// applySQLite mirrors applyPG; see there for the order of operations.
func applySQLite(ctx context.Context, tx *sql.Tx, corp string, runID int64, c *plan.StateChange) error {
	if c == nil {
		return nil
	}
	at := sqliteStamp(time.Time{})
	if c.DeleteDepartment != "" {
		if _, err := tx.ExecContext(ctx, sqlDeleteDepartment, corp, c.DeleteDepartment); err != nil {
			return fmt.Errorf("delete department %s: %w", c.DeleteDepartment, err)
		}
	}
	if c.DeleteMember != "" {
		if _, err := tx.ExecContext(ctx, sqlDeleteMember, corp, memberKey(c.DeleteMember)); err != nil {
			return fmt.Errorf("delete member %s: %w", c.DeleteMember, err)
		}
		if _, err := tx.ExecContext(ctx, sqlDeleteMemberTags, corp, memberKey(c.DeleteMember)); err != nil {
			return fmt.Errorf("delete member %s from its tags: %w", c.DeleteMember, err)
		}
	}
	if c.UntagMember != "" {
		if _, err := tx.ExecContext(ctx, sqlDeleteMemberTags, corp, memberKey(c.UntagMember)); err != nil {
			return fmt.Errorf("untag member %s: %w", c.UntagMember, err)
		}
	}
	if c.DeleteTag != "" {
		if _, err := tx.ExecContext(ctx, sqlDeleteTag, corp, c.DeleteTag); err != nil {
			return fmt.Errorf("delete tag %s: %w", c.DeleteTag, err)
		}
	}
	if d := c.PutDepartment; d != nil {
		if _, err := tx.ExecContext(ctx, sqlPutDepartment, corp, d.Key, d.WeComID, d.ParentID, d.Name,
			int64(d.Order), runID, at); err != nil {
			return fmt.Errorf("put department %s: %w", d.Key, err)
		}
	}
	if m := c.PutMember; m != nil {
		payload, _ := nullableJSON("payload", m.Payload) // validated by checkChange
		if _, err := tx.ExecContext(ctx, sqlPutMember, corp, memberKey(m.UserID), m.UserID, payload, m.Hash,
			m.Enabled, runID, at); err != nil {
			return fmt.Errorf("put member %s: %w", m.UserID, err)
		}
	}
	if t := c.PutTag; t != nil {
		if _, err := tx.ExecContext(ctx, sqlPutTag, corp, t.Name, t.WeComID, t.Created, runID, at); err != nil {
			return fmt.Errorf("put tag %s: %w", t.Name, err)
		}
	}
	if tm := c.AddTagMembers; tm != nil {
		pairs := make([][2]string, len(tm.UserIDs))
		for i, u := range tm.UserIDs {
			pairs[i] = [2]string{memberKey(u), u}
		}
		list, _ := json.Marshal(pairs) // strings always encode
		if _, err := tx.ExecContext(ctx, sqlAddTagMembersSQLite, corp, tm.Tag, string(list), runID, at); err != nil {
			return fmt.Errorf("add members to tag %s: %w", tm.Tag, err)
		}
	}
	if tm := c.RemoveTagMembers; tm != nil {
		keys, _ := json.Marshal(memberKeys(tm.UserIDs))
		if _, err := tx.ExecContext(ctx, sqlRemoveTagMembersSQLite, corp, tm.Tag, string(keys)); err != nil {
			return fmt.Errorf("remove members from tag %s: %w", tm.Tag, err)
		}
	}
	return nil
}

// A tag call names up to 1,000 members: one statement each way, the
// userids passed as a JSON array ([key, userid] pairs to add).
const (
	sqlAddTagMembersSQLite = `INSERT INTO applied_tag_members (corp_id, tag, userid_lower, userid, run_id, updated_at)
	SELECT $1, $2, json_extract(value, '$[0]'), json_extract(value, '$[1]'), $4, $5 FROM json_each($3) WHERE true
	ON CONFLICT (corp_id, tag, userid_lower) DO UPDATE SET
	userid = excluded.userid, run_id = excluded.run_id, updated_at = excluded.updated_at`

	sqlRemoveTagMembersSQLite = `DELETE FROM applied_tag_members WHERE corp_id = $1 AND tag = $2
	AND userid_lower IN (SELECT value FROM json_each($3))`
)

func (s *SQLite) ListCalls(ctx context.Context, runID int64) ([]Call, error) {
	calls, err := s.calls(ctx, sqlListCalls, runID)
	if err != nil {
		return nil, fmt.Errorf("journal: list calls of run %d: %w", runID, err)
	}
	return calls, nil
}

func (s *SQLite) MemberCalls(ctx context.Context, userid string) ([]Call, error) {
	calls, err := s.calls(ctx, sqlMemberCalls, userid)
	if err != nil {
		return nil, fmt.Errorf("journal: calls of member %s: %w", userid, err)
	}
	return calls, nil
}

func (s *SQLite) EachCall(ctx context.Context, runID int64, fn func(Call) error) error {
	var fnErr error
	err := sqliteEach(ctx, s.db, scanSQLiteCall, func(c Call) error {
		fnErr = fn(c)
		return fnErr
	}, sqlListCalls, runID)
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("journal: list calls of run %d: %w", runID, err)
	}
	return nil
}

func (s *SQLite) calls(ctx context.Context, query string, arg any) ([]Call, error) {
	return sqliteRows(ctx, s.db, scanSQLiteCall, query, arg)
}

func scanSQLiteCall(row scanner) (Call, error) {
	var (
		c                      Call
		payload, before, after sql.NullString
		started                string
		finished               sql.NullString
	)
	err := row.Scan(&c.ID, &c.RunID, &c.Seq, &c.Phase, &c.Operation, &c.API, &c.Target, &c.SourceRef,
		&payload, &c.Attempt, &c.Outcome, &c.Errcode, &c.Errmsg, &started, &finished, &before, &after, &c.Reason)
	if err != nil {
		return Call{}, err
	}
	for _, v := range []struct {
		col *sql.NullString
		to  *json.RawMessage
	}{{&payload, &c.Payload}, {&before, &c.Before}, {&after, &c.After}} {
		if v.col.Valid {
			*v.to = []byte(v.col.String)
		}
	}
	if c.StartedAt, err = parseSQLiteTime(started); err != nil {
		return Call{}, err
	}
	c.FinishedAt, err = parseNullSQLiteTime(finished)
	return c, err
}

func (s *SQLite) AddReject(ctx context.Context, r Reject) error {
	_, err := s.db.ExecContext(ctx, sqlInsertReject, r.RunID, r.SourceRef, r.Column, r.Rule, r.Message,
		sqliteStamp(time.Time{}), rand.Text(), r.UserID)
	if err != nil {
		return fmt.Errorf("journal: add reject %s: %w", r.SourceRef, err)
	}
	return nil
}

func (s *SQLite) ListRejects(ctx context.Context, runID int64) ([]Reject, error) {
	rejects, err := s.rejects(ctx, sqlListRejects, runID)
	if err != nil {
		return nil, fmt.Errorf("journal: list rejects of run %d: %w", runID, err)
	}
	return rejects, nil
}

func (s *SQLite) MemberRejects(ctx context.Context, userid string) ([]Reject, error) {
	rejects, err := s.rejects(ctx, sqlMemberRejects, userid)
	if err != nil {
		return nil, fmt.Errorf("journal: list rejects of member %s: %w", userid, err)
	}
	return rejects, nil
}

func (s *SQLite) rejects(ctx context.Context, query string, arg any) ([]Reject, error) {
	return sqliteRows(ctx, s.db, func(row scanner) (Reject, error) {
		var (
			r       Reject
			created string
		)
		if err := row.Scan(&r.RunID, &r.SourceRef, &r.Column, &r.Rule, &r.Message, &r.UserID, &created); err != nil {
			return Reject{}, err
		}
		var err error
		r.CreatedAt, err = parseSQLiteTime(created)
		return r, err
	}, query, arg)
}

func (s *SQLite) LoadState(ctx context.Context, corpID string, need func(plan.State) []string) (plan.State, error) {
	st, err := s.loadState(ctx, corpID, need)
	if err != nil {
		return plan.State{}, fmt.Errorf("journal: load state of corp %s: %w", corpID, err)
	}
	return st, nil
}

func (s *SQLite) loadState(ctx context.Context, corpID string, need func(plan.State) []string) (plan.State, error) {
	st := plan.State{Departments: map[string]plan.AppliedDepartment{}, Members: map[string]member.Digest{}, Records: map[string]member.Record{}}
	// One read transaction, so departments, digests, tags and records are one snapshot.
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, sqlLoadDepartments, corpID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d plan.AppliedDepartment
			var order int64
			if err := rows.Scan(&d.Key, &d.WeComID, &d.ParentID, &d.Name, &order, &d.RunID); err != nil {
				return err
			}
			d.Order = uint32(order)
			st.Departments[d.Key] = d
		}
		if err := rows.Err(); err != nil {
			return err
		}
		mrows, err := tx.QueryContext(ctx, sqlLoadDigests, corpID)
		if err != nil {
			return err
		}
		defer mrows.Close()
		var hash sql.RawBytes
		for mrows.Next() {
			var k string
			if err := mrows.Scan(&k, &hash); err != nil {
				return err
			}
			st.Members[k], _ = member.ParseDigest(hash)
		}
		if err := mrows.Err(); err != nil {
			return err
		}
		if err := loadTagsSQLite(ctx, tx, corpID, &st); err != nil || need == nil {
			return err
		}
		keys := need(st)
		if len(keys) == 0 {
			return nil
		}
		list, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		rrows, err := tx.QueryContext(ctx, sqlLoadRecordsSQLite, corpID, string(list))
		if err != nil {
			return err
		}
		defer rrows.Close()
		var payload sql.RawBytes
		for rrows.Next() {
			var k string
			if err := rrows.Scan(&k, &payload); err != nil {
				return err
			}
			if r, err := member.ParseRecord(payload); err == nil {
				st.Records[k] = r
			}
		}
		return rrows.Err()
	})
	return st, err
}

func loadTagsSQLite(ctx context.Context, tx *sql.Tx, corpID string, st *plan.State) error {
	tags := tagRows{st: st}
	rows, err := tx.QueryContext(ctx, sqlLoadTags, corpID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t plan.AppliedTag
		if err := rows.Scan(&t.Name, &t.WeComID, &t.Created, &t.RunID); err != nil {
			return err
		}
		tags.tag(t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	mrows, err := tx.QueryContext(ctx, sqlLoadTagMembers, corpID)
	if err != nil {
		return err
	}
	defer mrows.Close()
	for mrows.Next() {
		var userKey, tag string
		if err := mrows.Scan(&userKey, &tag); err != nil {
			return err
		}
		tags.member(userKey, tag)
	}
	if err := mrows.Err(); err != nil {
		return err
	}
	tags.done()
	return nil
}
