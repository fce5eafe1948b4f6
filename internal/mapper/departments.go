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

// parse turns a department cell into normalised paths, one per
// department, duplicates dropped, in cell order.
func (d deptRules) parse(cell string) ([][]string, string, string) {
	cells := []string{cell}
	if d.Multi != "" {
		cells = strings.Split(cell, d.Multi)
	}
	var paths [][]string
	seen := map[string]bool{}
	strippedOnly := false
	for _, c := range cells {
		if strings.TrimSpace(c) == "" {
			continue // "a/b;" — a trailing multi separator
		}
		segs := d.segments(c)
		if len(d.prefix) > 0 && len(segs) >= len(d.prefix) && slices.Equal(segs[:len(d.prefix)], d.prefix) {
			segs = segs[len(d.prefix):]
			if len(segs) == 0 {
				strippedOnly = true
				continue
			}
		}
		if rule, msg := d.check(c, segs); rule != "" {
			return nil, rule, msg
		}
		key := strings.Join(segs, keySep)
		if !seen[key] {
			seen[key] = true
			paths = append(paths, segs)
		}
	}
	switch {
	case len(paths) == 0 && strippedOnly:
		// The member sits in the corp's root; this importer only places
		// members in departments it manages.
		return nil, RuleDepartmentMissing, fmt.Sprintf("department path is only the stripped prefix %q: members in the root department are not supported", d.StripPrefix)
	case len(paths) == 0:
		return nil, RuleDepartmentMissing, "department path is empty"
	case len(paths) > maxDepartments:
		return nil, RuleDepartmentCount, fmt.Sprintf("member is in %d departments, WeCom allows %d", len(paths), maxDepartments)
	}
	return paths, "", ""
}

func (d deptRules) check(path string, segs []string) (string, string) {
	for i, s := range segs {
		switch {
		case s == "":
			return RuleDepartmentEmpty, fmt.Sprintf("department path %q has an empty name at level %d", strings.TrimSpace(path), i+1)
		case strings.ContainsAny(s, forbiddenDeptChars):
			return RuleDepartmentChars, fmt.Sprintf("department name %q contains one of %s", s, forbiddenDeptChars)
		case d.Separator != keySep && strings.Contains(s, keySep):
			// The key joins segments with "/", so a "/" inside a name would
			// make two different trees share a key.
			return RuleDepartmentChars, fmt.Sprintf("department name %q contains %q, which department keys use as separator", s, keySep)
		case chars(s) > d.NameMax:
			return RuleDepartmentLength, fmt.Sprintf("department name %q is %d characters, the limit is %d", s, chars(s), d.NameMax)
		}
	}
	if len(segs) > d.MaxDepth {
		return RuleDepartmentDepth, fmt.Sprintf("department path %q is %d levels deep, the limit is %d below the root", strings.TrimSpace(path), len(segs), d.MaxDepth)
	}
	return "", ""
}

// tree lists every department the accepted members' paths name, each
// prefix included, parents before children: by depth, then by first
// appearance in the feed, so the order is stable run to run.
func tree(members []*entry) []Department {
	var out []Department
	seen := map[string]bool{}
	for _, e := range members {
		for _, segs := range e.paths {
			for i := 1; i <= len(segs); i++ {
				key := strings.Join(segs[:i], keySep)
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, Department{
					Key:       key,
					Name:      segs[i-1],
					ParentKey: strings.Join(segs[:i-1], keySep),
					Depth:     i,
					Ref:       e.member.Ref,
				})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Department) int { return cmp.Compare(a.Depth, b.Depth) })
	return out
}
