package executor

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
)

// waitsFor lists, per operation, the operations it waits for directly, a
// join standing for its members.
func waitsFor(g *graph) map[int][]int {
	nodes := len(g.waits)
	on := make([][]int, nodes)
	for n := range nodes {
		for _, m := range g.next[g.first[n]:g.first[n+1]] {
			on[m] = append(on[m], n)
		}
	}
	var expand func(n int) []int
	expand = func(n int) []int {
		if n < g.ops {
			return []int{n}
		}
		var out []int
		for _, m := range on[n] {
			out = append(out, expand(m)...)
		}
		return out
	}
	out := map[int][]int{}
	for n := range g.ops {
		var w []int
		for _, m := range on[n] {
			w = append(w, expand(m)...)
		}
		slices.Sort(w)
		if w = slices.Compact(w); len(w) > 0 {
			out[n] = w
		}
	}
	return out
}

func person(id string, depts ...string) *member.Record {
	return &member.Record{UserID: id, Name: id, Mobile: "1380000" + id[len(id)-4:], DeptKeys: depts, Enabled: true}
}

func with(r *member.Record, edit func(*member.Record)) *member.Record {
	c := *r
	edit(&c)
	return &c
}

// TestDependenciesAreDerivedFromTheOps checks each rule on a plan that
// holds every kind of operation, as plan.Build orders them: what each
// operation waits for, nothing more, and nothing later in plan order.
func TestDependenciesAreDerivedFromTheOps(t *testing.T) {
	dept := func(kind plan.Kind, phase string, level int, key, parent string, children ...string) plan.Op {
		return plan.Op{Phase: phase, Level: level, Kind: kind, Target: key, Dept: &plan.Dept{Key: key, ParentKey: parent, Children: children}}
	}
	oldA := person("a0001", "Old")
	oldB := with(person("b0002", "Keep"), func(r *member.Record) { r.Mobile, r.Email = "13900000009", "b@example.com" })
	relB := with(oldB, func(r *member.Record) { r.Mobile = "" })
	oldL := person("l0003", "Keep")
	ops := []plan.Op{
		0: dept(plan.DeptCreate, plan.PhaseDepartments, 1, "N", ""),
		1: dept(plan.DeptUpdate, plan.PhaseDepartments, 1, "M", ""), // a move
		2: dept(plan.DeptCreate, plan.PhaseDepartments, 2, "N/C", "N"),
		3: dept(plan.DeptCreate, plan.PhaseDepartments, 2, "K/D", "K"),
		// b0002 gives up its mobile for c0004.
		4: {Phase: plan.PhaseRelease, Kind: plan.UserRelease, Target: "b0002", Before: oldB, After: relB, Fields: []string{"mobile"}},
		// A boss created in this run, and someone they lead.
		5: {Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "boss0005", After: person("boss0005", "N")},
		6: {Phase: plan.PhaseMembers, Level: 1, Kind: plan.UserCreate, Target: "c0004",
			After: with(person("c0004", "N/C"), func(r *member.Record) { r.Mobile = "13900000009"; r.DirectLeader = []string{"Boss0005"} })},
		// Moves out of Old into an existing department; names the leaver l0003.
		7: {Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "a0001", Before: oldA,
			After: with(oldA, func(r *member.Record) { r.DeptKeys = []string{"Keep"}; r.DirectLeader = []string{"l0003"} }), Fields: []string{"department", "direct_leader"}},
		8: {Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "b0002", Before: relB,
			After: with(relB, func(r *member.Record) { r.Position = "x" }), Fields: []string{"position"}},
		// An adoption: the journal knows nothing of where they sit.
		9:  {Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "x0006", After: person("x0006", "Keep"), Fields: []string{"department", "enable"}},
		10: {Phase: plan.PhaseLeaders, Kind: plan.UserLeaders, Target: "b0002", Before: relB, After: with(relB, func(r *member.Record) { r.DirectLeader = []string{"boss0005"} }), Fields: []string{"direct_leader"}},
		11: {Phase: plan.PhaseLeavers, Kind: plan.UserDisable, Target: "l0003", Before: oldL, After: with(oldL, func(r *member.Record) { r.Enabled = false }), Fields: []string{"enable"}},
		12: dept(plan.DeptDelete, plan.PhaseCleanup, 0, "Old/Sub", ""),
		13: dept(plan.DeptDelete, plan.PhaseCleanup, 1, "Old", "", "Old/Sub"),
	}
	for i := range ops {
		ops[i].Seq = i + 1
	}
	got := waitsFor(dependencies(ops))
	want := map[int][]int{
		2:  {0, 1},          // its parent; a lower level's move
		3:  {1},             // a lower level's move
		5:  {0},             // its department
		6:  {2, 4, 5},       // its department, the release of its mobile, its leader
		8:  {4},             // b0002 after its own release
		10: {5, 8},          // b0002 after its update, and after its leader's create
		11: {7},             // the leaver after the call naming them
		12: {0, 1, 2, 3, 9}, // every department write; the adoption, which may sit anywhere
		13: {0, 1, 2, 3, 7, 9, 12},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dependencies\n got %v\nwant %v", got, want)
	}
	for i, w := range got {
		if slices.ContainsFunc(w, func(j int) bool { return j >= i }) {
			t.Errorf("op %d waits for %v: not all earlier in plan order", i, w)
		}
	}
}

// TestDependenciesOfANightlyPlanAreFew: the usual night, members changing
// a field each, has nothing to wait for, and a first import's members
// wait only for their departments and leaders, without an edge per pair.
func TestDependenciesOfANightlyPlanAreFew(t *testing.T) {
	var ops []plan.Op
	for i := range 1000 {
		id := fmt.Sprintf("u%04d", i)
		r := person(id, "Keep")
		ops = append(ops, plan.Op{Seq: i + 1, Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: id, Before: r,
			After: with(r, func(r *member.Record) { r.Position = "new" }), Fields: []string{"position"}})
	}
	if got := waitsFor(dependencies(ops)); len(got) != 0 {
		t.Errorf("%d of 1,000 independent updates wait for something: %v", len(got), got)
	}

	ops = []plan.Op{{Seq: 1, Phase: plan.PhaseDepartments, Level: 1, Kind: plan.DeptCreate, Target: "D", Dept: &plan.Dept{Key: "D"}}}
	for i := range 1000 {
		r := person(fmt.Sprintf("u%04d", i), "D")
		level := 0
		if i > 0 {
			r.DirectLeader, level = []string{"u0000"}, 1
		}
		ops = append(ops, plan.Op{Seq: i + 2, Phase: plan.PhaseMembers, Level: level, Kind: plan.UserCreate, Target: r.UserID, After: r})
	}
	g := dependencies(ops)
	if len(g.next) != 1+2*999 || len(g.waits) != len(ops) {
		t.Errorf("%d edges and %d nodes for 1,001 creates, want 1,999 and 1,001", len(g.next), len(g.waits))
	}
}
