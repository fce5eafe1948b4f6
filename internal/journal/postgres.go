package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
)

// Postgres is the journal in a PostgreSQL database, for scheduled jobs and
// anything an auditor queries directly.
type Postgres struct {
	pool  *pgxpool.Pool
	retry Retry

	// Riding out restarts (postgres_retry.go): completions not yet known
	// durable, sessions opened so far (AfterConnect), and how many of those
	// had been opened when the completions were last checked.
	pending    unflushed
	sessions   atomic.Uint64
	checked    atomic.Uint64
	reRecordMu sync.Mutex
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// keyword/value string) and checks that it answers. It does not migrate.
//
// Errors never carry dsn: pgx redacts the password in its own messages, and
// this package never formats dsn itself.
func OpenPostgres(ctx context.Context, dsn string, opts ...Option) (*Postgres, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("journal: open postgres: %w", err)
	}
	if err := checkNames(&cfg.ConnConfig.Config); err != nil {
		return nil, fmt.Errorf("journal: open postgres: the connection string %w", err)
	}
	p := &Postgres{retry: o.retry.withDefaults()}
	cfg.AfterConnect = func(context.Context, *pgx.Conn) error {
		p.sessions.Add(1)
		return nil
	}
	// Lets a DBA tell the importer's sessions apart in pg_stat_activity.
	if _, set := cfg.ConnConfig.RuntimeParams["application_name"]; !set {
		cfg.ConnConfig.RuntimeParams["application_name"] = "hrfeed-importer"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("journal: open postgres: %w", err)
	}
	// The pool connects lazily; ping so a wrong address or password fails
	// here, at startup, rather than at the first journal write mid-run.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("journal: open postgres: %w", err)
	}
	p.pool = pool
	return p, nil
}

// Retry is how long this store's writes ride out a lost connection, for
// whatever else must ride it out with them (the job lock).
func (p *Postgres) Retry() Retry { return p.retry }

// Pool exposes the connection pool, for tools and tests that query the
// journal tables directly.
func (p *Postgres) Pool() *pgxpool.Pool { return p.pool }

// Close closes the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

func (p *Postgres) StartRun(ctx context.Context, r Run) (int64, error) {
	id, err := p.startRun(ctx, r)
	if err != nil {
		return 0, fmt.Errorf("journal: start run %s: %w", r.Job, err)
	}
	return id, nil
}

func (p *Postgres) startRun(ctx context.Context, r Run) (int64, error) {
	if err := startStatus(r.Status); err != nil {
		return 0, err
	}
	counts, err := encodeCounts(r.Counts)
	if err != nil {
		return 0, err
	}
	// Not retried: a run that cannot start has sent nothing, and a retry
	// after a lost answer would record the run twice.
	var id int64
	err = p.syncWrite(ctx, -1, func(ctx context.Context, _ bool) error {
		return p.pool.QueryRow(ctx, sqlInsertRun, r.Job, r.CorpID, r.Source, r.SourceDigest, r.Mode,
			nullID(r.ResumedFrom), r.Host, stamp(r.StartedAt), counts,
			r.Trigger, r.OSUser, r.Version, r.ConfigDigest).Scan(&id)
	})
	return id, err
}

func (p *Postgres) FinishRun(ctx context.Context, id int64, status RunStatus, counts map[string]int) error {
	if err := p.finishRun(ctx, id, status, counts); err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrCompleted) || !p.unreachable(err) {
			return fmt.Errorf("journal: finish run %d: %w", id, err)
		}
		return fmt.Errorf("journal: finish run %d: %w; the run is left running: resume it (importer resume %d) once the journal is reachable",
			id, err, id)
	}
	return nil
}

// unreachable reports whether err is the journal being out of reach rather
// than an answer from it.
func (p *Postgres) unreachable(err error) bool {
	return errors.Is(err, ErrUnreachable) || connectionLost(err) || errors.Is(err, context.DeadlineExceeded)
}

func (p *Postgres) finishRun(ctx context.Context, id int64, status RunStatus, counts map[string]int) error {
	if err := finalStatus(status); err != nil {
		return err
	}
	enc, err := encodeCounts(counts)
	if err != nil {
		return err
	}
	at := now()
	return p.syncWrite(ctx, p.retry.Finish, func(ctx context.Context, again bool) error {
		tag, err := p.pool.Exec(ctx, sqlFinishRun, id, status, enc, at)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		// Runs are never deleted, so checking afterwards cannot race.
		var (
			exists  bool
			current string
		)
		err = p.pool.QueryRow(ctx, `SELECT true, status FROM runs WHERE id = $1`, id).Scan(&exists, &current)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case again && RunStatus(current) == status:
			return nil // an attempt whose answer was lost finished it
		}
		return ErrCompleted
	})
}

func scanPGRun(row pgx.Row) (Run, error) {
	var (
		r        Run
		finished *time.Time
		counts   []byte
	)
	err := row.Scan(&r.ID, &r.Job, &r.CorpID, &r.Source, &r.SourceDigest, &r.Mode, &r.Status,
		&r.ResumedFrom, &r.Host, &r.StartedAt, &finished, &counts, &r.Trigger, &r.OSUser, &r.Version, &r.ConfigDigest)
	if err != nil {
		return Run{}, err
	}
	r.StartedAt = r.StartedAt.UTC()
	if finished != nil {
		r.FinishedAt = finished.UTC()
	}
	if r.Counts, err = decodeCounts(counts); err != nil {
		return Run{}, err
	}
	return r, nil
}

func (p *Postgres) GetRun(ctx context.Context, id int64) (Run, error) {
	r, err := scanPGRun(p.pool.QueryRow(ctx, `SELECT `+sqlRunColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Run{}, fmt.Errorf("journal: get run %d: %w", id, err)
	}
	return r, nil
}

func (p *Postgres) ListRuns(ctx context.Context, limit int) ([]Run, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+sqlRunColumns+` FROM runs
		ORDER BY started_at DESC, id DESC LIMIT $1`, limitOrAll(limit))
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Run, error) { return scanPGRun(row) })
	if err != nil {
		return nil, fmt.Errorf("journal: list runs: %w", err)
	}
	return runs, nil
}

func (p *Postgres) BeginCall(ctx context.Context, c Call) (int64, error) {
	id, err := p.beginCall(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("journal: begin call %s: %w", c.Target, err)
	}
	return id, nil
}

func (p *Postgres) beginCall(ctx context.Context, c Call) (int64, error) {
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
	// A single autocommit INSERT: when it returns, the row is committed,
	// which is what makes it a write-ahead record of the request. The token
	// lets a retry find the row of an attempt whose answer was lost.
	var (
		id      int64
		token   = rand.Text()
		started = stamp(c.StartedAt)
	)
	err = p.syncWrite(ctx, p.retry.Writes, func(ctx context.Context, again bool) error {
		err := p.pool.QueryRow(ctx, sqlInsertCall, c.RunID, c.Seq, c.Phase, c.Operation, c.API, c.Target,
			c.SourceRef, payload, c.Attempt, started, token, before, after, c.Reason).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			err = p.pool.QueryRow(ctx, `SELECT id FROM calls WHERE request_token = $1`, token).Scan(&id)
		}
		return err
	})
	return id, err
}

func (p *Postgres) CompleteCall(ctx context.Context, id int64, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	if err := p.completeCall(ctx, id, outcome, errcode, errmsg, change); err != nil {
		return fmt.Errorf("journal: complete call %d: %w", id, err)
	}
	return nil
}

func (p *Postgres) completeCall(ctx context.Context, id int64, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	if err := answerOutcome(outcome); err != nil {
		return err
	}
	if err := checkChange(change); err != nil {
		return err
	}
	err := p.write(ctx, p.retry.Writes, func(ctx context.Context, again bool) error {
		return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
			// Only the write-ahead row (BeginCall) must be on disk before the
			// next step; a completion lost in a server crash leaves the call
			// pending, which resume reconciles against WeCom like any call in
			// flight, and which this store records again if the run goes on
			// (reRecord). Skipping the flush here halves the fsyncs per call.
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit TO OFF"); err != nil {
				return err
			}
			c, err := lockCall(ctx, tx, id)
			if err != nil {
				return err
			}
			if c.outcome != CallPending {
				if again && c.outcome == outcome && c.errcode == errcode && c.errmsg == errmsg {
					return nil // an attempt whose answer was lost recorded it, change and all
				}
				return fmt.Errorf("outcome is %s: %w", c.outcome, ErrCompleted)
			}
			return recordAnswer(ctx, tx, c, outcome, errcode, errmsg, change)
		})
	})
	if err == nil {
		p.pending.add(answer{id: id, outcome: outcome, errcode: errcode, errmsg: errmsg, change: change})
	}
	return err
}

// lockedCall is a call row locked for its completion.
type lockedCall struct {
	id      int64
	outcome CallOutcome
	errmsg  string
	errcode int
	runID   int64
	corp    string
}

// lockCall reads call id FOR UPDATE, which serializes two completions of
// the same call, so exactly one of them sees it pending.
func lockCall(ctx context.Context, tx pgx.Tx, id int64) (lockedCall, error) {
	c := lockedCall{id: id}
	err := tx.QueryRow(ctx, `SELECT c.outcome, c.errcode, c.errmsg, c.run_id, r.corp_id
		FROM calls c JOIN runs r ON r.id = c.run_id
		WHERE c.id = $1 FOR UPDATE OF c`, id).Scan(&c.outcome, &c.errcode, &c.errmsg, &c.runID, &c.corp)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

func recordAnswer(ctx context.Context, tx pgx.Tx, c lockedCall, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error {
	if _, err := tx.Exec(ctx, sqlCompleteCall, c.id, outcome, errcode, errmsg, now()); err != nil {
		return err
	}
	return applyPG(ctx, tx, c.corp, c.runID, change)
}

// applyPG writes change for corp. Deletes go first so that a change which
// both deletes and puts the same key leaves the put in place.
func applyPG(ctx context.Context, tx pgx.Tx, corp string, runID int64, c *plan.StateChange) error {
	if c == nil {
		return nil
	}
	at := now()
	if c.DeleteDepartment != "" {
		if _, err := tx.Exec(ctx, sqlDeleteDepartment, corp, c.DeleteDepartment); err != nil {
			return fmt.Errorf("delete department %s: %w", c.DeleteDepartment, err)
		}
	}
	if c.DeleteMember != "" {
		if _, err := tx.Exec(ctx, sqlDeleteMember, corp, memberKey(c.DeleteMember)); err != nil {
			return fmt.Errorf("delete member %s: %w", c.DeleteMember, err)
		}
		if _, err := tx.Exec(ctx, sqlDeleteMemberTags, corp, memberKey(c.DeleteMember)); err != nil {
			return fmt.Errorf("delete member %s from its tags: %w", c.DeleteMember, err)
		}
	}
	if c.UntagMember != "" {
		if _, err := tx.Exec(ctx, sqlDeleteMemberTags, corp, memberKey(c.UntagMember)); err != nil {
			return fmt.Errorf("untag member %s: %w", c.UntagMember, err)
		}
	}
	if c.DeleteTag != "" {
		if _, err := tx.Exec(ctx, sqlDeleteTag, corp, c.DeleteTag); err != nil {
			return fmt.Errorf("delete tag %s: %w", c.DeleteTag, err)
		}
	}
	if d := c.PutDepartment; d != nil {
		if _, err := tx.Exec(ctx, sqlPutDepartment, corp, d.Key, d.WeComID, d.ParentID, d.Name,
			int64(d.Order), runID, at); err != nil {
			return fmt.Errorf("put department %s: %w", d.Key, err)
		}
	}
	if m := c.PutMember; m != nil {
		payload, _ := nullableJSON("payload", m.Payload) // validated by checkChange
		if _, err := tx.Exec(ctx, sqlPutMember, corp, memberKey(m.UserID), m.UserID, payload, m.Hash,
			m.Enabled, runID, at); err != nil {
			return fmt.Errorf("put member %s: %w", m.UserID, err)
		}
	}
	if t := c.PutTag; t != nil {
		if _, err := tx.Exec(ctx, sqlPutTag, corp, t.Name, t.WeComID, t.Created, runID, at); err != nil {
			return fmt.Errorf("put tag %s: %w", t.Name, err)
		}
	}
	if tm := c.AddTagMembers; tm != nil {
		if _, err := tx.Exec(ctx, sqlAddTagMembersPG, corp, tm.Tag, memberKeys(tm.UserIDs), tm.UserIDs, runID, at); err != nil {
			return fmt.Errorf("add members to tag %s: %w", tm.Tag, err)
		}
	}
	if tm := c.RemoveTagMembers; tm != nil {
		if _, err := tx.Exec(ctx, sqlRemoveTagMembersPG, corp, tm.Tag, memberKeys(tm.UserIDs)); err != nil {
			return fmt.Errorf("remove members from tag %s: %w", tm.Tag, err)
		}
	}
	return nil
}

// A tag call names up to 1,000 members: one statement each way, with the
// userids as arrays.
const (
	sqlAddTagMembersPG = `INSERT INTO applied_tag_members (corp_id, tag, userid_lower, userid, run_id, updated_at)
	SELECT $1, $2, k, u, $5, $6 FROM unnest($3::text[], $4::text[]) AS m(k, u)
	ON CONFLICT (corp_id, tag, userid_lower) DO UPDATE SET
	userid = excluded.userid, run_id = excluded.run_id, updated_at = excluded.updated_at`

	sqlRemoveTagMembersPG = `DELETE FROM applied_tag_members WHERE corp_id = $1 AND tag = $2 AND userid_lower = ANY($3::text[])`
)

func (p *Postgres) ListCalls(ctx context.Context, runID int64) ([]Call, error) {
	calls, err := p.calls(ctx, sqlListCalls, runID)
	if err != nil {
		return nil, fmt.Errorf("journal: list calls of run %d: %w", runID, err)
	}
	return calls, nil
}

func (p *Postgres) MemberCalls(ctx context.Context, userid string) ([]Call, error) {
	calls, err := p.calls(ctx, sqlMemberCalls, userid)
	if err != nil {
		return nil, fmt.Errorf("journal: calls of member %s: %w", userid, err)
	}
	return calls, nil
}

func (p *Postgres) EachCall(ctx context.Context, runID int64, fn func(Call) error) error {
	rows, err := p.pool.Query(ctx, sqlListCalls, runID)
	if err != nil {
		return fmt.Errorf("journal: list calls of run %d: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanPGCall(rows)
		if err != nil {
			return fmt.Errorf("journal: list calls of run %d: %w", runID, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal: list calls of run %d: %w", runID, err)
	}
	return nil
}

func (p *Postgres) calls(ctx context.Context, query string, arg any) ([]Call, error) {
	rows, err := p.pool.Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Call, error) { return scanPGCall(row) })
}

func scanPGCall(row pgx.Row) (Call, error) {
	var (
		c                      Call
		payload, before, after []byte
		finished               *time.Time
	)
	err := row.Scan(&c.ID, &c.RunID, &c.Seq, &c.Phase, &c.Operation, &c.API, &c.Target, &c.SourceRef,
		&payload, &c.Attempt, &c.Outcome, &c.Errcode, &c.Errmsg, &c.StartedAt, &finished, &before, &after, &c.Reason)
	c.Payload, c.Before, c.After = payload, before, after
	c.StartedAt = c.StartedAt.UTC()
	if finished != nil {
		c.FinishedAt = finished.UTC()
	}
	return c, err
}

func (p *Postgres) AddReject(ctx context.Context, r Reject) error {
	token, at := rand.Text(), now()
	err := p.syncWrite(ctx, p.retry.Writes, func(ctx context.Context, _ bool) error {
		// A retry after a lost answer conflicts on the token and adds nothing.
		_, err := p.pool.Exec(ctx, sqlInsertReject, r.RunID, r.SourceRef, r.Column, r.Rule, r.Message, at, token, r.UserID)
		return err
	})
	if err != nil {
		return fmt.Errorf("journal: add reject %s: %w", r.SourceRef, err)
	}
	return nil
}

func (p *Postgres) ListRejects(ctx context.Context, runID int64) ([]Reject, error) {
	rejects, err := p.rejects(ctx, sqlListRejects, runID)
	if err != nil {
		return nil, fmt.Errorf("journal: list rejects of run %d: %w", runID, err)
	}
	return rejects, nil
}

func (p *Postgres) MemberRejects(ctx context.Context, userid string) ([]Reject, error) {
	rejects, err := p.rejects(ctx, sqlMemberRejects, userid)
	if err != nil {
		return nil, fmt.Errorf("journal: list rejects of member %s: %w", userid, err)
	}
	return rejects, nil
}

func (p *Postgres) rejects(ctx context.Context, query string, arg any) ([]Reject, error) {
	rows, err := p.pool.Query(ctx, query, arg)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reject, error) {
		var r Reject
		err := row.Scan(&r.RunID, &r.SourceRef, &r.Column, &r.Rule, &r.Message, &r.UserID, &r.CreatedAt)
		r.CreatedAt = r.CreatedAt.UTC()
		return r, err
	})
}

func (p *Postgres) LoadState(ctx context.Context, corpID string, need func(plan.State) []string) (plan.State, error) {
	st, err := p.loadState(ctx, corpID, need)
	if err != nil {
		return plan.State{}, fmt.Errorf("journal: load state of corp %s: %w", corpID, err)
	}
	return st, nil
}

func (p *Postgres) loadState(ctx context.Context, corpID string, need func(plan.State) []string) (plan.State, error) {
	st := plan.State{Departments: map[string]plan.AppliedDepartment{}, Members: map[string]member.Digest{}, Records: map[string]member.Record{}}
	// One repeatable-read snapshot so departments, digests, tags and records
	// are from the same moment even while a run is writing.
	err := pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, sqlLoadDepartments, corpID)
			if err != nil {
				return err
			}
			var d plan.AppliedDepartment
			var order int64
			_, err = pgx.ForEachRow(rows, []any{&d.Key, &d.WeComID, &d.ParentID, &d.Name, &order, &d.RunID}, func() error {
				d.Order = uint32(order)
				st.Departments[d.Key] = d
				return nil
			})
			if err != nil {
				return err
			}
			rows, err = tx.Query(ctx, sqlLoadDigests, corpID)
			if err != nil {
				return err
			}
			var (
				k    string
				hash pgtype.DriverBytes // valid until the next row: only decoded
			)
			_, err = pgx.ForEachRow(rows, []any{&k, &hash}, func() error {
				st.Members[k], _ = member.ParseDigest(hash)
				return nil
			})
			if err != nil {
				return err
			}
			if err := loadTagsPG(ctx, tx, corpID, &st); err != nil || need == nil {
				return err
			}
			keys := need(st)
			if len(keys) == 0 {
				return nil
			}
			rows, err = tx.Query(ctx, sqlLoadRecordsPostgres, corpID, keys)
			if err != nil {
				return err
			}
			var payload pgtype.DriverBytes
			_, err = pgx.ForEachRow(rows, []any{&k, &payload}, func() error {
				if r, err := member.ParseRecord(payload); err == nil {
					st.Records[k] = r
				}
				return nil
			})
			return err
		})
	return st, err
}

func loadTagsPG(ctx context.Context, tx pgx.Tx, corpID string, st *plan.State) error {
	tags := tagRows{st: st}
	rows, err := tx.Query(ctx, sqlLoadTags, corpID)
	if err != nil {
		return err
	}
	var t plan.AppliedTag
	if _, err := pgx.ForEachRow(rows, []any{&t.Name, &t.WeComID, &t.Created, &t.RunID}, func() error {
		tags.tag(t)
		return nil
	}); err != nil {
		return err
	}
	if rows, err = tx.Query(ctx, sqlLoadTagMembers, corpID); err != nil {
		return err
	}
	var userKey, tag string
	if _, err := pgx.ForEachRow(rows, []any{&userKey, &tag}, func() error {
		tags.member(userKey, tag)
		return nil
	}); err != nil {
		return err
	}
	tags.done()
	return nil
}
