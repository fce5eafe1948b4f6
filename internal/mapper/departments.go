package mapper

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// keySep joins path segments into Department.Key whatever the feed's own
// separator, so keys stay comparable when a config changes separator.
const keySep = "/"

// deptRules reads department path cells under one DeptConfig.
type deptRules struct {
	DeptConfig
	prefix []string
}

func newDeptRules(c DeptConfig) deptRules {
	d := deptRules{DeptConfig: c.withDefaults()}
	if p := strings.TrimSpace(d.StripPrefix); p != "" {
		d.prefix = d.segments(p)
	}
	return d
}

// segments splits one path, tolerating a leading or trailing separator
// ("/总部/研发中心/") because exports differ on that and it carries no
// meaning; empty segments in the middle are left for the caller to reject.
func (d deptRules) segments(path string) []string {
	path = strings.TrimSpace(path)
	path = strings.TrimPrefix(path, d.Separator)
	path = strings.TrimSuffix(path, d.Separator)
	segs := strings.Split(path, d.Separator)
	for i, s := range segs {
		segs[i] = strings.TrimSpace(s)
	}
	return segs
}

// split cuts a multi-valued cell into its parts. Trailing empty parts are
// dropped ("a;b;"), because exports often close a list with the separator,
// but never below want parts: in a column parallel to the department cell
// "D1;" means "D1 for the first department, nothing for the second". Empty
// parts inside stay, so positions line up across the parallel columns.
func (d deptRules) split(cell string, want int) []string {
	if d.Multi == "" {
		return []string{cell}
	}
	parts := strings.Split(cell, d.Multi)
	for len(parts) > max(want, 1) && strings.TrimSpace(parts[len(parts)-1]) == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// placement is one department of a member.
type placement struct {
	key  string   // path key (path mode, before code resolution) or HR id (table mode)
	segs []string // path mode: the path's segments
	part int      // index of its part in the department cell, for parallel columns
	code string   // path mode with code_column: the department's HR code, or ""
}

// pathSegs splits one path and strips the prefix; rootOnly is true when
// nothing but the prefix (the root) remains.
func (d deptRules) pathSegs(path string) (segs []string, rootOnly bool) {
	segs = d.segments(path)
	if len(d.prefix) > 0 && len(segs) >= len(d.prefix) && slices.Equal(segs[:len(d.prefix)], d.prefix) {
		segs = segs[len(d.prefix):]
	}
	return segs, len(segs) == 0
}

// parse turns the parts of a department cell into placements, one per
// department, duplicates dropped (the first keeps its per-department
// values), in cell order.
func (d deptRules) parse(parts []string) ([]placement, string, string) {
	var out []placement
	strippedOnly := false
	for i, c := range parts {
		if strings.TrimSpace(c) == "" {
			continue // "a;;b": nothing at this position
		}
		segs, root := d.pathSegs(c)
		if root && len(d.prefix) > 0 {
			strippedOnly = true
			continue
		}
		if rule, msg := d.check(c, segs); rule != "" {
			return nil, rule, msg
		}
		key := strings.Join(segs, keySep)
		if !slices.ContainsFunc(out, func(p placement) bool { return p.key == key }) {
			out = append(out, placement{key: key, segs: segs, part: i})
		}
	}
	switch {
	case len(out) == 0 && strippedOnly:
		// The member sits in the corp's root; this importer only places
		// members in departments it manages.
		return nil, RuleDepartmentMissing, fmt.Sprintf("department path is only the stripped prefix %q: members in the root department are not supported", d.StripPrefix)
	case len(out) == 0:
		return nil, RuleDepartmentMissing, "department path is empty"
	case len(out) > maxDepartments:
		return nil, RuleDepartmentCount, fmt.Sprintf("member is in %d departments, WeCom allows %d", len(out), maxDepartments)
	}
	return out, "", ""
}

func (d deptRules) check(path string, segs []string) (string, string) {
	for i, s := range segs {
		if rule, msg := d.checkName(s); rule != "" {
			if s == "" {
				msg = fmt.Sprintf("department path %q has an empty name at level %d", strings.TrimSpace(path), i+1)
			}
			return rule, msg
		}
		if d.Separator != keySep && strings.Contains(s, keySep) {
			// The key joins segments with "/", so a "/" inside a name would
			// make two different trees share a key.
			return RuleDepartmentChars, fmt.Sprintf("department name %q contains %q, which department keys use as separator", s, keySep)
		}
	}
	if len(segs) > d.MaxDepth {
		return RuleDepartmentDepth, fmt.Sprintf("department path %q is %d levels deep, the limit is %d below the root", strings.TrimSpace(path), len(segs), d.MaxDepth)
	}
	return "", ""
}

// checkName applies WeCom's department name rules (60001, 60009).
func (d deptRules) checkName(s string) (string, string) {
	switch {
	case s == "":
		return RuleDepartmentEmpty, "department name is empty"
	case strings.ContainsAny(s, forbiddenDeptChars):
		return RuleDepartmentChars, fmt.Sprintf("department name %q contains one of %s", s, forbiddenDeptChars)
	case chars(s) > d.NameMax:
		return RuleDepartmentLength, fmt.Sprintf("department name %q is %d characters, the limit is %d", s, chars(s), d.NameMax)
	}
	return "", ""
}

// tree lists every department the accepted members' paths name, each
// prefix included, parents before children: by depth, then by first
// appearance in the feed, so the order is stable run to run. resolve
// turns a path key into the department's Key.
func tree(members []*entry, resolve func(string) string) []Department {
	var out []Department
	seen := map[string]bool{}
	// Rows of one department cell share their placements: the first of
	// them names every department those can add.
	walked := map[*placement]bool{}
	for _, e := range members {
		if len(e.places) == 0 || walked[&e.places[0]] {
			continue
		}
		walked[&e.places[0]] = true
		for _, p := range e.places {
			for i := 1; i <= len(p.segs); i++ {
				key := strings.Join(p.segs[:i], keySep)
				if seen[key] {
					continue
				}
				seen[key] = true
				parent := ""
				if i > 1 {
					parent = resolve(strings.Join(p.segs[:i-1], keySep))
				}
				out = append(out, Department{
					Key:       resolve(key),
					Name:      p.segs[i-1],
					ParentKey: parent,
					Depth:     i,
					Ref:       e.ref,
				})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Department) int { return cmp.Compare(a.Depth, b.Depth) })
	return out
}

// codeIndex ties path keys to HR codes (path mode with code_column). A
// path and a code are paired by the first accepted row that pairs them; a
// later row pairing either differently is rejected, because one of the
// two rows is stale and the mapper cannot tell which.
type codeIndex struct {
	byPath map[string]claim // path key -> code
	byCode map[string]claim // code -> path key
	paths  map[string]bool  // every path key, prefixes included, of accepted members
}

type claim struct{ val, ref string }

func newCodeIndex() *codeIndex {
	return &codeIndex{byPath: map[string]claim{}, byCode: map[string]claim{}, paths: map[string]bool{}}
}

// conflict says why e's codes cannot be accepted, or "". Keys must stay
// unambiguous: a code that spells the path key of an uncoded department
// ("研发中心" as the code of another department) would make two
// departments share a Key, so that is a conflict too.
func (x *codeIndex) conflict(places []placement) string {
	mine := map[string]string{} // this row's path key -> code
	for _, p := range places {
		if p.code == "" {
			continue
		}
		if c, ok := x.byCode[p.code]; ok && c.val != p.key {
			return fmt.Sprintf("code %q is already department %q on row %s", p.code, c.val, c.ref)
		}
		if c, ok := x.byPath[p.key]; ok && c.val != p.code {
			return fmt.Sprintf("department %q already has code %q on row %s", p.key, c.val, c.ref)
		}
		for k, c := range mine {
			if c == p.code && k != p.key {
				return fmt.Sprintf("code %q is given to both %q and %q", p.code, k, p.key)
			}
		}
		mine[p.key] = p.code
	}
	coded := func(k string) bool { _, ok := x.byPath[k]; return ok || mine[k] != "" }
	rowPaths := map[string]bool{}
	for _, p := range places {
		for i := 1; i <= len(p.segs); i++ {
			rowPaths[strings.Join(p.segs[:i], keySep)] = true
		}
	}
	for _, p := range places {
		if p.code != "" && p.code != p.key && (x.paths[p.code] || rowPaths[p.code]) && !coded(p.code) {
			return fmt.Sprintf("code %q is also the path of another department, so their keys would clash", p.code)
		}
		for i := 1; i <= len(p.segs); i++ {
			k := strings.Join(p.segs[:i], keySep)
			if c, ok := x.byCode[k]; ok && c.val != k && !coded(k) {
				return fmt.Sprintf("department path %q is also the code of department %q (row %s), so their keys would clash", k, c.val, c.ref)
			}
		}
	}
	return ""
}

// claim records e's codes and paths; conflict has cleared them.
func (x *codeIndex) claim(ref string, places []placement) {
	for _, p := range places {
		if p.code != "" {
			if _, ok := x.byPath[p.key]; !ok {
				x.byPath[p.key] = claim{p.code, ref}
				x.byCode[p.code] = claim{p.key, ref}
			}
		}
		for i := 1; i <= len(p.segs); i++ {
			x.paths[strings.Join(p.segs[:i], keySep)] = true
		}
	}
}

// resolve is a department's Key: its code when it has one.
func (x *codeIndex) resolve(pathKey string) string {
	if c, ok := x.byPath[pathKey]; ok {
		return c.val
	}
	return pathKey
}
