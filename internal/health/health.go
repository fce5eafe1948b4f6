// Package health serves what orchestrators and scrapers ask `importer
// serve`: /healthz (the process answers), /readyz (its journal is usable)
// and /metrics.
package health

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hrfeed/importer/migrations"
)

// Handler serves /healthz, /readyz (ready reports no error) and /metrics.
func Handler(ready func(context.Context) error, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			// The error names tables and versions, never the DSN: pgx
			// redacts passwords and the journal never formats its DSN.
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", metrics)
	return mux
}

// Schema is what readiness needs of a journal (journal.Store has it).
type Schema interface {
	Pending(context.Context) ([]migrations.Migration, error)
}

// JournalReady reports whether the journal answers and has every migration
// this binary embeds. A journal migrated further by a newer binary is
// ready: its migrations only add.
func JournalReady(ctx context.Context, j Schema) error {
	missing, err := j.Pending(ctx)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		m := missing[0]
		return fmt.Errorf("journal: migration %04d_%s is not applied (run importer migrate)", m.Version, m.Name)
	}
	return nil
}
