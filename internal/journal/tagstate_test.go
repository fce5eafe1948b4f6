package journal_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
)

// journals opens a new, empty journal of each engine.
var journals = map[string]func(t *testing.T) string{
	"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "j.db") },
	"postgres": func(t *testing.T) string { return pgtest.DSN(t) },
}

// TestTagState: the tag state changes, applied with their calls'
// completions, come back from LoadState on both journals: tags by name
// with their ids and whether the importer made them, each member's tags
// by lower-cased userid; a removal drops exactly the members named, a
// member's deletion or creation drops them from every tag, a tag's deletion (or its
// creation afresh) drops its members; corps are apart; a change naming an
// unrecorded tag or an empty userid leaves no trace.
func TestTagState(t *testing.T) {
	for name, dsn := range journals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, err := journal.Open(ctx, dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			run := startRun(t, st, journal.Run{Job: "j", CorpID: "corpA"})
			other := startRun(t, st, journal.Run{Job: "j", CorpID: "corpB"})
			apply := func(run int64, change plan.StateChange) error {
				t.Helper()
				id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "tag_add_users", API: "tag/addtagusers", Target: "t"})
				return st.CompleteCall(ctx, id, journal.CallOK, 0, "", &change)
			}
			must := func(run int64, change plan.StateChange) {
				t.Helper()
				if err := apply(run, change); err != nil {
					t.Fatal(err)
				}
			}
			bj, sh, wb := "地点-北京", "地点-上海", "外包"
			must(run, plan.StateChange{PutTag: &plan.AppliedTag{Name: bj, WeComID: 7, Created: true}})
			must(run, plan.StateChange{AddTagMembers: &plan.TagMembers{Tag: bj, UserIDs: []string{"ZhangSan", "lisi", "wangwu"}}})
			must(run, plan.StateChange{DeleteTag: sh, PutTag: &plan.AppliedTag{Name: sh, WeComID: 8, Created: true}})
			must(run, plan.StateChange{AddTagMembers: &plan.TagMembers{Tag: sh, UserIDs: []string{"lisi"}}})
			// Adopted with what WeCom listed, in one change.
			must(run, plan.StateChange{DeleteTag: wb, PutTag: &plan.AppliedTag{Name: wb, WeComID: 3}, AddTagMembers: &plan.TagMembers{Tag: wb, UserIDs: []string{"zhaoliu", "WangWu"}}})
			must(other, plan.StateChange{PutTag: &plan.AppliedTag{Name: bj, WeComID: 70, Created: true}, AddTagMembers: &plan.TagMembers{Tag: bj, UserIDs: []string{"zhangsan"}}})

			want := plan.State{
				Tags: map[string]plan.AppliedTag{
					bj: {Name: bj, WeComID: 7, Created: true, RunID: run},
					sh: {Name: sh, WeComID: 8, Created: true, RunID: run},
					wb: {Name: wb, WeComID: 3, RunID: run},
				},
				MemberTags: map[string][]string{"zhangsan": {bj}, "lisi": {sh, bj}, "wangwu": {bj, wb}, "zhaoliu": {wb}},
			}
			check := func(what string) {
				t.Helper()
				got := loadState(t, st, "corpA")
				if diff := cmp.Diff(want, plan.State{Tags: got.Tags, MemberTags: got.MemberTags}); diff != "" {
					t.Errorf("%s: LoadState tags (-want +got):\n%s", what, diff)
				}
			}
			check("after adds")

			// Adding an existing member again is no error, and changes nothing.
			must(run, plan.StateChange{AddTagMembers: &plan.TagMembers{Tag: bj, UserIDs: []string{"zhangsan"}}})
			must(run, plan.StateChange{RemoveTagMembers: &plan.TagMembers{Tag: bj, UserIDs: []string{"LISI", "nobody"}}})
			want.MemberTags["lisi"] = []string{sh}
			check("after a removal")

			must(run, plan.StateChange{DeleteMember: "WANGWU"})
			delete(want.MemberTags, "wangwu")
			check("after a member's deletion")

			// A member created again holds no tag.
			must(run, plan.StateChange{PutMember: &plan.AppliedMember{UserID: "ZhaoLiu", Hash: "h", Enabled: true}, UntagMember: "ZhaoLiu"})
			delete(want.MemberTags, "zhaoliu")
			check("after a member's creation")

			// Created afresh (deleted by hand in WeCom): no members yet.
			must(run, plan.StateChange{DeleteTag: sh, PutTag: &plan.AppliedTag{Name: sh, WeComID: 9, Created: true}})
			want.Tags[sh] = plan.AppliedTag{Name: sh, WeComID: 9, Created: true, RunID: run}
			delete(want.MemberTags, "lisi")
			check("after a tag made again")

			must(run, plan.StateChange{AddTagMembers: &plan.TagMembers{Tag: wb, UserIDs: []string{"zhaoliu"}}})
			must(run, plan.StateChange{DeleteTag: wb})
			delete(want.Tags, wb)
			check("after a tag's deletion")

			for _, bad := range []plan.StateChange{
				{AddTagMembers: &plan.TagMembers{Tag: "无此标签", UserIDs: []string{"x"}}},
				{AddTagMembers: &plan.TagMembers{Tag: bj, UserIDs: []string{""}}},
				{AddTagMembers: &plan.TagMembers{UserIDs: []string{"x"}}},
				{PutTag: &plan.AppliedTag{Name: "无号"}},
			} {
				if err := apply(run, bad); err == nil {
					t.Errorf("change %+v accepted", bad)
				}
			}
			check("after refused changes")
			if got := loadState(t, st, "corpB"); !cmp.Equal(got.MemberTags, map[string][]string{"zhangsan": {bj}}) || got.Tags[bj].WeComID != 70 {
				t.Errorf("corpB: tags %v, members %v", got.Tags, got.MemberTags)
			}
			if got := loadState(t, st, "nobody"); len(got.Tags)+len(got.MemberTags) != 0 {
				t.Errorf("unknown corp: %+v", got)
			}
		})
	}
}
