package executor_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// The planner's batches fit the client's cap, which refuses a bigger one
// without sending it.
func TestTagBatchIsTheCallCap(t *testing.T) {
	if plan.TagBatch != wecom.TagUserListMax {
		t.Errorf("plan.TagBatch %d, wecom.TagUserListMax %d", plan.TagBatch, wecom.TagUserListMax)
	}
}

func (f *fixture) execTags(t *testing.T, tagIDs map[string]int, ops ...plan.Op) executor.Summary {
	t.Helper()
	for i := range ops {
		ops[i].Seq = i + 1
	}
	ex := executor.New(executor.Config{Client: f.client, Store: f.store, RunID: f.runID, Concurrency: 3, TagIDs: tagIDs})
	sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return sum
}

func tagCreate(name string) plan.Op {
	return plan.Op{Phase: plan.PhaseTags, Kind: plan.TagCreate, Target: name, Tag: &plan.Tag{Name: name}}
}

func tagChange(kind plan.Kind, name string, userids ...string) plan.Op {
	level := 2
	if kind == plan.TagDelUsers {
		level = 1
	}
	return plan.Op{Phase: plan.PhaseTags, Level: level, Kind: kind, Target: name, Tag: &plan.Tag{Name: name, UserIDs: userids}}
}

func (f *fixture) createUsers(t *testing.T, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := f.client.CreateUser(context.Background(), &wecom.User{UserID: id, Name: id, Mobile: "+86 1380000" + id[len(id)-4:], Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) state(t *testing.T) plan.State {
	t.Helper()
	st, err := f.store.LoadState(context.Background(), corp, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *fixture) calls(t *testing.T) []string {
	t.Helper()
	calls, err := f.store.ListCalls(context.Background(), f.runID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range calls {
		out = append(out, strings.Join([]string{c.Operation, c.API, string(c.Outcome), c.Errmsg}, " "))
	}
	return out
}

func simTag(t *testing.T, sim *wecomsim.Server, name string) wecomsim.SnapTag {
	t.Helper()
	for _, tg := range sim.Snapshot().Tags {
		if tg.Name == name {
			return tg
		}
	}
	t.Fatalf("no tag %s in the emulator", name)
	return wecomsim.SnapTag{}
}

// TestTagCreateAnswerLostIsAdopted: a create that took effect but whose
// answer was lost is retried, meets 40071, and the tag WeCom lists by
// that name is recorded as the importer's: never a second tag.
func TestTagCreateAnswerLostIsAdopted(t *testing.T) {
	f := newFixture(t, secret)
	f.sim.InjectFaults(-3) // applied, then the connection drops
	sum := f.execTags(t, nil, tagCreate("地点-北京"))
	if sum.Counts["tag_create/adopted"] != 1 || sum.Failed != 0 {
		t.Fatalf("summary %+v", sum)
	}
	tg := simTag(t, f.sim, "地点-北京")
	if got := f.state(t).Tags["地点-北京"]; got.WeComID != tg.ID || !got.Created || len(f.sim.Snapshot().Tags) != 1 {
		t.Errorf("state %+v, emulator %+v", got, f.sim.Snapshot().Tags)
	}
	if calls := f.calls(t); len(calls) != 3 || !strings.HasPrefix(calls[2], "tag_adopt tag/list ok") {
		t.Errorf("calls %q, want two create attempts and the adoption", calls)
	}
}

// TestTagPartialAnswer: WeCom applies an add to all but the members it
// names invalid; the journal records the call ok with them in errmsg,
// the state holds exactly the others, tag/get confirms the tag does not
// hold them, and the operation counts as partial.
func TestTagPartialAnswer(t *testing.T) {
	f := newFixture(t, secret)
	f.createUsers(t, "u0001")
	sum := f.execTags(t, nil, tagCreate("地点-北京"), tagChange(plan.TagAddUsers, "地点-北京", "ghost", "u0001"))
	if sum.Counts["tag_add_users/partial"] != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if got := f.state(t).MemberTags; !cmp.Equal(got, map[string][]string{"u0001": {"地点-北京"}}) {
		t.Errorf("state members %v", got)
	}
	calls := f.calls(t)
	if !slices.Contains(calls, "tag_add_users tag/addtagusers ok invalidlist: ghost") || !slices.Contains(calls, "tag_verify tag/get ok ") {
		t.Errorf("calls %q", calls)
	}
}

// TestTagNoOpAnsweredInvalid: where WeCom answers an add of a member the
// tag already holds as invalid (TagNoOpMembersInvalid), as after an add
// whose answer was lost, tag/get shows the member is in the tag and the
// state records it: the next run has nothing left to send, in part or
// when every member of the call was such (40070).
func TestTagNoOpAnsweredInvalid(t *testing.T) {
	f := newFixtureWith(t, secret, func(o *wecomsim.Options) { o.TagNoOpMembersInvalid = true })
	f.createUsers(t, "u0001", "u0002", "u0003")
	f.execTags(t, nil, tagCreate("项目"))
	id := f.state(t).Tags["项目"].WeComID
	if _, err := f.client.AddTagUsers(context.Background(), wecom.TagMembersChange{TagID: id, UserIDs: []string{"u0001", "u0003"}}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{"项目": id}
	sum := f.execTags(t, ids, tagChange(plan.TagAddUsers, "项目", "u0001", "u0002"))
	sum2 := f.execTags(t, ids, tagChange(plan.TagAddUsers, "项目", "u0003"))
	if sum.Counts["tag_add_users/ok"] != 1 || sum2.Counts["tag_add_users/ok"] != 1 || sum.Failed+sum2.Failed != 0 {
		t.Fatalf("summaries %+v, %+v", sum, sum2)
	}
	want := map[string][]string{"u0001": {"项目"}, "u0002": {"项目"}, "u0003": {"项目"}}
	if got := f.state(t).MemberTags; !cmp.Equal(got, want) {
		t.Errorf("state members %v, want %v", got, want)
	}
}

// TestTagChangesLeaveOutMembersNotCreated: a member whose create failed
// in this run is left out of the tag call (WeCom would answer it
// invalid), with a reject saying so; the others are sent.
func TestTagChangesLeaveOutMembersNotCreated(t *testing.T) {
	f := newFixture(t, secret)
	f.createUsers(t, "u0001")
	bad := rec("u0002", "")
	bad.DeptKeys = nil // no department: refused
	ex := executor.New(executor.Config{Client: f.client, Store: f.store, RunID: f.runID, Concurrency: 3})
	ops := []plan.Op{
		{Seq: 1, Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0002", After: bad},
		{Seq: 2, Phase: plan.PhaseTags, Kind: plan.TagCreate, Target: "外包", Tag: &plan.Tag{Name: "外包"}},
		{Seq: 3, Phase: plan.PhaseTags, Level: 2, Kind: plan.TagAddUsers, Target: "外包", Tag: &plan.Tag{Name: "外包", UserIDs: []string{"u0001", "u0002"}}},
	}
	sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
	if err != nil || sum.Counts["tag_add_users/ok"] != 1 {
		t.Fatalf("err %v, summary %+v", err, sum)
	}
	if tg := simTag(t, f.sim, "外包"); !slices.Equal(tg.Users, []string{"u0001"}) {
		t.Errorf("tag holds %v", tg.Users)
	}
	rejects, _ := f.store.ListRejects(context.Background(), f.runID)
	if len(rejects) != 1 || !strings.Contains(rejects[0].Message, "leaves out u0002") {
		t.Errorf("rejects %+v", rejects)
	}
}

// TestTagDeleteOfAGoneTag: deleting a tag WeCom no longer has (40068)
// holds the intent: gone, and the state drops it with its members.
func TestTagDeleteOfAGoneTag(t *testing.T) {
	f := newFixture(t, secret)
	f.createUsers(t, "u0001")
	f.execTags(t, nil, tagCreate("长城"), tagChange(plan.TagAddUsers, "长城", "u0001"))
	id := f.state(t).Tags["长城"].WeComID
	if err := f.client.DeleteTag(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	sum := f.execTags(t, map[string]int{"长城": id}, plan.Op{Phase: plan.PhaseCleanup, Kind: plan.TagDelete, Target: "长城", Tag: &plan.Tag{Name: "长城", ID: id}})
	if sum.Counts["tag_delete/gone"] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if st := f.state(t); len(st.Tags)+len(st.MemberTags) != 0 {
		t.Errorf("state keeps %+v", st)
	}
}

// TestForeignTagWriteIsARowError: a tag another app created refuses the
// sync secret's changes (60011): the operation fails, the run goes on.
func TestForeignTagWriteIsARowError(t *testing.T) {
	const appSecret = "app-secret"
	f := newFixtureWith(t, secret, func(o *wecomsim.Options) {
		o.Secrets = append(o.Secrets, wecomsim.Secret{Value: appSecret, Kind: wecomsim.App, Visible: []int{1}})
	})
	f.createUsers(t, "u0001", "u0002")
	srv := httptest.NewServer(f.sim)
	t.Cleanup(srv.Close)
	app, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: corp, Secret: appSecret})
	if err != nil {
		t.Fatal(err)
	}
	id, err := app.CreateTag(context.Background(), wecom.Tag{Name: "应用标签"})
	if err != nil {
		t.Fatal(err)
	}
	sum := f.execTags(t, map[string]int{"应用标签": id}, tagChange(plan.TagAddUsers, "应用标签", "u0001"), tagChange(plan.TagAddUsers, "应用标签", "u0002"))
	if sum.Counts["tag_add_users/failed"] != 2 {
		t.Errorf("summary %+v, want both adds failed and the run going on", sum)
	}
	calls, _ := f.store.ListCalls(context.Background(), f.runID)
	if len(calls) != 2 || calls[0].Outcome != journal.CallFailed || calls[0].Errcode != wecom.CodeNoPrivilege {
		t.Errorf("calls %+v", calls)
	}
}
