package bench

import (
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// TestTagChecksSeeFaults makes sure checkTags can fail: a membership the
// journal lacks, a tag the importer's secret made that the journal does
// not know, and a member in another location's tag than the feed's.
func TestTagChecksSeeFaults(t *testing.T) {
	snap := wecomsim.Snapshot{
		Users: []wecomsim.SnapUser{{UserID: "U1", Enable: 1}, {UserID: "U2", Enable: 1}},
		Tags: []wecomsim.SnapTag{
			{ID: 1, Name: "地点-城市00", Creator: "contacts-sync", Users: []string{"U1", "U2"}},
			{ID: 2, Name: "地点-城市01", Creator: "contacts-sync"},
		},
	}
	state := plan.State{
		Tags:       map[string]plan.AppliedTag{"地点-城市00": {Name: "地点-城市00", WeComID: 1, Created: true}},
		MemberTags: map[string][]string{"u1": {"地点-城市00"}},
	}
	want := Want{"U1": {Location: "城市00"}, "U2": {Location: "城市01"}}
	got := strings.Join(checkTags(snap, state, want), "\n")
	for _, fault := range []string{"tag 地点-城市00: the journal has 1 members, WeCom 地点-城市00 has 2",
		"WeCom has tag 地点-城市01 (id 2)", "U2 is in tag 地点-城市00, the feed puts them in 地点-城市01"} {
		if !strings.Contains(got, fault) {
			t.Errorf("checkTags missed %q; found:\n%s", fault, got)
		}
	}
	state.MemberTags["u2"] = []string{"地点-城市00"}
	want["U2"] = wantMember{Location: "城市00"}
	snap.Tags = snap.Tags[:1]
	if p := checkTags(snap, state, want); len(p) != 0 {
		t.Errorf("a consistent directory: %v", p)
	}
}
