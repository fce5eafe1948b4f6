// Package pgtest gives tests a throwaway PostgreSQL database.
//
// The first DSN call in a test binary starts a private cluster from the
// machine's own PostgreSQL binaries (initdb and pg_ctl, found on PATH or under
// /usr/lib/postgresql/<version>/bin), listening only on a Unix socket in a
// temporary directory; every DSN call then creates a fresh database in it.
// Main stops the cluster when the tests are done. Setting TEST_DATABASE_URL
// uses that server instead of starting one.
//
// Without PostgreSQL binaries the test is skipped, unless CI is set: there a
// missing PostgreSQL is a broken build machine and the test fails.
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := pgtest.DSN(t)
//		...
//	}
package pgtest

import (
	"github.com/hrfeed/importer/internal/pgcluster"

	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points tests at an existing server.
const EnvURL = "TEST_DATABASE_URL"

// errUnavailable marks "this machine cannot run PostgreSQL" as opposed to
// "PostgreSQL is here but broke": only the former may be skipped.
var errUnavailable = pgcluster.ErrUnavailable

type server struct {
	admin  string                          // connection string for CREATE/DROP DATABASE
	dsnFor func(db string) (string, error) // connection string for database db
	stop   func() error                    // nil for a server pgtest did not start
}

// clusterPrefix names the temporary directories of test clusters, so a
// later test binary can find and stop those of one that was killed.
const clusterPrefix = "pgtest-"

var (
	mainCalled atomic.Bool
	dbSeq      atomic.Int64

	mu       sync.Mutex
	shared   *server
	startErr error // sticky: a failed start is not retried by every test
)

// Main runs the tests, stops the cluster if one was started, and exits with
// the tests' status. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has its own clean-up to do: it runs the
// tests, stops the cluster, and returns the exit code.
func Run(m *testing.M) int {
	mainCalled.Store(true)
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil || shared.stop == nil {
		return nil
	}
	err := shared.stop()
	shared = nil
	return err
}

// DSN returns the postgres:// URL of a new, empty database and drops the
// database when t and its subtests finish.
func DSN(t testing.TB) string {
	t.Helper()
	s, err := get()
	if errors.Is(err, errUnavailable) {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v (CI is set, so a missing PostgreSQL is a failure; install PostgreSQL or set %s)", err, EnvURL)
		}
		t.Skipf("pgtest: %v; install PostgreSQL or set %s to run this test", err, EnvURL)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	// The pid and random suffix keep names unique when several test
	// binaries share one TEST_DATABASE_URL server.
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("test_%d_%d_%s", dbSeq.Add(1), os.Getpid(), hex.EncodeToString(b[:]))
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, s.admin, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a pool the test forgot to close must not keep the
		// database (and the next run's disk) alive.
		if err := adminExec(ctx, s.admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := s.dsnFor(name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

func get() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil || startErr != nil {
		return shared, startErr
	}
	if u := os.Getenv(EnvURL); u != "" {
		shared = &server{admin: u, dsnFor: func(db string) (string, error) { return withDatabase(u, db) }}
		return shared, nil
	}
	// Without Main nothing would stop the cluster, and a postgres process
	// would outlive the test binary.
	if !mainCalled.Load() {
		startErr = errors.New("call pgtest.Main(m) from TestMain before using pgtest.DSN")
		return nil, startErr
	}
	c, err := pgcluster.Start(clusterPrefix, false)
	if err != nil {
		startErr = err
		return nil, err
	}
	shared = &server{
		admin:  c.URL("postgres"),
		dsnFor: func(db string) (string, error) { return c.URL(db), nil },
		stop:   c.Remove,
	}
	return shared, nil
}

func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// withDatabase returns dsn pointing at database db instead of its own.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			// url's error quotes the input, password included.
			return "", fmt.Errorf("%s is not a valid URL", EnvURL)
		}
		u.Path = "/" + db
		u.RawPath = ""
		q := u.Query()
		q.Del("dbname")
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// Keyword/value form: a later setting overrides an earlier one.
	return dsn + " dbname=" + db, nil
}
