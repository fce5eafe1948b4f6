package runner_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

type person struct {
	id, name, mobile, dept, position, leader string
	// location is the sample mapping's tag column 工作地点.
	location string
	leaver   bool
}

var deptPool = []string{"总部", "总部/研发", "总部/研发/后端", "总部/研发/后端/存储", "总部/销售", "总部/销售/华东", "分公司", "分公司/财务"}

func randomFeed(rng *rand.Rand, n int) []person {
	var ps []person
	for i := range n {
		p := person{id: fmt.Sprintf("P%04d", rng.IntN(10000)), name: fmt.Sprintf("员工%d", i), dept: deptPool[rng.IntN(len(deptPool))],
			position: []string{"工程师", "经理", "专员"}[rng.IntN(3)], location: []string{"北京", "上海", ""}[rng.IntN(3)]}
		if slices.ContainsFunc(ps, func(q person) bool { return q.id == p.id }) {
			continue
		}
		p.mobile = fmt.Sprintf("137%s", strings.TrimPrefix(p.id, "P")+"0000")
		if len(ps) > 0 && rng.IntN(2) == 0 {
			p.leader = ps[rng.IntN(len(ps))].id
		}
		ps = append(ps, p)
	}
	return ps
}

// mutate is HR's next export: changed fields, moves, leavers, people gone
// and people new.
func mutate(rng *rand.Rand, ps []person) []person {
	out := slices.Clone(ps)
	for i := range out {
		switch rng.IntN(8) {
		case 0:
			out[i].position = "高级" + out[i].position
		case 1:
			out[i].dept = deptPool[rng.IntN(len(deptPool))]
		case 2:
			out[i].leaver = true
		case 3:
			out[i].name += "（新）"
		case 4:
			out[i].location = []string{"北京", "上海", "深圳", ""}[rng.IntN(4)]
		}
	}
	// Drop a few, but never someone another person reports to.
	for k := 0; k < 3 && len(out) > 0; k++ {
		j := rng.IntN(len(out))
		if !slices.ContainsFunc(out, func(q person) bool { return q.leader == out[j].id }) {
			out = slices.Delete(out, j, j+1)
		}
	}
	for _, p := range randomFeed(rng, 5) {
		if !slices.ContainsFunc(out, func(q person) bool { return q.id == p.id }) {
			p.leader = ""
			out = append(out, p)
		}
	}
	// A leader who left cannot lead: the feed would be rejected for it.
	for i := range out {
		if l := out[i].leader; l != "" {
			j := slices.IndexFunc(out, func(q person) bool { return q.id == l })
			if j < 0 || out[j].leader != "" && out[j].leaver || out[j].leaver {
				out[i].leader = ""
			}
		}
	}
	return out
}

func writeFeed(t *testing.T, path string, ps []person) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(feedColumns)
	for _, p := range ps {
		status := "在职"
		if p.leaver {
			status = "离职"
		}
		w.Write([]string{p.id, p.name, p.mobile, "", p.dept, p.position, "男", status, p.leader, p.location})
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRandomFeedsConverge: for random feeds and random prior states
// (members made or removed by hand in WeCom), applying the plan yields the
// directory the feed describes, and planning again yields nothing.
func TestRandomFeedsConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	for trial := range 12 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			e := newEnv(t, sqliteStore(t))
			e.cfg.Jobs[0].Policy.MaxDeleteRatio = 0.9
			first := randomFeed(rng, 40)
			writeFeed(t, e.feed, first)
			if rep := e.run(nil); rep.Status != journal.RunDone {
				t.Fatalf("first import: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
			}

			// Hand edits in WeCom between runs.
			ctx := context.Background()
			snap := e.sim.Snapshot()
			victim := snap.Users[rng.IntN(len(snap.Users))].UserID
			if err := e.client.DeleteUser(ctx, victim); err != nil {
				t.Fatal(err)
			}
			if err := e.client.CreateUser(ctx, &wecom.User{UserID: "stranger", Name: "外人", Mobile: "13100000000", Department: []int{1}}); err != nil {
				t.Fatal(err)
			}

			next := mutate(rng, first)
			writeFeed(t, e.feed, next)
			rep := e.run(nil)
			if rep.Status != journal.RunDone {
				t.Fatalf("second import: %s %v rejects %v summary %+v", rep.Status, rep.Fatal, rep.Rejects, rep.Summary)
			}
			checkConverged(t, e.sim, first, next)
			if again := e.run(nil); len(again.Plan.Ops) != 0 {
				t.Errorf("planning again yields %d ops: %+v", len(again.Plan.Ops), again.Plan.Ops[0])
			}
		})
	}
}

func checkConverged(t *testing.T, sim *wecomsim.Server, before, after []person) {
	t.Helper()
	snap := sim.Snapshot()
	paths := snap.Paths()
	path := func(id int) string { return paths[id] }
	users := map[string]wecomsim.SnapUser{}
	for _, u := range snap.Users {
		users[u.UserID] = u
	}
	if _, ok := users["stranger"]; !ok {
		t.Error("a member the importer did not create was removed (managed scope)")
	}
	inFeed := map[string]bool{}
	for _, p := range after {
		inFeed[p.id] = true
		u, ok := users[p.id]
		if p.leaver {
			if ok && u.Enable != 0 {
				t.Errorf("leaver %s still enabled", p.id)
			}
			continue
		}
		if !ok {
			t.Errorf("%s missing", p.id)
			continue
		}
		got := []string{u.Name, u.Position, strings.Join(u.DirectLeader, ","), fmt.Sprint(u.Enable)}
		want := []string{p.name, p.position, p.leader, "1"}
		if len(u.Department) == 1 {
			got = append(got, path(u.Department[0]))
		} else {
			got = append(got, fmt.Sprint(u.Department))
		}
		want = append(want, p.dept)
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", p.id, got, want)
		}
	}
	for _, p := range before {
		if u, ok := users[p.id]; ok && !inFeed[p.id] && u.Enable != 0 {
			t.Errorf("%s left the feed but is still enabled", p.id)
		}
	}
	for _, d := range snap.Departments {
		if d.ID == 1 {
			continue
		}
		used := slices.ContainsFunc(after, func(p person) bool { return !p.leaver && strings.HasPrefix(p.dept+"/", path(d.ID)+"/") })
		hasMembers := slices.ContainsFunc(snap.Users, func(u wecomsim.SnapUser) bool { return slices.Contains(u.Department, d.ID) })
		if !used && !hasMembers {
			hasChild := slices.ContainsFunc(snap.Departments, func(c wecomsim.SnapDept) bool { return c.ParentID == d.ID })
			if !hasChild {
				t.Errorf("department %s is empty and no longer in the feed but was kept", path(d.ID))
			}
		}
	}
}

// feedColumns is writeFeed's header, also for the corruption test.
var feedColumns = []string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级", "工作地点"}

// badCell is, per column, a value the mapper must refuse: corruption
// that is itself a valid value would only be a change HR asked for.
var badCell = map[string][]string{
	"工号":   {"", "E 9!", strings.Repeat("x", 65)},
	"姓名":   {"", strings.Repeat("名", 65)},
	"手机":   {"1380013", "13800138006x", "23800138006"},
	"邮箱":   {"bad@", "no-at-sign.example.com"},
	"部门":   {"", "总部/研*发", "总部//"},
	"职位":   {strings.Repeat("职", 129)},
	"性别":   {"未知"},
	"状态":   {"待定", "?"},
	"直属上级": {"no such!", "a b"},
	"工作地点": {strings.Repeat("远", 30)},
}

// TestCorruptCellsHoldOnlyTheirRows: for random feeds over random prior
// states, corrupting up to 5% of the cells (any column) changes no member
// whose row is still in the feed except as their own valid row asks;
// every corrupted row is reported with its rule; and once HR fixes the
// cells the next run converges.
func TestCorruptCellsHoldOnlyTheirRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 12))
	for trial := range 10 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			e := newEnv(t, sqliteStore(t))
			e.cfg.Jobs[0].Policy.MaxDeleteRatio = 0.9
			e.cfg.Jobs[0].Policy.MaxRejectRatio = -1 // this test wants the rows applied, not the guard
			e.cfg.Jobs[0].Policy.Leavers = []string{"disable", "delete"}[trial%2]
			first := randomFeed(rng, 40)
			writeFeed(t, e.feed, first)
			if rep := e.run(nil); rep.Status != journal.RunDone {
				t.Fatalf("first import: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
			}
			// A member made by hand in WeCom: managed scope never touches it.
			if err := e.client.CreateUser(context.Background(), &wecom.User{UserID: "stranger", Name: "外人", Mobile: "13100000000", Department: []int{1}}); err != nil {
				t.Fatal(err)
			}
			before := e.sim.Snapshot()
			next := mutate(rng, first)

			grid := feedGrid(next)
			cells := len(grid) * len(feedColumns)
			corrupt := map[int]bool{} // row index (0-based) -> corrupted
			userid := map[int]bool{}  // rows whose userid cell was corrupted
			for range rng.IntN(cells/20 + 1) {
				r, c := rng.IntN(len(grid)), rng.IntN(len(feedColumns))
				col := feedColumns[c]
				if next[r].leaver && col != "工号" && col != "状态" {
					continue // a leaver row is read for its userid and status only
				}
				bad := badCell[col]
				grid[r][c] = bad[rng.IntN(len(bad))]
				corrupt[r] = true
				if col == "工号" {
					userid[r] = true
				}
			}
			writeGrid(t, e.feed, grid)
			rep := e.run(nil)
			if rep.Fatal != nil {
				t.Fatalf("corrupted run: %v", rep.Fatal)
			}

			rejected := map[string]string{}
			for _, r := range rep.Rejects {
				rejected[r.Ref] = r.Rule
			}
			for r := range corrupt {
				if ref := fmt.Sprintf("staff.csv:%d", r+2); rejected[ref] == "" {
					t.Errorf("corrupted row %s (%v) was not rejected", ref, grid[r])
				}
			}
			if len(userid) > 0 && rep.Plan.Suspended == "" {
				t.Errorf("a userid cell was corrupted, but leavers were not suspended")
			}

			was := map[string]wecomsim.SnapUser{}
			for _, u := range before.Users {
				was[u.UserID] = u
			}
			now := map[string]wecomsim.SnapUser{}
			for _, u := range e.sim.Snapshot().Users {
				now[u.UserID] = u
			}
			paths := e.sim.Snapshot().Paths()
			// Deleting a member in WeCom drops them from everyone's
			// direct_leader: that is WeCom's doing, not the run's.
			stillLed := func(u wecomsim.SnapUser) wecomsim.SnapUser {
				u.DirectLeader = slices.DeleteFunc(slices.Clone(u.DirectLeader), func(l string) bool { _, ok := now[l]; return !ok })
				return u
			}
			accepted := map[string]bool{}
			for i, p := range next {
				if !corrupt[i] {
					accepted[p.id] = !p.leaver
				}
			}
			for i, p := range next {
				old, existed := was[p.id]
				u, exists := now[p.id]
				if corrupt[i] {
					// Held: exactly as it was (or still absent).
					if existed != exists || fmt.Sprint(stillLed(old)) != fmt.Sprint(u) {
						t.Errorf("%s (corrupted row) changed:\n was %+v (%v)\n now %+v (%v)", p.id, old, existed, u, exists)
					}
					continue
				}
				if p.leaver {
					if exists && u.Enable != 0 {
						t.Errorf("leaver %s still enabled", p.id)
					}
					continue
				}
				if !exists {
					t.Errorf("%s missing", p.id)
					continue
				}
				dept := ""
				if len(u.Department) == 1 {
					dept = paths[u.Department[0]]
				}
				if u.Name != p.name || u.Position != p.position || u.Mobile != p.mobile || u.Enable != 1 || dept != p.dept {
					t.Errorf("%s = %s/%s/%s/%d/%s, want its row %s/%s/%s/1/%s", p.id, u.Name, u.Position, u.Mobile, u.Enable, dept, p.name, p.position, p.mobile, p.dept)
				}
				leader := strings.Join(u.DirectLeader, ",")
				if p.leader != "" && accepted[p.leader] {
					if leader != p.leader {
						t.Errorf("%s leader %q, want %q", p.id, leader, p.leader)
					}
				} else if kept := strings.Join(stillLed(old).DirectLeader, ","); p.leader != "" && leader != kept {
					t.Errorf("%s leader %q: its leader's row is not applied, so it should stay %q", p.id, leader, kept)
				}
			}

			// HR fixes the cells: the next run converges.
			writeFeed(t, e.feed, next)
			if rep := e.run(nil); rep.Status != journal.RunDone {
				t.Fatalf("fixed feed: %s %v %v", rep.Status, rep.Fatal, rep.Rejects)
			}
			checkConverged(t, e.sim, first, next)
			if again := e.run(nil); len(again.Plan.Ops) != 0 {
				t.Errorf("planning again yields %d ops: %+v", len(again.Plan.Ops), again.Plan.Ops[0])
			}
		})
	}
}

func feedGrid(ps []person) [][]string {
	grid := make([][]string, len(ps))
	for i, p := range ps {
		status := "在职"
		if p.leaver {
			status = "离职"
		}
		grid[i] = []string{p.id, p.name, p.mobile, "", p.dept, p.position, "男", status, p.leader, p.location}
	}
	return grid
}

func writeGrid(t *testing.T, path string, grid [][]string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(feedColumns)
	w.WriteAll(grid)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
