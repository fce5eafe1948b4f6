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

// userInput is a decoded create/update body; nil or has* false means the
// key was absent, which matters because update is partial.
type userInput struct {
	userID, newUserID                   *string
	name, alias, mobile, email          *string
	position, gender, telephone, addr   *string
	bizMail, externalPosition           *string
	department                          []int
	order                               []int64
	isLeader                            []int
	directLeader                        []string
	hasDept, hasOrder, hasLeader, hasDL bool
	mainDept, enable                    *int
}

func optString(body map[string]json.RawMessage, key string, ok *bool) *string {
	var v string
	present, good := getField(body, key, &v)
	if !good {
		*ok = false
	}
	if !present {
		return nil
	}
	return &v
}

func optInt(body map[string]json.RawMessage, key string, ok *bool) *int {
	var v int
	present, good := getField(body, key, &v)
	if !good {
		*ok = false
	}
	if !present {
		return nil
	}
	return &v
}

// optGender reads gender, which the docs type as the string "1" or "2" but
// widely used SDKs send as a JSON number with 0 as the default (wechatpy's
// user.create(gender=0), silenceper/wechat's UserCreateRequest.Gender int),
// so the real service must accept both. 0 and "0" mean "not specified" and
// leave the stored value alone; anything else is 40058.
func optGender(body map[string]json.RawMessage, ok *bool) *string {
	var v any
	present, good := getField(body, "gender", &v)
	if !present || !good {
		if !good {
			*ok = false
		}
		return nil
	}
	var g string
	switch x := v.(type) {
	case string:
		g = x
	case float64:
		g = strconv.FormatFloat(x, 'f', -1, 64)
	}
	switch g {
	case "1", "2":
		return &g
	case "0":
		return nil
	}
	*ok = false
	return nil
}

// parseUserInput type-checks every known key; a wrong JSON type is 40058.
// Unknown keys (extattr, to_invite, avatar_mediaid, ...) are accepted and
// ignored, as the real service ignores unregistered extattr names.
func parseUserInput(body map[string]json.RawMessage) (*userInput, int) {
	ok := true
	in := &userInput{
		userID:    optString(body, "userid", &ok),
		newUserID: optString(body, "new_userid", &ok),
		name:      optString(body, "name", &ok),
		alias:     optString(body, "alias", &ok),
		mobile:    optString(body, "mobile", &ok),
		email:     optString(body, "email", &ok),
		position:  optString(body, "position", &ok),
		gender:    optGender(body, &ok),
		telephone: optString(body, "telephone", &ok),
		addr:      optString(body, "address", &ok),
		bizMail:   optString(body, "biz_mail", &ok),

		externalPosition: optString(body, "external_position", &ok),
		mainDept:         optInt(body, "main_department", &ok),
		enable:           optInt(body, "enable", &ok),
	}
	var good bool
	if in.hasDept, good = getField(body, "department", &in.department); !good {
		ok = false
	}
	if in.hasOrder, good = getField(body, "order", &in.order); !good {
		ok = false
	}
	if in.hasLeader, good = getField(body, "is_leader_in_dept", &in.isLeader); !good {
		ok = false
	}
	if in.hasDL, good = getField(body, "direct_leader", &in.directLeader); !good {
		ok = false
	}
	var toInvite bool
	if _, good = getField(body, "to_invite", &toInvite); !good {
		ok = false
	}
	if !ok {
		return nil, 40058
	}
	if in.enable != nil && *in.enable != 0 && *in.enable != 1 {
		return nil, 40058
	}
	if in.mainDept != nil && *in.mainDept == 0 {
		// No department has id 0: SDKs that send every field (silenceper's
		// UserUpdateRequest) mean "unchanged", not "reset to the first".
		in.mainDept = nil
	}
	return in, 0
}

func cloneUser(u *user) *user {
	c := *u
	c.Department = append([]int(nil), u.Department...)
	c.Order = append([]uint32(nil), u.Order...)
	c.IsLeaderInDept = append([]int(nil), u.IsLeaderInDept...)
	c.DirectLeader = append([]string(nil), u.DirectLeader...)
	return &c
}

// apply merges in into u. It returns the department ids that must be
// auto-created (AutoCreateDepartment) once the whole call has validated.
func (s *Server) apply(u *user, in *userInput, creating bool) ([]int, int) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Name, in.name)
	set(&u.Alias, in.alias)
	set(&u.Email, in.email)
	set(&u.Position, in.position)
	set(&u.Gender, in.gender)
	set(&u.Telephone, in.telephone)
	set(&u.Address, in.addr)
	set(&u.BizMail, in.bizMail)
	set(&u.ExternalPosition, in.externalPosition)
	if creating || !u.activated {
		// An activated member's mobile belongs to them: silently ignored.
		set(&u.Mobile, in.mobile)
	}
	if in.enable != nil {
		u.Enable = *in.enable
	}
	if in.hasDL {
		u.DirectLeader = append([]string(nil), in.directLeader...)
	}
	if in.mainDept != nil {
		u.MainDepartment = *in.mainDept
	}

	var autoIDs []int
	switch {
	case in.hasDept && len(in.department) > 0:
		depts, auto, code := s.resolveDepts(in.department)
		if code != 0 {
			return nil, code
		}
		autoIDs = auto
		if code := s.setDepts(u, depts, in); code != 0 {
			return nil, code
		}
	case creating || in.hasDept: // absent on create, or [] on either
		if !s.opts.AutoCreateDepartment {
			return nil, 60127
		}
		if s.pendingID == 0 {
			autoIDs = []int{0} // 0 stands for the pending department itself
		}
		if code := s.setDepts(u, []int{s.pendingID}, in); code != 0 {
			return nil, code
		}
	default:
		// order only counts together with department; is_leader_in_dept
		// still has to match the member's current departments.
		if in.hasLeader {
			if len(in.isLeader) != len(u.Department) {
				return nil, 60132
			}
			if code := checkLeaderFlags(in.isLeader); code != 0 {
				return nil, code
			}
			u.IsLeaderInDept = append([]int(nil), in.isLeader...)
		}
	}
	if u.MainDepartment == 0 && len(u.Department) > 0 {
		u.MainDepartment = u.Department[0]
	}
	if in.mainDept == nil && !containsInt(u.Department, u.MainDepartment) && len(u.Department) > 0 {
		// The old main department was dropped; fall back to the first.
		u.MainDepartment = u.Department[0]
	}
	return autoIDs, 0
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

// validateUser checks the merged record. key is the member's own
// uniqueness key ("" on create), so it does not collide with itself.
func (s *Server) validateUser(u *user, key string) int {
	if n := runeLen(u.Name); n < 1 || n > 64 {
		return 60112
	}
	if runeLen(u.Alias) > 64 || runeLen(u.Address) > 128 {
		return 40058
	}
	if u.Mobile != "" {
		if !mobileRe.MatchString(u.Mobile) {
			return 60103
		}
		if heldByOther(s.idx.byMobile, mobileKey(u.Mobile), key) {
			return 60104
		}
	}
	if u.Email != "" {
		if len(u.Email) < 6 || len(u.Email) > 64 || !emailRe.MatchString(u.Email) {
			return 60105
		}
		if heldByOther(s.idx.byEmail, foldKey(u.Email), key) {
			return 60106
		}
	}
	if u.BizMail != "" {
		// 60143: invalid enterprise mailbox; 60145: already used.
		if len(u.BizMail) < 6 || len(u.BizMail) > 64 || !emailRe.MatchString(u.BizMail) {
			return 60143
		}
		if heldByOther(s.idx.byBiz, foldKey(u.BizMail), key) {
			return 60145
		}
	}
	if runeLen(u.ExternalPosition) > 12 {
		// The create page limits it to 12 characters and names no errcode;
		// 40058 is WeCom's answer for a value too long.
		return 40058
	}
	if u.Mobile == "" && u.Email == "" {
		return 60129
	}
	if runeLen(u.Position) > 128 {
		return 301012
	}
	if len(u.Telephone) > 32 || !telephoneRe.MatchString(u.Telephone) {
		return 301013
	}
	if len(u.DirectLeader) > s.opts.MaxDirectLeaders {
		return 60257
	}
	for i, l := range u.DirectLeader {
		// Leaders must exist; the errcode for a missing one is not
		// documented, 60111 ("userid not found") is the natural reading.
		lu := s.users[userKey(l)]
		if lu == nil {
			return 60111
		}
		u.DirectLeader[i] = lu.UserID // store the canonical spelling
	}
	if !containsInt(u.Department, u.MainDepartment) {
		// Emulator choice: main_department must be one of department[].
		return 40058
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

// commitAutoDepts creates the departments apply asked for. 0 means the
// pending department, which the member's lists then point at.
func (s *Server) commitAutoDepts(u *user, auto []int) {
	for _, id := range auto {
		if id != 0 {
			continue
		}
		s.newPlaceholder(auto)
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
		}
		s.putDept(&dept{SnapDept{ID: id, Name: pendingDeptName + " " + strconv.Itoa(id), ParentID: s.pendingID}})
	}
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
	in, code := parseUserInput(c.body)
	if code != 0 {
		return nil, code
	}
	if in.userID == nil {
		return nil, 41009
	}
	c.target = *in.userID
	if code := checkUserID(*in.userID); code != 0 {
		return nil, code
	}
	key := userKey(*in.userID)
	if s.users[key] != nil {
		return nil, 60102
	}
	u := &user{SnapUser: SnapUser{UserID: *in.userID, Gender: "0", Enable: 1}}
	auto, code := s.apply(u, in, true)
	if code != 0 {
		return nil, code
	}
	if code := s.validateUser(u, ""); code != 0 {
		return nil, code
	}
	if code := s.checkNodeCaps(u, nil); code != 0 {
		return nil, code
	}
	s.commitAutoDepts(u, auto)
	u.seq = s.nextSeq
	s.nextSeq++
	u.Status = statusFor(u)
	s.putUser(key, nil, u)
	return nil, 0
}

func (s *Server) userUpdate(c *call) (map[string]any, int) {
	in, code := parseUserInput(c.body)
	if code != 0 {
		return nil, code
	}
	if in.userID == nil {
		return nil, 41009
	}
	c.target = *in.userID
	if code := checkUserID(*in.userID); code != 0 {
		return nil, code
	}
	key := userKey(*in.userID)
	old := s.users[key]
	if old == nil {
		return nil, 60111
	}
	if in.newUserID != nil && *in.newUserID != "" {
		// Only system-generated userids may be renamed, and this corp has
		// none: every member here was created with an explicit userid.
		return nil, 301036
	}
	u := cloneUser(old)
	auto, code := s.apply(u, in, false)
	if code != 0 {
		return nil, code
	}
	if code := s.validateUser(u, key); code != 0 {
		return nil, code
	}
	if code := s.checkNodeCaps(u, old.Department); code != 0 {
		return nil, code
	}
	s.commitAutoDepts(u, auto)
	u.Status = statusFor(u)
	s.putUser(key, old, u)
	return nil, 0
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
// direct_leader, so no dangling reference blocks a later update. Only the
// members the followers index names are edited, not the whole directory.
func (s *Server) removeUsers(keys []string) {
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		if u := s.users[k]; u != nil {
			s.idx.removeUser(k, u)
			delete(s.users, k)
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

// userJSON renders a member as user/get does, trimmed to what sec may see.
func (s *Server) userJSON(u *user, sec *Secret) map[string]any {
	depts, order, leader := []int{}, []uint32{}, []int{}
	for i, d := range u.Department {
		if !visibleDept(s, sec, d) {
			continue
		}
		depts = append(depts, d)
		order = append(order, at(u.Order, i))
		leader = append(leader, at(u.IsLeaderInDept, i))
	}
	m := map[string]any{
		"userid":            u.UserID,
		"name":              u.Name,
		"alias":             u.Alias,
		"department":        depts,
		"order":             order,
		"is_leader_in_dept": leader,
		"direct_leader":     append([]string{}, u.DirectLeader...),
		"position":          u.Position,
		"mobile":            u.Mobile,
		"gender":            u.Gender,
		"email":             u.Email,
		"telephone":         u.Telephone,
		"address":           u.Address,
		"biz_mail":          u.BizMail,
		"external_position": u.ExternalPosition,
		"avatar":            "",
		"thumb_avatar":      "",
		"enable":            u.Enable,
		"status":            u.Status,
	}
	if visibleDept(s, sec, u.MainDepartment) {
		m["main_department"] = u.MainDepartment
	}
	if sec != nil && sec.Kind == App && sec.Restricted {
		m["gender"] = "0"
		m["mobile"], m["email"], m["address"], m["biz_mail"] = "", "", "", ""
	}
	return m
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
