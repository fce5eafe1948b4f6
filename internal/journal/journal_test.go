package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) string {
		// A missing parent directory is part of the contract: Open creates it.
		return filepath.Join(t.TempDir(), "state", "journal.db")
	}, migrations.ForSQLite)
}

func TestPostgres(t *testing.T) {
	testStore(t, func(t *testing.T) string { return pgtest.DSN(t) }, migrations.ForPostgres)
}

func TestSQLiteFileSettings(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a", "b", "journal.db")
	st, err := journal.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.(*journal.SQLite).DB()
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := db.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("journal file mode %v: it holds personal data and should be private", perm)
	}
}

// TestSQLiteBeginCallSurvivesKill runs a child process that journals a call
// and kills itself with SIGKILL before closing anything: the write-ahead
// record must be in the file regardless.
func TestSQLiteBeginCallSurvivesKill(t *testing.T) {
	if path := os.Getenv("JOURNAL_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteBeginCallSurvivesKill$")
	cmd.Env = append(os.Environ(), "JOURNAL_KILL_CHILD="+path)
	out, err := cmd.Output()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: want death by SIGKILL, got %v\n%s", err, out)
	}
	callID, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}

	st, err := journal.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.ListRuns(context.Background(), 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs after kill: %v, %v", runs, err)
	}
	calls, err := st.ListCalls(context.Background(), runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].ID != callID || calls[0].Outcome != journal.CallPending {
		t.Fatalf("calls after kill = %+v, want call %d pending", calls, callID)
	}
}

func killChild(path string) {
	ctx := context.Background()
	st, err := journal.Open(ctx, path)
	if err != nil {
		os.Exit(3)
	}
	run, err := st.StartRun(ctx, journal.Run{Job: "j", CorpID: "corp"})
	if err != nil {
		os.Exit(4)
	}
	id, err := st.BeginCall(ctx, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "a",
		Payload: json.RawMessage(`{"userid":"a"}`)})
	if err != nil {
		os.Exit(5)
	}
	os.Stdout.WriteString(strconv.FormatInt(id, 10) + "\n")
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL cannot be caught; wait for it to land
}

func TestPostgresStateChangeRollsBackWithCall(t *testing.T) {
	ctx := context.Background()
	st, err := journal.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
	id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "department_create", Target: "d"})
	// PostgreSQL refuses a NUL character in text, and only once the call
	// row has been updated in the same transaction: both must roll back.
	change := &plan.StateChange{
		PutMember:     &plan.AppliedMember{UserID: "u", Enabled: true},
		PutDepartment: &plan.AppliedDepartment{Key: "d", WeComID: 5, Name: "bad\x00name"},
	}
	if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", change); err == nil {
		t.Fatal("CompleteCall with a NUL in a name: want an error from PostgreSQL")
	}
	calls, _ := st.ListCalls(ctx, run)
	if calls[0].Outcome != journal.CallPending {
		t.Errorf("call outcome %q after a failed CompleteCall, want still pending", calls[0].Outcome)
	}
	if s := loadState(t, st, "corp"); len(s.Departments)+len(s.Members) != 0 {
		t.Errorf("state written although the completion failed: %+v", s)
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	ctx := context.Background()
	dsns := []string{
		"postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=1",
		"postgresql://u:hunter2@127.0.0.1:1/x?connect_timeout=1&sslmode=disable",
		"host=127.0.0.1 port=1 user=u password=hunter2 dbname=x connect_timeout=1",
		"user=u password=hunter2 host=/nonexistent/socket/dir dbname=x",
		"postgres://u:hunter2@127.0.0.1:notaport/x",
		"postgres://u:hunter2@127.0.0.1/x?sslmode=bogus",
		"postgress://u:hunter2@127.0.0.1/x", // typo: must not become a file path
	}
	for _, dsn := range dsns {
		st, err := journal.Open(ctx, dsn)
		if err == nil {
			_ = st.Close()
			t.Errorf("Open(%s): want an error", strings.ReplaceAll(dsn, "hunter2", "***"))
			continue
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), "hunter2") {
				t.Errorf("error reveals the password: %q", strings.ReplaceAll(e.Error(), "hunter2", "***"))
				break
			}
		}
	}
	if _, err := os.Stat("postgress:"); err == nil {
		t.Error("a mistyped database URL created a directory")
	}
}

// TestOpenRefusesMistypedConnStrings: a location that looks like a
// connection string but is not one is refused without repeating it, and
// nothing is created for it; plain paths remain files.
func TestOpenRefusesMistypedConnStrings(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	refused := []string{
		"postgres//hrfeed:hunter2@db.example/hrfeed", // the colon after the scheme forgotten
		"postgres//hrfeed@db.example/hrfeed",
		"postgresql//hrfeed:hunter2@db.example/hrfeed",
		"postgress//hrfeed@db.example/hrfeed",
		"POSTGRES//hrfeed:hunter2@db.example/hrfeed",
		"postgres:/hrfeed:hunter2@db.example/hrfeed", // one slash
		"postgres:hrfeed:hunter2@db.example/hrfeed",
		"postgresql:",
		"postgres@db.example/hrfeed",
		"pg:/db.example/hrfeed",
		"hrfeed:hunter2@db.example/hrfeed", // no scheme at all
		"//hrfeed:hunter2@db.example:5432/hrfeed",
		"db.example/hrfeed?password=hunter2",
		"journal.db?mode=ro",
		"dbname=hrfeed,password=hunter2", // comma, not space: not keyword/value
		" postgres//hrfeed:hunter2@db.example/hrfeed ",
	}
	for _, loc := range refused {
		shown := strings.ReplaceAll(loc, "hunter2", "***")
		if !journal.LooksLikeConnString(loc) {
			t.Errorf("LooksLikeConnString(%q) = false", shown)
		}
		st, err := journal.Open(context.Background(), loc)
		if err == nil {
			_ = st.Close()
			t.Errorf("Open(%q) accepted it", shown)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "db.example") {
			t.Errorf("Open(%q): error repeats the location: %v", shown, strings.ReplaceAll(err.Error(), "hunter2", "***"))
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused locations left %d files or directories behind", len(entries))
	}

	files := []string{
		"journal.db", "./journal.db", "../journal.db", "/var/lib/hrfeed/journal.db",
		"postgres/journal.db", "postgres.db", "postgresql-journal.db", "/srv/postgres//journal.db",
		"/home/li@corp.example/journal.db", "C:journal.db", "journal-2024-01-01T00:00.db",
		"./ghost=1/journal.db", "/data/my files/host=1.db",
	}
	for _, loc := range files {
		if journal.LooksLikeConnString(loc) || journal.IsPostgresDSN(loc) {
			t.Errorf("%q is a file path, not a connection string", loc)
		}
	}
	st, err := journal.Open(context.Background(), "postgres/journal.db")
	if err != nil {
		t.Fatalf("a journal in a directory named postgres: %v", err)
	}
	st.Close()
}

func TestCheckPostgresDSN(t *testing.T) {
	for _, dsn := range []string{"postgres://u@db/j", "postgresql://u:p%40ss@db:5433/j?sslmode=disable", "host=db dbname=j", "host = db user=u"} {
		if err := journal.CheckPostgresDSN(dsn); err != nil {
			t.Errorf("CheckPostgresDSN(%q): %v", dsn, err)
		}
	}
	for _, dsn := range []string{"postgres//u:hunter2@db/j", "/var/lib/journal.db", "postgres://u:hunter2@db:notaport/j",
		"postgres://u:hunter2@db/j?sslmode=bogus", "host=db port=x password=hunter2", "dbname=j,password=hunter2",
		"postgres://u@db/j&password=hunter2"} {
		err := journal.CheckPostgresDSN(dsn)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckPostgresDSN(%s) = %v, want an error without the password", strings.ReplaceAll(dsn, "hunter2", "***"), err)
		}
	}
}

func TestIsPostgresDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://db/journal", true},
		{"postgresql://u@db/journal", true},
		{"host=db dbname=journal", true},
		{"  dbname=journal user=importer", true},
		{"host = db", true}, // libpq allows spaces around =
		{"/data/ghost=1.db", false},
		{"/var/lib/hrfeed/journal.db", false},
		{"journal.db", false},
		{"./ghost=1/journal.db", false},
		{`C:\hrfeed\journal.db`, false},
	}
	for _, tt := range tests {
		if got := journal.IsPostgresDSN(tt.dsn); got != tt.want {
			t.Errorf("IsPostgresDSN(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}

func TestOpenEmpty(t *testing.T) {
	if _, err := journal.Open(context.Background(), " "); err == nil {
		t.Error("Open of an empty location: want an error")
	}
}

func TestMigrationList(t *testing.T) {
	for name, list := range map[string]func() ([]migrations.Migration, error){
		"postgres": migrations.ForPostgres, "sqlite": migrations.ForSQLite,
	} {
		ms, err := list()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "journal" {
			t.Errorf("%s migrations start with %+v, want 0001_journal", name, ms)
		}
		for i := 1; i < len(ms); i++ {
			if ms[i].Version <= ms[i-1].Version {
				t.Errorf("%s migrations out of order: %d after %d", name, ms[i].Version, ms[i-1].Version)
			}
		}
	}
}
