package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestDSNGivesSeparateEmptyDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := DSN(t), DSN(t)
	if a == b {
		t.Fatalf("two DSN calls returned the same database %q", a)
	}
	connA := connect(t, a)
	if _, err := connA.Exec(ctx, `CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatal(err)
	}
	var n int
	err := connect(t, b).QueryRow(ctx,
		`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("second database has %d tables, want an empty database", n)
	}
}

func TestDSNDropsDatabaseAfterTest(t *testing.T) {
	var (
		name   string
		leaked *pgx.Conn
	)
	t.Run("user", func(t *testing.T) {
		cfg, err := pgx.ParseConfig(DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		name = cfg.Database
		// Left open past the test on purpose: the drop must not wait for it.
		leaked, err = pgx.Connect(context.Background(), cfg.ConnString())
		if err != nil {
			t.Fatal(err)
		}
	})
	if leaked != nil {
		defer leaked.Close(context.Background())
	}
	s, err := get()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), s.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	err = conn.QueryRow(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test finished", name)
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@db:5432/app?sslmode=disable", "postgres://u:p@db:5432/test_1?sslmode=disable"},
		{"postgresql://db/app?dbname=other&sslmode=require", "postgresql://db/test_1?sslmode=require"},
		{"postgres:///?host=%2Ftmp%2Fsock", "postgres:///test_1?host=%2Ftmp%2Fsock"},
		{"host=db user=u dbname=app", "host=db user=u dbname=app dbname=test_1"},
	}
	for _, tt := range tests {
		got, err := withDatabase(tt.in, "test_1")
		if err != nil {
			t.Errorf("withDatabase(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("withDatabase(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWithDatabaseHidesPassword(t *testing.T) {
	_, err := withDatabase("postgres://u:hunter2@db:bad port/app", "x")
	if err == nil {
		t.Fatal("want an error for a malformed URL")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q reveals the password", err)
	}
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
