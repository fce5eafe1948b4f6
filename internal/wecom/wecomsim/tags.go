package wecomsim

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Tags (标签), docs/wecom.md §2.4. A tag holds members and departments
// directly (a department's members are not expanded into userlist) and
// belongs to whoever created it, which decides who may change it.

const (
	// tagNameMax is in characters: "32个字以内（汉字或英文字母）" on the
	// create page (90210), and 40072's text.
	tagNameMax = 32
	// tagUserListMax and tagPartyListMax are the per-call caps of
	// addtagusers and deltagusers (90214, 90215).
	tagUserListMax  = 1000
	tagPartyListMax = 100
	defaultMaxTags  = 3000  // 90210: 标签总数不能超过3000个
	defaultTagNodes = 30000 // 90214: 每个标签下部门数和人员数总和不能超过3万个
)

// Creators of a tag other than an app (whose creator is "app:<agentid>").
const (
	// creatorSync is the contacts-sync assistant (通讯录同步助手), whichever
	// of its secrets made the call: a reset or a new IP is the same app.
	creatorSync = "contacts-sync"
	// creatorAdmin is a tag made in the admin console (CreateAdminTag).
	creatorAdmin = "admin"
)

func creatorOf(sec *Secret) string {
	if sec.Kind == App {
		return "app:" + strconv.Itoa(sec.AgentID)
	}
	return creatorSync
}

type tag struct {
	id      int
	name    string
	creator string
	// users (by userKey) and parties map each direct entry to when it was
	// added, the order tag/get lists them in.
	users   map[string]int64
	parties map[int]int64
}

func (t *tag) nodes() int { return len(t.users) + len(t.parties) }

// tagStore holds the corp's tags and the reverse indexes that let a member
// or department deletion edit exactly the tags that name it, instead of
// walking up to 3,000 tags per deleted member.
type tagStore struct {
	byID   map[int]*tag
	byName map[string]int
	ofUser map[string]intSet // userKey -> tags listing the member
	ofDept map[int]intSet    // department -> tags listing it
	seq    int64
	top    int // the largest id in use; tag/create without tagid takes top+1
}

func newTagStore() tagStore {
	return tagStore{byID: map[int]*tag{}, byName: map[string]int{}, ofUser: map[string]intSet{}, ofDept: map[int]intSet{}}
}

func (ts *tagStore) put(t *tag) {
	ts.byID[t.id] = t
	ts.byName[t.name] = t.id
	ts.top = max(ts.top, t.id)
}

func (ts *tagStore) remove(t *tag) {
	for k := range t.users {
		setDel(ts.ofUser, k, t.id)
	}
	for d := range t.parties {
		setDel(ts.ofDept, d, t.id)
	}
	delete(ts.byID, t.id)
	delete(ts.byName, t.name)
	if t.id == ts.top {
		ts.top = 0
		for id := range ts.byID {
			ts.top = max(ts.top, id)
		}
	}
}

func (ts *tagStore) addUser(t *tag, k string) {
	ts.seq++
	t.users[k] = ts.seq
	setAdd(ts.ofUser, k, t.id)
}

func (ts *tagStore) delUser(t *tag, k string) {
	delete(t.users, k)
	setDel(ts.ofUser, k, t.id)
}

func (ts *tagStore) addParty(t *tag, d int) {
	ts.seq++
	t.parties[d] = ts.seq
	setAdd(ts.ofDept, d, t.id)
}

func (ts *tagStore) delParty(t *tag, d int) {
	delete(t.parties, d)
	setDel(ts.ofDept, d, t.id)
}

// dropUser takes a deleted member out of every tag.
func (ts *tagStore) dropUser(k string) {
	for id := range ts.ofUser[k] {
		delete(ts.byID[id].users, k)
	}
	delete(ts.ofUser, k)
}

// dropDept takes a deleted department out of every tag's partylist.
func (ts *tagStore) dropDept(d int) {
	for id := range ts.ofDept[d] {
		delete(ts.byID[id].parties, d)
	}
	delete(ts.ofDept, d)
}

// tagInput is a decoded tag call body; nil means absent.
type tagInput struct {
	name    *string
	id      *int64
	users   []string
	parties []int
}

// tagField is one body field of the tag calls. Like deptFields, the table
// drives parsing, and tags_test.go walks every rule over HTTP. Rules that
// need the rest of the corp (uniqueness, ownership, caps) are enforced by
// the handlers and listed here with their codes; a rule with code 0 is a
// partial success, answered in invalidlist or invalidparty.
type tagField struct {
	name, typ string
	calls     string // the APIs that take the field
	page      string
	rules     []fieldRule
	// parse decodes body[name] (never absent or null) into in and
	// reports whether it had the documented JSON type.
	parse func(raw json.RawMessage, in *tagInput) bool
}

var tagFields = []tagField{
	{
		name: "tagname", typ: "string", calls: "tag/create, tag/update", page: pageTagCreate,
		rules: []fieldRule{
			{"a JSON string", 40058, pageEmulator},
			{"required", 41018, pageErrcodes},
			{"1 to 32 characters", 40072, pageErrcodes},
			{"unique in the corp (exact comparison)", 40071, pageErrcodes},
		},
		parse: func(raw json.RawMessage, in *tagInput) bool { return json.Unmarshal(raw, &in.name) == nil },
	},
	{
		name: "tagid", typ: "int", calls: "every tag call", page: pageTagCreate,
		rules: []fieldRule{
			{"a JSON number", 40058, pageEmulator},
			{"on create, optional (0 = absent): a 32-bit id above 0, not in use", 40068, pageEmulator},
			{"on the other calls, required and an existing tag", 40068, pageErrcodes},
		},
		parse: func(raw json.RawMessage, in *tagInput) bool { return json.Unmarshal(raw, &in.id) == nil },
	},
	{
		name: "userlist", typ: "string[]", calls: "tag/addtagusers, tag/deltagusers", page: pageTagAddUsers,
		rules: []fieldRule{
			{"at most 1000 userids", 81014, pageErrcodes},
			{"on addtagusers, a JSON array, not empty together with partylist, not all invalid", 40070, pageTagAddUsers},
			{"on deltagusers, the same", 40031, pageTagDelUsers},
			{"unknown members, and members outside an app's range, are answered in invalidlist", 0, pageTagAddUsers},
		},
		parse: func(raw json.RawMessage, in *tagInput) bool { return json.Unmarshal(raw, &in.users) == nil },
	},
	{
		name: "partylist", typ: "int[]", calls: "tag/addtagusers, tag/deltagusers", page: pageTagAddUsers,
		rules: []fieldRule{
			{"at most 100 department ids", 81014, pageErrcodes},
			{"on addtagusers, a JSON array, not empty together with userlist, not all invalid", 40070, pageTagAddUsers},
			{"on deltagusers, the same", 40031, pageTagDelUsers},
			{"unknown departments, and departments outside an app's range, are answered in invalidparty", 0, pageTagAddUsers},
		},
		parse: func(raw json.RawMessage, in *tagInput) bool { return json.Unmarshal(raw, &in.parties) == nil },
	},
}

// parseTagInput decodes the fields of a tag call. A scalar of the wrong
// type is 40058; a list of the wrong type is listCode, the call's "all
// list invalid" answer, as 40070's help text (item 1) says of
// "userlist":"user1".
func parseTagInput(body map[string]json.RawMessage, listCode int) (*tagInput, int) {
	in := &tagInput{}
	for i := range tagFields {
		f := &tagFields[i]
		raw, ok := body[f.name]
		if !ok || isNull(raw) {
			continue
		}
		if !f.parse(raw, in) {
			if f.typ == "string[]" || f.typ == "int[]" {
				return nil, listCode
			}
			return nil, 40058
		}
	}
	return in, 0
}

func checkTagName(name string) int {
	if n := runeLen(name); n < 1 || n > tagNameMax {
		return 40072
	}
	return 0
}

// createTag is tag/create's effect, shared with CreateAdminTag.
func (s *Server) createTag(name string, id int64, creator string) (int, int) {
	if code := checkTagName(name); code != 0 {
		return 0, code
	}
	if _, taken := s.tags.byName[name]; taken {
		return 0, 40071
	}
	if id != 0 {
		if id < 0 || id > math.MaxInt32 || s.tags.byID[int(id)] != nil {
			return 0, 40068
		}
	}
	if s.opts.MaxTags != unlimited && len(s.tags.byID) >= s.opts.MaxTags {
		return 0, 40126
	}
	if id == 0 {
		id = int64(s.tags.top) + 1
	}
	s.tags.put(&tag{id: int(id), name: name, creator: creator, users: map[string]int64{}, parties: map[int]int64{}})
	return int(id), 0
}

func (s *Server) tagCreate(c *call) (map[string]any, int) {
	in, code := parseTagInput(c.body, 40058)
	if code != 0 {
		return nil, code
	}
	if in.name == nil {
		return nil, 41018
	}
	c.target = *in.name
	var want int64
	if in.id != nil {
		want = *in.id
	}
	id, code := s.createTag(*in.name, want, creatorOf(c.secret))
	if code != 0 {
		return nil, code
	}
	return map[string]any{"tagid": id}, 0
}

// mayEdit reports whether sec may change t: its creator may, and the
// contacts-sync assistant may also change tags made in the admin console
// (81011's help text in the errcode list, 90313).
func mayEdit(sec *Secret, t *tag) bool {
	who := creatorOf(sec)
	return t.creator == who || (who == creatorSync && t.creator == creatorAdmin)
}

// editableTag resolves the tagid of a tag write and checks that the caller
// may change it.
func (s *Server) editableTag(c *call, id *int64) (*tag, int) {
	if id == nil {
		return nil, 40068
	}
	c.target = strconv.FormatInt(*id, 10)
	t := s.tags.byID[int(*id)]
	if *id < 1 || *id > math.MaxInt32 || t == nil {
		return nil, 40068
	}
	if !mayEdit(c.secret, t) {
		return nil, s.opts.TagOwnerCode
	}
	return t, 0
}

func (s *Server) tagUpdate(c *call) (map[string]any, int) {
	in, code := parseTagInput(c.body, 40058)
	if code != 0 {
		return nil, code
	}
	t, code := s.editableTag(c, in.id)
	if code != 0 {
		return nil, code
	}
	if in.name == nil {
		return nil, 41018
	}
	if code := checkTagName(*in.name); code != 0 {
		return nil, code
	}
	if other, taken := s.tags.byName[*in.name]; taken && other != t.id {
		return nil, 40071
	}
	delete(s.tags.byName, t.name)
	t.name = *in.name
	s.tags.byName[t.name] = t.id
	return nil, 0
}

// queryTagID reads ?tagid= as tagInput does a body's tagid; a value that
// is not a number is no tag at all.
func queryTagID(c *call) *int64 {
	raw := c.query.Get("tagid")
	c.target = raw
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func (s *Server) tagDelete(c *call) (map[string]any, int) {
	t, code := s.editableTag(c, queryTagID(c))
	if code != 0 {
		return nil, code
	}
	s.tags.remove(t)
	return nil, 0
}

// inAddedOrder lists a tag's entries in the order they were added.
func inAddedOrder[K comparable](m map[K]int64) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] < m[keys[j]] })
	return keys
}

// tagGet answers the tag's direct members and departments; an app sees
// only those inside its visible range (90213).
func (s *Server) tagGet(c *call) (map[string]any, int) {
	if s.opts.NewIPRefusesTagGet && c.secret.NewIP && c.secret.Kind != App {
		return nil, 48009
	}
	id := queryTagID(c)
	if id == nil || *id < 1 || *id > math.MaxInt32 || s.tags.byID[int(*id)] == nil {
		return nil, 40068
	}
	t := s.tags.byID[int(*id)]
	type member struct {
		UserID string `json:"userid"`
		Name   string `json:"name"`
	}
	users := []member{}
	for _, k := range inAddedOrder(t.users) {
		if u := s.users[k]; s.userVisible(c.secret, u) {
			users = append(users, member{u.UserID, u.Name})
		}
	}
	parties := []int{}
	for _, d := range inAddedOrder(t.parties) {
		if visibleDept(s, c.secret, d) {
			parties = append(parties, d)
		}
	}
	return map[string]any{"tagname": t.name, "userlist": users, "partylist": parties}, 0
}

// tagList answers every tag of the corp by id: the list page (90216) gives
// self-built apps and the sync assistant all of them.
func (s *Server) tagList(*call) (map[string]any, int) {
	type entry struct {
		ID   int    `json:"tagid"`
		Name string `json:"tagname"`
	}
	list := make([]entry, 0, len(s.tags.byID))
	for _, t := range s.tags.byID {
		list = append(list, entry{t.id, t.name})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return map[string]any{"taglist": list}, 0
}

func (s *Server) tagAddUsers(c *call) (map[string]any, int) { return s.changeTagMembers(c, true) }

func (s *Server) tagDelUsers(c *call) (map[string]any, int) { return s.changeTagMembers(c, false) }

// changeTagMembers is addtagusers (add) and deltagusers. Entries that are
// unknown or outside an app's range come back in invalidlist and
// invalidparty while the rest are applied; when nothing in the call is
// valid the call fails whole, with 40070 on add and 40031 on delete, each
// as its own page says.
func (s *Server) changeTagMembers(c *call, add bool) (map[string]any, int) {
	allInvalid := 40070
	if !add {
		allInvalid = 40031
	}
	in, code := parseTagInput(c.body, allInvalid)
	if code != 0 {
		return nil, code
	}
	t, code := s.editableTag(c, in.id)
	if code != 0 {
		return nil, code
	}
	if len(in.users) > tagUserListMax || len(in.parties) > tagPartyListMax {
		return nil, 81014
	}
	var (
		badUsers   []string
		badParties []int
		users      []string
		parties    []int
		valid      int
	)
	// noop is an entry that is valid but already where the call would put
	// it: a member already tagged on add, or one not tagged on delete.
	noop := func(present bool) bool { return present == add }
	seenUser := map[string]bool{}
	for _, id := range in.users {
		k := userKey(id)
		if seenUser[k] {
			continue
		}
		seenUser[k] = true
		u := s.users[k]
		if u == nil || !s.userVisible(c.secret, u) {
			badUsers = append(badUsers, id)
			continue
		}
		if _, present := t.users[k]; noop(present) {
			if s.opts.TagNoOpMembersInvalid {
				badUsers = append(badUsers, id)
			} else {
				valid++
			}
			continue
		}
		valid++
		users = append(users, k)
	}
	seenParty := map[int]bool{}
	for _, d := range in.parties {
		if seenParty[d] {
			continue
		}
		seenParty[d] = true
		if s.depts[d] == nil || !visibleDept(s, c.secret, d) {
			badParties = append(badParties, d)
			continue
		}
		if _, present := t.parties[d]; noop(present) {
			if s.opts.TagNoOpMembersInvalid {
				badParties = append(badParties, d)
			} else {
				valid++
			}
			continue
		}
		valid++
		parties = append(parties, d)
	}
	if valid == 0 {
		return nil, allInvalid
	}
	if add && s.opts.MaxTagNodes != unlimited && t.nodes()+len(users)+len(parties) > s.opts.MaxTagNodes {
		return nil, 81003
	}
	for _, k := range users {
		if add {
			s.tags.addUser(t, k)
		} else {
			s.tags.delUser(t, k)
		}
	}
	for _, d := range parties {
		if add {
			s.tags.addParty(t, d)
		} else {
			s.tags.delParty(t, d)
		}
	}
	out := map[string]any{}
	if len(badUsers) > 0 {
		out["invalidlist"] = strings.Join(badUsers, "|")
	}
	if len(badParties) > 0 {
		out["invalidparty"] = badParties
	}
	return out, 0
}

// CreateAdminTag creates a tag as an administrator would in the admin
// console. No app created it, so apps may not change it, while the
// contacts-sync secret may (81011's help text). It follows tag/create's
// rules, picks the id as tag/create does without tagid, and returns it.
func (s *Server) CreateAdminTag(name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, code := s.createTag(name, 0, creatorAdmin)
	if code != 0 {
		return 0, fmt.Errorf("wecomsim: admin tag %q refused with errcode %d", name, code)
	}
	return id, nil
}

// SnapTag is every stored field of a tag. Users and Parties are its direct
// entries in the order they were added.
type SnapTag struct {
	ID   int    `json:"tagid"`
	Name string `json:"tagname"`
	// Creator is "contacts-sync", "admin" or "app:<agentid>".
	Creator string   `json:"creator"`
	Users   []string `json:"userlist"`
	Parties []int    `json:"partylist"`
}

func (s *Server) snapTags() []SnapTag {
	out := make([]SnapTag, 0, len(s.tags.byID))
	for _, t := range s.tags.byID {
		st := SnapTag{ID: t.id, Name: t.name, Creator: t.creator, Users: []string{}, Parties: inAddedOrder(t.parties)}
		for _, k := range inAddedOrder(t.users) {
			st.Users = append(st.Users, s.users[k].UserID)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// loadTags rebuilds the tag store from a state file's tags, refusing one
// that breaks the rules tag/create and addtagusers keep.
func loadTags(list []SnapTag, users map[string]*user, depts map[int]*dept) (tagStore, error) {
	ts := newTagStore()
	for _, st := range list {
		switch {
		case st.ID < 1 || st.ID > math.MaxInt32 || ts.byID[st.ID] != nil:
			return ts, fmt.Errorf("bad or duplicate tag id %d", st.ID)
		case checkTagName(st.Name) != 0:
			return ts, fmt.Errorf("tag %d: bad name %q", st.ID, st.Name)
		case st.Creator == "":
			return ts, fmt.Errorf("tag %d: no creator", st.ID)
		}
		if _, taken := ts.byName[st.Name]; taken {
			return ts, fmt.Errorf("tag %d: name %q taken", st.ID, st.Name)
		}
		t := &tag{id: st.ID, name: st.Name, creator: st.Creator, users: map[string]int64{}, parties: map[int]int64{}}
		ts.put(t)
		for _, id := range st.Users {
			k := userKey(id)
			if users[k] == nil {
				return ts, fmt.Errorf("tag %d: unknown member %q", st.ID, id)
			}
			if _, dup := t.users[k]; dup {
				return ts, fmt.Errorf("tag %d: member %q twice", st.ID, id)
			}
			ts.addUser(t, k)
		}
		for _, d := range st.Parties {
			if _, dup := t.parties[d]; dup || depts[d] == nil {
				return ts, fmt.Errorf("tag %d: unknown or repeated department %d", st.ID, d)
			}
			ts.addParty(t, d)
		}
	}
	return ts, nil
}
