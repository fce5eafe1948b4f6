package journal

import (
	"context"
	"errors"
	"strings"
)

// Open opens the journal named by dsn and brings its schema up to date.
//
// A postgres:// or postgresql:// URL, or a libpq keyword/value string
// (host=... dbname=...), selects PostgreSQL; anything else is the path of an
// SQLite file, created with its parent directory if missing.
//
// Options apply to PostgreSQL; see WithRetry.
func Open(ctx context.Context, dsn string, opts ...Option) (Store, error) {
	var (
		st  Store
		err error
	)
	switch {
	case strings.TrimSpace(dsn) == "":
		return nil, errors.New("journal: open: empty journal location")
	case IsPostgresDSN(dsn):
		st, err = OpenPostgres(ctx, dsn, opts...)
	case strings.Contains(dsn, "://"):
		// Most likely a mistyped database URL. Taking it as a file path would
		// create directories named after its parts, password included, and
		// echo it in errors; refuse without repeating it.
		return nil, errors.New("journal: open: unsupported URL scheme; use postgres:// or a file path")
	default:
		st, err = OpenSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// libpqKeywords are the keyword/value settings that mark a string as a
// PostgreSQL connection string. Any one is enough, so that a string such as
// "user=x password=y dbname=z" (no host: local socket) is never mistaken for
// a file name.
var libpqKeywords = []string{
	"host=", "hostaddr=", "port=", "dbname=", "user=", "password=", "passfile=",
	"sslmode=", "service=", "connect_timeout=", "application_name=",
}

// IsPostgresDSN reports whether Open treats dsn as a PostgreSQL connection
// string rather than a file path.
func IsPostgresDSN(dsn string) bool {
	s := strings.TrimSpace(dsn)
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return true
	}
	// Whole fields only, so a file such as "/data/ghost=1.db" stays a file.
	for _, field := range strings.Fields(s) {
		for _, kw := range libpqKeywords {
			if strings.HasPrefix(field, kw) {
				return true
			}
		}
	}
	return false
}
