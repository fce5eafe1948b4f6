package wecomsim

import (
	"encoding/json"
	"math"
	"strconv"
)

type dept struct {
	SnapDept
}

// Emulator-specific errcode for the depth and count caps: the real codes
// are undocumented, so the generic "invalid parameter" is used.
const capExceeded = 40058

// depthOf counts levels from the root, which is level 1.
func (s *Server) depthOf(id int) int {
	n := 0
	for d := s.depts[id]; d != nil; d = s.depts[d.ParentID] {
		n++
		if n > len(s.depts) { // defensive: a corrupt loaded file must not hang us
			break
		}
	}
	return n
}

// isWithin reports whether id is anc or one of its descendants.
func (s *Server) isWithin(id, anc int) bool {
	for i := 0; i <= len(s.depts); i++ {
		if id == anc {
			return true
		}
		d := s.depts[id]
		if d == nil {
			return false
		}
		id = d.ParentID
	}
	return false
}

// preorder lists root and its subtree parent-before-child.
func (s *Server) preorder(root int) []*dept {
	var out []*dept
	var walk func(*dept)
	walk = func(d *dept) {
		out = append(out, d)
		for _, c := range s.sortedChildren(d.ID) {
			walk(c)
		}
	}
	if d := s.depts[root]; d != nil {
		walk(d)
	}
	return out
}

// subtreeHeight is the number of levels in id's subtree, id included. It
// walks the subtree, which only a department move (with MaxDepth on) pays.
func (s *Server) subtreeHeight(id int) int {
	h := 0
	var walk func(id, level int)
	walk = func(id, level int) {
		h = max(h, level)
		for c := range s.idx.children[id] {
			walk(c, level+1)
		}
	}
	walk(id, 1)
	return h
}

func (s *Server) memberCount(id int) int { return len(s.idx.members[id]) }

func (s *Server) childCount(id int) int { return len(s.idx.children[id]) }

// nodesFull reports whether one more node under id would break
// MaxNodesPerDept.
func (s *Server) nodesFull(id int) bool {
	if s.opts.MaxNodesPerDept == unlimited {
		return false
	}
	return s.childCount(id)+s.memberCount(id)+1 > s.opts.MaxNodesPerDept
}

func (s *Server) siblingNameTaken(parent int, name string, except int) bool {
	for id := range s.idx.siblings[siblingKey{parent, name}] {
		if id != except {
			return true
		}
	}
	return false
}

// visibleDept reports whether sec may see department id; visibility covers
// the whole subtree of each listed department.
func visibleDept(s *Server, sec *Secret, id int) bool {
	if sec == nil || sec.Kind != App {
		return true
	}
	for _, v := range sec.Visible {
		if s.isWithin(id, v) {
			return true
		}
	}
	return false
}

func (s *Server) allocDeptID() int {
	for s.depts[s.nextDeptID] != nil {
		s.nextDeptID++
	}
	id := s.nextDeptID
	s.nextDeptID++
	return id
}

// deptField is one writable field of department/create and
// department/update; like memberFields, the table drives parsing and the
// single-field checks, and fields_test.go walks it over HTTP. Rules that
// involve other departments (parent, siblings, caps) are enforced by
// createDept and updateDept and listed here with their codes.
type deptField struct {
	name, typ string
	use       fieldUse
	page      string
	rules     []fieldRule
	parse     func(raw json.RawMessage, in *deptInput) int
	check     func(s *Server, in *deptInput) int
}

// deptInput is a decoded department body; nil means absent.
type deptInput struct {
	name, nameEn *string
	parent       *int
	order, id    *int64
}

var deptFields = []deptField{
	{
		name: "name", typ: "string", use: onBoth, page: pageDeptCreate,
		rules: []fieldRule{
			{"required on create", 60001, pageEmulator},
			{"1 to DeptNameMax characters (default 64)", 60001, pageErrcodes},
			{`none of \ : * ? " < > | ｜`, 60009, pageErrcodes},
			{"unique among its siblings (exact comparison)", 60008, pageErrcodes},
		},
		parse: func(raw json.RawMessage, in *deptInput) int { return decodeOr40058(raw, &in.name) },
		check: func(s *Server, in *deptInput) int {
			if in.name == nil {
				return 0
			}
			return checkDeptName(*in.name, s.opts.DeptNameMax)
		},
	},
	{
		name: "name_en", typ: "string", use: onBoth, page: pageDeptCreate,
		rules: []fieldRule{
			{"the name rules when not empty (length)", 60001, pageErrcodes},
			{"the name rules when not empty (characters)", 60009, pageErrcodes},
		},
		parse: func(raw json.RawMessage, in *deptInput) int { return decodeOr40058(raw, &in.nameEn) },
		check: func(s *Server, in *deptInput) int {
			if in.nameEn == nil || *in.nameEn == "" {
				return 0
			}
			return checkDeptName(*in.nameEn, s.opts.DeptNameMax)
		},
	},
	{
		name: "parentid", typ: "int", use: onBoth, page: pageDeptCreate,
		rules: []fieldRule{
			{"an existing department; required on create", 60004, pageErrcodes},
			{"on update, neither the department itself nor a descendant", 60010, pageErrcodes},
			{"the new level within MaxDepth (default 15, root = 1)", capExceeded, pageEmulator},
		},
		parse: func(raw json.RawMessage, in *deptInput) int { return decodeOr40058(raw, &in.parent) },
	},
	{
		name: "order", typ: "int", use: onBoth, page: pageDeptCreate,
		rules: []fieldRule{{"in [0, 2^32)", 40058, pageEmulator}},
		parse: func(raw json.RawMessage, in *deptInput) int { return decodeOr40058(raw, &in.order) },
		check: func(_ *Server, in *deptInput) int {
			if in.order != nil && (*in.order < 0 || *in.order > math.MaxUint32) {
				return 40058
			}
			return 0
		},
	},
	{
		name: "id", typ: "int", use: onBoth, page: pageDeptCreate,
		rules: []fieldRule{
			{"on create, optional: a 32-bit id above 1", 40058, pageEmulator},
			{"on create, not the root and not an id in use", 60008, pageErrcodes},
			{"on update, required", 40058, pageEmulator},
			{"on update, an existing department", 60003, pageDeptUpdate},
		},
		parse: func(raw json.RawMessage, in *deptInput) int { return decodeOr40058(raw, &in.id) },
	},
}

func parseDeptInput(body map[string]json.RawMessage) (*deptInput, int) {
	in := &deptInput{}
	for i := range deptFields {
		f := &deptFields[i]
		if raw, ok := body[f.name]; ok && !isNull(raw) {
			if code := f.parse(raw, in); code != 0 {
				return nil, code
			}
		}
	}
	return in, 0
}

func (s *Server) checkDeptInput(in *deptInput) int {
	for i := range deptFields {
		if f := &deptFields[i]; f.check != nil {
			if code := f.check(s, in); code != 0 {
				return code
			}
		}
	}
	return 0
}

func (s *Server) deptCreate(c *call) (map[string]any, int) {
	id, code := s.createDept(c.body, &c.target)
	if code != 0 {
		return nil, code
	}
	return map[string]any{"id": id}, 0
}

// createDept is department/create's effect on a decoded body, shared with
// batch/replaceparty. target receives the name once it is known.
func (s *Server) createDept(body map[string]json.RawMessage, target *string) (int, int) {
	in, code := parseDeptInput(body)
	if code != 0 {
		return 0, code
	}
	if in.name == nil {
		return 0, 60001
	}
	*target = *in.name
	if code := s.checkDeptInput(in); code != 0 {
		return 0, code
	}
	var id int64
	if in.id != nil {
		id = *in.id
	}
	if id != 0 {
		if id < 0 || id > math.MaxInt32 {
			return 0, 40058
		}
		if s.depts[int(id)] != nil { // includes id 1, the root
			return 0, 60008
		}
	}
	parent := 0
	if in.parent != nil {
		parent = *in.parent
	}
	// A missing parentid is 0, which no department has.
	if s.depts[parent] == nil {
		return 0, 60004
	}
	if s.opts.MaxDepth != unlimited && s.depthOf(parent)+1 > s.opts.MaxDepth {
		return 0, capExceeded
	}
	if s.siblingNameTaken(parent, *in.name, 0) {
		return 0, 60008
	}
	if s.opts.MaxDepartments != unlimited && len(s.depts)+1 > s.opts.MaxDepartments {
		return 0, capExceeded
	}
	if s.nodesFull(parent) {
		return 0, capExceeded
	}
	newID := int(id)
	if newID == 0 {
		newID = s.allocDeptID()
	}
	d := SnapDept{ID: newID, Name: *in.name, ParentID: parent}
	if in.nameEn != nil {
		d.NameEn = *in.nameEn
	}
	if in.order != nil {
		d.Order = uint32(*in.order)
	}
	s.putDept(&dept{d})
	return newID, 0
}

func (s *Server) deptUpdate(c *call) (map[string]any, int) {
	return nil, s.updateDept(c.body, &c.target)
}

// updateDept is department/update's effect on a decoded body, shared with
// batch/replaceparty.
func (s *Server) updateDept(body map[string]json.RawMessage, target *string) int {
	in, code := parseDeptInput(body)
	if in != nil && in.id != nil {
		*target = strconv.FormatInt(*in.id, 10)
	}
	if code != 0 {
		return code
	}
	if in.id == nil {
		return 40058
	}
	d := s.depts[int(*in.id)]
	if *in.id < 0 || *in.id > math.MaxInt32 || d == nil {
		return 60003
	}
	if code := s.checkDeptInput(in); code != 0 {
		return code
	}
	id := d.ID
	next := *d
	if in.name != nil {
		next.Name = *in.name
	}
	if in.nameEn != nil {
		next.NameEn = *in.nameEn
	}
	if in.order != nil {
		next.Order = uint32(*in.order)
	}
	if in.parent != nil && *in.parent != d.ParentID {
		parent := *in.parent
		if s.depts[parent] == nil {
			return 60004
		}
		if s.isWithin(parent, id) {
			return 60010
		}
		if s.opts.MaxDepth != unlimited && s.depthOf(parent)+s.subtreeHeight(id) > s.opts.MaxDepth {
			return capExceeded
		}
		if s.nodesFull(parent) {
			return capExceeded
		}
		next.ParentID = parent
	}
	if id != 1 && (next.Name != d.Name || next.ParentID != d.ParentID) &&
		s.siblingNameTaken(next.ParentID, next.Name, id) {
		return 60008
	}
	s.idx.removeDept(d)
	d.SnapDept = next.SnapDept
	s.idx.addDept(d)
	return 0
}

func (s *Server) deptDelete(c *call) (map[string]any, int) {
	id, present, ok := queryInt(c.query.Get("id"))
	c.target = c.query.Get("id")
	switch {
	case !present || !ok:
		return nil, 40058
	case s.depts[id] == nil:
		return nil, 60003
	case id == 1:
		return nil, 60007
	case s.memberCount(id) > 0:
		return nil, 60005
	case s.childCount(id) > 0:
		return nil, 60006
	}
	s.removeDept(id)
	return nil, 0
}

// removeDept deletes an empty department, and takes it out of every
// tag's partylist.
func (s *Server) removeDept(id int) {
	s.idx.removeDept(s.depts[id])
	delete(s.depts, id)
	s.tags.dropDept(id)
	if id == s.pendingID {
		s.pendingID = 0
	}
}

// listScope resolves the optional ?id= of department/list and simplelist
// into the departments the caller may see, parent-before-child.
func (s *Server) listScope(c *call) ([]*dept, int) {
	raw := c.query.Get("id")
	c.target = raw
	id, present, ok := queryInt(raw)
	if !ok {
		return nil, 40058
	}
	if !present {
		var out []*dept
		for _, d := range s.preorder(1) {
			if visibleDept(s, c.secret, d.ID) {
				out = append(out, d)
			}
		}
		return out, 0
	}
	if s.depts[id] == nil {
		return nil, 60003
	}
	if !visibleDept(s, c.secret, id) {
		return nil, 60011
	}
	return s.preorder(id), 0
}

func (s *Server) deptJSON(d *dept) map[string]any {
	m := map[string]any{
		"id":                d.ID,
		"name":              d.Name,
		"parentid":          d.ParentID,
		"order":             d.Order,
		"department_leader": s.deptLeaders(d.ID),
	}
	if d.NameEn != "" {
		m["name_en"] = d.NameEn
	}
	return m
}

func (s *Server) deptList(c *call) (map[string]any, int) {
	list, code := s.listScope(c)
	if code != 0 {
		return nil, code
	}
	out := make([]map[string]any, 0, len(list))
	for _, d := range list {
		out = append(out, s.deptJSON(d))
	}
	return map[string]any{"department": out}, 0
}

func (s *Server) deptSimpleList(c *call) (map[string]any, int) {
	list, code := s.listScope(c)
	if code != 0 {
		return nil, code
	}
	type ref struct {
		ID       int    `json:"id"`
		ParentID int    `json:"parentid"`
		Order    uint32 `json:"order"`
	}
	out := make([]ref, 0, len(list))
	for _, d := range list {
		out = append(out, ref{d.ID, d.ParentID, d.Order})
	}
	return map[string]any{"department_id": out}, 0
}

func (s *Server) deptGet(c *call) (map[string]any, int) {
	raw := c.query.Get("id")
	c.target = raw
	id, present, ok := queryInt(raw)
	switch {
	case !present || !ok:
		return nil, 40058
	case s.depts[id] == nil:
		return nil, 60003
	case !visibleDept(s, c.secret, id):
		return nil, 60011
	}
	return map[string]any{"department": s.deptJSON(s.depts[id])}, 0
}
