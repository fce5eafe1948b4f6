package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// TestQuickModeChecks runs every scenario at a tiny size, so CI exercises
// the correctness checks of `importer bench --quick` (rows lost, duplicate
// effects, write calls equal to the changed records, every write
// journaled) against the real importer binary. Times are printed, never
// asserted.
func TestQuickModeChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the importer and runs it against the emulator; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "importer")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hrfeed/importer/cmd/importer").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sizes := Sizes{
		SourceRows: 300, FirstMembers: 120, FirstDepartments: 12,
		NightlyMembers: 1000, NightlyChangedEvery: 100, SeedBudget: time.Second,
		LimitPerMinute: 600, LimitMembers: 20,
		FaultMembers: 100, Kills: 2,
	}
	var log bytes.Buffer
	res, err := Run(context.Background(), Options{Sizes: &sizes, Importer: bin, Command: "go test", Log: &log})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, log.String())
	}
	var table bytes.Buffer
	res.WriteMarkdown(&table)
	t.Logf("\n%s\n%s", log.String(), table.String())

	seen := map[string]bool{}
	for _, r := range res.Rows {
		seen[strings.SplitN(r.Scenario, ":", 2)[0]] = true
		if r.Failed {
			t.Errorf("%s: %s", r.Scenario, r.Check)
		}
		if os.Getenv("CI") != "" && strings.HasPrefix(r.Check, "skipped: no PostgreSQL") {
			t.Errorf("%s: %s (CI is set, so a missing PostgreSQL is a failure)", r.Scenario, r.Check)
		}
	}
	for _, want := range []string{"source read", "first import (embedded journal)", "nightly", "at the limit",
		"versus the seed's approach", "fault campaign"} {
		if !seen[want] {
			t.Errorf("the table has no %q row", want)
		}
	}
}

// TestChecksSeeFaults makes sure the checks can fail: a member missing,
// one with a stale position, a member WeCom holds that the feed does not,
// a department present twice and a create that took effect twice.
func TestChecksSeeFaults(t *testing.T) {
	snap := wecomsim.Snapshot{
		Departments: []wecomsim.SnapDept{{ID: 1, Name: corpID}, {ID: 2, Name: "A", ParentID: 1}, {ID: 3, Name: "A", ParentID: 1}},
		Users: []wecomsim.SnapUser{
			{UserID: "U1", Position: "old", Department: []int{2}, Enable: 1},
			{UserID: "X9", Department: []int{2}, Enable: 1},
		},
	}
	want := map[string]wantMember{
		"U1": {DeptPath: "A", Position: "new"},
		"U2": {DeptPath: "A", Position: "new"},
	}
	dc := checkDirectory(snap, want)
	if dc.Lost != 2 || dc.Unexpected != 1 || dc.DupDepts != 1 {
		t.Errorf("checkDirectory = %+v, want 2 lost, 1 unexpected, 1 duplicate department", dc)
	}
	log := []wecomsim.LoggedCall{
		{API: "user/create", Target: "U1"}, {API: "user/create", Target: "U1", Errcode: 60102},
		{API: "user/create", Target: "U2"}, {API: "user/create", Target: "U2"},
	}
	if n := duplicateEffects(log); n != 1 {
		t.Errorf("duplicateEffects = %d, want 1", n)
	}
	if p := integrity(dc, 1, 2); len(p) != 4 {
		t.Errorf("integrity reports %q, want four problems", p)
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", -1234567: "-1,234,567"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}
