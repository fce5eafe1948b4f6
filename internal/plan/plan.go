package plan

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

// Phases, in plan order.
const (
	PhaseDepartments = "departments"
	// PhaseRelease frees mobiles and addresses that move to another member
	// in this run, before anyone is given them: WeCom keeps them unique.
	PhaseRelease = "release"
	PhaseMembers = "members"
	PhaseLeaders = "leaders"
	// PhaseTags creates the feed's tags and changes their members, after
	// the members phase that creates the members they name.
	PhaseTags    = "tags"
	PhaseLeavers = "leavers"
	PhaseCleanup = "cleanup"
)

// Phases lists the phases in execution order.
var Phases = []string{PhaseDepartments, PhaseRelease, PhaseMembers, PhaseLeaders, PhaseTags, PhaseLeavers, PhaseCleanup}

// Kind is what an operation does; it is also the journal's operation name.
type Kind string

const (
	DeptCreate  Kind = "department_create"
	DeptUpdate  Kind = "department_update"
	DeptDelete  Kind = "department_delete"
	UserCreate  Kind = "user_create"
	UserUpdate  Kind = "user_update"
	UserLeaders Kind = "user_leaders"
	// UserRelease clears a member's mobile, email or biz_mail that another
	// member of the feed takes over in the same run.
	UserRelease Kind = "user_release"
	// The executor's follow-up calls, journaled under their own names: a
	// create answered "exists" (60102, 60008) becomes an adoption of what
	// WeCom has. A plan never holds them.
	UserAdopt   Kind = "user_adopt"
	DeptAdopt   Kind = "department_adopt"
	UserDisable Kind = "user_disable"
	UserDelete  Kind = "user_delete"

	TagCreate Kind = "tag_create"
	// TagAdopt takes over a tag someone else made (tags_scope:
	// authoritative), recording what it holds. The executor also adopts a
	// tag whose create answered that the name is taken (40071): its own
	// create, sent by an attempt whose answer was lost.
	TagAdopt    Kind = "tag_adopt"
	TagAddUsers Kind = "tag_add_users"
	TagDelUsers Kind = "tag_del_users"
	TagDelete   Kind = "tag_delete"
	// TagVerify is the executor's follow-up to an add or removal that
	// answered some members invalid: tag/get says which of them the tag
	// holds after all. A plan never holds it.
	TagVerify Kind = "tag_verify"
)

// API is the WeCom endpoint an operation of this kind calls first.
func (k Kind) API() string {
	switch k {
	case DeptCreate:
		return "department/create"
	case DeptUpdate:
		return "department/update"
	case DeptDelete:
		return "department/delete"
	case UserCreate:
		return "user/create"
	case UserDelete:
		return "user/delete"
	case TagCreate:
		return "tag/create"
	case TagAdopt, TagVerify:
		return "tag/get"
	case TagAddUsers:
		return "tag/addtagusers"
	case TagDelUsers:
		return "tag/deltagusers"
	case TagDelete:
		return "tag/delete"
	default:
		return "user/update"
	}
}

// Dept is a department operation's subject.
type Dept struct {
	Key       string
	Name      string
	ParentKey string // "" = WeCom root (id 1)
	Order     uint32
	ID        int // known WeCom id for update and delete
	// PrevName and PrevParentKey are what an update changes from, for
	// review; PrevParentKey is "?" when the old parent is not one of ours.
	PrevName, PrevParentKey string
	// Children, on a cleanup delete, are the keys of its sub-departments
	// this plan deletes first: if one stays, this delete cannot succeed.
	Children []string
}

// Tag is a tag operation's subject.
type Tag struct {
	Name string
	ID   int // known WeCom id; 0 for a tag this plan creates
	// UserIDs are the members an add or remove names, at most TagBatch,
	// sorted by key.
	UserIDs []string
}

// TagBatch is how many userids one addtagusers or deltagusers call takes
// (wecom.TagUserListMax, 90214): the planner splits a tag's changes into
// calls of at most this many.
const TagBatch = 1000

// Op is one planned WeCom write.
type Op struct {
	Seq   int
	Phase string
	// Level orders operations inside a phase: parents before children, a
	// member after the leaders it names, children's deletes before their
	// parents'. The executor does not wait for a whole level: it derives
	// what each operation waits for from the operations, always earlier
	// ones in plan order.
	Level  int
	Kind   Kind
	Target string // userid, department key or tag name
	Ref    string // source row that asked for it
	Dept   *Dept
	Tag    *Tag
	// Before is the member as last applied (nil when unknown); After is
	// what the journal records once the call succeeded.
	Before *member.Record
	After  *member.Record
	Fields []string // member fields the update sends
}

// Plan is the ordered set of writes that brings WeCom in line with the feed.
type Plan struct {
	Ops []Op
	// Unchanged counts desired records that need no call.
	UnchangedMembers, UnchangedDepartments int
	// Removals is the number of members the plan disables or deletes, and
	// Members the directory size the guard compares it with.
	Removals, Members int
	// Held lists members whose row is in the feed but was rejected: the
	// plan leaves them exactly as WeCom has them, departments included.
	Held []Held
	// AdoptFields is what taking over a member WeCom already has pushes:
	// the fields the mapping sets, with departments and enable. The
	// executor uses it too, when a create answers that the member exists.
	AdoptFields []string
	// Suspended, when set, says why this plan treats no one as absent and
	// deletes no department or tag: some rejected row could not even be
	// told whose it is, so absence from the feed proves nothing.
	Suspended string
	// Warnings are what the plan leaves undone that the feed asks for, and
	// why: a tag of the feed someone else made (RuleTagForeign).
	Warnings []*mapper.RowError
}

// Held is a member the plan does not touch because their row was rejected.
type Held struct {
	UserID, Ref, Rule string
	// Message says why, when the rule alone does not (the row itself was
	// fine, but what it asks for cannot be done yet).
	Message string
}

// Counts returns the number of operations per kind.
func (p *Plan) Counts() map[Kind]int {
	c := map[Kind]int{}
	for _, op := range p.Ops {
		c[op.Kind]++
	}
	return c
}

// Live is what WeCom reports right now, from user/list_id and
// department/simplelist: existence only, because a sync secret on a new IP
// may not read details (48009).
type Live struct {
	Users       map[string]string // lower-cased userid -> userid as WeCom spells it
	Departments map[int]LiveDept
	// Tags are every tag of the corp, whoever made it (tag/list): id ->
	// name. Read only when the mapping has tag rules.
	Tags map[int]string
	// TagMembers are the userids of the tags the plan would adopt
	// (AdoptTags), as tag/get lists them, by tag id.
	TagMembers map[int][]string
}

// LiveDept is a department as department/simplelist reports it.
type LiveDept struct{ ID, ParentID int }

// Needs names the journal-known members whose last-applied records Build
// must be given in State.Records: every one the feed does not list as
// accepted (absent, or held by a rejected row), and every one it lists
// whose digest does not settle it (changed, a leaver, gone from WeCom, or
// led by someone WeCom lost). For the rest, the digest in State.Members
// is all Build reads, so a nightly run holds the records of the members
// it changes and no others.
func Needs(dir mapper.Directory, state State, live Live) []string {
	vanished := vanishedMembers(state, live)
	var need []string
	inFeed := 0 // journal members the feed lists; its userids are unique
	for i := range dir.Members {
		m := &dir.Members[i]
		k := key(m.UserID())
		// A kept leader needs no exception: the mapper leaves its
		// DirectLeader empty, so an equal digest says the record has
		// none either, which is what Build would ask for.
		if d, known := state.Members[k]; known {
			inFeed++
			_, alive := live.Users[k]
			if !settled(m.Digest(), m.Leaver, alive, d, func() []string { return m.Record().DirectLeader }, vanished) {
				need = append(need, k)
			}
		}
	}
	if inFeed == len(state.Members) {
		// Nobody the journal knows is absent: no set of the feed's
		// userids, which at a large corp's size is most of what this costs.
		return need
	}
	accepted := make(map[string]bool, len(dir.Members))
	for i := range dir.Members {
		accepted[key(dir.Members[i].UserID())] = true
	}
	for k := range state.Members {
		if !accepted[k] {
			need = append(need, k)
		}
	}
	return need
}

// settled reports whether what the feed asks for a member that is no
// leaver, by its digest, is exactly what the journal's digest says was
// last pushed, to a member WeCom still has (alive) and whose leaders it
// still has: then the member needs no call. The leaders are asked for
// only when WeCom lost someone, which is when they have to be decoded.
func settled(asked member.Digest, leaver, alive bool, applied member.Digest, leaders func() []string, vanished map[string]bool) bool {
	if leaver || !alive || asked != applied {
		return false
	}
	return len(vanished) == 0 || !ledByVanished(leaders(), vanished)
}

func ledByVanished(leaders []string, vanished map[string]bool) bool {
	return len(vanished) > 0 && slices.ContainsFunc(leaders, func(l string) bool { return vanished[key(l)] })
}

// vanishedMembers are the journal-known members WeCom no longer lists.
// Deleting a member in WeCom also drops them from everyone's
// direct_leader, so the journal's record of those lists is stale for every
// member led by someone who vanished.
func vanishedMembers(state State, live Live) map[string]bool {
	vanished := map[string]bool{}
	for k := range state.Members {
		if _, alive := live.Users[k]; !alive {
			vanished[k] = true
		}
	}
	return vanished
}

// Build diffs the desired directory against known state and returns the
// ordered plan. It is pure. A plan that trips the mass-change guard is
// returned together with a *RefusedError, so a caller can still show it.
// state.Records must hold the records Needs names.
func Build(dir mapper.Directory, state State, live Live, pol Policy) (*Plan, error) {
	pol = pol.WithDefaults()
	p := &Plan{}
	p.AdoptFields = adoptFields(dir.Fields)
	b := builder{p: p, pol: pol, state: state, live: live, adopt: p.AdoptFields}

	desiredDepts := map[string]bool{}
	for _, d := range dir.Departments {
		desiredDepts[d.Key] = true
		b.department(d)
	}
	accepted := make(map[string]bool, len(dir.Members))
	for i := range dir.Members {
		accepted[key(dir.Members[i].UserID())] = true
	}
	// A rejected row holds its member and its department; a row that names
	// no one makes every absence doubtful.
	held := map[string]bool{}
	for _, r := range dir.Rejects {
		switch {
		case r.UserID != "":
			if k := key(r.UserID); !accepted[k] && !held[k] {
				held[k] = true
				p.Held = append(p.Held, Held{UserID: r.UserID, Ref: r.Ref, Rule: r.Rule})
			}
		case r.DeptKey != "":
			desiredDepts[r.DeptKey] = true
		case p.Suspended == "":
			p.Suspended = fmt.Sprintf("row %s was rejected (%s) and names no one, so this run cannot tell who is absent: no member is treated as a leaver for missing from the feed, and no department is removed", r.Ref, r.Rule)
		}
	}
	b.vanished = vanishedMembers(state, live)
	for i := range dir.Members {
		b.member(&dir.Members[i])
	}
	b.leaderWaves()
	heldRecords := b.records(held)
	b.tags(dir, accepted, held)
	if p.Suspended == "" {
		b.absentMembers(func(k string) bool { return accepted[k] || held[k] })
		b.cleanup(desiredDepts, heldRecords)
	}
	b.releaseMoved(dir, heldRecords)

	for i := range p.Ops {
		p.Ops[i].Seq = i + 1
	}
	sortOps(p.Ops)
	for i := range p.Ops {
		p.Ops[i].Seq = i + 1
	}

	p.Members = max(len(live.Users), len(state.Members))
	if err := guard(p, dir, pol); err != nil {
		return p, err
	}
	return p, nil
}

type builder struct {
	p     *Plan
	pol   Policy
	state State
	live  Live
	// adopt is what taking over a member WeCom already has pushes.
	adopt []string
	// vanished holds journal-known members WeCom no longer lists.
	vanished map[string]bool
	keys     map[int]string // WeCom id -> HR key, built on first use
	// wishes are the direct_leader lists members still need once their
	// own calls are sent; leaderWaves folds each into its member's call or
	// makes it a call of its own.
	wishes []leaderWish
}

func (b *builder) add(op Op) { b.p.Ops = append(b.p.Ops, op) }

func (b *builder) department(d mapper.Department) {
	if b.pol.protectedDept(d.Key) {
		b.p.UnchangedDepartments++
		return
	}
	applied, known := b.state.Departments[d.Key]
	if known {
		if _, alive := b.live.Departments[applied.WeComID]; !alive {
			known = false // removed outside the importer: create it again
		}
	}
	want := &Dept{Key: d.Key, Name: d.Name, ParentKey: d.ParentKey, Order: d.Order}
	if !known {
		b.add(Op{Phase: PhaseDepartments, Level: d.Depth, Kind: DeptCreate, Target: d.Key, Ref: d.Ref, Dept: want})
		return
	}
	want.ID = applied.WeComID
	parentMoved := false
	if d.ParentKey == "" {
		parentMoved = applied.ParentID != 1
	} else if pa, ok := b.state.Departments[d.ParentKey]; ok {
		parentMoved = applied.ParentID != pa.WeComID
	}
	if live := b.live.Departments[applied.WeComID]; live.ParentID != applied.ParentID {
		parentMoved = true // moved by hand in WeCom; the feed wins
	}
	if applied.Name != d.Name || applied.Order != d.Order || parentMoved {
		want.PrevName, want.PrevParentKey = applied.Name, b.keyOfID(applied.ParentID)
		b.add(Op{Phase: PhaseDepartments, Level: d.Depth, Kind: DeptUpdate, Target: d.Key, Ref: d.Ref, Dept: want})
		return
	}
	b.p.UnchangedDepartments++
}

func (b *builder) member(m *mapper.Member) {
	k := key(m.UserID())
	_, alive := b.live.Users[k]
	applied, known := b.state.Members[k]
	// Most of a nightly feed is unchanged: an equal digest settles it
	// without decoding either record.
	if !m.LeaderKept && known && settled(m.Digest(), m.Leaver, alive, applied, func() []string { return m.Record().DirectLeader }, b.vanished) {
		b.p.UnchangedMembers++
		return
	}
	want, before := m.Record(), b.record(k)
	if m.LeaderKept {
		// The feed cannot say who leads this member: ask for what WeCom
		// holds, which is the last-applied list less anyone WeCom dropped.
		want.DirectLeader = nil
		if before != nil && !ledByVanished(before.DirectLeader, b.vanished) {
			want.DirectLeader = before.DirectLeader
		}
		if known && settled(want.Digest(), m.Leaver, alive, applied, func() []string { return want.DirectLeader }, b.vanished) {
			b.p.UnchangedMembers++
			return
		}
	}
	if b.pol.protectedUser(want.UserID) {
		b.p.UnchangedMembers++
		return
	}
	if m.Leaver {
		b.leaver(want.UserID, m.Ref, before, alive)
		return
	}

	// direct_leader may name someone this run creates, so it waits for the
	// leaders pass, unless every leader already exists in WeCom: then it
	// travels with the member's own create or update, saving a call.
	leadersReady := len(want.DirectLeader) > 0 && !slices.ContainsFunc(want.DirectLeader, func(l string) bool {
		_, ok := b.live.Users[key(l)]
		return !ok || b.vanished[key(l)]
	})
	// held is the direct_leader list the member's own call can carry now:
	// want's when its leaders are ready, else what WeCom holds (none for a
	// member WeCom does not have or the journal does not know, and none
	// once WeCom dropped a vanished leader from the list).
	held := want.DirectLeader
	if !leadersReady {
		switch {
		case !alive, before == nil, ledByVanished(before.DirectLeader, b.vanished):
			held = nil
		default:
			held = before.DirectLeader
		}
	}
	// The member's call gets want itself as its record, leaders and all;
	// leaderWaves gives it held instead when they cannot travel with it.
	// One record per member: on a first import the plan holds all of them.
	opsBefore, wishesBefore := len(b.p.Ops), len(b.wishes)
	switch {
	case !alive:
		// Unknown to WeCom (new, or removed by hand): create it.
		b.add(Op{Phase: PhaseMembers, Kind: UserCreate, Target: want.UserID, Ref: m.Ref, After: want})
	case before == nil:
		// Exists in WeCom but not in the journal: adopt it by pushing the
		// whole record (fields are unknown, so every field is sent).
		fields := b.adopt
		if leadersReady {
			fields = append(slices.Clone(b.adopt), "direct_leader")
		}
		b.add(Op{Phase: PhaseMembers, Kind: UserUpdate, Target: want.UserID, Ref: m.Ref, After: want, Fields: fields})
	default:
		now := *want
		now.DirectLeader = held
		fields := changedFields(*before, now)
		if !leadersReady {
			// WeCom already holds what held says; the leaders pass sets the rest.
			fields = slices.DeleteFunc(fields, func(f string) bool { return f == "direct_leader" })
		}
		if len(fields) == 0 {
			break
		}
		b.add(Op{Phase: PhaseMembers, Kind: UserUpdate, Target: want.UserID, Ref: m.Ref, Before: before, After: want, Fields: fields})
	}
	if !slices.Equal(held, want.DirectLeader) {
		wish := leaderWish{key: k, op: -1, at: int32(len(b.p.Ops)), held: held}
		if len(b.p.Ops) > opsBefore {
			wish.op = int32(len(b.p.Ops) - 1)
		} else {
			wish.lone = &loneWish{ref: m.Ref, after: want}
		}
		b.wishes = append(b.wishes, wish)
	}
	if len(b.p.Ops) == opsBefore && len(b.wishes) == wishesBefore {
		b.p.UnchangedMembers++
	}
}

// leaver applies the leavers policy to one member that is gone from HR.
func (b *builder) leaver(userid, ref string, before *member.Record, alive bool) {
	if !alive || b.pol.protectedUser(userid) {
		return
	}
	switch b.pol.Leavers {
	case LeaversDisable:
		if before != nil && !before.Enabled {
			b.p.UnchangedMembers++
			return
		}
		var after *member.Record
		if before != nil {
			a := *before
			a.Enabled = false
			after = &a
		}
		b.add(Op{Phase: PhaseLeavers, Kind: UserDisable, Target: userid, Ref: ref, Before: before, After: after, Fields: []string{"enable"}})
		b.p.Removals++
	case LeaversDelete:
		b.add(Op{Phase: PhaseLeavers, Kind: UserDelete, Target: userid, Ref: ref, Before: before})
		b.p.Removals++
	}
}

// absentMembers treats members the feed no longer lists as leavers: in
// managed scope only those the journal knows, in authoritative scope every
// live member.
func (b *builder) absentMembers(inFeed func(key string) bool) {
	var candidates []string
	switch b.pol.Scope {
	case ScopeAuthoritative:
		for k := range b.live.Users {
			if !inFeed(k) {
				candidates = append(candidates, k)
			}
		}
	default:
		for k := range b.state.Members {
			if !inFeed(k) {
				candidates = append(candidates, k)
			}
		}
	}
	sort.Strings(candidates)
	for _, k := range candidates {
		userid, alive := b.live.Users[k]
		before := b.record(k)
		if before != nil {
			userid = before.UserID
		}
		b.leaver(userid, "", before, alive)
	}
}

// cleanup deletes departments this importer created that the feed no
// longer has, deepest first, after members have moved out of them. A
// department a held member sits in, and its ancestors, stay: the member's
// row did not say to move them.
func (b *builder) cleanup(desired map[string]bool, held []member.Record) {
	keep := map[int]bool{}
	if len(held) > 0 {
		parent := map[int]int{}
		for _, d := range b.state.Departments {
			parent[d.WeComID] = d.ParentID
		}
		for _, r := range held {
			for _, dk := range r.DeptKeys {
				d, ok := b.state.Departments[dk]
				for n := 0; ok && !keep[d.WeComID] && n <= len(parent); n++ {
					keep[d.WeComID] = true
					d, ok = b.deptByID(parent[d.WeComID])
				}
			}
		}
	}
	var gone []AppliedDepartment
	for k, d := range b.state.Departments {
		if desired[k] || b.pol.protectedDept(k) || keep[d.WeComID] {
			continue
		}
		if _, alive := b.live.Departments[d.WeComID]; !alive {
			continue
		}
		gone = append(gone, d)
	}
	depth := b.stateDepths()
	maxDepth := 0
	for _, d := range gone {
		maxDepth = max(maxDepth, depth[d.WeComID])
	}
	children := map[int][]string{}
	for _, d := range gone {
		children[d.ParentID] = append(children[d.ParentID], d.Key)
	}
	for _, d := range gone {
		kids := children[d.WeComID]
		sort.Strings(kids)
		b.add(Op{Phase: PhaseCleanup, Level: maxDepth - depth[d.WeComID], Kind: DeptDelete, Target: d.Key,
			Dept: &Dept{Key: d.Key, Name: d.Name, ID: d.WeComID, Children: kids}})
	}
}

// records are the last-applied records of the given members the journal
// knows, in key order.
func (b *builder) records(keys map[string]bool) []member.Record {
	var out []member.Record
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if r := b.record(k); r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// record is the last-applied record of a member the journal knows, nil
// when it knows none or the record did not decode.
func (b *builder) record(k string) *member.Record {
	if _, known := b.state.Members[k]; !known {
		return nil
	}
	r, ok := b.state.Records[k]
	if !ok {
		return nil
	}
	return &r
}

// deptByID finds a recorded department by its WeCom id.
func (b *builder) deptByID(id int) (AppliedDepartment, bool) {
	k := b.keyOfID(id)
	d, ok := b.state.Departments[k]
	return d, ok && k != ""
}

// keyOfID names a recorded WeCom department id by its HR key ("" for the
// root, "?" for a department the journal does not know).
func (b *builder) keyOfID(id int) string {
	if id == 1 {
		return ""
	}
	if b.keys == nil {
		b.keys = map[int]string{}
		for k, d := range b.state.Departments {
			b.keys[d.WeComID] = k
		}
	}
	if k, ok := b.keys[id]; ok {
		return k
	}
	return "?"
}

// stateDepths gives each known department its depth below WeCom's root
// (1 for a top-level department), from the parent ids the journal
// recorded: keys may be HR codes, which say nothing about depth.
func (b *builder) stateDepths() map[int]int {
	parent := map[int]int{}
	for _, d := range b.state.Departments {
		parent[d.WeComID] = d.ParentID
	}
	depth := map[int]int{}
	var of func(id, guard int) int
	of = func(id, guard int) int {
		if n, ok := depth[id]; ok {
			return n
		}
		p, known := parent[id]
		if !known || p == 1 || guard > len(parent) {
			depth[id] = 1
			return 1
		}
		depth[id] = 1 + of(p, guard+1)
		return depth[id]
	}
	for id := range parent {
		of(id, 0)
	}
	return depth
}

// allFields is every member field an update can send except
// direct_leader, which travels on its own terms. Text fields come from the
// member table.
var allFields = func() []string {
	var f []string
	for _, t := range member.TextFields {
		f = append(f, t.Name)
	}
	return append(f, slices.DeleteFunc(slices.Clone(member.Structured), func(s string) bool { return s == "direct_leader" })...)
}()

// AllFields is every member field an update can send except
// direct_leader: what an adoption pushes when the plan names none.
func AllFields() []string { return slices.Clone(allFields) }

// adoptFields is what adopting a member WeCom already has pushes: the
// fields the mapping sets (all of them when it does not say), and always
// departments and enable, which the importer manages for every member.
func adoptFields(mapped []string) []string {
	if mapped == nil {
		return allFields
	}
	return slices.DeleteFunc(slices.Clone(allFields), func(f string) bool {
		return f != "department" && f != "enable" && !slices.Contains(mapped, f)
	})
}

// changedFields lists the WeCom update fields whose values differ, text
// fields in table order, then the structured ones. department, order and
// is_leader_in_dept travel together because WeCom reads order and the
// leader flags against the department list sent with them.
func changedFields(a, b member.Record) []string {
	var f []string
	for _, t := range member.TextFields {
		if t.Get(&a) != t.Get(&b) {
			f = append(f, t.Name)
		}
	}
	add := func(name string, differ bool) {
		if differ {
			f = append(f, name)
		}
	}
	add("department", !slices.Equal(a.DeptKeys, b.DeptKeys) || !slices.Equal(a.Order, b.Order) || !slices.Equal(a.IsLeader, b.IsLeader))
	add("enable", a.Enabled != b.Enabled)
	add("main_department", a.MainDept != b.MainDept)
	add("extattr", !bytes.Equal(a.ExtAttr, b.ExtAttr))
	add("direct_leader", !slices.Equal(a.DirectLeader, b.DirectLeader))
	return f
}

// key is the case-insensitive identity of a userid, as WeCom compares them.
func key(userid string) string { return member.Key(userid) }

func phaseIndex(ph string) int { return slices.Index(Phases, ph) }

// sortOps orders by phase, then level, keeping the builder's order inside
// a level (departments in feed order, members in feed order).
func sortOps(ops []Op) {
	sort.SliceStable(ops, func(i, j int) bool {
		a, b := ops[i], ops[j]
		if pa, pb := phaseIndex(a.Phase), phaseIndex(b.Phase); pa != pb {
			return pa < pb
		}
		if a.Level != b.Level {
			return a.Level < b.Level
		}
		if a.Phase == PhaseCleanup {
			return a.Target < b.Target
		}
		return a.Seq < b.Seq
	})
}

func guard(p *Plan, dir mapper.Directory, pol Policy) error {
	rejected, rows := len(dir.Rejects), dir.Rows+dir.DepartmentRows
	if pol.MaxRejectCount > 0 && rejected > pol.MaxRejectCount {
		return &RefusedError{Guard: GuardRejects, Rejected: rejected, Rows: rows, Rule: fmt.Sprintf("max_reject_count %d", pol.MaxRejectCount)}
	}
	if pol.MaxRejectRatio > 0 && rejected > rejectRatioFloor && float64(rejected)/float64(rows) > pol.MaxRejectRatio {
		return &RefusedError{Guard: GuardRejects, Rejected: rejected, Rows: rows, Rule: fmt.Sprintf("max_reject_ratio %.2f", pol.MaxRejectRatio)}
	}
	if p.Removals == 0 {
		return nil
	}
	if pol.MaxDeleteCount > 0 && p.Removals > pol.MaxDeleteCount {
		return &RefusedError{Guard: GuardMassChange, Removals: p.Removals, Members: p.Members, Rule: fmt.Sprintf("max_delete_count %d", pol.MaxDeleteCount)}
	}
	if pol.MaxDeleteRatio > 0 && p.Members > 0 && float64(p.Removals)/float64(p.Members) > pol.MaxDeleteRatio {
		return &RefusedError{Guard: GuardMassChange, Removals: p.Removals, Members: p.Members, Rule: fmt.Sprintf("max_delete_ratio %.2f", pol.MaxDeleteRatio)}
	}
	return nil
}
