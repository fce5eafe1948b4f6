package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/plan"
)

// TestPlanTextCutsLongTagCalls: a tag call of many members shows its
// first few on a terminal and says how many more --all would show.
func TestPlanTextCutsLongTagCalls(t *testing.T) {
	var ids []string
	for i := range shownPerKind + 2 {
		ids = append(ids, fmt.Sprintf("u%02d", i))
	}
	p := &plan.Plan{Ops: []plan.Op{{Seq: 1, Phase: plan.PhaseTags, Kind: plan.TagAddUsers, Target: "地点-北京",
		Tag: &plan.Tag{Name: "地点-北京", ID: 7, UserIDs: ids}}}}
	var short, all bytes.Buffer
	printChanges(&short, p, false)
	printChanges(&all, p, true)
	if !strings.Contains(short.String(), "u09 … and 2 more (--all)") || strings.Contains(short.String(), "u11") {
		t.Errorf("terminal plan:\n%s", short.String())
	}
	if !strings.Contains(all.String(), "u10, u11") {
		t.Errorf("plan with --all:\n%s", all.String())
	}
}
