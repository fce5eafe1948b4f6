package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// directoryCheck compares what WeCom holds with what the feed asked for.
type directoryCheck struct {
	Lost       int // members missing, or holding another department, position or leader
	Unexpected int // members WeCom holds that the feed does not name
	DupDepts   int // department paths present more than once
	Example    string
}

func checkDirectory(snap wecomsim.Snapshot, want map[string]wantMember) directoryCheck {
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
		got := wantMember{Position: u.Position, Leader: strings.Join(u.DirectLeader, ",")}
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
