package wecomsim

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// dirIndex holds everything derived from s.users and s.depts that a
// per-call check would otherwise find by scanning the whole directory:
// with 100,000 members a scan per call made a first import quadratic.
// Every mutation goes through putUser, removeUsers, addDept, removeDept or
// a rebuild (New, LoadFile), so the indexes never disagree with the maps.
//
// The uniqueness indexes map a value to a set of users rather than to one
// owner because LoadFile accepts a file in which two members share a mobile
// or email; the scan they replace then reported a conflict for both, and
// so does heldByOther.
type dirIndex struct {
	byMobile map[string]keySet // mobileKey(mobile) -> users, non-empty mobiles only
	byEmail  map[string]keySet // foldKey(email) -> users, non-empty emails only
	byBiz    map[string]keySet // foldKey(biz_mail) -> users, non-empty only
	// followers[userKey(l)] holds the users naming l in direct_leader, so
	// deleting l edits only them. It is keyed by the folded id whether or
	// not l exists, because a loaded file may name an absent leader and
	// the old scan removed such a name once a member with that id was
	// deleted.
	followers map[string]keySet
	members   map[int]keySet           // department -> users listing it
	leaders   map[int]map[string]int   // department -> user -> is_leader_in_dept=1 entries
	children  map[int]map[int]struct{} // parent -> direct sub-departments (root excluded)
	siblings  map[siblingKey]intSet    // (parent, name) -> departments (root excluded)
	listRows  []deptUserRow            // user/list_id order; valid only if listValid
	listValid bool                     // false after any change to who is in which department
}

type keySet = map[string]struct{}

type intSet = map[int]struct{}

type siblingKey struct {
	parent int
	name   string
}

func newDirIndex() dirIndex {
	return dirIndex{
		byMobile:  map[string]keySet{},
		byEmail:   map[string]keySet{},
		byBiz:     map[string]keySet{},
		followers: map[string]keySet{},
		members:   map[int]keySet{},
		leaders:   map[int]map[string]int{},
		children:  map[int]map[int]struct{}{},
		siblings:  map[siblingKey]intSet{},
	}
}

// buildIndex indexes a whole directory; New and LoadFile use it.
func buildIndex(users map[string]*user, depts map[int]*dept) dirIndex {
	x := newDirIndex()
	for _, d := range depts {
		x.addDept(d)
	}
	for k, u := range users {
		x.addUser(k, u)
	}
	return x
}

func setAdd[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	s := m[k]
	if s == nil {
		s = map[V]struct{}{}
		m[k] = s
	}
	s[v] = struct{}{}
}

// setDel removes v and drops the set once empty, so the maps do not keep
// an entry per value ever seen.
func setDel[K, V comparable](m map[K]map[V]struct{}, k K, v V) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// heldByOther reports whether a user other than except holds value v.
func heldByOther(m map[string]keySet, v, except string) bool {
	for k := range m[v] {
		if k != except {
			return true
		}
	}
	return false
}

func (x *dirIndex) addUser(k string, u *user) {
	if u.Mobile != "" {
		setAdd(x.byMobile, mobileKey(u.Mobile), k)
	}
	if u.Email != "" {
		setAdd(x.byEmail, foldKey(u.Email), k)
	}
	if u.BizMail != "" {
		setAdd(x.byBiz, foldKey(u.BizMail), k)
	}
	for _, l := range u.DirectLeader {
		setAdd(x.followers, userKey(l), k)
	}
	for i, d := range u.Department {
		setAdd(x.members, d, k)
		if at(u.IsLeaderInDept, i) == 1 {
			m := x.leaders[d]
			if m == nil {
				m = map[string]int{}
				x.leaders[d] = m
			}
			m[k]++
		}
	}
}

func (x *dirIndex) removeUser(k string, u *user) {
	if u.Mobile != "" {
		setDel(x.byMobile, mobileKey(u.Mobile), k)
	}
	if u.Email != "" {
		setDel(x.byEmail, foldKey(u.Email), k)
	}
	if u.BizMail != "" {
		setDel(x.byBiz, foldKey(u.BizMail), k)
	}
	for _, l := range u.DirectLeader {
		setDel(x.followers, userKey(l), k)
	}
	for i, d := range u.Department {
		setDel(x.members, d, k)
		if at(u.IsLeaderInDept, i) == 1 {
			if m := x.leaders[d]; m != nil {
				if m[k]--; m[k] <= 0 {
					delete(m, k)
				}
				if len(m) == 0 {
					delete(x.leaders, d)
				}
			}
		}
	}
}

func (x *dirIndex) addDept(d *dept) {
	if d.ID == 1 {
		return // the root is nobody's child or sibling
	}
	setAdd(x.children, d.ParentID, d.ID)
	setAdd(x.siblings, siblingKey{d.ParentID, d.Name}, d.ID)
}

func (x *dirIndex) removeDept(d *dept) {
	if d.ID == 1 {
		return
	}
	setDel(x.children, d.ParentID, d.ID)
	setDel(x.siblings, siblingKey{d.ParentID, d.Name}, d.ID)
}

// putUser stores u under k in place of old (nil on create) and keeps the
// indexes in step. The list_id order only depends on who is in which
// department, so an update that keeps department[] keeps the sorted rows:
// a nightly run updating 1% of members does not re-sort 100,000 rows.
func (s *Server) putUser(k string, old, u *user) {
	if old != nil {
		s.idx.removeUser(k, old)
	}
	s.idx.addUser(k, u)
	s.users[k] = u
	if old == nil || !slices.Equal(old.Department, u.Department) {
		s.idx.listValid = false
	}
}

// putDept stores a new department. It also copes with replacing one,
// which commitAutoDepts can do when the pending department was given an
// id the member asked for (a self-parented department results; known emulator bug, kept as is).
func (s *Server) putDept(d *dept) {
	if old := s.depts[d.ID]; old != nil {
		s.idx.removeDept(old)
	}
	s.depts[d.ID] = d
	s.idx.addDept(d)
}

// listIDRows is every (member, department) pair in user/list_id order,
// sorted once and reused until a member joins, leaves or changes
// departments, so paging 100,000 members costs one sort, not one per page.
func (s *Server) listIDRows() []deptUserRow {
	if s.idx.listValid {
		return s.idx.listRows
	}
	rows := s.idx.listRows[:0]
	for k, u := range s.users {
		for _, d := range u.Department {
			rows = append(rows, deptUserRow{key: k, user: u.UserID, dept: d})
		}
	}
	slices.SortFunc(rows, func(a, b deptUserRow) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.dept - b.dept
	})
	s.idx.listRows, s.idx.listValid = rows, true
	return rows
}

// sortedChildren lists id's direct sub-departments in the documented
// sibling order: order descending, then id ascending.
func (s *Server) sortedChildren(id int) []*dept {
	set := s.idx.children[id]
	out := make([]*dept, 0, len(set))
	for c := range set {
		out = append(out, s.depts[c])
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order > out[j].Order
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// bySeq orders member keys by creation, the tie-breaker of every member
// listing; the key only breaks ties a hand-edited state file could create.
func (s *Server) bySeq(keys []string) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := s.users[keys[i]], s.users[keys[j]]
		if a.seq != b.seq {
			return a.seq < b.seq
		}
		return keys[i] < keys[j]
	})
}

// deptLeaders is department_leader for id: members flagged in
// is_leader_in_dept, by creation, a member flagged twice (possible only in
// a loaded file) listed twice as the old full scan did.
func (s *Server) deptLeaders(id int) []string {
	m := s.idx.leaders[id]
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	s.bySeq(keys)
	out := []string{}
	for _, k := range keys {
		for range m[k] {
			out = append(out, s.users[k].UserID)
		}
	}
	return out
}

// foldKey maps an email to a key that two emails share exactly when
// strings.EqualFold holds between them, which is what the uniqueness rule
// (60106) compares with. EqualFold equates runes in the same simple
// case-folding orbit ("k", "K" and the Kelvin sign U+212A), so each rune
// becomes the smallest rune of its orbit; for ASCII that is the upper-case
// letter, hence the fast path. Ranging over a string yields U+FFFD for an
// invalid byte, exactly as EqualFold decodes it.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
