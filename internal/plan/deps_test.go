package plan

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPurePackagesStayLight: the mapper and the planner do no I/O, so
// they must not even link what does it. A dependency on the journal, a
// reader or the WeCom client would pull in pgx, SQLite, excelize or
// net/http, and with them the temptation to call out from a pure step.
// Nor do they read YAML: internal/config decodes a job's mapping and
// policy and translates them into these packages' own types, so a yaml
// import here means a second home for the file's syntax.
func TestPurePackagesStayLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../mapper", "../member", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	heavy := func(dep string) bool {
		for _, p := range []string{"github.com/jackc/pgx", "modernc.org/sqlite", "github.com/xuri/excelize", "net/http",
			"github.com/hrfeed/importer/internal/journal", "github.com/hrfeed/importer/internal/source", "github.com/hrfeed/importer/internal/wecom",
			"go.yaml.in/yaml"} {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				return true
			}
		}
		// gopkg.in/yaml.v2, yaml.v3: the major version is in the last element.
		return strings.HasPrefix(dep, "gopkg.in/yaml.")
	}
	for _, dep := range strings.Fields(string(out)) {
		if heavy(dep) {
			t.Errorf("mapper, member or plan depends on %s", dep)
		}
	}
}
