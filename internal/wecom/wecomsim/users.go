package wecomsim

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type user struct {
	SnapUser
	seq       int64 // creation order, the tie-breaker in member listings
	activated bool  // joined WeCom at some point; survives disable/enable
}

// Member status values from user/get.
const (
	statusActive   = 1
	statusDisabled = 2
	statusInactive = 4
)

// statusFor derives status from enable and activation so that re-enabling
// returns a member to where it was (4, or 1 once activated).
func statusFor(u *user) int {
	switch {
	case u.Enable == 0:
		return statusDisabled
	case u.activated:
		return statusActive
	default:
		return statusInactive
	}
}

// pendingDeptName is where the 2025 behaviour puts members without a
// (known) department.
const pendingDeptName = "其他（待设置部门）"

// maxBatchDelete is user/batchdelete's documented cap.
const maxBatchDelete = 200

func cloneUser(u *user) *user {
	c := *u
	c.Department = append([]int(nil), u.Department...)
	c.Order = append([]uint32(nil), u.Order...)
	c.IsLeaderInDept = append([]int(nil), u.IsLeaderInDept...)
	c.DirectLeader = append([]string(nil), u.DirectLeader...)
	c.ExtAttr = cloneAttrs(u.ExtAttr)
	c.ExternalProfile = cloneProfile(u.ExternalProfile)
	return &c
}

// applyDepartments merges department, order and is_leader_in_dept, which
// only make sense together. Unknown ids that AutoCreateDepartment will
// create once the whole call has validated go to in.autoDepts.
func (s *Server) applyDepartments(u *user, in *userInput, creating bool) int {
	switch {
	case in.hasDept && len(in.department) > 0:
		depts, auto, code := s.resolveDepts(in.department)
		if code != 0 {
			return code
		}
		in.autoDepts = auto
		return s.setDepts(u, depts, in)
	case creating || in.hasDept: // absent on create, or [] on either
		if !s.opts.AutoCreateDepartment {
			return 60127
		}
		if s.pendingID == 0 {
			in.autoDepts = []int{0} // 0 stands for the pending department itself
		}
		return s.setDepts(u, []int{s.pendingID}, in)
	case in.hasLeader:
		// order only counts together with department; is_leader_in_dept
		// still has to match the member's current departments.
		if len(in.isLeader) != len(u.Department) {
			return 60132
		}
		if code := checkLeaderFlags(in.isLeader); code != 0 {
			return code
		}
		u.IsLeaderInDept = append([]int(nil), in.isLeader...)
	}
	return 0
}

// resolveDepts checks department ids, listing unknown ones for
// auto-creation when that behaviour is on.
func (s *Server) resolveDepts(ids []int) ([]int, []int, int) {
	if len(ids) > s.opts.MaxUserDepartments {
		return nil, nil, 60110
	}
	seen := map[int]bool{}
	var auto []int
	for _, id := range ids {
		if seen[id] {
			return nil, nil, 40066
		}
		seen[id] = true
		if s.depts[id] != nil {
			continue
		}
		if !s.opts.AutoCreateDepartment || id <= 1 || id > math.MaxInt32 {
			return nil, nil, 60123
		}
		auto = append(auto, id)
	}
	return append([]int(nil), ids...), auto, 0
}

// setDepts replaces the department list, carrying over per-department
// order and leader flags for departments the member keeps.
func (s *Server) setDepts(u *user, depts []int, in *userInput) int {
	order := make([]uint32, len(depts))
	leader := make([]int, len(depts))
	for i, d := range depts {
		for j, old := range u.Department {
			if old == d {
				if j < len(u.Order) {
					order[i] = u.Order[j]
				}
				if j < len(u.IsLeaderInDept) {
					leader[i] = u.IsLeaderInDept[j]
				}
			}
		}
	}
	if in.hasOrder {
		// The real errcode for this mismatch is undocumented; 40058 is
		// the generic "invalid parameter".
		if len(in.order) != len(depts) {
			return 40058
		}
		o, ok := toUint32s(in.order)
		if !ok {
			return 40058
		}
		order = o
	}
	if in.hasLeader {
		if len(in.isLeader) != len(depts) {
			return 60132
		}
		if code := checkLeaderFlags(in.isLeader); code != 0 {
			return code
		}
		leader = append([]int(nil), in.isLeader...)
	}
	u.Department, u.Order, u.IsLeaderInDept = depts, order, leader
	return 0
}

func checkLeaderFlags(flags []int) int {
	for _, f := range flags {
		if f != 0 && f != 1 {
			return 40058
		}
	}
	return 0
}

// checkNodeCaps refuses to add the member to a department that is full.
func (s *Server) checkNodeCaps(u *user, before []int) int {
	for _, d := range u.Department {
		if s.depts[d] != nil && !containsInt(before, d) && s.nodesFull(d) {
			return capExceeded
		}
	}
	return 0
}

// commitAutoDepts creates the departments applyDepartments asked for and
// lists them as user/create's created_department_list does. 0 means the
// pending department, which the member's lists then point at.
func (s *Server) commitAutoDepts(u *user, auto []int) []map[string]any {
	var created []map[string]any
	note := func(id int) { created = append(created, map[string]any{"id": id, "name": s.depts[id].Name}) }
	for _, id := range auto {
		if id != 0 {
			continue
		}
		s.newPlaceholder(auto)
		note(s.pendingID)
		for i, d := range u.Department {
			if d == 0 {
				u.Department[i] = s.pendingID
			}
		}
		if u.MainDepartment == 0 {
			u.MainDepartment = s.pendingID
		}
	}
	for _, id := range auto {
		if id == 0 || s.depts[id] != nil {
			continue
		}
		if s.pendingID == 0 {
			s.newPlaceholder(auto)
			note(s.pendingID)
		}
		s.putDept(&dept{SnapDept{ID: id, Name: pendingDeptName + " " + strconv.Itoa(id), ParentID: s.pendingID}})
		note(id)
	}
	return created
}

// newPlaceholder creates the 待设置部门 department. It must not take an id
// the member asked for (avoid): that department is created under it, and
// would replace it with a department that is its own parent.
func (s *Server) newPlaceholder(avoid []int) {
	s.pendingID = s.allocDeptID()
	for slices.Contains(avoid, s.pendingID) {
		s.pendingID = s.allocDeptID()
	}
	s.putDept(&dept{SnapDept{ID: s.pendingID, Name: pendingDeptName, ParentID: 1}})
}

func (s *Server) userCreate(c *call) (map[string]any, int) {
	return s.createUser(c.body, &c.target)
}

func (s *Server) userUpdate(c *call) (map[string]any, int) {
	return nil, s.updateUser(c.body, &c.target)
}

// createUser is user/create's effect on a decoded body; the batch jobs run
// their rows through it too, so a row is refused exactly as the call would
// be. target receives the userid as soon as it is known.
func (s *Server) createUser(body map[string]json.RawMessage, target *string) (map[string]any, int) {
	in, code := parseUserInput(body, onCreate)
	if code != 0 {
		return nil, code
	}
	if in.userID == nil {
		return nil, 41009
	}
	*target = *in.userID
	if code := checkUserID(*in.userID); code != 0 {
		return nil, code
	}
	key := userKey(*in.userID)
	if s.users[key] != nil {
		return nil, 60102
	}
	u := &user{SnapUser: SnapUser{UserID: *in.userID, Gender: "0", Enable: 1}}
	if code := s.mergeUser(u, in, true, ""); code != 0 {
		return nil, code
	}
	if code := s.checkNodeCaps(u, nil); code != 0 {
		return nil, code
	}
	created := s.commitAutoDepts(u, in.autoDepts)
	u.seq = s.nextSeq
	s.nextSeq++
	u.Status = statusFor(u)
	s.putUser(key, nil, u)
	if len(created) > 0 {
		return map[string]any{"created_department_list": map[string]any{"department_info": created}}, 0
	}
	return nil, 0
}

// updateUser is user/update's effect on a decoded body, shared like
// createUser.
func (s *Server) updateUser(body map[string]json.RawMessage, target *string) int {
	in, code := parseUserInput(body, onUpdate)
	if code != 0 {
		return code
	}
	if in.userID == nil {
		return 41009
	}
	*target = *in.userID
	if code := checkUserID(*in.userID); code != 0 {
		return code
	}
	key := userKey(*in.userID)
	old := s.users[key]
	if old == nil {
		return 60111
	}
	if in.newUserID != nil && *in.newUserID != "" {
		// Only system-generated userids may be renamed, and this corp has
		// none: every member here was created with an explicit userid.
		return 301036
	}
	u := cloneUser(old)
	if code := s.mergeUser(u, in, false, key); code != 0 {
		return code
	}
	if code := s.checkNodeCaps(u, old.Department); code != 0 {
		return code
	}
	s.commitAutoDepts(u, in.autoDepts)
	u.Status = statusFor(u)
	s.putUser(key, old, u)
	return 0
}

// lookupUserParam resolves ?userid= (case-insensitively).
func (s *Server) lookupUserParam(c *call) (*user, int) {
	id := c.query.Get("userid")
	c.target = id
	if id == "" {
		return nil, 41009
	}
	if len(id) > 64 {
		return nil, 40058
	}
	u := s.users[userKey(id)]
	if u == nil {
		return nil, 60111
	}
	return u, 0
}

func (s *Server) userGet(c *call) (map[string]any, int) {
	u, code := s.lookupUserParam(c)
	if code != 0 {
		return nil, code
	}
	if !s.userVisible(c.secret, u) {
		return nil, 60011
	}
	return s.userJSON(u, c.secret), 0
}

func (s *Server) userDelete(c *call) (map[string]any, int) {
	u, code := s.lookupUserParam(c)
	if code != 0 {
		return nil, code
	}
	if s.opts.CreatorUserID != "" && strings.EqualFold(u.UserID, s.opts.CreatorUserID) {
		return nil, 301005
	}
	s.removeUsers([]string{userKey(u.UserID)})
	return nil, 0
}

func (s *Server) userBatchDelete(c *call) (map[string]any, int) {
	var ids []string
	present, ok := getField(c.body, "useridlist", &ids)
	c.target = strings.Join(ids, ",")
	switch {
	case !ok || !present || len(ids) == 0:
		return nil, 40058
	case len(ids) > maxBatchDelete:
		return nil, 40032
	}
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if code := checkUserID(id); code != 0 {
			return nil, code
		}
		u := s.users[userKey(id)]
		if u == nil {
			// All or nothing: one unknown id fails the whole call.
			return nil, 60111
		}
		if s.opts.CreatorUserID != "" && strings.EqualFold(u.UserID, s.opts.CreatorUserID) {
			return nil, 301005
		}
		keys = append(keys, userKey(id))
	}
	s.removeUsers(keys)
	return nil, 0
}

// removeUsers deletes members and drops them from everybody's
// direct_leader and from every tag, so no dangling reference blocks a
// later update. Only the
// members the followers index names are edited, not the whole directory.
func (s *Server) removeUsers(keys []string) {
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		if u := s.users[k]; u != nil {
			s.idx.removeUser(k, u)
			delete(s.users, k)
			s.tags.dropUser(k)
		}
		gone[k] = true
	}
	for k := range gone {
		for f := range s.idx.followers[k] {
			u := s.users[f]
			kept := u.DirectLeader[:0]
			for _, l := range u.DirectLeader {
				if !gone[userKey(l)] {
					kept = append(kept, l)
				}
			}
			u.DirectLeader = kept
		}
		// Every name the followers held for a gone member was just
		// filtered out, so the whole entry goes.
		delete(s.idx.followers, k)
	}
	s.idx.listValid = false
}

func (s *Server) userVisible(sec *Secret, u *user) bool {
	for _, d := range u.Department {
		if visibleDept(s, sec, d) {
			return true
		}
	}
	return false
}

func at[T any](list []T, i int) T {
	var zero T
	if i < len(list) {
		return list[i]
	}
	return zero
}

// membersOf lists a department's scope: departments in preorder (only the
// first with fetch_child=0), members of each by per-department order
// descending then creation ascending, each member once. A member listing
// the department twice (only possible in a loaded file) sorts by the
// larger order, as the stable sort over every entry it replaces did.
func (s *Server) membersOf(c *call) ([]*user, int) {
	raw := c.query.Get("department_id")
	c.target = raw
	id, present, ok := queryInt(raw)
	switch {
	case !present || !ok:
		return nil, 40058
	case s.depts[id] == nil:
		return nil, 60123
	case !visibleDept(s, c.secret, id):
		return nil, 60011
	}
	scope := []*dept{s.depts[id]}
	if c.query.Get("fetch_child") == "1" {
		scope = s.preorder(id)
	}
	seen := map[string]bool{}
	var out []*user
	for _, d := range scope {
		type entry struct {
			u     *user
			order uint32
		}
		set := s.idx.members[d.ID]
		members := make([]entry, 0, len(set))
		for k := range set {
			if seen[k] {
				continue // listed under an earlier department already
			}
			seen[k] = true
			u := s.users[k]
			var order uint32
			for i, ud := range u.Department {
				if ud == d.ID {
					order = max(order, at(u.Order, i))
				}
			}
			members = append(members, entry{u, order})
		}
		sort.Slice(members, func(i, j int) bool {
			a, b := members[i], members[j]
			switch {
			case a.order != b.order:
				return a.order > b.order
			case a.u.seq != b.u.seq:
				return a.u.seq < b.u.seq
			}
			return userKey(a.u.UserID) < userKey(b.u.UserID)
		})
		for _, m := range members {
			out = append(out, m.u)
		}
	}
	return out, 0
}

func (s *Server) userSimpleList(c *call) (map[string]any, int) {
	members, code := s.membersOf(c)
	if code != 0 {
		return nil, code
	}
	list := make([]map[string]any, 0, len(members))
	for _, u := range members {
		full := s.userJSON(u, c.secret)
		list = append(list, map[string]any{"userid": u.UserID, "name": u.Name, "department": full["department"]})
	}
	return map[string]any{"userlist": list}, 0
}

func (s *Server) userList(c *call) (map[string]any, int) {
	members, code := s.membersOf(c)
	if code != 0 {
		return nil, code
	}
	if s.opts.ListSizeLimit > 0 && c.query.Get("fetch_child") == "1" && len(members) > s.opts.ListSizeLimit {
		return nil, 45029
	}
	list := make([]map[string]any, 0, len(members))
	for _, u := range members {
		list = append(list, s.userJSON(u, c.secret))
	}
	return map[string]any{"userlist": list}, 0
}
