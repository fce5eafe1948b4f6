package mapper

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// deptTable is a department table (DeptConfig.Table): departments keyed
// by HR id. Rows arrive through AddDepartmentRow; the first member row
// seals the table, which checks it as a tree (unknown parents, cycles,
// depth, sibling names), because a member can only be placed once it is
// known whether its department will exist.
type deptTable struct {
	cfg   DeptTable
	rules deptRules

	rows   int
	depts  []*tableDept // row order; rows without an id or with a duplicate id are not here
	byID   map[string]*tableDept
	early  []reject // rejected before sealing: source problem, no id, duplicate id
	sealed bool

	// Set by seal.
	out     []Department // accepted, parents first
	rejects []*RowError  // every rejected table row, in row order
}

type tableDept struct {
	seq                   int
	ref, id, parent, name string
	order                 uint32
	root                  bool // the RootID row: WeCom's root, not a department
	depth                 int  // 1 = top level; -1 = none (on or below a cycle)
	err                   *RowError
	visit                 int8 // seal's walk: 0 new, 1 on the current chain, 2 done
}

func newDeptTable(c DeptConfig) *deptTable {
	return &deptTable{cfg: *c.Table, rules: newDeptRules(c), byID: map[string]*tableDept{}}
}

// errSealed is returned by AddDepartmentRow after the first member row.
var errSealed = errors.New("department rows must all be added before the first member row")

func (t *deptTable) add(row Row) error {
	if t.sealed {
		return errSealed
	}
	t.rows++
	seq := t.rows
	early := func(col, rule, msg string) {
		t.early = append(t.early, reject{seq, &RowError{Ref: row.Ref, Column: col, Rule: rule, Message: msg}})
	}
	if row.Problem != "" {
		early(row.ProblemColumn, cmp.Or(row.ProblemRule, RuleRaggedRow), row.Problem)
		return nil
	}
	c := t.cfg
	id := strings.TrimSpace(row.Values[c.IDColumn])
	if id == "" {
		early(c.IDColumn, RuleDepartmentIDRequired, "department id is empty")
		return nil
	}
	if first, dup := t.byID[id]; dup {
		early(c.IDColumn, RuleDuplicateDepartmentID, fmt.Sprintf("department id %q is already on row %s", id, first.ref))
		t.early[len(t.early)-1].err.DeptKey = id
		return nil
	}
	d := &tableDept{seq: seq, ref: row.Ref, id: id, root: id == c.RootID,
		parent: strings.TrimSpace(row.Values[c.ParentColumn]), name: strings.TrimSpace(row.Values[c.NameColumn])}
	t.byID[id] = d
	if d.root {
		return nil // the corp itself: its name and parent are WeCom's business
	}
	t.depts = append(t.depts, d)
	if rule, msg := t.rules.checkName(d.name); rule != "" {
		d.err = &RowError{Ref: row.Ref, Column: c.NameColumn, Rule: rule, Message: fmt.Sprintf("department %q: %s", id, msg)}
		return nil
	}
	if c.OrderColumn != "" {
		if v := strings.TrimSpace(row.Values[c.OrderColumn]); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				d.err = &RowError{Ref: row.Ref, Column: c.OrderColumn, Rule: RuleDepartmentOrderValue,
					Message: fmt.Sprintf("department %q order %q: want a whole number from 0 to 4294967295", id, v)}
				return nil
			}
			d.order = uint32(n)
		}
	}
	return nil
}

// top says whether a parent id means "directly under WeCom's root".
func (t *deptTable) top(parent string) bool {
	return parent == "" || (t.cfg.RootID != "" && parent == t.cfg.RootID)
}

func (t *deptTable) seal() {
	if t.sealed {
		return
	}
	t.sealed = true
	for _, d := range t.depts {
		t.walk(d)
	}

	// Parents before children, so a child sees its parent's final verdict.
	byDepth := slices.Clone(t.depts)
	slices.SortStableFunc(byDepth, func(a, b *tableDept) int { return cmp.Compare(a.depth, b.depth) })
	siblings := map[[2]string]*tableDept{} // (parent, name) -> first accepted
	for _, d := range byDepth {
		if d.err != nil {
			continue
		}
		parent := ""
		if !t.top(d.parent) {
			parent = d.parent
			if p := t.byID[parent]; p.err != nil {
				d.err = t.parentRejected(d, p)
				continue
			}
		}
		if d.depth > t.rules.MaxDepth {
			d.err = &RowError{Ref: d.ref, Column: t.cfg.ParentColumn, Rule: RuleDepartmentDepth,
				Message: fmt.Sprintf("department %q is %d levels deep, the limit is %d below the root", d.id, d.depth, t.rules.MaxDepth)}
			continue
		}
		sib := [2]string{parent, d.name}
		if first, dup := siblings[sib]; dup {
			d.err = &RowError{Ref: d.ref, Column: t.cfg.NameColumn, Rule: RuleDuplicateDepartmentName,
				Message: fmt.Sprintf("department %q: name %q is already used under the same parent by %q (row %s); WeCom wants sibling names unique (60008)", d.id, d.name, first.id, first.ref)}
			continue
		}
		siblings[sib] = d
		dep := Department{Key: d.id, Name: d.name, ParentKey: parent, Order: d.order, Depth: d.depth, Ref: d.ref}
		t.out = append(t.out, dep)
	}

	all := slices.Clone(t.early)
	for _, d := range t.depts {
		if d.err != nil {
			d.err.DeptKey = d.id
			all = append(all, reject{d.seq, d.err})
		}
	}
	slices.SortStableFunc(all, func(a, b reject) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range all {
		t.rejects = append(t.rejects, r.err)
	}
}

// walk follows d's parent chain until it reaches a department already
// walked, the top, an unknown parent or a cycle, then sets depth (and the
// errors a chain can have) on every department it passed. Each
// department is walked once, so a deep table costs linear time.
func (t *deptTable) walk(d *tableDept) {
	if d.visit != 0 {
		return
	}
	var chain []*tableDept // child first
	var stop *tableDept    // where the chain ran into a walked department, or into itself
	for cur := d; ; {
		if cur.visit != 0 {
			stop = cur
			break
		}
		cur.visit = 1
		chain = append(chain, cur)
		if t.top(cur.parent) {
			break
		}
		p, ok := t.byID[cur.parent]
		if !ok {
			cur.depth = 1 // so its children get a depth and learn it was rejected
			if cur.err == nil {
				cur.err = &RowError{Ref: cur.ref, Column: t.cfg.ParentColumn, Rule: RuleDepartmentParentUnknown,
					Message: fmt.Sprintf("parent %q of department %q is not in the department table", cur.parent, cur.id)}
			}
			break
		}
		cur = p
	}
	onCycle := stop != nil && stop.visit == 1
	for _, c := range chain {
		c.visit = 2
	}

	last := chain[len(chain)-1]
	switch {
	case onCycle:
		// The chain ran into itself: stop and everything after it in the
		// chain form the cycle; the departments before it hang below it.
		i := slices.Index(chain, stop)
		cycle := chain[i:]
		var desc []string
		for _, c := range cycle {
			desc = append(desc, fmt.Sprintf("%s (row %s)", c.id, c.ref))
		}
		loop := strings.Join(desc, " → ") + " → " + cycle[0].id
		for _, c := range cycle {
			c.depth = -1
			if c.err != nil {
				continue // its own row's fault is the nearer one to fix
			}
			c.err = &RowError{Ref: c.ref, Column: t.cfg.ParentColumn, Rule: RuleDepartmentCycle,
				Message: fmt.Sprintf("department %q is on a parent cycle: %s", c.id, loop)}
		}
		for j := i - 1; j >= 0; j-- {
			chain[j].depth = -1
			if chain[j].err == nil {
				chain[j].err = t.parentRejected(chain[j], chain[j+1])
			}
		}
	case stop != nil && stop.depth < 0:
		// Below a cycle found by an earlier walk.
		for j := len(chain) - 1; j >= 0; j-- {
			parent := stop
			if j < len(chain)-1 {
				parent = chain[j+1]
			}
			chain[j].depth = -1
			if chain[j].err == nil {
				chain[j].err = t.parentRejected(chain[j], parent)
			}
		}
	default:
		if stop != nil {
			last.depth = stop.depth + 1
		} else if last.depth == 0 {
			last.depth = 1
		}
		for j := len(chain) - 2; j >= 0; j-- {
			chain[j].depth = chain[j+1].depth + 1
		}
	}
}

func (t *deptTable) parentRejected(d, p *tableDept) *RowError {
	return &RowError{Ref: d.ref, Column: t.cfg.ParentColumn, Rule: RuleDepartmentParentRejected,
		Message: fmt.Sprintf("parent %q of department %q was rejected (row %s, %s)", p.id, d.id, p.ref, p.err.Rule)}
}

// places reads a member's department codes.
func (t *deptTable) places(parts []string) ([]placement, string, string) {
	var out []placement
	rootOnly := false
	for i, c := range parts {
		code := strings.TrimSpace(c)
		if code == "" {
			continue
		}
		d, ok := t.byID[code]
		switch {
		case !ok:
			return nil, RuleDepartmentUnknown, fmt.Sprintf("department %q is not in the department table", code)
		case d.root:
			rootOnly = true
			continue
		case d.err != nil:
			return nil, RuleDepartmentRejected, fmt.Sprintf("department %q was rejected (row %s, %s)", code, d.ref, d.err.Rule)
		}
		if !slices.ContainsFunc(out, func(p placement) bool { return p.key == code }) {
			out = append(out, placement{key: code, part: i})
		}
	}
	switch {
	case len(out) == 0 && rootOnly:
		return nil, RuleDepartmentMissing, fmt.Sprintf("department %q is the root: members in the root department are not supported", t.cfg.RootID)
	case len(out) == 0:
		return nil, RuleDepartmentMissing, "department code is empty"
	case len(out) > maxDepartments:
		return nil, RuleDepartmentCount, fmt.Sprintf("member is in %d departments, WeCom allows %d", len(out), maxDepartments)
	}
	return out, "", ""
}
