package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// directoryCheck compares what WeCom holds with what the feed asked for.
type directoryCheck struct {
	Lost       int // members missing, or holding another department, position or leader
	Unexpected int // members WeCom holds that the feed does not name
	DupDepts   int // department paths present more than once
	Example    string
}

func checkDirectory(snap wecomsim.Snapshot, want Want) directoryCheck {
	var c directoryCheck
	paths := snap.Paths()
	path := func(id int) string { return paths[id] }
	seen := map[string]int{}
	for _, d := range snap.Departments {
		if d.ID != 1 {
			if seen[path(d.ID)]++; seen[path(d.ID)] == 2 {
				c.DupDepts++
			}
		}
	}
	held := map[string]bool{}
	for _, u := range snap.Users {
		held[u.UserID] = true
		w, ok := want[u.UserID]
		if !ok {
			c.Unexpected++
			continue
		}
		// The location is a tag's business: checkTags.
		got := wantMember{Position: u.Position, Leader: strings.Join(u.DirectLeader, ","), Location: w.Location}
		if len(u.Department) == 1 {
			got.DeptPath = path(u.Department[0])
		}
		if got != w || u.Enable != 1 {
			c.Lost++
			if c.Example == "" {
				c.Example = fmt.Sprintf("%s holds %+v, want %+v", u.UserID, got, w)
			}
		}
	}
	for id := range want {
		if !held[id] {
			c.Lost++
			if c.Example == "" {
				c.Example = id + " missing"
			}
		}
	}
	return c
}

// duplicateEffects counts creates that took effect more than once for the
// same target: the effect an interrupted or retried sync must never have.
// A department created twice under the same parent shows as a duplicate
// path in directoryCheck instead, since the emulator names it by id.
func duplicateEffects(log []wecomsim.LoggedCall) int {
	creates := map[string]int{}
	dup := 0
	for _, c := range log {
		if c.Errcode == 0 && (c.API == "user/create" || c.API == "department/create") {
			if creates[c.API+" "+c.Target]++; creates[c.API+" "+c.Target] > 1 {
				dup++
			}
		}
	}
	return dup
}

// unjournaledWrites counts write requests the emulator received without a
// journal row for them: the write-ahead promise is one row per attempt
// before it is sent. Members are matched by userid; departments, which the
// emulator logs by name or id and the journal by HR key, by count.
func unjournaledWrites(ctx context.Context, log []wecomsim.LoggedCall, st journal.Store) (int, error) {
	runs, err := st.ListRuns(ctx, 100000)
	if err != nil {
		return 0, err
	}
	journaled := map[string]int{}
	for _, r := range runs {
		calls, err := st.ListCalls(ctx, r.ID)
		if err != nil {
			return 0, err
		}
		for _, c := range calls {
			journaled[writeKey(c.API, c.Target)]++
		}
	}
	received := map[string]int{}
	for _, c := range log {
		if slices.Contains(writeAPIs, c.API) {
			received[writeKey(c.API, c.Target)]++
		}
	}
	missing := 0
	for k, n := range received {
		missing += max(0, n-journaled[k])
	}
	return missing, nil
}

func writeKey(api, target string) string {
	if strings.HasPrefix(api, "user/") {
		return api + " " + strings.ToLower(target)
	}
	return api
}

// stateCheck compares the journal's applied state, from which the next
// run plans, with what WeCom holds. A crash between a write's effect and
// its answer is where the two could part: then the next plan would resend
// what took effect or leave out what did not.
type stateCheck struct {
	Differ  int // members or departments that differ, or that only one side holds
	Example string
}

func checkAppliedState(state plan.State, snap wecomsim.Snapshot) stateCheck {
	var c stateCheck
	differ := func(format string, args ...any) {
		c.Differ++
		if c.Example == "" {
			c.Example = fmt.Sprintf(format, args...)
		}
	}
	paths := snap.Paths()
	byID := map[int]wecomsim.SnapDept{}
	for _, d := range snap.Departments {
		byID[d.ID] = d
	}
	known := map[int]bool{1: true} // WeCom's root is nobody's to record
	for key, d := range state.Departments {
		known[d.WeComID] = true
		w, ok := byID[d.WeComID]
		switch {
		case !ok:
			differ("the journal has department %s (id %d), WeCom does not", key, d.WeComID)
		case w.Name != d.Name || w.ParentID != d.ParentID:
			differ("department %s: the journal has %s under %d, WeCom %s under %d", key, d.Name, d.ParentID, w.Name, w.ParentID)
		}
	}
	for _, d := range snap.Departments {
		if !known[d.ID] {
			differ("WeCom has department %s (id %d), the journal does not", paths[d.ID], d.ID)
		}
	}
	users := map[string]wecomsim.SnapUser{}
	for _, u := range snap.Users {
		users[strings.ToLower(u.UserID)] = u
	}
	for k, digest := range state.Members {
		u, ok := users[k]
		if !ok {
			differ("the journal has member %s, WeCom does not", k)
			continue
		}
		r, ok := state.Records[k]
		if !ok {
			differ("member %s: the journal's payload does not parse", k)
			continue
		}
		// The next run trusts the digest to settle an unchanged member.
		if r.Digest() != digest {
			differ("member %s: the journal's digest is not that of its record", r.UserID)
			continue
		}
		var depts []string
		for _, id := range u.Department {
			depts = append(depts, paths[id])
		}
		journaled := []string{r.Position, strings.Join(r.DeptKeys, ";"), strings.Join(r.DirectLeader, ","), fmt.Sprint(r.Enabled)}
		held := []string{u.Position, strings.Join(depts, ";"), strings.Join(u.DirectLeader, ","), fmt.Sprint(u.Enable == 1)}
		if !slices.Equal(journaled, held) {
			differ("member %s: the journal has %q, WeCom %q", r.UserID, journaled, held)
		}
	}
	for k, u := range users {
		if _, ok := state.Members[k]; !ok {
			differ("WeCom has member %s, the journal does not", u.UserID)
		}
	}
	return c
}

// openRuns are the runs still marked running. Once every process is gone
// and recovery finished, none may be: each would claim to be in flight.
func openRuns(runs []journal.Run) []int64 {
	var open []int64
	for _, r := range runs {
		if r.Status == journal.RunRunning {
			open = append(open, r.ID)
		}
	}
	return open
}

// CheckRecovered checks what an import that was crashed and recovered
// must have left, with nothing running any more: the directory equals want,
// no create took effect twice, every write WeCom received has its journal
// row, the journal's applied state for corp equals WeCom member by member,
// department by department and tag by tag, and no run is left running. It returns
// the problems found, none when all hold. The fault campaign and
// cmd/importer's crash tests share it, so each property is checked one way.
func CheckRecovered(ctx context.Context, sim *wecomsim.Server, st journal.Store, corp string, want Want) ([]string, error) {
	snap, log := sim.Snapshot(), sim.CallLog()
	unj, err := unjournaledWrites(ctx, log, st)
	if err != nil {
		return nil, err
	}
	state, err := st.LoadState(ctx, corp, journal.EveryRecord)
	if err != nil {
		return nil, fmt.Errorf("load the journal's state: %w", err)
	}
	runs, err := st.ListRuns(ctx, 0)
	if err != nil {
		return nil, err
	}
	p := integrity(checkDirectory(snap, want), duplicateEffects(log), unj)
	if sc := checkAppliedState(state, snap); sc.Differ > 0 {
		p = append(p, fmt.Sprintf("the journal's state differs from WeCom in %d members or departments (%s)", sc.Differ, sc.Example))
	}
	p = append(p, checkTags(snap, state, want)...)
	if open := openRuns(runs); len(open) > 0 {
		p = append(p, fmt.Sprintf("%d runs left running (%v)", len(open), open))
	}
	return p, nil
}

// CheckJournaled is the write-ahead check alone, for a run that stopped
// and is not recovered yet: every write WeCom received has its journal row.
func CheckJournaled(ctx context.Context, sim *wecomsim.Server, st journal.Store) ([]string, error) {
	unj, err := unjournaledWrites(ctx, sim.CallLog(), st)
	if err != nil {
		return nil, err
	}
	return integrity(directoryCheck{}, 0, unj), nil
}

// integrity turns the three checks into the check cell's problems.
func integrity(dc directoryCheck, dups, unjournaled int) []string {
	var p []string
	if dc.Lost > 0 {
		p = append(p, fmt.Sprintf("%d rows lost (%s)", dc.Lost, dc.Example))
	}
	if dc.Unexpected > 0 {
		p = append(p, fmt.Sprintf("%d unexpected members", dc.Unexpected))
	}
	if dups+dc.DupDepts > 0 {
		p = append(p, fmt.Sprintf("%d duplicate effects", dups+dc.DupDepts))
	}
	if unjournaled > 0 {
		p = append(p, fmt.Sprintf("%d write calls without a journal row", unjournaled))
	}
	return p
}
