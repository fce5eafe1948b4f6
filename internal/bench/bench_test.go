package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	os.RemoveAll(binDir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// importerBinary builds the importer once per test binary: the scenarios
// start it where they need a process of their own.
func importerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the importer and runs it against the emulator; skipped with -short")
	}
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "bench-test-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "importer")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/hrfeed/importer/cmd/importer").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestQuickModeChecks runs every scenario at a tiny size, so CI exercises
// the correctness checks of `importer bench --quick` (rows lost, duplicate
// effects, write calls equal to the changed records, every write
// journaled) against the real importer binary. Times are printed, never
// asserted. The kill campaign is left out: TestKillCampaign runs it.
func TestQuickModeChecks(t *testing.T) {
	bin := importerBinary(t)
	sizes := Sizes{
		SourceRows: 300, FirstMembers: 120, FirstDepartments: 12, FirstScaleMembers: 400,
		NightlyMembers: 1000, NightlyChangedEvery: 100, SeedBudget: time.Second,
		LimitPerMinute: 600, LimitMembers: 20,
		MixedMembers: 300, MixedChanges: 60,
		FaultMembers: 100,
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
	for _, want := range []string{"source read", "first import (embedded journal)", "first import at scale", "nightly", "nightly with tags", "at the limit",
		"mixed night", "versus the seed's approach", "fault campaign"} {
		if !seen[want] {
			t.Errorf("the table has no %q row", want)
		}
	}
}

// TestKillCampaign is the kill -9 campaign of `importer bench` run small,
// on each journal: a few SIGKILLs of `importer run`/`resume` at random
// moments and a few while WeCom holds back the answer to a write it
// applied, over three feed versions (creates, then updates and deletes),
// each ending in CheckRecovered. Its row must pass; times are not checked.
func TestKillCampaign(t *testing.T) {
	bin := importerBinary(t)
	for _, label := range []string{"embedded", "PostgreSQL"} {
		t.Run(label, func(t *testing.T) {
			dsn := ""
			if label == "PostgreSQL" {
				dsn = pgtest.DSN(t)
			}
			var log bytes.Buffer
			b, err := newBench(Options{Importer: bin, Log: &log, Sizes: &Sizes{FaultMembers: 300, Kills: 3, HeldKills: 6}})
			if err != nil {
				t.Fatal(err)
			}
			defer b.close()
			row, err := b.killCampaign(context.Background(), label, dsn)
			if err != nil {
				t.Fatalf("kill campaign: %v\n%s", err, log.String())
			}
			t.Logf("\n%s| %s | %s | %s |", log.String(), row.Scenario, row.Result, row.Check)
			if row.Failed {
				t.Error(row.Check)
			}
		})
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

	// The journal's state: U1 with a stale position, U2 that WeCom does
	// not hold, X9 and the second A that the journal does not know, and a
	// department WeCom does not have.
	state := plan.State{
		Departments: map[string]plan.AppliedDepartment{
			"A": {Key: "A", WeComID: 2, ParentID: 1, Name: "A"},
			"B": {Key: "B", WeComID: 9, ParentID: 1, Name: "B"},
		},
		Members: map[string]member.Digest{},
		Records: map[string]member.Record{},
	}
	put := func(id, pos string) {
		r := member.Record{UserID: id, Position: pos, DeptKeys: []string{"A"}, Enabled: true}
		state.Members[strings.ToLower(id)], state.Records[strings.ToLower(id)] = r.Digest(), r
	}
	put("U1", "new")
	put("U2", "new")
	if sc := checkAppliedState(state, snap); sc.Differ != 5 {
		t.Errorf("checkAppliedState = %+v, want 5 differences", sc)
	}
	snap.Users[0].Position = "new"
	put("X9", "")
	delete(state.Members, "u2")
	delete(state.Departments, "B")
	state.Departments["A2"] = plan.AppliedDepartment{Key: "A2", WeComID: 3, ParentID: 1, Name: "A"}
	if sc := checkAppliedState(state, snap); sc.Differ != 0 {
		t.Errorf("checkAppliedState of an equal state = %+v, want no difference", sc)
	}
	// A digest that is not its record's would let the next run skip a
	// member it should send.
	state.Members["x9"] = member.Digest{}
	if sc := checkAppliedState(state, snap); sc.Differ != 1 {
		t.Errorf("checkAppliedState with a stale digest = %+v, want 1 difference", sc)
	}
	runs := []journal.Run{{ID: 1, Status: journal.RunInterrupted}, {ID: 2, Status: journal.RunRunning}, {ID: 3, Status: journal.RunDone}}
	if open := openRuns(runs); len(open) != 1 || open[0] != 2 {
		t.Errorf("openRuns = %v, want [2]", open)
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", -1234567: "-1,234,567"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}
