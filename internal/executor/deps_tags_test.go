package executor

import (
	"fmt"
	"testing"

	"github.com/hrfeed/importer/internal/plan"
)

// TestTagDependencies: a tag's calls run in plan order, create first and
// additions after removals; an addition waits for the creates of the
// members it names and nothing else; another tag's calls, and a member's
// own update, wait for none of them.
func TestTagDependencies(t *testing.T) {
	tag := func(kind plan.Kind, phase string, level int, name string, users ...string) plan.Op {
		return plan.Op{Phase: phase, Level: level, Kind: kind, Target: name, Tag: &plan.Tag{Name: name, UserIDs: users}}
	}
	ops := []plan.Op{
		0: {Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "n0001", After: person("n0001")},
		1: {Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "o0002", Before: person("o0002"), After: person("o0002"), Fields: []string{"position"}},
		2: tag(plan.TagCreate, plan.PhaseTags, 0, "地点-上海"),
		3: tag(plan.TagDelUsers, plan.PhaseTags, 1, "地点-北京", "o0002"),
		4: tag(plan.TagDelUsers, plan.PhaseTags, 1, "地点-上海", "x0003"),
		5: tag(plan.TagAddUsers, plan.PhaseTags, 2, "地点-上海", "N0001", "o0002"),
		6: tag(plan.TagAddUsers, plan.PhaseTags, 2, "外包", "o0002"),
		7: tag(plan.TagDelete, plan.PhaseCleanup, 0, "地点-深圳"),
	}
	for i := range ops {
		ops[i].Seq = i + 1
	}
	got := waitsFor(dependencies(ops))
	want := map[int][]int{
		4: {2},    // the tag's create
		5: {0, 4}, // the create of a member it names (userids compare case-insensitively); the tag's removal
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dependencies\n got %v\nwant %v", got, want)
	}
}
