package mapper

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hrfeed/importer/internal/source"
	"github.com/hrfeed/importer/internal/wecom"
)

// Mapper turns rows into the desired directory. Feed rows go in with Add,
// one at a time; Directory returns the result. It keeps only accepted
// members and three uniqueness indexes, so memory grows with the feed's
// members, never with its raw rows.
type Mapper struct {
	fields map[string]*field // mapped member fields only
	status *field
	dept   deptRules

	rows     int
	entries  []*entry // accepted rows in feed order; nil where superseded
	rejects  []reject
	byUserID map[string]int // useridKey -> index in entries
	byMobile map[string]int
	byEmail  map[string]int
}

// entry is an accepted row.
type entry struct {
	seq     int // 1-based position among the rows added, to order rejects
	member  Member
	paths   [][]string // department paths as segments, for the tree
	leaders []string   // direct_leader as written, resolved in Directory
}

type reject struct {
	seq int
	err *RowError
}

// New checks cfg and prepares a Mapper.
func New(cfg Config) (*Mapper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mapping config: %w", err)
	}
	m := &Mapper{
		fields:   map[string]*field{},
		dept:     newDeptRules(cfg.Departments),
		byUserID: map[string]int{},
		byMobile: map[string]int{},
		byEmail:  map[string]int{},
	}
	for name, f := range cfg.Fields {
		m.fields[name] = compileField(name, f)
	}
	if cfg.Status != nil {
		m.status = compileField("status", *cfg.Status)
	}
	return m, nil
}

// Add maps one row: it becomes a member or a RowError. Feed-level rules
// that need only earlier rows (duplicates) are applied here; the ones that
// need the whole feed (unknown_leader) wait for Directory.
func (m *Mapper) Add(row source.Row) {
	m.rows++
	seq := m.rows
	e, rerr := m.mapRow(row)
	if rerr != nil {
		m.rejects = append(m.rejects, reject{seq, rerr})
		return
	}
	e.seq = seq
	m.accept(e)
}

// column is the source column of a member field, for RowError.Column.
func (m *Mapper) column(name string) string {
	if f := m.fields[name]; f != nil {
		return f.Column
	}
	return ""
}

func (m *Mapper) mapRow(row source.Row) (*entry, *RowError) {
	if row.Problem != "" {
		rule := cmp.Or(row.ProblemRule, RuleRaggedRow)
		return nil, &RowError{Ref: row.Ref, Column: row.ProblemColumn, Rule: rule, Message: row.Problem}
	}
	vals := map[string]string{}
	check := func(name string) *RowError {
		f := m.fields[name]
		if f == nil {
			return nil
		}
		v, rerr := f.value(row)
		if rerr != nil {
			return rerr
		}
		if rule, msg := checkValue(name, v); rule != "" {
			return &RowError{Ref: row.Ref, Column: f.Column, Rule: rule, Message: msg}
		}
		vals[name] = v
		return nil
	}

	if rerr := check(FieldUserID); rerr != nil {
		return nil, rerr
	}
	leaver, rerr := m.leaver(row)
	if rerr != nil {
		return nil, rerr
	}
	if leaver {
		// A leaver only has to be found and switched off: holding the row
		// to every field rule would let a stale phone number keep a
		// departed employee's account alive.
		u := wecom.User{UserID: vals[FieldUserID]}
		if f := m.fields[FieldName]; f != nil {
			if v, rerr := f.value(row); rerr == nil {
				u.Name = v
			}
		}
		return &entry{member: Member{User: u, Leaver: true, Ref: row.Ref}}, nil
	}

	for _, name := range memberFields[1:] {
		if rerr := check(name); rerr != nil {
			return nil, rerr
		}
	}
	leaders, rerr := m.directLeaders(row.Ref, vals[FieldUserID], vals[FieldDirectLeader])
	if rerr != nil {
		return nil, rerr
	}
	paths, rule, msg := m.dept.parse(row.Values[m.dept.PathColumn])
	if rule != "" {
		return nil, &RowError{Ref: row.Ref, Column: m.dept.PathColumn, Rule: rule, Message: msg}
	}
	if vals[FieldMobile] == "" && vals[FieldEmail] == "" {
		return nil, &RowError{Ref: row.Ref, Rule: RuleMobileOrEmail,
			Message: fmt.Sprintf("mobile (%s) and email (%s) are both empty; WeCom needs one (60129)", m.column(FieldMobile), m.column(FieldEmail))}
	}
	return &entry{member: m.member(row.Ref, vals, paths), paths: paths, leaders: leaders}, nil
}

func (m *Mapper) leaver(row source.Row) (bool, *RowError) {
	if m.status == nil {
		return false, nil
	}
	v, rerr := m.status.value(row)
	if rerr != nil {
		return false, rerr
	}
	switch v {
	case statusActive:
		return false, nil
	case statusLeaver:
		return true, nil
	}
	return false, &RowError{Ref: row.Ref, Column: m.status.Column, Rule: RuleStatusValue,
		Message: fmt.Sprintf("status %q: want active or leaver after the map", v)}
}

func (m *Mapper) directLeaders(ref, userid, cell string) ([]string, *RowError) {
	col := m.column(FieldDirectLeader)
	var out []string
	for _, l := range splitLeaders(cell) {
		if rule, _ := checkUserid(l); rule != "" {
			return nil, &RowError{Ref: ref, Column: col, Rule: RuleDirectLeaderFormat, Message: fmt.Sprintf("direct leader %q is not a valid userid", l)}
		}
		if useridKey(l) == useridKey(userid) {
			return nil, &RowError{Ref: ref, Column: col, Rule: RuleDirectLeaderSelf, Message: fmt.Sprintf("direct leader %q is the member itself", l)}
		}
		if !slices.ContainsFunc(out, func(o string) bool { return useridKey(o) == useridKey(l) }) {
			out = append(out, l)
		}
	}
	if len(out) > maxDirectLeaders {
		return nil, &RowError{Ref: ref, Column: col, Rule: RuleDirectLeaderCount, Message: fmt.Sprintf("%d direct leaders, WeCom allows %d (60257)", len(out), maxDirectLeaders)}
	}
	return out, nil
}

func (m *Mapper) member(ref string, vals map[string]string, paths [][]string) Member {
	u := wecom.User{
		UserID:    vals[FieldUserID],
		Name:      vals[FieldName],
		Alias:     vals[FieldAlias],
		Mobile:    vals[FieldMobile],
		Email:     vals[FieldEmail],
		Position:  vals[FieldPosition],
		Gender:    vals[FieldGender],
		Telephone: vals[FieldTelephone],
		Address:   vals[FieldAddress],
	}
	// checkValue has vetted every value parsed below, so errors cannot occur.
	if v := vals[FieldEnable]; v != "" {
		n, _ := strconv.Atoi(v)
		u.Enable = &n
	}
	if v := vals[FieldIsLeader]; v != "" {
		n, _ := strconv.Atoi(v)
		u.IsLeaderInDept = repeat(n, len(paths))
	}
	if v := vals[FieldOrder]; v != "" {
		n, _ := strconv.ParseUint(v, 10, 32)
		u.Order = repeat(uint32(n), len(paths))
	}
	if v := vals[FieldToInvite]; v != "" {
		b := v == "true"
		u.ToInvite = &b
	}
	keys := make([]string, len(paths))
	for i, p := range paths {
		keys[i] = strings.Join(p, keySep)
	}
	return Member{User: u, DeptKeys: keys, Ref: ref}
}

func repeat[T any](v T, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// accept applies the duplicate rules against earlier accepted rows. The
// later row loses, except that an active row beats a leaver row for the
// same userid: a rehire listed twice must stay enabled.
func (m *Mapper) accept(e *entry) {
	u := e.member.User
	superseded := -1
	if i, dup := m.byUserID[useridKey(u.UserID)]; dup {
		first := m.entries[i]
		if !first.member.Leaver || e.member.Leaver {
			m.rejectDup(e, RuleDuplicateUserid, FieldUserID, "userid", u.UserID, first)
			return
		}
		superseded = i
	}
	if !e.member.Leaver {
		// Leavers keep no claim on a number or address: both are often
		// handed on to someone else.
		if i, dup := m.byMobile[mobileKey(u.Mobile)]; dup && u.Mobile != "" {
			m.rejectDup(e, RuleDuplicateMobile, FieldMobile, "mobile", u.Mobile, m.entries[i])
			return
		}
		if i, dup := m.byEmail[emailKey(u.Email)]; dup && u.Email != "" {
			m.rejectDup(e, RuleDuplicateEmail, FieldEmail, "email", u.Email, m.entries[i])
			return
		}
	}
	if superseded >= 0 {
		old := m.entries[superseded]
		m.rejects = append(m.rejects, reject{old.seq, &RowError{
			Ref: old.member.Ref, Column: m.column(FieldUserID), Rule: RuleDuplicateUserid,
			Message: fmt.Sprintf("userid %q is also on row %s, which is active and wins over this leaver row", old.member.User.UserID, e.member.Ref),
		}})
		m.entries[superseded] = nil
	}
	idx := len(m.entries)
	m.entries = append(m.entries, e)
	m.byUserID[useridKey(u.UserID)] = idx
	if !e.member.Leaver {
		if u.Mobile != "" {
			m.byMobile[mobileKey(u.Mobile)] = idx
		}
		if u.Email != "" {
			m.byEmail[emailKey(u.Email)] = idx
		}
	}
}

func (m *Mapper) rejectDup(e *entry, rule, field, what, value string, first *entry) {
	m.rejects = append(m.rejects, reject{e.seq, &RowError{
		Ref: e.member.Ref, Column: m.column(field), Rule: rule,
		Message: fmt.Sprintf("%s %q is already used by row %s", what, value, first.member.Ref),
	}})
}

// Directory applies the whole-feed rules and returns the desired
// directory. It does not change the Mapper: calling it twice, or adding
// rows after it, is fine.
func (m *Mapper) Directory() Directory {
	var live []*entry
	for _, e := range m.entries {
		if e != nil {
			live = append(live, e)
		}
	}
	byID := map[string]*entry{}
	for _, e := range live {
		byID[useridKey(e.member.User.UserID)] = e
	}

	// A row rejected for its leader may itself be someone's leader, so the
	// rejection spreads down the reporting lines. A worklist over a reverse
	// index keeps that linear: a long chain under a missing top (a rejected
	// CEO row) would otherwise take one pass over the feed per level.
	rejects := slices.Clone(m.rejects)
	dropped := map[*entry]bool{}
	reports := map[string][]*entry{} // leader key -> active rows naming it
	var queue []*entry
	drop := func(e *entry, msg string) {
		dropped[e] = true
		queue = append(queue, e)
		rejects = append(rejects, reject{e.seq, &RowError{
			Ref: e.member.Ref, Column: m.column(FieldDirectLeader), Rule: RuleUnknownLeader, Message: msg,
		}})
	}
	for _, e := range live {
		if e.member.Leaver {
			continue
		}
		for _, l := range e.leaders {
			reports[useridKey(l)] = append(reports[useridKey(l)], e)
		}
		if msg := m.leaderProblem(e, byID, dropped); msg != "" {
			drop(e, msg)
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, e := range reports[useridKey(d.member.User.UserID)] {
			if !dropped[e] {
				drop(e, m.leaderProblem(e, byID, dropped))
			}
		}
	}

	dir := Directory{Rows: m.rows}
	var active []*entry
	for _, e := range live {
		if dropped[e] {
			continue
		}
		mem := e.member
		mem.DeptKeys = slices.Clone(mem.DeptKeys)
		mem.User.IsLeaderInDept = slices.Clone(mem.User.IsLeaderInDept)
		mem.User.Order = slices.Clone(mem.User.Order)
		if len(e.leaders) > 0 {
			// WeCom matches userids case-insensitively; send the leader's
			// userid spelled as the feed spells it on the leader's own row.
			mem.User.DirectLeader = make([]string, len(e.leaders))
			for i, l := range e.leaders {
				mem.User.DirectLeader[i] = byID[useridKey(l)].member.User.UserID
			}
		}
		dir.Members = append(dir.Members, mem)
		if !mem.Leaver {
			active = append(active, e)
		}
	}
	dir.Departments = tree(active)

	slices.SortStableFunc(rejects, func(a, b reject) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range rejects {
		dir.Rejects = append(dir.Rejects, r.err)
	}
	return dir
}

// leaderProblem says why one of e's direct leaders cannot be set, or "".
func (m *Mapper) leaderProblem(e *entry, byID map[string]*entry, dropped map[*entry]bool) string {
	for _, l := range e.leaders {
		le, ok := byID[useridKey(l)]
		switch {
		case !ok:
			return fmt.Sprintf("direct leader %q is not an accepted member of this feed", l)
		case le.member.Leaver:
			return fmt.Sprintf("direct leader %q is a leaver (row %s)", l, le.member.Ref)
		case dropped[le]:
			return fmt.Sprintf("direct leader %q was rejected (row %s, unknown_leader)", l, le.member.Ref)
		}
	}
	return ""
}
