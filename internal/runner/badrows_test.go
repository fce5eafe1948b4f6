package runner_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
	"github.com/hrfeed/importer/samples"
)

// bothJournals runs a scenario on the embedded journal and on PostgreSQL.
func bothJournals(t *testing.T, scenario func(t *testing.T, e *env)) {
	for name, open := range map[string]func(*testing.T) journal.Store{"sqlite": sqliteStore, "postgres": postgresStore} {
		t.Run(name, func(t *testing.T) { scenario(t, newEnv(t, open(t))) })
	}
}

// editFeed rewrites the sample feed: each edit maps a userid to its new
// line ("" drops the row); extra lines are appended.
func (e *env) editFeed(edits map[string]string, extra ...string) {
	e.t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(samples.StaffCSV)), "\n") {
		id, _, _ := strings.Cut(line, ",")
		if repl, ok := edits[id]; ok {
			if repl != "" {
				out = append(out, repl)
			}
			continue
		}
		out = append(out, line)
	}
	out = append(out, extra...)
	if err := os.WriteFile(e.feed, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// sampleLine is the sample feed's row of userid, with one column replaced.
func sampleLine(t *testing.T, userid string, col int, value string) string {
	t.Helper()
	for _, line := range strings.Split(string(samples.StaffCSV), "\n") {
		if strings.HasPrefix(line, userid+",") {
			cells := strings.Split(line, ",")
			cells[col] = value
			return strings.Join(cells, ",")
		}
	}
	t.Fatalf("no sample row %s", userid)
	return ""
}

// Columns of the sample feed.
const (
	colMobile = 2
	colStatus = 7
	colLeader = 8
)

func (e *env) user(userid string) wecomsim.SnapUser {
	e.t.Helper()
	for _, u := range e.sim.Snapshot().Users {
		if strings.EqualFold(u.UserID, userid) {
			return u
		}
	}
	e.t.Fatalf("%s is not in WeCom", userid)
	return wecomsim.SnapUser{}
}

func (e *env) firstImport() wecomsim.Snapshot {
	e.t.Helper()
	if rep := e.run(nil); rep.Status != journal.RunDone {
		e.t.Fatalf("first import: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
	}
	return e.sim.Snapshot()
}

// unchangedExcept fails if any member of before other than those named
// differs in WeCom now.
func (e *env) unchangedExcept(before wecomsim.Snapshot, changed ...string) {
	e.t.Helper()
	now := map[string]wecomsim.SnapUser{}
	for _, u := range e.sim.Snapshot().Users {
		now[u.UserID] = u
	}
	for _, u := range before.Users {
		if slices.Contains(changed, u.UserID) {
			continue
		}
		if got, ok := now[u.UserID]; !ok {
			e.t.Errorf("%s was deleted", u.UserID)
		} else if fmt.Sprint(got) != fmt.Sprint(u) {
			e.t.Errorf("%s changed:\n was %+v\n now %+v", u.UserID, u, got)
		}
	}
	if len(e.sim.Snapshot().Departments) != len(before.Departments) {
		e.t.Errorf("departments: %d, were %d", len(e.sim.Snapshot().Departments), len(before.Departments))
	}
}

// TestTypoHoldsOnlyItsRow: one mistyped mobile on a manager's row holds
// that manager exactly as WeCom has them, and changes no one else: not
// the people they lead, not their department, under either leavers policy.
func TestTypoHoldsOnlyItsRow(t *testing.T) {
	for _, leavers := range []string{plan.LeaversDisable, plan.LeaversDelete} {
		t.Run(leavers, func(t *testing.T) {
			bothJournals(t, func(t *testing.T, e *env) {
				e.cfg.Jobs[0].Policy.Leavers = leavers
				before := e.firstImport()
				e.editFeed(map[string]string{"E1005": sampleLine(t, "E1005", colMobile, "13800138006x")})
				calls := e.sim.Stats()

				dry := e.run(func(p *runner.Params) { p.DryRun = true })
				if len(dry.Plan.Ops) != 0 || !dry.Unapplied() {
					t.Fatalf("plan: %d ops (%v), unapplied %v; want none, and the held row reported", len(dry.Plan.Ops), dry.Plan.Counts(), dry.Unapplied())
				}
				if want := []plan.Held{{UserID: "E1005", Ref: "staff.csv:6", Rule: mapper.RuleMobileFormat}}; !slices.Equal(dry.Plan.Held, want) {
					t.Errorf("held = %+v, want %+v", dry.Plan.Held, want)
				}
				rep := e.run(nil)
				if rep.Status != journal.RunDoneWithRejects {
					t.Fatalf("run: %s", rep.Status)
				}
				if got := writesSince(e, calls); got != 0 {
					t.Errorf("%d writes sent, want 0", got)
				}
				e.unchangedExcept(before)
				if l := e.user("E1006").DirectLeader; !slices.Equal(l, []string{"E1005"}) {
					t.Errorf("E1006 leader = %v, want E1005 kept", l)
				}
			})
		})
	}
}

func writesSince(e *env, before map[string]int) int {
	n := 0
	now := e.sim.Stats()
	for _, api := range writeAPIs {
		n += now[api] - before[api]
	}
	return n
}

// TestManagerLeaves: a manager marked 离职 is disabled; the people they
// led are not rejected, keep them as leader (WeCom still lists the
// disabled manager), and the run is done.
func TestManagerLeaves(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		before := e.firstImport()
		e.editFeed(map[string]string{"E1005": sampleLine(t, "E1005", colStatus, "离职")})
		rep := e.run(nil)
		if rep.Status != journal.RunDone || len(rep.Rejects) != 0 {
			t.Fatalf("run: %s, rejects %v", rep.Status, rep.Rejects)
		}
		if len(rep.Warnings) != 2 {
			t.Errorf("warnings = %v, want one for each of E1006 and E1007", rep.Warnings)
		}
		if u := e.user("E1005"); u.Enable != 0 {
			t.Errorf("E1005 enable = %d, want disabled", u.Enable)
		}
		e.unchangedExcept(before, "E1005")
		// Under drop, their leader is cleared instead.
		e.cfg.Jobs[0].Mapping.OnUnknownLeader = mapper.LeaderDrop
		if rep := e.run(nil); rep.Status != journal.RunDone {
			t.Fatalf("drop run: %s %v", rep.Status, rep.Fatal)
		}
		for _, id := range []string{"E1006", "E1007"} {
			if l := e.user(id).DirectLeader; len(l) != 0 {
				t.Errorf("%s leader = %v, want dropped", id, l)
			}
		}
	})
}

// TestMobileHandedOver: a leaver's mobile given to a new hire, and two
// members swapping mobiles, converge in one run with no 60104.
func TestMobileHandedOver(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		e.firstImport()
		e1029 := e.user("E1029").Mobile
		e1003, e1004 := e.user("E1003").Mobile, e.user("E1004").Mobile
		e.editFeed(map[string]string{
			"E1029": sampleLine(t, "E1029", colStatus, "离职"),
			"E1003": sampleLine(t, "E1003", colMobile, e1004),
			"E1004": sampleLine(t, "E1004", colMobile, e1003),
		}, "E2001,新同事,"+e1029+",newhire@example.com,总部/行政部,前台,女,在职,E1028,北京")
		rep := e.run(nil)
		if rep.Status != journal.RunDone || rep.Summary.Failed != 0 {
			t.Fatalf("run: %s, failed %d, errcodes %v", rep.Status, rep.Summary.Failed, rep.Summary.Errcodes)
		}
		if got := e.user("E2001").Mobile; got != e1029 {
			t.Errorf("E2001 mobile = %q, want %q", got, e1029)
		}
		if u := e.user("E1029"); u.Enable != 0 || u.Mobile != "" {
			t.Errorf("E1029: enable %d mobile %q, want disabled with the number freed", u.Enable, u.Mobile)
		}
		if e.user("E1003").Mobile != e1004 || e.user("E1004").Mobile != e1003 {
			t.Errorf("swap: E1003 %q E1004 %q", e.user("E1003").Mobile, e.user("E1004").Mobile)
		}
		again := e.run(nil)
		if n := len(again.Plan.Ops); n != 0 || again.Status != journal.RunDone {
			t.Errorf("second run: %s with %d ops %v, want nothing", again.Status, n, again.Plan.Counts())
		}
	})
}

// TestUnreadableUseridSuspendsLeavers: a row whose userid cannot be read
// might be anyone, so nobody missing from the feed is disabled, and no
// department is removed.
func TestUnreadableUseridSuspendsLeavers(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		before := e.firstImport()
		e.editFeed(map[string]string{
			"E1029": strings.Replace(sampleLine(t, "E1029", 0, "E-1029!"), "E-1029!", "", 1),
			"E1027": "",
		})
		rep := e.run(nil)
		if rep.Plan.Suspended == "" || !strings.Contains(rep.Plan.Suspended, "staff.csv:") {
			t.Errorf("suspended = %q, want the reason naming the row", rep.Plan.Suspended)
		}
		if rep.Status != journal.RunDoneWithRejects {
			t.Errorf("status %s, want %s", rep.Status, journal.RunDoneWithRejects)
		}
		e.unchangedExcept(before)
	})
}

// TestRejectGuard: an export whose rows are mostly rejected (here every
// mobile cut short) is refused before any write.
func TestRejectGuard(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		before := e.firstImport()
		edits := map[string]string{}
		for i := 1001; i <= 1010; i++ {
			id := fmt.Sprintf("E%d", i)
			edits[id] = sampleLine(t, id, colMobile, "1380013")
		}
		e.editFeed(edits)
		calls := e.sim.Stats()
		rep := e.run(nil)
		if rep.Status != journal.RunRefused || rep.Refusal == nil || rep.Refusal.Guard != plan.GuardRejects {
			t.Fatalf("run: %s refusal %v", rep.Status, rep.Refusal)
		}
		if n := writesSince(e, calls); n != 0 {
			t.Errorf("%d writes, want none", n)
		}
		e.unchangedExcept(before)
		if rep := e.run(func(p *runner.Params) { p.Force = true }); rep.Status != journal.RunDoneWithRejects {
			t.Errorf("forced: %s", rep.Status)
		}
		e.unchangedExcept(before)
	})
}

// TestTakenMobileNamesHolder: a mobile held by a member this importer does
// not manage cannot be freed; the failed call's reject says so.
func TestTakenMobileNamesHolder(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		e.firstImport()
		if err := e.client.CreateUser(context.Background(), &wecom.User{UserID: "byhand", Name: "手工", Mobile: "13900000001", Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
		e.editFeed(nil, "E2001,新同事,13900000001,,总部/行政部,前台,女,在职,,北京")
		rep := e.run(nil)
		if rep.Status != journal.RunPartial || rep.Summary.Errcodes[60104] != 1 {
			t.Fatalf("run: %s errcodes %v", rep.Status, rep.Summary.Errcodes)
		}
		rejects, err := e.store.ListRejects(context.Background(), rep.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rejects, func(r journal.Reject) bool {
			return r.Rule == plan.RuleValueTaken && r.SourceRef == "staff.csv:32" && strings.Contains(r.Message, "no member this importer manages")
		}) {
			t.Errorf("rejects = %+v, want a value_taken one for staff.csv:32", rejects)
		}
	})
}

// TestNoLeaderCallForFailedCreate: when a manager's create fails, nothing
// that names them as leader is sent (it could only fail): the people they
// lead are created without a leader, and a resume that holds the failed
// create sends nothing for them either.
func TestNoLeaderCallForFailedCreate(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		// A member made by hand holds the manager's mobile.
		if err := e.client.CreateUser(ctx, &wecom.User{UserID: "byhand", Name: "手工", Mobile: "13800138005", Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
		sentFor := func(runID int64, targets ...string) []string {
			calls, err := e.store.ListCalls(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range calls {
				if slices.Contains(targets, c.Target) {
					out = append(out, c.Operation+" "+c.Target)
				}
			}
			return out
		}
		rep := e.run(nil)
		if rep.Status != journal.RunPartial || rep.Summary.Errcodes[60104] != 1 {
			t.Fatalf("run: %s errcodes %v", rep.Status, rep.Summary.Errcodes)
		}
		if got := sentFor(rep.RunID, "E1006", "E1007"); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "user_leaders") }) {
			t.Errorf("leaders calls sent for members of a manager never created: %v", got)
		}
		// The people E1005 leads are created all the same, without the
		// leader WeCom does not have; nothing else failed.
		if rep.Summary.Failed != 1 {
			t.Errorf("counts %v, want E1005's create the only failure", rep.Summary.Counts)
		}
		for _, id := range []string{"E1006", "E1007"} {
			if l := e.user(id).DirectLeader; len(l) != 0 {
				t.Errorf("%s leader %v, want none yet", id, l)
			}
		}
		res := e.run(func(p *runner.Params) { p.ResumedFrom = rep.RunID })
		if got := sentFor(res.RunID, "E1005", "E1006", "E1007"); len(got) != 0 {
			t.Errorf("resume sent %v for a held manager and their reports", got)
		}
	})
}

// TestNoCleanupAboveKeptDepartment: when WeCom keeps a department on
// cleanup (someone else's member is inside, 60005), its parent's delete is
// not sent: it could only answer 60006.
func TestNoCleanupAboveKeptDepartment(t *testing.T) {
	bothJournals(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.firstImport()
		var backend int
		for id, path := range e.sim.Snapshot().Paths() {
			if path == "总部/研发中心/后端组" {
				backend = id
			}
		}
		if err := e.client.CreateUser(ctx, &wecom.User{UserID: "byhand", Name: "手工", Mobile: "13900000009", Department: []int{backend}}); err != nil {
			t.Fatal(err)
		}
		// HR closes 研发中心: everyone in it moves to 总部.
		edits := map[string]string{}
		for _, line := range strings.Split(string(samples.StaffCSV), "\n") {
			if id, _, _ := strings.Cut(line, ","); strings.Contains(line, ",总部/研发中心") {
				cells := strings.Split(line, ",")
				cells[4] = "总部"
				edits[id] = strings.Join(cells, ",")
			}
		}
		e.editFeed(edits)
		rep := e.run(nil)
		if rep.Status != journal.RunDone {
			t.Fatalf("run: %s %v counts %v", rep.Status, rep.Fatal, rep.Summary.Counts)
		}
		calls, err := e.store.ListCalls(ctx, rep.RunID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if c.Operation == "department_delete" && c.Target == "总部/研发中心" {
				t.Errorf("delete of 总部/研发中心 sent although its sub-department 后端组 stays: %+v", c)
			}
		}
		if rep.Summary.Counts["department_delete/kept"] != 2 || rep.Summary.Counts["department_delete/ok"] != 2 {
			t.Errorf("counts %v, want 后端组 and 研发中心 kept, 前端组 and 测试组 deleted", rep.Summary.Counts)
		}
	})
}

// TestRejectsJournaledWithACap: an export that rejects thousands of rows
// is refused by the reject guard, and the journal records the first
// MaxJournaledRejects of them and one row counting the rest, not every
// one (a broken workbook once wrote a million reject rows).
func TestRejectsJournaledWithACap(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	n := runner.MaxJournaledRejects + 500
	var b strings.Builder
	b.WriteString("工号,姓名,手机,邮箱,部门,职位,性别,状态,直属上级,工作地点\n")
	for i := range n {
		fmt.Fprintf(&b, "E%05d,某人,1380013,,总部,职员,男,在职,,北京\n", i)
	}
	if err := os.WriteFile(e.feed, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := e.run(nil)
	if rep.Status != journal.RunRefused || len(rep.Rejects) != n {
		t.Fatalf("run: %s with %d rejects, want refused with %d", rep.Status, len(rep.Rejects), n)
	}
	rejects, err := e.store.ListRejects(context.Background(), rep.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejects) != runner.MaxJournaledRejects+1 {
		t.Fatalf("journal holds %d rejects, want %d", len(rejects), runner.MaxJournaledRejects+1)
	}
	last := rejects[len(rejects)-1]
	if last.Rule != runner.RuleRejectsTruncated || !strings.Contains(last.Message, "500 more") {
		t.Errorf("last reject = %+v, want the count of the %d left out", last, 500)
	}
}

// TestFirstImportOneCallPerRecord: a first import writes each department
// and each member once, as the emulator counts them, on a reporting tree
// six levels deep and on one with a leader cycle, where each member of
// the cycle costs one call more.
func TestFirstImportOneCallPerRecord(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cycle int // members in the cycle at the top
	}{{"deep tree", 0}, {"cycle", 3}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sqliteStore(t))
			var b strings.Builder
			// No one has a work location, so there is no tag to make.
			b.WriteString("工号,姓名,手机,邮箱,部门,职位,性别,状态,直属上级,工作地点\n")
			const n = 60
			depts := map[string]bool{}
			for i := range n {
				leader := ""
				if i > 0 {
					leader = fmt.Sprintf("M%03d", (i-1)/2) // a binary tree: depth log2(60) ≈ 6
				}
				if i < tt.cycle {
					leader = fmt.Sprintf("M%03d", (i+1)%tt.cycle) // M000 -> M001 -> M002 -> M000
				}
				dept := fmt.Sprintf("总部/部%d", i%4)
				depts["总部"], depts[dept] = true, true
				fmt.Fprintf(&b, "M%03d,人%d,139%08d,,%s,职员,男,在职,%s,\n", i, i, i, dept, leader)
			}
			if err := os.WriteFile(e.feed, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if rep := e.run(nil); rep.Status != journal.RunDone {
				t.Fatalf("first import: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
			}
			w := e.writes()
			got := w["department/create"] + w["user/create"] + w["user/update"]
			if want := len(depts) + n + tt.cycle; got != want || w["department/create"] != len(depts) || w["user/create"] != n {
				t.Errorf("writes %v (%d), want %d departments + %d members + %d for the cycle = %d", w, got, len(depts), n, tt.cycle, want)
			}
			for i := range n {
				id := fmt.Sprintf("M%03d", i)
				if i > 0 && len(e.user(id).DirectLeader) != 1 {
					t.Errorf("%s has leader %v", id, e.user(id).DirectLeader)
				}
			}
		})
	}
}

// TestAdoptionLeavesUnmappedFields: taking over a member WeCom already has
// pushes the fields the mapping sets, not the ones it does not name (the
// sample maps no alias and no address), which stay as WeCom has them.
func TestAdoptionLeavesUnmappedFields(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	if err := e.client.CreateUser(context.Background(), &wecom.User{UserID: "E1001", Name: "王总", Mobile: "13800138001",
		Alias: "老王", Address: "北京市", Department: []int{1}}); err != nil {
		t.Fatal(err)
	}
	e.firstImport()
	u := e.user("E1001")
	if u.Alias != "老王" || u.Address != "北京市" || u.Name != "王建国" || u.Position != "总经理" {
		t.Errorf("E1001 after adoption: alias %q address %q name %q position %q; want the unmapped ones kept and the mapped ones the feed's",
			u.Alias, u.Address, u.Name, u.Position)
	}
}
