package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// tagLocations is how many work locations, one tag each, the tags
// scenario spreads members over: prime to 100, so the 1% who move come
// from every location and each tag gains and loses a few dozen.
const tagLocations = 23

// tagMapping is what the tags scenario and the kill campaign add to the
// job's mapping: a tag per work location.
const tagMapping = "      tags: [{column: 工作地点, prefix: \"" + locationTagPrefix + "\"}]\n"

// nightlyTags is the nightly job on a tagged directory: every member in
// the tag of their work location, all applied, and a feed where 1% moved
// to another location. The run must send exactly the removals and
// additions the moves need, in calls of at most 1,000 userids, and
// nothing else.
func (b *bench) nightlyTags(ctx context.Context) error {
	n, every := b.sizes.NightlyMembers, b.sizes.NightlyChangedEvery
	dir, em, cfgPath, err := b.emulatorJob("nightly-tags", unlimitedSim(), 0, 0)
	if err != nil {
		return err
	}
	defer em.close()
	if err := addToMapping(cfgPath, tagMapping); err != nil {
		return err
	}
	old := staffFeed{Members: n, Departments: 300, Leaders: true, Position: "工程师", Locations: tagLocations}
	now := old
	now.MovedEvery = every

	b.logf("nightly-tags: writing and mapping %s-member feeds", num(n))
	appliedPath := filepath.Join(dir, "staff-applied.csv")
	if _, err := old.write(appliedPath); err != nil {
		return err
	}
	if _, err := now.write(filepath.Join(dir, "staff.csv")); err != nil {
		return err
	}
	oldDir, err := mapFeed(ctx, cfgPath, appliedPath)
	if err != nil {
		return err
	}
	nowDir, err := mapFeed(ctx, cfgPath, filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	a := applyDirectory(oldDir)

	b.logf("nightly-tags: seeding the emulator and the journal with %s applied members in %d tags", num(n), tagLocations)
	seedStart := time.Now()
	if err := seedEmulator(em.sim, oldDir, a, filepath.Join(dir, "sim-state.json")); err != nil {
		return fmt.Errorf("seed the emulator: %w", err)
	}
	cl, err := em.client(-1, -1, nil)
	if err != nil {
		return err
	}
	if err := seedTags(ctx, cl, oldDir, &a); err != nil {
		return fmt.Errorf("seed the emulator's tags: %w", err)
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	err = seedJournal(ctx, st, oldDir, a, appliedPath)
	if err == nil {
		err = seedJournalTags(ctx, st, a)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seed the journal: %w", err)
	}
	b.limitedBy(fmt.Sprintf("nightly-tags setup: %s members seeded as in the nightly scenario, and their %d location tags through tag/create and "+
		"addtagusers, recorded in the journal as one tag_create and batched tag_add_users calls per tag, in %s.",
		num(n), tagLocations, secs(time.Since(seedStart))))

	_, job, err := loadJob(cfgPath)
	if err != nil {
		return err
	}
	pl, build, err := planAsRun(nowDir, a.State, a.Live, job.Policy)
	if err != nil {
		return err
	}
	moved, want := tagCalls(oldDir, nowDir)
	setup := fmt.Sprintf("%s members in %d location tags, all applied; %s (1%%) moved to another location; embedded journal; client at WeCom's default 10,000/min per API",
		num(n), tagLocations, num(moved))

	b.logf("nightly-tags: importer run in a child process")
	callsBefore, writesBefore := em.calls()
	statsBefore := em.sim.Stats()
	run, err := b.runChild(ctx, childEnv(secretEnv+"="+em.secret), "run", "--config", cfgPath, "--json")
	if err != nil {
		return err
	}
	callsAfter, writesAfter := em.calls()
	statsAfter := em.sim.Stats()
	sum, sumErr := parseSummary(run)
	adds := statsAfter[wecom.APITagAddUsers] - statsBefore[wecom.APITagAddUsers]
	dels := statsAfter[wecom.APITagDelUsers] - statsBefore[wecom.APITagDelUsers]
	row := Row{Scenario: "nightly with tags: run", Setup: setup}
	row.Result = fmt.Sprintf("wall %s (process), peak RSS %s; %s write calls (%s addtagusers, %s deltagusers) for %s moves; %s HTTP calls in all (token, listings); plan.Needs + plan.Build alone %s",
		secs(run.Wall), rss(run.MaxRSS), num(writesAfter-writesBefore), num(adds), num(dels), num(moved), num(callsAfter-callsBefore), secs(build))
	var problems []string
	switch {
	case sumErr != nil:
		problems = append(problems, sumErr.Error())
	case sum.Status != string(journal.RunDone):
		problems = append(problems, fmt.Sprintf("run ended %s (exit %d)", sum.Status, run.Exit))
	}
	if got := len(pl.Ops); got != want {
		problems = append(problems, fmt.Sprintf("plan.Build gave %s operations, the moves need %s calls", num(got), num(want)))
	}
	for _, op := range pl.Ops {
		if (op.Kind != plan.TagAddUsers && op.Kind != plan.TagDelUsers) || len(op.Tag.UserIDs) > plan.TagBatch {
			problems = append(problems, fmt.Sprintf("the plan holds %s %s of %d userids", op.Kind, op.Target, len(op.Tag.UserIDs)))
			break
		}
	}
	if writes := writesAfter - writesBefore; writes != want || adds+dels != want {
		problems = append(problems, fmt.Sprintf("%s write calls (%s tag member calls) for the %s the moves need", num(writes), num(adds+dels), num(want)))
	}
	if sumErr == nil {
		found, err := journaledTagBatches(ctx, filepath.Join(dir, "journal.db"), sum.RunID, want)
		if err != nil {
			return err
		}
		problems = append(problems, found...)
	}
	problems = append(problems, tagsHeld(em.sim.Snapshot(), nowDir)...)
	row.Check, row.Failed = verdict(fmt.Sprintf("write calls = the %s batched tag member calls the moves need; tags equal the feed", num(want)), problems)
	b.add(row)
	return nil
}

// addToMapping inserts text at the end of the job's mapping in the
// config at path (before its policy key).
func addToMapping(path, text string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out := strings.Replace(string(raw), "    policy:\n", text+"    policy:\n", 1)
	if out == string(raw) {
		return fmt.Errorf("%s has no policy key to put the tags before", path)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

// seedTags creates dir's tags in the emulator as a first import would,
// through its API, and records them in a as applied.
func seedTags(ctx context.Context, cl *wecom.Client, dir mapper.Directory, a *applied) error {
	members := map[string][]string{}
	for _, m := range dir.Members {
		for _, t := range m.Tags {
			members[t] = append(members[t], m.UserID())
		}
	}
	a.State.Tags, a.State.MemberTags, a.Live.Tags = map[string]plan.AppliedTag{}, map[string][]string{}, map[int]string{}
	for _, name := range slices.Sorted(maps.Keys(members)) {
		id, err := cl.CreateTag(ctx, wecom.Tag{Name: name})
		if err != nil {
			return err
		}
		for ids := range slices.Chunk(members[name], wecom.TagUserListMax) {
			if _, err := cl.AddTagUsers(ctx, wecom.TagMembersChange{TagID: id, UserIDs: ids}); err != nil {
				return err
			}
		}
		a.State.Tags[name] = plan.AppliedTag{Name: name, WeComID: id, Created: true}
		a.Live.Tags[id] = name
	}
	for _, m := range dir.Members {
		if len(m.Tags) > 0 {
			a.State.MemberTags[strings.ToLower(m.UserID())] = m.Tags
		}
	}
	return nil
}

// seedJournalTags records a's tags through the journal's API, as one run
// of a tag_create and batched tag_add_users calls per tag.
func seedJournalTags(ctx context.Context, st journal.Store, a applied) error {
	runID, err := st.StartRun(ctx, journal.Run{Job: "staff", CorpID: corpID, Mode: "run", Status: journal.RunRunning, StartedAt: time.Now()})
	if err != nil {
		return err
	}
	members := map[string][]string{}
	for k, tags := range a.State.MemberTags {
		for _, t := range tags {
			members[t] = append(members[t], a.Live.Users[k])
		}
	}
	seq := 0
	record := func(op plan.Kind, api, target string, payload any, change *plan.StateChange) error {
		seq++
		body, _ := json.Marshal(payload)
		id, err := st.BeginCall(ctx, journal.Call{RunID: runID, Seq: seq, Phase: plan.PhaseTags, Operation: string(op), API: api,
			Target: target, Payload: body, Attempt: 1, StartedAt: time.Now()})
		if err != nil {
			return err
		}
		return st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", change)
	}
	for _, name := range slices.Sorted(maps.Keys(a.State.Tags)) {
		t := a.State.Tags[name]
		if err := record(plan.TagCreate, wecom.APITagCreate, name, wecom.Tag{Name: name},
			&plan.StateChange{DeleteTag: name, PutTag: &t}); err != nil {
			return err
		}
		for ids := range slices.Chunk(members[name], wecom.TagUserListMax) {
			if err := record(plan.TagAddUsers, wecom.APITagAddUsers, name, wecom.TagMembersChange{TagID: t.WeComID, UserIDs: ids},
				&plan.StateChange{AddTagMembers: &plan.TagMembers{Tag: name, UserIDs: ids}}); err != nil {
				return err
			}
		}
	}
	return st.FinishRun(ctx, runID, journal.RunDone, map[string]int{"tag_create/ok": len(a.State.Tags)})
}

// tagCalls is how many members changed tags between two feeds, and how
// many addtagusers and deltagusers calls that needs: per tag and way, the
// members in calls of at most wecom.TagUserListMax.
func tagCalls(before, after mapper.Directory) (moved, calls int) {
	was := map[string][]string{}
	for _, m := range before.Members {
		was[m.UserID()] = m.Tags
	}
	adds, dels := map[string]int{}, map[string]int{}
	for _, m := range after.Members {
		old := was[m.UserID()]
		if !slices.Equal(old, m.Tags) {
			moved++
		}
		for _, t := range m.Tags {
			if !slices.Contains(old, t) {
				adds[t]++
			}
		}
		for _, t := range old {
			if !slices.Contains(m.Tags, t) {
				dels[t]++
			}
		}
	}
	for _, counts := range []map[string]int{adds, dels} {
		for _, n := range counts {
			calls += (n + wecom.TagUserListMax - 1) / wecom.TagUserListMax
		}
	}
	return moved, calls
}

// journaledTagBatches checks the run's journal: one completed row per tag
// member call, each naming at most wecom.TagUserListMax userids.
func journaledTagBatches(ctx context.Context, path string, runID int64, want int) ([]string, error) {
	st, err := journal.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	calls, err := st.ListCalls(ctx, runID)
	if err != nil {
		return nil, err
	}
	var problems []string
	n := 0
	for _, c := range calls {
		if c.API != wecom.APITagAddUsers && c.API != wecom.APITagDelUsers {
			continue
		}
		n++
		var body wecom.TagMembersChange
		if err := json.Unmarshal(c.Payload, &body); err != nil || len(body.UserIDs) == 0 || len(body.UserIDs) > wecom.TagUserListMax || c.Outcome != journal.CallOK {
			problems = append(problems, fmt.Sprintf("journal call %d (%s %s): %s with %d userids", c.ID, c.Operation, c.Target, c.Outcome, len(body.UserIDs)))
		}
	}
	if n != want {
		problems = append(problems, fmt.Sprintf("the journal holds %d tag member calls of the run, want %d", n, want))
	}
	return problems, nil
}

// tagsHeld compares the emulator's tags with the feed's.
func tagsHeld(snap wecomsim.Snapshot, dir mapper.Directory) []string {
	want := map[string][]string{}
	for _, m := range dir.Members {
		for _, t := range m.Tags {
			want[t] = append(want[t], m.UserID())
		}
	}
	var problems []string
	for _, tg := range snap.Tags {
		got := slices.Sorted(slices.Values(tg.Users))
		w := slices.Sorted(slices.Values(want[tg.Name]))
		if !slices.Equal(got, w) {
			problems = append(problems, fmt.Sprintf("tag %s holds %d members, the feed gives it %d", tg.Name, len(got), len(w)))
		}
		delete(want, tg.Name)
	}
	for name := range want {
		problems = append(problems, "tag "+name+" missing")
	}
	return problems
}
