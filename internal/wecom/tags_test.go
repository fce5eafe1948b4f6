package wecom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

const (
	simAppSecret = "app-s3cret"
	simROSecret  = "ro-s3cret"
)

// newTagSim serves opts (with a sync, an app and a read-only secret; the
// app sees department 2 and below) and returns a client per secret.
func newTagSim(t *testing.T, opts wecomsim.Options) (sim *wecomsim.Server, sync, app, ro *wecom.Client) {
	t.Helper()
	opts.CorpID = simCorp
	opts.Secrets = []wecomsim.Secret{
		{Value: simSecret, Kind: wecomsim.SyncEdit},
		{Value: simAppSecret, Kind: wecomsim.App, Visible: []int{2}, AgentID: 1000002},
		{Value: simROSecret, Kind: wecomsim.SyncReadOnly},
	}
	sim = wecomsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	client := func(secret string) *wecom.Client {
		c, err := wecom.New(wecom.Config{
			BaseURL: srv.URL, CorpID: simCorp, Secret: secret,
			Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return sim, client(simSecret), client(simAppSecret), client(simROSecret)
}

func TestSimTags(t *testing.T) {
	sim, c, _, _ := newTagSim(t, wecomsim.Options{})
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	d, err := c.CreateDepartment(ctx, wecom.Department{Name: "北京", ParentID: 1})
	must("create department", err)
	for _, id := range []string{"alice", "bob"} {
		must("create "+id, c.CreateUser(ctx, &wecom.User{UserID: id, Name: strings.ToUpper(id), Email: id + "@example.com", Department: []int{d}}))
	}

	bj, err := c.CreateTag(ctx, wecom.Tag{Name: "地点-北京"})
	must("create tag", err)
	ob, err := c.CreateTag(ctx, wecom.Tag{ID: 10, Name: "外包"})
	must("create tag with id", err)
	if bj != 1 || ob != 10 {
		t.Fatalf("tag ids %d and %d, want 1 and 10", bj, ob)
	}
	_, err = c.CreateTag(ctx, wecom.Tag{Name: "地点-北京"})
	wantCode(t, "duplicate name", err, wecom.CodeTagNameTaken, wecom.ClassRow)
	_, err = c.CreateTag(ctx, wecom.Tag{Name: strings.Repeat("标", 33)})
	wantCode(t, "33 characters", err, wecom.CodeTagNameLength, wecom.ClassRow)
	tags, err := c.ListTags(ctx)
	must("list tags", err)
	if !slices.Equal(tags, []wecom.Tag{{ID: 1, Name: "地点-北京"}, {ID: 10, Name: "外包"}}) {
		t.Fatalf("ListTags = %+v", tags)
	}
	must("rename", c.UpdateTag(ctx, wecom.Tag{ID: ob, Name: "用工-外包"}))

	res, err := c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: bj, UserIDs: []string{"bob", "ghost", "alice", "nobody"}, PartyIDs: []int{d, 999}})
	must("add partly invalid", err)
	if !slices.Equal(res.InvalidUsers, []string{"ghost", "nobody"}) || !slices.Equal(res.InvalidParties, []int{999}) {
		t.Fatalf("AddTagUsers result %+v", res)
	}
	m, err := c.GetTag(ctx, bj)
	must("get tag", err)
	if m.Name != "地点-北京" || !slices.Equal(m.Users, []wecom.TagUser{{UserID: "bob", Name: "BOB"}, {UserID: "alice", Name: "ALICE"}}) || !slices.Equal(m.Parties, []int{d}) {
		t.Fatalf("GetTag = %+v", m)
	}
	res, err = c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: bj, UserIDs: []string{"alice"}})
	must("add a member already tagged", err)
	if res.InvalidUsers != nil || res.InvalidParties != nil {
		t.Fatalf("a clean answer came back as %+v", res)
	}
	_, err = c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: bj, UserIDs: []string{"ghost"}})
	wantCode(t, "add only unknown members", err, wecom.CodeTagAllInvalid, wecom.ClassRow)

	res, err = c.DelTagUsers(ctx, wecom.TagMembersChange{TagID: bj, UserIDs: []string{"bob", "ghost"}, PartyIDs: []int{d}})
	must("remove partly invalid", err)
	if !slices.Equal(res.InvalidUsers, []string{"ghost"}) || res.InvalidParties != nil {
		t.Fatalf("DelTagUsers result %+v", res)
	}
	_, err = c.DelTagUsers(ctx, wecom.TagMembersChange{TagID: bj, PartyIDs: []int{999}})
	wantCode(t, "remove only unknown departments", err, wecom.CodeInvalidUserList, wecom.ClassRow)
	m, err = c.GetTag(ctx, bj)
	must("get tag", err)
	if len(m.Users) != 1 || m.Users[0].UserID != "alice" || len(m.Parties) != 0 {
		t.Fatalf("after removal %+v", m)
	}

	// Deleting a member takes it out of the tag.
	must("delete alice", c.DeleteUser(ctx, "alice"))
	if m, err = c.GetTag(ctx, bj); err != nil || len(m.Users) != 0 {
		t.Fatalf("after deleting alice: %+v, %v", m, err)
	}
	must("delete tag", c.DeleteTag(ctx, bj))
	wantCode(t, "delete tag twice", c.DeleteTag(ctx, bj), wecom.CodeInvalidTagID, wecom.ClassRow)
	_, err = c.GetTag(ctx, bj)
	wantCode(t, "get a deleted tag", err, wecom.CodeInvalidTagID, wecom.ClassRow)
	if got := sim.Snapshot().Tags; len(got) != 1 || got[0].Name != "用工-外包" {
		t.Fatalf("tags left %+v", got)
	}
}

// A batch within the per-call caps goes out; one beyond them, or with
// nothing in it, is refused before it is sent.
func TestSimTagBatchLimits(t *testing.T) {
	sim, c, _, _ := newTagSim(t, wecomsim.Options{})
	ctx := context.Background()
	id, err := c.CreateTag(ctx, wecom.Tag{Name: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateUser(ctx, &wecom.User{UserID: "u0", Name: "U", Email: "u0@example.com", Department: []int{1}}); err != nil {
		t.Fatal(err)
	}
	users := make([]string, wecom.TagUserListMax)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
	}
	parties := make([]int, wecom.TagPartyListMax)
	for i := range parties {
		parties[i] = 1000 + i
	}
	res, err := c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: id, UserIDs: users, PartyIDs: parties})
	if err != nil {
		t.Fatalf("a full batch: %v", err)
	}
	if len(res.InvalidUsers) != wecom.TagUserListMax-1 || len(res.InvalidParties) != wecom.TagPartyListMax {
		t.Fatalf("full batch: %d invalid users, %d invalid departments", len(res.InvalidUsers), len(res.InvalidParties))
	}
	sent := sim.Stats()[wecom.APITagAddUsers]
	for what, ch := range map[string]wecom.TagMembersChange{
		"1001 userids":          {TagID: id, UserIDs: append(users, "one-more")},
		"101 departments":       {TagID: id, PartyIDs: append(parties, 1)},
		"an empty batch":        {TagID: id},
		"a batch without a tag": {UserIDs: []string{"u0"}},
	} {
		if _, err := c.AddTagUsers(ctx, ch); err == nil || wecom.CodeOf(err) != 0 {
			t.Errorf("%s: err = %v, want a refusal before sending", what, err)
		}
		if _, err := c.DelTagUsers(ctx, ch); err == nil || wecom.CodeOf(err) != 0 {
			t.Errorf("%s on delete: err = %v, want a refusal before sending", what, err)
		}
	}
	if n := sim.Stats()[wecom.APITagAddUsers] - sent; n != 0 || sim.Stats()[wecom.APITagDelUsers] != 0 {
		t.Fatalf("refused batches reached the emulator: %d adds, %d deletes", n, sim.Stats()[wecom.APITagDelUsers])
	}
}

// Only a tag's creator may change it: someone else's tag is a row error,
// so a run goes on with the rest.
func TestSimTagOwnership(t *testing.T) {
	for _, code := range []int{wecom.CodeNoPrivilege, wecom.CodeTagNotOwned} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			sim, c, app, ro := newTagSim(t, wecomsim.Options{TagOwnerCode: code})
			ctx := context.Background()
			d, err := c.CreateDepartment(ctx, wecom.Department{Name: "Visible", ParentID: 1})
			if err != nil || d != 2 {
				t.Fatalf("department %d, %v", d, err)
			}
			if err := c.CreateUser(ctx, &wecom.User{UserID: "in", Name: "In", Email: "in@example.com", Department: []int{d}}); err != nil {
				t.Fatal(err)
			}
			appTag, err := app.CreateTag(ctx, wecom.Tag{Name: "应用标签"})
			if err != nil {
				t.Fatalf("an app creating a tag: %v", err)
			}
			if _, err := app.AddTagUsers(ctx, wecom.TagMembersChange{TagID: appTag, UserIDs: []string{"in"}}); err != nil {
				t.Fatalf("the app filling its tag: %v", err)
			}
			wantCode(t, "sync renaming the app's tag", c.UpdateTag(ctx, wecom.Tag{ID: appTag, Name: "X"}), code, wecom.ClassRow)
			_, err = c.DelTagUsers(ctx, wecom.TagMembersChange{TagID: appTag, UserIDs: []string{"in"}})
			wantCode(t, "sync emptying the app's tag", err, code, wecom.ClassRow)
			wantCode(t, "sync deleting the app's tag", c.DeleteTag(ctx, appTag), code, wecom.ClassRow)
			syncTag, err := c.CreateTag(ctx, wecom.Tag{Name: "同步标签"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = app.AddTagUsers(ctx, wecom.TagMembersChange{TagID: syncTag, UserIDs: []string{"in"}})
			wantCode(t, "the app filling the sync tag", err, code, wecom.ClassRow)
			_, err = ro.CreateTag(ctx, wecom.Tag{Name: "只读"})
			wantCode(t, "a read-only sync secret creating a tag", err, 48002, wecom.ClassConfig)
			if m, err := ro.GetTag(ctx, appTag); err != nil || len(m.Users) != 1 {
				t.Fatalf("a read-only secret reading the app's tag: %+v, %v", m, err)
			}
			if got := sim.Snapshot().Tags; got[0].Creator != "app:1000002" || got[1].Creator != "contacts-sync" {
				t.Fatalf("creators %+v", got)
			}
		})
	}
}

// A 45009 on a tag API is paused out and retried like any other, through
// the attempt hook: two attempts announced, both answered.
func TestSyncTagRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := bubbleSim(wecomsim.Options{CorpPerMinute: 1, IPPerMinute: -1, IPPerHour: -1})
		c := bubbleClient(t, sim, wecom.Limits{PerMinute: -1, PerHour: -1})
		ctx := context.Background()
		id, err := c.CreateTag(ctx, wecom.Tag{Name: "T"})
		if err != nil {
			t.Fatal(err)
		}
		ch := wecom.TagMembersChange{TagID: id, PartyIDs: []int{1}}
		if _, err := c.AddTagUsers(ctx, ch); err != nil {
			t.Fatal(err)
		}
		var attempts []string
		hook := func(api string, n int) (func(int, error), error) {
			return func(code int, _ error) { attempts = append(attempts, fmt.Sprint(api, "#", n, "=", code)) }, nil
		}
		start := time.Now()
		if _, err := c.AddTagUsers(wecom.WithAttemptHook(ctx, hook), ch); err != nil {
			t.Fatalf("through 45009: %v", err)
		}
		if d := time.Since(start); d != time.Minute {
			t.Fatalf("paused %v, want the 60 s ban", d)
		}
		if want := []string{"tag/addtagusers#1=45009", "tag/addtagusers#2=0"}; !slices.Equal(attempts, want) {
			t.Fatalf("attempts %v, want %v", attempts, want)
		}
		if got, want := codes(sim.CallLog(), wecom.APITagAddUsers), []int{0, 45009, 0}; !equalInts(got, want) {
			t.Fatalf("emulator answered %v, want %v", got, want)
		}
	})
}

// Transient faults on a tag write are retried; the retried add is applied
// once.
func TestSimTagRetries(t *testing.T) {
	sim, c, _, _ := newTagSim(t, wecomsim.Options{})
	ctx := context.Background()
	id, err := c.CreateTag(ctx, wecom.Tag{Name: "T"})
	if err != nil {
		t.Fatal(err)
	}
	sim.InjectFaults(-1, http.StatusBadGateway, 45033)
	if _, err := c.AddTagUsers(ctx, wecom.TagMembersChange{TagID: id, PartyIDs: []int{1}}); err != nil {
		t.Fatalf("through faults: %v", err)
	}
	if n := sim.Stats()[wecom.APITagAddUsers]; n != 4 {
		t.Errorf("addtagusers calls = %d, want 4", n)
	}
	if got := sim.Snapshot().Tags[0].Parties; !slices.Equal(got, []int{1}) {
		t.Fatalf("partylist %v", got)
	}
}
