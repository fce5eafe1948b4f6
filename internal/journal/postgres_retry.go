// Riding out a PostgreSQL restart or failover under a run: bounded retries
// of journal writes, and re-recording answers a crash may have lost.

package journal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hrfeed/importer/internal/plan"
)

// DefaultRetry is how long a PostgreSQL journal write keeps trying through
// a lost connection: long enough for a restart or a managed failover,
// short enough that a run facing a dead database ends (failed, resumable)
// instead of hanging.
const DefaultRetry = 30 * time.Second

// Retry bounds the retries of PostgreSQL journal writes. Zero fields take
// DefaultRetry; a negative one turns retries off.
type Retry struct {
	// Writes bounds each BeginCall, CompleteCall and AddReject, from its
	// first attempt. Nothing is sent to WeCom meanwhile: the executor
	// journals each request before sending it.
	Writes time.Duration
	// Finish bounds FinishRun, separately, so a run whose last call used
	// up its bound still gets the whole bound to record its end.
	Finish time.Duration
}

// ErrUnreachable is wrapped by a write that gave up because the journal
// stayed unreachable for the whole retry bound.
var ErrUnreachable = errors.New("journal unreachable")

// Option configures Open.
type Option func(*options)

type options struct {
	retry     Retry
	noMigrate bool
}

// ReadOnlyOpen makes Open leave the schema as it is: for a check that
// must report pending migrations rather than apply them.
func ReadOnlyOpen() Option { return func(o *options) { o.noMigrate = true } }

// WithRetry sets the retry bounds of a PostgreSQL journal (the embedded
// journal is a local file and does not retry).
func WithRetry(r Retry) Option { return func(o *options) { o.retry = r } }

func (r Retry) withDefaults() Retry {
	if r.Writes == 0 {
		r.Writes = DefaultRetry
	}
	if r.Finish == 0 {
		r.Finish = DefaultRetry
	}
	return r
}

const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// write runs op until it succeeds, fails for a reason other than the
// connection, or bound has passed; each attempt is also cut off at the
// bound, so a server that accepts connections but never answers does not
// hold the run forever either. op learns whether an earlier attempt was
// lost, in which case that attempt may have committed without the answer
// reaching us, and op must not apply its change a second time.
func (p *Postgres) write(ctx context.Context, bound time.Duration, op func(ctx context.Context, again bool) error) error {
	if bound <= 0 {
		if err := p.reRecord(ctx); err != nil {
			return err
		}
		return op(ctx, false)
	}
	deadline := time.Now().Add(bound)
	wait := firstBackoff
	for again := false; ; again = true {
		actx, cancel := context.WithDeadline(ctx, deadline)
		err := p.reRecord(actx)
		if err == nil {
			err = op(actx, again)
		}
		cancel()
		if err == nil {
			return nil
		}
		lost := connectionLost(err)
		if lost {
			p.sessions.Add(1) // the next session may be on a restarted server
		}
		switch {
		case ctx.Err() != nil:
			return err
		case !lost && !errors.Is(err, context.DeadlineExceeded):
			return err
		case time.Until(deadline) < wait:
			return fmt.Errorf("%w for %s: %w", ErrUnreachable, bound, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// connectionLost reports whether err means the connection to the server
// failed or the server is restarting, so that the same write may succeed
// on a new connection. Anything the server answered otherwise (a
// constraint, a trigger, a syntax error) is final.
func connectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     *net.OpError
	)
	return pgconn.SafeToRetry(err) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// Completions commit without waiting for their WAL flush (see
// completeCall), so a server crash can lose the last ones although they
// were acknowledged. A run that rides out the crash must not end with
// those calls pending and their state changes missing: each acknowledged
// completion is kept here until it is known durable, and re-recorded after
// anything that may have been a restart.
//
// A completion is durable once a synchronous commit made after it, on the
// same server, has returned: WAL is flushed in order. "The same server" is
// approximated by "no new session was opened in between", since a restart
// or failover forces every session to be replaced.
type unflushed struct {
	mu   sync.Mutex
	next uint64
	list []answer // in acknowledgement order
}

// answer is a completion to re-record.
type answer struct {
	seq     uint64
	id      int64
	outcome CallOutcome
	errcode int
	errmsg  string
	change  *plan.StateChange
}

func (u *unflushed) add(a answer) {
	u.mu.Lock()
	defer u.mu.Unlock()
	a.seq = u.next
	u.next++
	u.list = append(u.list, a)
}

// mark is taken before a synchronous commit: completions acknowledged
// before it are durable once that commit returns.
func (u *unflushed) mark() uint64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.next
}

func (u *unflushed) durable(mark uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	i := 0
	for i < len(u.list) && u.list[i].seq < mark {
		i++
	}
	u.list = slices.Delete(u.list, 0, i)
}

func (u *unflushed) snapshot() ([]answer, uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.list), u.next
}

// syncWrite is write for a write that commits synchronously (the default):
// when it returns without a new session having been opened meanwhile, the
// completions acknowledged before it are durable too.
func (p *Postgres) syncWrite(ctx context.Context, bound time.Duration, op func(ctx context.Context, again bool) error) error {
	mark := p.pending.mark()
	sessions := p.sessions.Load()
	err := p.write(ctx, bound, op)
	if err == nil && p.sessions.Load() == sessions {
		p.pending.durable(mark)
	}
	return err
}

// reRecord writes again, in one synchronous transaction, every completion
// not known durable, when a session has been opened since they were last
// checked: those a crash lost (pending again) are recorded again with their
// state changes; completed ones, whatever their answer, are left alone. The transaction takes a transaction id
// so that its commit flushes the WAL even when nothing was lost.
func (p *Postgres) reRecord(ctx context.Context) error {
	sessions := p.sessions.Load()
	if p.checked.Load() == sessions {
		return nil
	}
	p.reRecordMu.Lock()
	defer p.reRecordMu.Unlock()
	sessions = p.sessions.Load()
	if p.checked.Load() == sessions {
		return nil
	}
	list, mark := p.pending.snapshot()
	if len(list) > 0 {
		err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT txid_current()`); err != nil {
				return err
			}
			for _, a := range list {
				c, err := lockCall(ctx, tx, a.id)
				if err != nil {
					return fmt.Errorf("call %d: %w", a.id, err)
				}
				if c.outcome != CallPending {
					continue // not lost
				}
				if err := recordAnswer(ctx, tx, c, a.outcome, a.errcode, a.errmsg, a.change); err != nil {
					return fmt.Errorf("call %d: %w", a.id, err)
				}
			}
			return nil
		})
		if err != nil {
			if connectionLost(err) {
				return err
			}
			return fmt.Errorf("re-record answers after a lost connection: %w", err)
		}
		p.pending.durable(mark)
	}
	p.checked.Store(sessions)
	return nil
}
