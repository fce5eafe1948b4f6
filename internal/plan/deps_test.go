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
func TestPurePackagesStayLight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../mapper", "../member", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, heavy := range []string{"github.com/jackc/pgx", "modernc.org/sqlite", "github.com/xuri/excelize", "net/http",
			"github.com/hrfeed/importer/internal/journal", "github.com/hrfeed/importer/internal/source", "github.com/hrfeed/importer/internal/wecom"} {
			if dep == heavy || strings.HasPrefix(dep, heavy+"/") {
				t.Errorf("mapper, member or plan depends on %s", dep)
			}
		}
	}
}
