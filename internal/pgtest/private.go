package pgtest

import (
	"github.com/hrfeed/importer/internal/pgcluster"

	"errors"
	"os"
	"testing"
)

// Private is a PostgreSQL cluster of one test's own, for tests that stop
// and restart the server under a running importer. It never uses
// TEST_DATABASE_URL, because such a test must be able to stop its server,
// and it flushes commits as a production server does, so that what was
// committed before a crash is there after it.
type Private struct {
	c *pgcluster.Cluster
}

// NewPrivate starts a private cluster and removes it when t finishes.
// A machine without PostgreSQL skips the test, or fails it when CI is set.
func NewPrivate(t testing.TB) *Private {
	t.Helper()
	c, err := pgcluster.Start(clusterPrefix, true)
	if errors.Is(err, errUnavailable) {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgtest: %v (CI is set, so a missing PostgreSQL is a failure)", err)
		}
		t.Skipf("pgtest: %v", err)
	}
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Remove(); err != nil {
			t.Logf("pgtest: stop private cluster: %v", err)
		}
	})
	return &Private{c: c}
}

// DSN is the URL of the cluster's postgres database.
func (p *Private) DSN() string { return p.c.URL("postgres") }

// Stop stops the server immediately, as a crash would; data is kept.
func (p *Private) Stop(t testing.TB) {
	t.Helper()
	if err := p.c.Halt(); err != nil {
		t.Fatalf("pgtest: stop: %v", err)
	}
}

// Start starts a stopped server again.
func (p *Private) Start(t testing.TB) {
	t.Helper()
	if err := p.c.Serve(); err != nil {
		t.Fatalf("pgtest: start: %v", err)
	}
}
