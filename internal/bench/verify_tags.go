package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// locationTagPrefix is the prefix the tag mappings of the bench and of
// the sample config give a member's 工作地点.
const locationTagPrefix = "地点-"

// checkTags compares WeCom's tags with the journal's record of them and
// with want. The journal records every tag the importer made, under its
// id, holding exactly the members WeCom lists in it; and each member of
// want with a location is in that location's tag and in no other, a
// member outside want only while WeCom keeps them disabled.
func checkTags(snap wecomsim.Snapshot, state plan.State, want Want) []string {
	var problems []string
	differ := func(format string, args ...any) {
		if len(problems) < 3 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	users := map[string]wecomsim.SnapUser{}
	for _, u := range snap.Users {
		users[strings.ToLower(u.UserID)] = u
	}
	journaled := map[string][]string{} // tag -> members, by key
	for k, tags := range state.MemberTags {
		if _, ok := users[k]; !ok {
			continue // gone from WeCom with every tag it was in
		}
		for _, t := range tags {
			journaled[t] = append(journaled[t], k)
		}
	}
	byID := map[int]wecomsim.SnapTag{}
	for _, tg := range snap.Tags {
		byID[tg.ID] = tg
	}
	recorded := map[int]bool{}
	for _, name := range slices.Sorted(maps.Keys(state.Tags)) {
		t := state.Tags[name]
		recorded[t.WeComID] = true
		tg, ok := byID[t.WeComID]
		if !ok {
			differ("the journal has tag %s (id %d), WeCom does not", name, t.WeComID)
			continue
		}
		var held []string
		for _, u := range tg.Users {
			held = append(held, strings.ToLower(u))
		}
		slices.Sort(held)
		j := slices.Sorted(slices.Values(journaled[name]))
		if tg.Name != name || !slices.Equal(held, j) {
			differ("tag %s: the journal has %d members, WeCom %s has %d", name, len(j), tg.Name, len(held))
		}
	}
	for _, tg := range snap.Tags {
		if tg.Creator == "contacts-sync" && !recorded[tg.ID] {
			differ("WeCom has tag %s (id %d), made by the importer's secret, the journal does not", tg.Name, tg.ID)
		}
	}
	wanted := map[string]map[string]bool{} // tag -> userids
	for id, w := range want {
		if w.Location != "" {
			name := locationTagPrefix + w.Location
			if wanted[name] == nil {
				wanted[name] = map[string]bool{}
			}
			wanted[name][id] = true
		}
	}
	seen := map[string]bool{}
	for _, tg := range snap.Tags {
		if !strings.HasPrefix(tg.Name, locationTagPrefix) {
			continue
		}
		seen[tg.Name] = true
		in := map[string]bool{}
		for _, u := range tg.Users {
			in[u] = true
			if _, ok := want[u]; ok && !wanted[tg.Name][u] {
				differ("%s is in tag %s, the feed puts them in %s", u, tg.Name, locationTagPrefix+want[u].Location)
			} else if !ok && users[strings.ToLower(u)].Enable != 0 {
				differ("%s, not in the feed and enabled, is in tag %s", u, tg.Name)
			}
		}
		for u := range wanted[tg.Name] {
			if !in[u] {
				differ("%s is not in tag %s", u, tg.Name)
			}
		}
	}
	for name := range wanted {
		if !seen[name] {
			differ("tag %s missing", name)
		}
	}
	return problems
}
