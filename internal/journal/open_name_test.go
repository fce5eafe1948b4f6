package journal

import (
	"strings"
	"testing"
)

func TestNameShowsNoPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://importer:hunter2@db.example:5433/hrfeed":   "PostgreSQL db.example:5433/hrfeed as importer",
		"host=db dbname=hrfeed user=importer password=hunter2": "PostgreSQL db:5432/hrfeed as importer",
		"/var/lib/hrfeed/journal.db":                           "/var/lib/hrfeed/journal.db",
	} {
		if got := Name(dsn); got != want || strings.Contains(got, "hunter2") {
			t.Errorf("Name(%q) = %q, want %q", strings.ReplaceAll(dsn, "hunter2", "***"), got, want)
		}
	}
}
