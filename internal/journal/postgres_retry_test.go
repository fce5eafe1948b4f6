package journal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
)

// TestPostgresWritesRideOutRestart restarts the server (immediate mode, as
// a crash) under workers journaling calls the way the executor does: every
// write returns without error, there is exactly one row per BeginCall, and
// every completion and its state change is there, including those a crash
// took from the server after acknowledging them.
func TestPostgresWritesRideOutRestart(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	st, err := journal.Open(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := startRun(t, st, journal.Run{Job: "staff", CorpID: "ww"})

	const workers = 4
	var (
		seq, done  atomic.Int64
		stop       = make(chan struct{})
		wg         sync.WaitGroup
		errsMu     sync.Mutex
		errs       []error
		slowestMu  sync.Mutex
		slowest    time.Duration
		progressed = make(chan struct{}, 1)
	)
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := int(seq.Add(1))
				user := fmt.Sprintf("u%05d", n)
				began := time.Now()
				id, err := st.BeginCall(ctx, journal.Call{RunID: run, Seq: n, Phase: "members", Operation: "user_create",
					API: "user/create", Target: user, Payload: json.RawMessage(`{"userid":"` + user + `"}`), Attempt: 1})
				if err == nil {
					err = st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", &plan.StateChange{PutMember: &plan.AppliedMember{
						UserID: user, Payload: json.RawMessage(`{"userid":"` + user + `"}`), Hash: "h", Enabled: true}})
				}
				if took := time.Since(began); err == nil {
					slowestMu.Lock()
					slowest = max(slowest, took)
					slowestMu.Unlock()
				}
				if err != nil {
					errsMu.Lock()
					errs = append(errs, fmt.Errorf("call %d: %w", n, err))
					errsMu.Unlock()
					return
				}
				done.Add(1)
				select {
				case progressed <- struct{}{}:
				default:
				}
			}
		})
	}
	exited := make(chan struct{})
	go func() {
		wg.Wait()
		close(exited)
	}()
	// false when every worker has given up.
	waitFor := func(n int64) bool {
		for done.Load() < n {
			select {
			case <-progressed:
			case <-exited:
				return false
			}
		}
		return true
	}
	var restartAt int64
	var down time.Duration
	if waitFor(50) {
		restartAt = done.Load()
		began := time.Now()
		pg.Stop(t)
		pg.Start(t)
		down = time.Since(began)
		waitFor(restartAt + 100)
	}
	close(stop)
	<-exited
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	if err := st.FinishRun(ctx, run, journal.RunDone, nil); err != nil {
		t.Fatal(err)
	}

	total := int(done.Load())
	if got := count(t, st, `SELECT count(*) FROM calls WHERE run_id = $1`, run); got != total {
		t.Errorf("%d call rows for %d BeginCalls", got, total)
	}
	if got := count(t, st, `SELECT count(DISTINCT seq) FROM calls WHERE run_id = $1`, run); got != total {
		t.Errorf("%d distinct calls for %d BeginCalls", got, total)
	}
	if got := count(t, st, `SELECT count(*) FROM calls WHERE run_id = $1 AND outcome = 'ok'`, run); got != total {
		t.Errorf("%d calls completed of %d", got, total)
	}
	if got := count(t, st, `SELECT count(*) FROM applied_members WHERE run_id = $1`, run); got != total {
		t.Errorf("%d members in state for %d completed calls", got, total)
	}
	t.Logf("%d calls by %d workers, %d of them after a restart that took %v; slowest BeginCall+CompleteCall %v",
		total, workers, int64(total)-restartAt, down.Round(time.Millisecond), slowest.Round(time.Millisecond))
}

// TestPostgresWritesGiveUpAfterTheBound stops the server for longer than
// the retry bound: the write fails with ErrUnreachable, and FinishRun says
// the run is left running for a resume.
func TestPostgresWritesGiveUpAfterTheBound(t *testing.T) {
	pg := pgtest.NewPrivate(t)
	ctx := context.Background()
	st, err := journal.Open(ctx, pg.DSN(), journal.WithRetry(journal.Retry{Writes: 300 * time.Millisecond, Finish: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := startRun(t, st, journal.Run{Job: "staff", CorpID: "ww"})
	beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "a"})

	pg.Stop(t)
	_, err = st.BeginCall(ctx, journal.Call{RunID: run, Seq: 2, Operation: "user_create", Target: "b"})
	if !errors.Is(err, journal.ErrUnreachable) {
		t.Errorf("BeginCall with the server down: %v, want ErrUnreachable", err)
	}
	err = st.FinishRun(ctx, run, journal.RunFailed, nil)
	if !errors.Is(err, journal.ErrUnreachable) || !strings.Contains(err.Error(), fmt.Sprintf("left running: resume it (importer resume %d)", run)) {
		t.Errorf("FinishRun with the server down: %v, want ErrUnreachable and a resume hint", err)
	}

	pg.Start(t)
	got, err := st.GetRun(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != journal.RunRunning {
		t.Errorf("run %s, want running", got.Status)
	}
	if n := count(t, st, `SELECT count(*) FROM calls WHERE run_id = $1`, run); n != 1 {
		t.Errorf("%d calls, want only the one begun before the stop", n)
	}
}

// TestPostgresRetryAfterLostAnswer drops the server's answer to each kind
// of write after the server has committed it, as a connection lost at that
// moment would: the retry must find what the first attempt wrote instead
// of writing it again.
func TestPostgresRetryAfterLostAnswer(t *testing.T) {
	proxy := newAnswerDropper(t, pgtest.DSN(t))
	ctx := context.Background()
	st, err := journal.Open(ctx, proxy.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := startRun(t, st, journal.Run{Job: "staff", CorpID: "ww"})

	proxy.dropNext("INSERT 0 1")
	id, err := st.BeginCall(ctx, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "a"})
	if err != nil {
		t.Fatalf("BeginCall: %v", err)
	}
	proxy.dropNext("COMMIT")
	change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "a", Enabled: true}}
	if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", change); err != nil {
		t.Fatalf("CompleteCall: %v", err)
	}
	proxy.dropNext("INSERT 0 1")
	if err := st.AddReject(ctx, journal.Reject{RunID: run, SourceRef: "staff.csv:3", Rule: "required"}); err != nil {
		t.Fatalf("AddReject: %v", err)
	}
	proxy.dropNext("UPDATE 1")
	if err := st.FinishRun(ctx, run, journal.RunPartial, nil); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
	if n := proxy.dropped.Load(); n != 4 {
		t.Fatalf("%d answers dropped, want 4: the test did not exercise every write", n)
	}

	calls, err := st.ListCalls(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].ID != id || calls[0].Outcome != journal.CallOK {
		t.Errorf("calls %+v, want call %d once, ok", calls, id)
	}
	if rejects, _ := st.ListRejects(ctx, run); len(rejects) != 1 {
		t.Errorf("rejects %+v, want one", rejects)
	}
	if r, _ := st.GetRun(ctx, run); r.Status != journal.RunPartial {
		t.Errorf("run %s, want partial", r.Status)
	}
	if s := loadState(t, st, "ww"); len(s.Members) != 1 {
		t.Errorf("state %+v, want member a", s)
	}

	// A refusal from the server is an answer, not a lost connection.
	_, err = st.BeginCall(ctx, journal.Call{RunID: run + 1000, Seq: 1, Operation: "user_create", Target: "b"})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" || errors.Is(err, journal.ErrUnreachable) {
		t.Errorf("BeginCall for a missing run: %v, want the foreign key violation at once", err)
	}
}

// TestPostgresRecordsLostCompletionsAgain makes the server forget a
// completion it acknowledged, as a crash can with asynchronous commit,
// then ends the store's sessions: the next writes record it again, state
// change included.
func TestPostgresRecordsLostCompletionsAgain(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	st, err := journal.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := startRun(t, st, journal.Run{Job: "staff", CorpID: "ww"})
	id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "a"})
	change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "a", Payload: json.RawMessage(`{"userid":"a"}`), Enabled: true}}
	if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", change); err != nil {
		t.Fatal(err)
	}

	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// replica role skips the append-only triggers: only a superuser may.
	if _, err := admin.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		t.Skipf("cannot simulate a lost commit without superuser: %v", err)
	}
	if _, err := admin.Exec(ctx, `UPDATE calls SET outcome = 'pending', errmsg = '', finished_at = NULL WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `DELETE FROM applied_members`); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}

	// The first write may see the dead session or get a new one from the
	// pool; either way the second starts after the check.
	beginCall(t, st, journal.Call{RunID: run, Seq: 2, Operation: "user_create", Target: "b"})
	beginCall(t, st, journal.Call{RunID: run, Seq: 3, Operation: "user_create", Target: "c"})
	calls, err := st.ListCalls(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if calls[0].ID != id || calls[0].Outcome != journal.CallOK || calls[0].Errmsg != "ok" {
		t.Errorf("lost completion %+v, want it recorded again", calls[0])
	}
	if s := loadState(t, st, "ww"); len(s.Members) != 1 || s.Records["a"].UserID != "a" {
		t.Errorf("state %+v, want member a again", s)
	}
}

// answerDropper is a TCP proxy in front of a test database that can drop
// the server's answer to a write the server has already done, and close
// the connection, which is what the client sees when the network or the
// server goes at that moment.
type answerDropper struct {
	dsn     string
	target  string // the server, as network and address
	network string

	mu      sync.Mutex
	pattern []byte // in the server's answer to drop next; nil when none
	dropped atomic.Int64
}

func newAnswerDropper(t *testing.T, dsn string) *answerDropper {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skip("the answer dropper needs a URL test database")
	}
	d := &answerDropper{network: "tcp", target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}
	if strings.HasPrefix(cfg.Host, "/") {
		d.network, d.target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go d.pipe(c)
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	q := u.Query()
	q.Set("host", host)
	q.Set("port", port)
	q.Set("sslmode", "disable")
	u.Host, u.RawQuery = "", q.Encode()
	d.dsn = u.String()
	return d
}

// dropNext drops the next server message batch that contains pattern (a
// command tag such as "INSERT 0 1"), on whichever connection it comes.
func (d *answerDropper) dropNext(pattern string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pattern = []byte(pattern)
}

func (d *answerDropper) drop(b []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pattern == nil || !bytes.Contains(b, d.pattern) {
		return false
	}
	d.pattern = nil
	d.dropped.Add(1)
	return true
}

func (d *answerDropper) pipe(client net.Conn) {
	defer client.Close()
	server, err := net.Dial(d.network, d.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				if _, werr := server.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		server.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if d.drop(buf[:n]) {
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
