package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/mapper"
)

// RuleTagForeign is the warning for a tag of the feed that WeCom already
// has and this importer did not make: it is left alone.
const RuleTagForeign = "tag_foreign"

// tagStatus is what the plan does with one tag name.
type tagStatus int

const (
	tagManaged tagStatus = iota // in the journal, and WeCom still lists its id
	tagCreate                   // unknown to WeCom: created
	tagAdopt                    // someone else's, taken over (tags_scope: authoritative)
	tagForeign                  // someone else's: left alone
)

type tagPlan struct {
	status tagStatus
	id     int
	ref    string // first row that wants it
	// wanted counts the members the feed puts in it.
	wanted     int
	adds, dels []string
	// want is, for an adopted tag, the members the feed puts in it, by key.
	want map[string]bool
}

// tagIndex resolves tag names against the journal and WeCom's tag list.
type tagIndex struct {
	state  State
	live   Live
	pol    Policy
	byName map[string]int // live name -> id
}

func newTagIndex(state State, live Live, pol Policy) tagIndex {
	byName := make(map[string]int, len(live.Tags))
	for id, name := range live.Tags {
		byName[name] = id
	}
	return tagIndex{state: state, live: live, pol: pol, byName: byName}
}

// managed reports whether the journal's tag of that name is still in
// WeCom (by id: a tag renamed by hand is still the importer's).
func (x tagIndex) managed(name string) (AppliedTag, bool) {
	t, ok := x.state.Tags[name]
	if !ok {
		return t, false
	}
	_, alive := x.live.Tags[t.WeComID]
	return t, alive
}

// status says what the plan does with a tag the feed names.
func (x tagIndex) status(name string) (tagStatus, int) {
	if t, ok := x.managed(name); ok {
		return tagManaged, t.WeComID
	}
	id, taken := x.byName[name]
	switch {
	case !taken:
		return tagCreate, 0
	case x.pol.TagsScope == ScopeAuthoritative && x.live.TagMembers[id] != nil:
		return tagAdopt, id
	}
	return tagForeign, id
}

// AdoptTags lists the ids of the tags Build would adopt: tags the feed's
// members are given that WeCom has, someone else made and policy
// tags_scope authoritative lets the importer take over. A run reads their
// members (tag/get) into Live.TagMembers before planning; a tag whose
// members could not be read is left alone.
func AdoptTags(dir mapper.Directory, state State, live Live, pol Policy) []int {
	pol = pol.WithDefaults()
	if !dir.TagsMapped || pol.TagsScope != ScopeAuthoritative {
		return nil
	}
	x := newTagIndex(state, live, pol)
	ids := map[int]bool{}
	for _, m := range dir.Members {
		if pol.protectedUser(m.UserID()) {
			continue
		}
		for _, name := range m.Tags {
			if _, ok := x.managed(name); ok || pol.protectedTag(name) {
				continue
			}
			if id, taken := x.byName[name]; taken {
				ids[id] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(ids))
}

// tags plans the feed's tags: each accepted, active member is put in the
// tags their row gives and taken out of the managed tags it does not, in
// batches of TagBatch; a tag no one needs any more is deleted if this
// importer created it. Held members, leavers and protected members keep
// the tags they have. A member WeCom no longer lists has left every tag
// with its deletion, so the journal's memberships of it do not count.
func (b *builder) tags(dir mapper.Directory, inFeed, held map[string]bool) {
	if !dir.TagsMapped {
		return
	}
	x := newTagIndex(b.state, b.live, b.pol)
	plans := map[string]*tagPlan{}
	// holds is what WeCom holds of each adopted tag, by key.
	holds := map[int]map[string]bool{}
	get := func(name string) *tagPlan {
		tp := plans[name]
		if tp == nil {
			st, id := x.status(name)
			tp = &tagPlan{status: st, id: id}
			if st == tagAdopt {
				tp.want = map[string]bool{}
				holds[id] = map[string]bool{}
				for _, u := range b.live.TagMembers[id] {
					holds[id][key(u)] = true
				}
			}
			plans[name] = tp
		}
		return tp
	}
	leavers := map[string]bool{}
	for _, m := range dir.Members {
		k := key(m.UserID())
		if m.Leaver {
			leavers[k] = true
			continue
		}
		if b.pol.protectedUser(m.UserID()) {
			continue
		}
		_, alive := b.live.Users[k]
		var has []string
		if alive {
			has = b.state.MemberTags[k]
		}
		for _, name := range m.Tags {
			if b.pol.protectedTag(name) {
				continue
			}
			tp := get(name)
			tp.wanted++
			if tp.ref == "" {
				tp.ref = m.Ref
			}
			switch tp.status {
			case tagManaged:
				if !slices.Contains(has, name) {
					tp.adds = append(tp.adds, m.UserID())
				}
			case tagCreate:
				tp.adds = append(tp.adds, m.UserID())
			case tagAdopt:
				tp.want[k] = true
				if !alive || !holds[tp.id][k] {
					tp.adds = append(tp.adds, m.UserID())
				}
			}
		}
		for _, name := range has {
			if slices.Contains(m.Tags, name) || b.pol.protectedTag(name) {
				continue
			}
			if _, ok := x.managed(name); ok {
				tp := get(name)
				tp.dels = append(tp.dels, m.UserID())
			}
		}
	}
	// An adopted tag holds what the feed says: members the feed does not
	// put in it leave it, unless the feed cannot speak for them (held,
	// protected, leavers and absent members the journal knows, or
	// everyone absent when the feed cannot tell who is).
	for _, tp := range plans {
		if tp.status != tagAdopt {
			continue
		}
		for _, u := range b.live.TagMembers[tp.id] {
			k := key(u)
			_, known := b.state.Members[k]
			switch {
			case tp.want[k] || held[k] || b.pol.protectedUser(u):
			case inFeed[k] && !leavers[k], !inFeed[k] && !known && b.p.Suspended == "":
				tp.dels = append(tp.dels, u)
			}
		}
	}
	b.tagDeletes(x, plans, held)
	for _, name := range slices.Sorted(maps.Keys(plans)) {
		tp := plans[name]
		switch tp.status {
		case tagCreate:
			b.add(Op{Phase: PhaseTags, Kind: TagCreate, Target: name, Ref: tp.ref, Tag: &Tag{Name: name}})
		case tagAdopt:
			b.add(Op{Phase: PhaseTags, Kind: TagAdopt, Target: name, Ref: tp.ref, Tag: &Tag{Name: name, ID: tp.id}})
		case tagForeign:
			b.p.Warnings = append(b.p.Warnings, foreignTag(name, tp, b.pol))
			continue
		}
		b.batches(TagDelUsers, 1, name, tp.id, tp.dels)
		b.batches(TagAddUsers, 2, name, tp.id, tp.adds)
	}
}

// tagDeletes deletes the tags this importer created that no row needs any
// more, as cleanup deletes departments: not while the feed cannot tell who
// is absent, not a protected tag, and not one a held or protected member
// holds (it stays theirs). A deleted tag needs no removals.
func (b *builder) tagDeletes(x tagIndex, plans map[string]*tagPlan, held map[string]bool) {
	if b.p.Suspended != "" {
		return
	}
	kept := map[string]bool{}
	for k, names := range b.state.MemberTags {
		if _, alive := b.live.Users[k]; !alive {
			continue
		}
		if held[k] || b.pol.protectedUser(k) {
			for _, n := range names {
				kept[n] = true
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b.state.Tags)) {
		t, alive := x.managed(name)
		if !alive || !t.Created || kept[name] || b.pol.protectedTag(name) {
			continue
		}
		if tp := plans[name]; tp != nil && tp.wanted > 0 {
			continue
		}
		delete(plans, name)
		b.add(Op{Phase: PhaseCleanup, Kind: TagDelete, Target: name, Tag: &Tag{Name: name, ID: t.WeComID}})
	}
}

// batches adds a tag's members changes as calls of at most TagBatch
// userids each, sorted by key so the plan is the same every time.
func (b *builder) batches(kind Kind, level int, name string, id int, userids []string) {
	slices.SortFunc(userids, func(a, b string) int { return strings.Compare(key(a), key(b)) })
	for len(userids) > 0 {
		n := min(len(userids), TagBatch)
		b.add(Op{Phase: PhaseTags, Level: level, Kind: kind, Target: name, Tag: &Tag{Name: name, ID: id, UserIDs: slices.Clone(userids[:n])}})
		userids = userids[n:]
	}
}

func foreignTag(name string, tp *tagPlan, pol Policy) *mapper.RowError {
	why := "set policy.tags_scope: authoritative to adopt it, or change the tag's name in the mapping"
	if pol.TagsScope == ScopeAuthoritative {
		why = "its members could not be read (tag/get), so it cannot be adopted"
	}
	return &mapper.RowError{Ref: tp.ref, Rule: RuleTagForeign, Message: fmt.Sprintf(
		"tag %q already exists in WeCom (id %d) and was not created by this importer: it is left alone, and the feed's members of it (%d) are not added; %s",
		name, tp.id, tp.wanted, why)}
}
