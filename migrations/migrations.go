// Package migrations holds the journal's schema as plain SQL files, one
// directory per database engine, embedded into the binary so a deployed
// importer can bring its own database up to date without shipping files.
//
// File names are NNNN_name.sql. The number is the version recorded in
// schema_migrations; files are applied in ascending version order and
// never edited once released (a change is a new file).
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Postgres holds the PostgreSQL migrations under postgres/.
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the SQLite migrations under sqlite/.
//
//go:embed sqlite/*.sql
var SQLite embed.FS

// Migration is one schema step.
type Migration struct {
	Version int    // from the file name's numeric prefix
	Name    string // the rest of the file name, without ".sql"
	SQL     string
}

// ForPostgres returns the PostgreSQL migrations in version order.
func ForPostgres() ([]Migration, error) { return List(Postgres, "postgres") }

// ForSQLite returns the SQLite migrations in version order.
func ForSQLite() ([]Migration, error) { return List(SQLite, "sqlite") }

// List reads the NNNN_name.sql files in dir of fsys and returns them in
// version order. A file that does not follow the naming scheme, or two files
// with the same version, is an error rather than being skipped: a silently
// ignored migration would leave databases with different schemas.
func List(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: read %s: %w", dir, err)
	}
	var out []Migration
	seen := make(map[int]string)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		if !ok || name == "" {
			return nil, fmt.Errorf("migrations: %s/%s: name is not NNNN_name.sql", dir, e.Name())
		}
		version, err := strconv.Atoi(num)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("migrations: %s/%s: version %q is not a positive number", dir, e.Name(), num)
		}
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations: %s: version %d used by both %s and %s", dir, version, prev, e.Name())
		}
		seen[version] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: read %s/%s: %w", dir, e.Name(), err)
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
