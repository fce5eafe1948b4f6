package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// mixedLatency is the distance to WeCom in the mixed scenario: a
// company's server is often 100–300 ms from it.
const mixedLatency = 150 * time.Millisecond

// mixedNight is a night with every kind of member write at once: against
// an applied directory (old), changes members join in new departments
// (department creates, then user creates, each new group's first member
// leading the others), changes existing members change position (user
// updates, every tenth moving into a new department) and changes/3
// existing members leave (user updates that disable them). Leaders of the
// old directory neither change nor leave.
type mixedNight struct {
	old     staffFeed
	changes int
}

func (n mixedNight) updates() int   { return n.changes }
func (n mixedNight) leavers() int   { return n.changes / 3 }
func (n mixedNight) creates() int   { return n.changes }
func (n mixedNight) newGroups() int { return max(2, n.changes/100) }

// newDepartments counts the departments the night creates: two new
// top-level departments and the groups beneath them.
func (n mixedNight) newDepartments() int { return 2 + n.newGroups() }

func (n mixedNight) newGroupPath(g int) string {
	return fmt.Sprintf("新事业部%d/新组%03d", g%2, g)
}

// changed says what the night does to old member i: with the old
// directory's leaders left alone, the changed members are spread evenly
// over the rest, every fourth of them a leaver.
func (n mixedNight) changed(i int) (update, leave bool) {
	first := n.old.groups()
	total := n.updates() + n.leavers()
	stride := (n.old.Members - first) / total
	if i < first || (i-first)%stride != 0 || (i-first)/stride >= total {
		return false, false
	}
	k := (i - first) / stride
	if k%4 == 3 && k/4 < n.leavers() {
		return false, true
	}
	return true, false
}

// write writes the night's feed and returns what WeCom must hold for the
// members in it and the userids that must end up disabled.
func (n mixedNight) write(path string) (Want, map[string]bool, error) {
	if n.old.Members-n.old.groups() < n.updates()+n.leavers() {
		return nil, nil, fmt.Errorf("mixed: %d members leave no room for %d changes", n.old.Members, n.updates()+n.leavers())
	}
	out, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	defer out.Close()
	w := csv.NewWriter(out)
	if err := w.Write(staffHeader); err != nil {
		return nil, nil, err
	}
	want := Want{}
	leavers := map[string]bool{}
	put := func(r []string) error {
		want[r[0]] = wantMember{DeptPath: r[4], Position: r[5], Leader: r[8]}
		return w.Write(r)
	}
	updated := 0
	for i := range n.old.Members {
		r := n.old.row(i)
		switch update, leave := n.changed(i); {
		case leave:
			leavers[r[0]] = true
			continue
		case update:
			r[5] = "高级工程师"
			if updated%10 == 0 {
				r[4] = n.newGroupPath(updated / 10 % n.newGroups())
			}
			updated++
		}
		if err := put(r); err != nil {
			return nil, nil, err
		}
	}
	for j := range n.creates() {
		i := n.old.Members + j
		g := j % n.newGroups()
		leader := ""
		if j >= n.newGroups() {
			leader = userID(n.old.Members + g)
		}
		r := []string{userID(i), fmt.Sprintf("员工%d", i), fmt.Sprintf("139%08d", i), fmt.Sprintf("u%d@example.com", i),
			n.newGroupPath(g), "工程师", []string{"男", "女"}[i%2], "在职", leader}
		if err := put(r); err != nil {
			return nil, nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, nil, err
	}
	if updated != n.updates() || len(leavers) != n.leavers() {
		return nil, nil, fmt.Errorf("mixed: the feed changes %d members and drops %d, want %d and %d", updated, len(leavers), n.updates(), n.leavers())
	}
	return want, leavers, out.Close()
}

// mixedRun applies a mixed night at R calls a minute per API, set alike
// on the client and the emulator, with WeCom 150 ms away: department
// creates, user creates and user updates (changes and disables) each
// have a budget of their own, so the night takes as long as its busiest
// API needs at R only if the executor keeps all of them busy at once.
// The emulator refuses the R+1st call of any exact 60 s window (45009),
// so its worst window and its 45009 answers say how close each API came.
func (b *bench) mixedRun(ctx context.Context) error {
	members, changes, r := b.sizes.MixedMembers, b.sizes.MixedChanges, b.sizes.LimitPerMinute
	if members == 0 || changes == 0 || r <= 0 {
		return nil
	}
	night := mixedNight{old: staffFeed{Members: members, Departments: max(30, members/200), Leaders: true, Position: "工程师"}, changes: changes}
	dir, em, cfgPath, err := b.emulatorJob("mixed", wecomsim.Options{Latency: mixedLatency, CorpPerMinute: r, CorpPerHour: -1}, r, -1)
	if err != nil {
		return err
	}
	defer em.close()
	appliedPath := filepath.Join(dir, "staff-applied.csv")
	if _, err := night.old.write(appliedPath); err != nil {
		return err
	}
	want, leavers, err := night.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	oldDir, err := mapFeed(ctx, cfgPath, appliedPath)
	if err != nil {
		return err
	}
	a := applyDirectory(oldDir)
	if err := seedEmulator(em.sim, oldDir, a, filepath.Join(dir, "sim-state.json")); err != nil {
		return fmt.Errorf("seed the emulator: %w", err)
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := seedJournal(ctx, st, oldDir, a, appliedPath); err != nil {
		return fmt.Errorf("seed the journal: %w", err)
	}
	cl, err := em.client(r, -1, nil)
	if err != nil {
		return err
	}
	wantWrites := map[string]int{
		"department/create": night.newDepartments(),
		"user/create":       night.creates(),
		"user/update":       night.updates() + night.leavers(),
	}
	setup := fmt.Sprintf("%s members / %s departments applied; the night: %s department creates, %s user creates (leaders created in the same run), "+
		"%s updates (a tenth into new departments), %s leavers disabled; emulator latency %s; R = %s calls/min per API on the emulator and the client (hour window off); "+
		"concurrency up to %d; embedded journal",
		num(members), num(night.old.Departments), num(wantWrites["department/create"]), num(night.creates()), num(night.updates()),
		num(night.leavers()), mixedLatency, num(r), benchConcurrency)
	b.logf("mixed: %s", setup)
	callsBefore := len(em.sim.CallLog())
	rep, err := runInProcess(ctx, cfgPath, st, cl, 0, "")
	if err != nil {
		return err
	}

	log := em.sim.CallLog()[callsBefore:]
	type span struct {
		n           int
		first, last time.Time
	}
	spans := map[string]*span{}
	limited := 0
	for _, c := range log {
		if c.Errcode == 45009 {
			limited++
		}
		if c.Errcode != 0 {
			continue
		}
		s := spans[c.API]
		if s == nil {
			s = &span{first: c.At}
			spans[c.API] = s
		}
		s.n++
		s.last = c.At
	}
	var figures, problems []string
	for _, api := range []string{"department/create", "user/create", "user/update"} {
		s := spans[api]
		if s == nil {
			s = &span{}
		}
		worst := em.sim.MaxWindowCount(api, time.Minute)
		figures = append(figures, fmt.Sprintf("%s %s calls from %s to %s, worst 60 s window %s",
			api, num(s.n), secs(s.first.Sub(rep.Started)), secs(s.last.Sub(rep.Started)), num(worst)))
		if s.n != wantWrites[api] {
			problems = append(problems, fmt.Sprintf("%s %s calls accepted, want %s", api, num(s.n), num(wantWrites[api])))
		}
	}
	if rep.Status != journal.RunDone {
		problems = append(problems, fmt.Sprintf("run ended %s: %v", rep.Status, rep.Fatal))
	}
	snap := em.sim.Snapshot()
	active := snap.Users[:0:0]
	for _, u := range snap.Users {
		switch {
		case !leavers[u.UserID]:
			active = append(active, u)
		case u.Enable != 0:
			problems = append(problems, fmt.Sprintf("leaver %s is still enabled", u.UserID))
		}
	}
	snap.Users = active
	problems = append(problems, integrity(checkDirectory(snap, want), duplicateEffects(log), 0)...)
	row := Row{Scenario: "mixed night", Setup: setup,
		Result: fmt.Sprintf("run %s; %s; 45009 answers: %d", secs(rep.Duration), strings.Join(figures, "; "), limited)}
	check := "writes = the night's changes; directory equals the feed, leavers disabled"
	if limited > 0 {
		check += fmt.Sprintf("; note: %d calls answered 45009 (retried)", limited)
	}
	row.Check, row.Failed = verdict(check, problems)
	b.add(row)
	return nil
}
