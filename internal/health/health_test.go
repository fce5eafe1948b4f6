package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestHandler(t *testing.T) {
	var notReady error
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "# metrics\n") })
	srv := httptest.NewServer(Handler(func(context.Context) error { return notReady }, metrics))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ok\n", "/metrics": "# metrics\n"} {
		if code, body := get(path); code != 200 || body != want {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
	notReady = errors.New("journal: migration 0007_x is not applied")
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "0007_x") {
		t.Errorf("/readyz when not ready: %d %q", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz when not ready: %d; the process still answers", code)
	}
}

func TestJournalReady(t *testing.T) {
	ctx := context.Background()
	st, err := journal.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pg := st.(*journal.Postgres)
	if err := JournalReady(ctx, pg); err != nil {
		t.Errorf("postgres: %v", err)
	}
	lite, err := journal.Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if err := JournalReady(ctx, lite); err != nil {
		t.Errorf("sqlite: %v", err)
	}
	if _, err := pg.Pool().Exec(ctx, `DELETE FROM schema_migrations WHERE version = 2`); err != nil {
		t.Fatal(err)
	}
	if err := JournalReady(ctx, pg); err == nil || !strings.Contains(err.Error(), "0002_schedule") {
		t.Errorf("a journal missing a migration: %v, want it named", err)
	}
}
