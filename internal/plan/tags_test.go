package plan

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

// tagFeed is feed() with tags: a tag per work location and one for the
// management.
func tagFeed() mapper.Directory {
	d := feed()
	d.TagsMapped = true
	d.Members[0].Tags = []string{"地点-北京", "管理层"}
	d.Members[1].Tags = []string{"地点-北京"}
	d.Members[2].Tags = []string{"地点-上海"}
	return d
}

// appliedTags is applied() with the feed's tags created by the importer,
// ids from 100 up in name order, and their members recorded.
func appliedTags(dir mapper.Directory) (State, Live) {
	st, live := applied(dir)
	return appliedTagsTo(dir, st, live)
}

// appliedTagsTo adds dir's tags to an applied state and live directory.
func appliedTagsTo(dir mapper.Directory, st State, live Live) (State, Live) {
	st.Tags, st.MemberTags, live.Tags = map[string]AppliedTag{}, map[string][]string{}, map[int]string{}
	names := map[string]bool{}
	for _, m := range dir.Members {
		for _, t := range m.Tags {
			names[t] = true
		}
		if len(m.Tags) > 0 {
			st.MemberTags[key(m.UserID())] = slices.Clone(m.Tags)
		}
	}
	for i, name := range slices.Sorted(maps.Keys(names)) {
		st.Tags[name] = AppliedTag{Name: name, WeComID: 100 + i, Created: true}
		live.Tags[100+i] = name
	}
	return st, live
}

type tagLine struct {
	Phase  string
	Level  int
	Kind   Kind
	Target string
	Users  string
}

func tagLines(p *Plan) []tagLine {
	var out []tagLine
	for _, op := range p.Ops {
		if op.Tag != nil {
			out = append(out, tagLine{op.Phase, op.Level, op.Kind, op.Target, fmt.Sprint(op.Tag.UserIDs)})
		}
	}
	return out
}

func mustBuild(t *testing.T, d mapper.Directory, st State, live Live, pol Policy) *Plan {
	t.Helper()
	p, err := Build(d, st, live, pol)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnchangedTagsPlanNothing(t *testing.T) {
	st, live := appliedTags(tagFeed())
	if p := mustBuild(t, tagFeed(), st, live, Policy{}); len(p.Ops) != 0 || len(p.Warnings) != 0 {
		t.Errorf("ops %v, warnings %v", tagLines(p), p.Warnings)
	}
}

// TestNoTagRulesLeaveTagsAlone: a mapping without tag rules does not
// manage tags, so the importer's own tags are neither emptied nor
// deleted when the rules are taken out.
func TestNoTagRulesLeaveTagsAlone(t *testing.T) {
	st, live := appliedTags(tagFeed())
	if p := mustBuild(t, feed(), st, live, Policy{}); len(p.Ops) != 0 {
		t.Errorf("ops %v", tagLines(p))
	}
}

// TestTagBatches: a tag's members are added in calls of at most TagBatch,
// sorted by key, so a big first import costs a few calls per tag.
func TestTagBatches(t *testing.T) {
	d := mapper.Directory{TagsMapped: true, Departments: []mapper.Department{dept("总部")}}
	for i := range 2*TagBatch + 1 {
		m := person(fmt.Sprintf("u%05d", i), "员工", "总部")
		m.Edit(func(r *member.Record) { r.Mobile = fmt.Sprintf("139%08d", i) })
		m.Tags = []string{"全员"}
		d.Members = append(d.Members, m)
	}
	p := mustBuild(t, d, emptyState(), Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}, Policy{})
	var sizes []int
	first := ""
	for _, op := range p.Ops {
		if op.Kind == TagAddUsers {
			sizes = append(sizes, len(op.Tag.UserIDs))
			if first == "" {
				first = op.Tag.UserIDs[0]
			}
		}
	}
	if !slices.Equal(sizes, []int{TagBatch, TagBatch, 1}) || first != "u00000" {
		t.Errorf("batches of %v starting with %s, want %d, %d, 1 from u00000", sizes, first, TagBatch, TagBatch)
	}
}

// TestHeldMembersKeepTheirTags: a member whose row is rejected is neither
// added to nor removed from a tag, and the tag they hold is not deleted
// even when no accepted row wants it any more.
func TestHeldMembersKeepTheirTags(t *testing.T) {
	st, live := appliedTags(tagFeed())
	d := tagFeed()
	d.Members = d.Members[:2] // sales1's row is rejected
	d.Rejects = []*mapper.RowError{{Ref: "staff.csv:sales1", Rule: mapper.RuleMobileFormat, UserID: "sales1"}}
	if p := mustBuild(t, d, st, live, Policy{}); len(tagLines(p)) != 0 {
		t.Errorf("ops %v: sales1 is held, and holds 地点-上海", tagLines(p))
	}
}

// TestLeaversKeepTheirTagsDeletedMembersLeaveThem: a disabled leaver
// keeps their tags (a rehire comes back to them); a member the plan
// deletes is not removed first: WeCom drops them from every tag.
func TestLeaversKeepTheirTagsDeletedMembersLeaveThem(t *testing.T) {
	for _, leavers := range []string{LeaversDisable, LeaversDelete} {
		st, live := appliedTags(tagFeed())
		d := tagFeed()
		d.Members[1].Leaver, d.Members[1].Tags = true, nil
		p := mustBuild(t, d, st, live, Policy{Leavers: leavers, MaxDeleteRatio: 0.5})
		if len(tagLines(p)) != 0 {
			t.Errorf("%s: tag ops %v for a leaver", leavers, tagLines(p))
		}
	}
}

// TestVanishedMemberIsTaggedAgain: a member deleted by hand in WeCom lost
// their tags with them; created again, they are put back in every tag.
func TestVanishedMemberIsTaggedAgain(t *testing.T) {
	st, live := appliedTags(tagFeed())
	delete(live.Users, "dev1")
	p := mustBuild(t, tagFeed(), st, live, Policy{})
	want := []tagLine{{PhaseTags, 2, TagAddUsers, "地点-北京", "[dev1]"}}
	if diff := cmp.Diff(want, tagLines(p)); diff != "" {
		t.Errorf("tag ops (-want +got):\n%s", diff)
	}
}

// TestTagDeletedByHandIsCreatedAgain: the importer's tag is gone from
// WeCom, so it is created again and given every member who wants it.
func TestTagDeletedByHandIsCreatedAgain(t *testing.T) {
	st, live := appliedTags(tagFeed())
	for id, name := range live.Tags {
		if name == "地点-北京" {
			delete(live.Tags, id)
		}
	}
	p := mustBuild(t, tagFeed(), st, live, Policy{})
	want := []tagLine{{PhaseTags, 0, TagCreate, "地点-北京", "[]"}, {PhaseTags, 2, TagAddUsers, "地点-北京", "[boss dev1]"}}
	if diff := cmp.Diff(want, tagLines(p)); diff != "" {
		t.Errorf("tag ops (-want +got):\n%s", diff)
	}
}

// TestTagDeletesFollowCleanupRules: an emptied tag is not deleted while
// the feed cannot tell who is absent, nor when protected; its remaining
// member whose own row drops it is removed instead.
func TestTagDeletesFollowCleanupRules(t *testing.T) {
	st, live := appliedTags(tagFeed())
	d := tagFeed()
	d.Members[2].Tags = nil
	suspended := d
	suspended.Rejects = []*mapper.RowError{{Ref: "staff.csv:9", Rule: mapper.RuleUseridRequired}}
	for name, tc := range map[string]struct {
		d   mapper.Directory
		pol Policy
	}{
		"suspended": {suspended, Policy{}},
		"protected": {d, Policy{ProtectedTags: []string{"地点-上海"}}},
	} {
		p := mustBuild(t, tc.d, st, live, tc.pol)
		var want []tagLine
		if name == "suspended" {
			want = []tagLine{{PhaseTags, 1, TagDelUsers, "地点-上海", "[sales1]"}}
		}
		if diff := cmp.Diff(want, tagLines(p)); diff != "" {
			t.Errorf("%s: tag ops (-want +got):\n%s", name, diff)
		}
	}
}

// TestAdoptTags names the live tags a run must read before planning.
func TestAdoptTags(t *testing.T) {
	st, live := appliedTags(tagFeed())
	live.Tags[7], live.Tags[8] = "外包", "全员"
	d := tagFeed()
	d.Members[2].Tags = append(d.Members[2].Tags, "外包")
	if ids := AdoptTags(d, st, live, Policy{}); ids != nil {
		t.Errorf("managed scope adopts %v", ids)
	}
	if ids := AdoptTags(d, st, live, Policy{TagsScope: ScopeAuthoritative}); !slices.Equal(ids, []int{7}) {
		t.Errorf("authoritative scope adopts %v, want [7]", ids)
	}
	// Its members unread, the tag is left alone with the reason.
	p := mustBuild(t, d, st, live, Policy{TagsScope: ScopeAuthoritative})
	if len(tagLines(p)) != 0 || len(p.Warnings) != 1 || p.Warnings[0].Rule != RuleTagForeign {
		t.Errorf("ops %v, warnings %v", tagLines(p), p.Warnings)
	}
}

func TestTagsScopeValidated(t *testing.T) {
	if err := (Policy{TagsScope: "everything"}).Validate(); err == nil {
		t.Error("tags_scope everything accepted")
	}
	for _, s := range []string{"", ScopeManaged, ScopeAuthoritative} {
		if err := (Policy{TagsScope: s}).Validate(); err != nil {
			t.Errorf("tags_scope %q: %v", s, err)
		}
	}
}
