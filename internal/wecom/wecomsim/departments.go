package wecomsim

import (
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

func (s *Server) deptCreate(c *call) (map[string]any, int) {
	var (
		name, nameEn string
		parent       int
		order, id    int64
	)
	hasName, ok1 := getField(c.body, "name", &name)
	hasEn, ok2 := getField(c.body, "name_en", &nameEn)
	_, ok3 := getField(c.body, "parentid", &parent)
	_, ok4 := getField(c.body, "order", &order)
	hasID, ok5 := getField(c.body, "id", &id)
	c.target = name
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return nil, 40058
	}
	if !hasName {
		return nil, 60001
	}
	if code := checkDeptName(name, s.opts.DeptNameMax); code != 0 {
		return nil, code
	}
	if hasEn && nameEn != "" {
		if code := checkDeptName(nameEn, s.opts.DeptNameMax); code != 0 {
			return nil, code
		}
	}
	if order < 0 || order > math.MaxUint32 {
		return nil, 40058
	}
	if hasID && id != 0 {
		if id < 0 || id > math.MaxInt32 {
			return nil, 40058
		}
		if s.depts[int(id)] != nil { // includes id 1, the root
			return nil, 60008
		}
	}
	// A missing parentid decodes as 0, which no department has.
	if s.depts[parent] == nil {
		return nil, 60004
	}
	if s.opts.MaxDepth != unlimited && s.depthOf(parent)+1 > s.opts.MaxDepth {
		return nil, capExceeded
	}
	if s.siblingNameTaken(parent, name, 0) {
		return nil, 60008
	}
	if s.opts.MaxDepartments != unlimited && len(s.depts)+1 > s.opts.MaxDepartments {
		return nil, capExceeded
	}
	if s.nodesFull(parent) {
		return nil, capExceeded
	}
	newID := int(id)
	if newID == 0 {
		newID = s.allocDeptID()
	}
	s.putDept(&dept{SnapDept{ID: newID, Name: name, NameEn: nameEn, ParentID: parent, Order: uint32(order)}})
	return map[string]any{"id": newID}, 0
}

func (s *Server) deptUpdate(c *call) (map[string]any, int) {
	var (
		id, parent   int
		name, nameEn string
		order        int64
	)
	hasID, ok1 := getField(c.body, "id", &id)
	hasName, ok2 := getField(c.body, "name", &name)
	hasEn, ok3 := getField(c.body, "name_en", &nameEn)
	hasParent, ok4 := getField(c.body, "parentid", &parent)
	hasOrder, ok5 := getField(c.body, "order", &order)
	if hasID {
		c.target = strconv.Itoa(id)
	}
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || !hasID {
		return nil, 40058
	}
	d := s.depts[id]
	if d == nil {
		return nil, 60003
	}
	next := *d
	if hasName {
		if code := checkDeptName(name, s.opts.DeptNameMax); code != 0 {
			return nil, code
		}
		next.Name = name
	}
	if hasEn {
		if nameEn != "" {
			if code := checkDeptName(nameEn, s.opts.DeptNameMax); code != 0 {
				return nil, code
			}
		}
		next.NameEn = nameEn
	}
	if hasOrder {
		if order < 0 || order > math.MaxUint32 {
			return nil, 40058
		}
		next.Order = uint32(order)
	}
	if hasParent && parent != d.ParentID {
		if s.depts[parent] == nil {
			return nil, 60004
		}
		if s.isWithin(parent, id) {
			return nil, 60010
		}
		if s.opts.MaxDepth != unlimited && s.depthOf(parent)+s.subtreeHeight(id) > s.opts.MaxDepth {
			return nil, capExceeded
		}
		if s.nodesFull(parent) {
			return nil, capExceeded
		}
		next.ParentID = parent
	}
	if id != 1 && (next.Name != d.Name || next.ParentID != d.ParentID) &&
		s.siblingNameTaken(next.ParentID, next.Name, id) {
		return nil, 60008
	}
	s.idx.removeDept(d)
	d.SnapDept = next.SnapDept
	s.idx.addDept(d)
	return nil, 0
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
	s.idx.removeDept(s.depts[id])
	delete(s.depts, id)
	if id == s.pendingID {
		s.pendingID = 0
	}
	return nil, 0
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
