package runner_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// tagged is a person of a tag feed, with their projects and whether they
// are a contractor.
type tagged struct {
	person
	projects   []string
	contractor bool
}

var (
	locationPool = []string{"北京", "上海", "深圳", "成都", ""}
	projectPool  = []string{"凤凰", "天网", "长城"}
	tagRules     = []mapper.TagRule{
		{Column: "工作地点", Prefix: "地点-"},
		{Column: "项目", Separator: ";"},
		{Name: "外包", When: &mapper.TagCondition{Column: "用工类型", Equals: "外包"}},
	}
)

func (p tagged) tags() []string {
	var out []string
	if p.location != "" {
		out = append(out, "地点-"+p.location)
	}
	out = append(out, p.projects...)
	if p.contractor {
		out = append(out, "外包")
	}
	return out
}

func randomTags(rng *rand.Rand, p *tagged) {
	p.location = locationPool[rng.IntN(len(locationPool))]
	p.projects = nil
	for _, pr := range projectPool {
		if rng.IntN(3) == 0 {
			p.projects = append(p.projects, pr)
		}
	}
	p.contractor = rng.IntN(4) == 0
}

func tagFeed(rng *rand.Rand, ps []person) []tagged {
	out := make([]tagged, len(ps))
	for i, p := range ps {
		out[i] = tagged{person: p}
		randomTags(rng, &out[i])
	}
	return out
}

// mutateTags is HR's next export with tags: mutate's changes, and a third
// of the people moving, changing projects or contract.
func mutateTags(rng *rand.Rand, ts []tagged) []tagged {
	byID := map[string]tagged{}
	var ps []person
	for _, t := range ts {
		byID[t.id] = t
		ps = append(ps, t.person)
	}
	var out []tagged
	for _, p := range mutate(rng, ps) {
		t, ok := byID[p.id]
		t.person = p
		if !ok || rng.IntN(3) == 0 {
			randomTags(rng, &t)
		}
		out = append(out, t)
	}
	return out
}

// useSim points e at a new emulator with o's switches.
func (e *env) useSim(o wecomsim.Options) {
	e.t.Helper()
	o.CorpID, o.Secrets = corpID, []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}}
	e.sim = wecomsim.New(o)
	srv := httptest.NewServer(e.sim)
	e.t.Cleanup(srv.Close)
	client, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: corpID, Secret: secret,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		e.t.Fatal(err)
	}
	e.client = client
}

func writeTagFeed(t *testing.T, path string, ts []tagged) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级", "工作地点", "项目", "用工类型"})
	for _, p := range ts {
		status, kind := "在职", "正式"
		if p.leaver {
			status = "离职"
		}
		if p.contractor {
			kind = "外包"
		}
		w.Write([]string{p.id, p.name, p.mobile, "", p.dept, p.position, "男", status, p.leader, p.location, strings.Join(p.projects, ";"), kind})
	}
	w.Flush()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRandomFeedsTagsConverge: for random feeds with tags, random prior
// states (a member deleted by hand, an admin's tag of a name the feed
// uses, holding someone the feed does not know) and either tags_scope,
// with WeCom answering an add of a member already tagged either way,
// applying the plan gives every active member exactly the tags of their
// row, leaves the admin's tag alone or holds it to the feed, deletes the
// importer's tags no one needs; planning again yields nothing.
func TestRandomFeedsTagsConverge(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 18))
	for trial := range 12 {
		authoritative := trial%2 == 1
		t.Run(fmt.Sprintf("%d authoritative=%v", trial, authoritative), func(t *testing.T) {
			e := newEnv(t, sqliteStore(t))
			e.useSim(wecomsim.Options{TagNoOpMembersInvalid: trial%4 >= 2})
			job := &e.cfg.Jobs[0]
			job.Mapping.Tags = tagRules
			job.Policy.MaxDeleteRatio = 0.9
			if authoritative {
				job.Policy.TagsScope = plan.ScopeAuthoritative
			}
			ctx := context.Background()
			// An admin made 地点-深圳 in the console and put a member in it
			// the feed does not know.
			if err := e.client.CreateUser(ctx, &wecom.User{UserID: "stranger", Name: "外人", Mobile: "13100000000", Department: []int{1}}); err != nil {
				t.Fatal(err)
			}
			admin, err := e.sim.CreateAdminTag("地点-深圳")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.client.AddTagUsers(ctx, wecom.TagMembersChange{TagID: admin, UserIDs: []string{"stranger"}}); err != nil {
				t.Fatal(err)
			}

			first := tagFeed(rng, randomFeed(rng, 40))
			writeTagFeed(t, e.feed, first)
			if rep := e.run(nil); rep.Status != journal.RunDone {
				t.Fatalf("first import: %s %v %v %+v", rep.Status, rep.Fatal, rep.Rejects, rep.Summary)
			}
			checkTags(t, e.sim, nil, first, admin, authoritative)

			snap := e.sim.Snapshot()
			victim := snap.Users[rng.IntN(len(snap.Users))].UserID
			if victim != "stranger" {
				if err := e.client.DeleteUser(ctx, victim); err != nil {
					t.Fatal(err)
				}
			}
			next := mutateTags(rng, first)
			writeTagFeed(t, e.feed, next)
			rep := e.run(nil)
			if rep.Status != journal.RunDone {
				t.Fatalf("second import: %s %v rejects %v summary %+v", rep.Status, rep.Fatal, rep.Rejects, rep.Summary)
			}
			checkTags(t, e.sim, first, next, admin, authoritative)
			if again := e.run(nil); len(again.Plan.Ops) != 0 {
				t.Errorf("planning again yields %d ops: %+v", len(again.Plan.Ops), again.Plan.Ops[0])
			}
		})
	}
}

// checkTags compares the emulator's tags with the feed: each active
// member is in exactly the tags of their row that the importer may
// change; leavers, and members gone from the feed, may keep theirs; every tag the importer made is wanted
// by someone; the admin's tag still holds only the stranger (managed
// scope) or, adopted, no one but the feed's (authoritative).
func checkTags(t *testing.T, sim *wecomsim.Server, before, feed []tagged, admin int, authoritative bool) {
	t.Helper()
	active := map[string]tagged{}
	known := map[string]bool{} // in the feed, or in the one before (a leaver now)
	for _, p := range before {
		known[p.id] = true
	}
	for _, p := range feed {
		known[p.id] = true
		if !p.leaver {
			active[p.id] = p
		}
	}
	held := map[string]map[string]bool{} // tag -> members
	for _, tg := range sim.Snapshot().Tags {
		held[tg.Name] = map[string]bool{}
		for _, u := range tg.Users {
			held[tg.Name][u] = true
		}
		switch {
		case tg.ID == admin && !authoritative:
			if len(tg.Users) != 1 || tg.Users[0] != "stranger" {
				t.Errorf("the admin's tag %s, left alone, holds %v", tg.Name, tg.Users)
			}
			continue
		case tg.Creator != "contacts-sync" && tg.ID != admin:
			continue
		}
		wanted := false
		for _, u := range tg.Users {
			p, ok := active[u]
			if ok && !slices.Contains(p.tags(), tg.Name) {
				t.Errorf("%s is in %s but their row says %v", u, tg.Name, p.tags())
			}
			if !ok && !known[u] && tg.ID == admin {
				t.Errorf("%s, whom the feed does not know, is still in the adopted tag %s", u, tg.Name)
			}
			wanted = wanted || ok
		}
		for _, p := range active {
			wanted = wanted || slices.Contains(p.tags(), tg.Name)
		}
		if !wanted && tg.ID != admin {
			t.Errorf("tag %s (%s) is wanted by no active member but was kept", tg.Name, tg.Creator)
		}
	}
	for _, p := range active {
		for _, name := range p.tags() {
			if name == "地点-深圳" && !authoritative {
				continue
			}
			if !held[name][p.id] {
				t.Errorf("%s is not in %s as their row asks", p.id, name)
			}
		}
	}
}

// TestPendingTagCreateIsReconciled: a run killed while its tag create was
// in flight left the call pending; the tag took effect. The next run
// settles the call by tag/list (the name is listed: the create's), so the
// tag is the importer's, filled, and never created twice.
func TestPendingTagCreateIsReconciled(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	e.cfg.Jobs[0].Mapping.Tags = tagRules[:1]
	rng := rand.New(rand.NewPCG(2026, 19))
	feed := tagFeed(rng, randomFeed(rng, 10))
	for i := range feed {
		feed[i].location = "北京"
	}
	writeTagFeed(t, e.feed, feed)
	ctx := context.Background()
	dead, err := e.store.StartRun(ctx, journal.Run{Job: e.cfg.Jobs[0].Name, CorpID: corpID, Mode: "run", Status: journal.RunRunning})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.BeginCall(ctx, journal.Call{RunID: dead, Seq: 1, Phase: plan.PhaseTags, Operation: string(plan.TagCreate),
		API: wecom.APITagCreate, Target: "地点-北京", Payload: []byte(`{"tagname":"地点-北京"}`), Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	id, err := e.client.CreateTag(ctx, wecom.Tag{Name: "地点-北京"})
	if err != nil {
		t.Fatal(err)
	}
	rep := e.run(nil)
	if rep.Status != journal.RunDone || rep.Plan.Counts()[plan.TagCreate] != 0 || rep.Plan.Counts()[plan.TagAddUsers] != 1 {
		t.Fatalf("run after the kill: %s %v, plan %v", rep.Status, rep.Fatal, rep.Plan.Counts())
	}
	tags := e.sim.Snapshot().Tags
	if len(tags) != 1 || tags[0].ID != id || len(tags[0].Users) != len(feed) {
		t.Errorf("emulator tags %+v, want the one tag %d holding the %d members", tags, id, len(feed))
	}
	calls, err := e.store.ListCalls(ctx, dead)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 || calls[0].Outcome != journal.CallOK {
		t.Errorf("the dead run's create: %+v, want it settled ok", calls)
	}
}
