package journal

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Open opens the journal named by dsn and brings its schema up to date.
//
// A postgres:// or postgresql:// URL, or a libpq keyword/value string
// (host=... dbname=...), selects PostgreSQL; anything else that does not
// look like a connection string (see LooksLikeConnString) is the path of an
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
	case LooksLikeConnString(dsn):
		return nil, errMistypedDSN
	default:
		st, err = OpenSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.noMigrate {
		return st, nil
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

var errMistypedDSN = errors.New("journal: open: the journal location looks like a PostgreSQL connection string " +
	"but is not one (want postgres://user@host/db or host=... dbname=...); it is not taken as a file path, " +
	"and not shown here because it may hold a password")

// libpqKeyword matches a libpq keyword/value setting, spaces around "="
// allowed as libpq allows them. Any one is enough, so that a string such as
// "user=x password=y dbname=z" (no host: local socket) is never mistaken
// for a file name. Only at the start or after a space: a file such as
// "/data/ghost=1.db" stays a file.
var libpqKeyword = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|service|connect_timeout|application_name)\s*=`)

// IsPostgresDSN reports whether Open treats dsn as a PostgreSQL connection
// string rather than a file path.
func IsPostgresDSN(dsn string) bool {
	s := strings.TrimSpace(dsn)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") || libpqKeyword.MatchString(s)
}

// CheckPostgresDSN reports whether dsn is a PostgreSQL connection string
// that parses. Its errors never contain dsn; they complete a sentence
// about where dsn came from ("DATABASE_URL is set but " + err).
func CheckPostgresDSN(dsn string) error {
	if !IsPostgresDSN(dsn) {
		return errors.New("is not a PostgreSQL URL")
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// pgx masks passwords only as far as it can tell where they are.
		return errors.New("does not parse as a PostgreSQL connection string " +
			"(check the scheme, the port, and that special characters in the password are percent-encoded)")
	}
	return checkNames(cfg)
}

// Name says which journal a location is, for a person and without a
// secret: "PostgreSQL db.example:5432/hrfeed as importer", or the file's
// path.
func Name(dsn string) string {
	if !IsPostgresDSN(dsn) {
		return dsn
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil || checkNames(cfg) != nil {
		return "PostgreSQL (connection string not readable)"
	}
	return fmt.Sprintf("PostgreSQL %s:%d/%s as %s", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

// checkNames refuses a parsed connection string whose user, database or
// host name holds a "=": the mark of settings run together ("dbname=x,
// password=y", "postgres://h/db&password=y"), which would put the password
// in a name, and pgx quotes user and database in its connect errors.
func checkNames(cfg *pgconn.Config) error {
	for _, name := range []string{cfg.User, cfg.Database, cfg.Host} {
		if strings.Contains(name, "=") {
			return errors.New("is malformed: a user, database or host name contains \"=\" " +
				"(separate keyword=value settings with spaces, URL query parameters with &)")
		}
	}
	return nil
}

var (
	// "postgres" (or "postgresql", or a misspelling that starts so)
	// followed by what only a connection string has there.
	postgresPrefix = regexp.MustCompile(`(?i)^postgres[a-z]*(//|:|@)`)
	// A URL scheme followed by a colon and a slash or nothing: "pg:/db",
	// "postgres:", "C:/..." (a Windows path, which this Linux tool does not
	// take). "C:journal.db" and "2024-01-01T00:00.db" stay files.
	schemeColon = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:(/|$)`)
)

// LooksLikeConnString reports whether a location that is not a valid
// PostgreSQL connection string (IsPostgresDSN) looks like an attempt at one,
// which Open refuses instead of creating a file. It does when it
//   - starts with "postgres" followed by "//", ":" or "@"
//     ("postgres//u:pw@host/db", "postgresql:host", "postgress//host"),
//   - starts with a scheme and a colon followed by "/" or nothing ("pg:/db"),
//   - has a password's shape, a ":" somewhere before an "@" ("u:pw@host/db"),
//   - contains "password=" (any case), or
//   - contains "?", which the SQLite driver would read as its own parameters.
//
// Plain paths are files: "journal.db", "./journal.db",
// "/var/lib/hrfeed/journal.db", "postgres/journal.db", "postgres.db",
// "/home/li@corp/journal.db", "C:journal.db".
func LooksLikeConnString(location string) bool {
	s := strings.TrimSpace(location)
	if postgresPrefix.MatchString(s) || schemeColon.MatchString(s) {
		return true
	}
	if colon := strings.IndexByte(s, ':'); colon >= 0 && strings.IndexByte(s[colon:], '@') > 0 {
		return true
	}
	return strings.Contains(strings.ToLower(s), "password=") || strings.ContainsRune(s, '?')
}
