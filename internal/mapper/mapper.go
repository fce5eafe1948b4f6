package mapper

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hrfeed/importer/internal/member"
)

// Mapper turns rows into the desired directory. With a department table,
// its rows go in first with AddDepartmentRow; feed rows go in with Add,
// one at a time; Directory returns the result. It keeps only accepted
// members and a few uniqueness indexes, so memory grows with the feed's
// members, never with its raw rows.
type Mapper struct {
	spent  bool              // TakeDirectory has handed the rows over
	fields map[string]*field // mapped member fields only
	// text are the mapped fields of member.TextFields, in table order:
	// an entry keeps their values, and only theirs.
	text   []member.Text
	status *field
	attrs  []attr
	tags   *tagger
	dept   deptRules
	table  *deptTable // departments.table mode
	codes  *codeIndex // path mode with code_column

	onUnknownLeader string
	maxLeaders      int

	rows      int
	entries   []*entry // accepted rows in feed order; nil where superseded
	rejects   []reject
	byUserID  map[string]int // useridKey -> index in entries
	byMobile  map[string]int
	byEmail   map[string]int
	byBizMail map[string]int
	// rejectedIDs holds the userids of rejected rows, first reject each,
	// so unknown_leader can name the row that sank the manager.
	rejectedIDs map[string]*RowError
	// paths counts path-mode rows by whether their path goes below the
	// first level, for the separator warning in Directory.
	paths pathShape
	// placed holds the placements of each department cell seen, shared
	// by every row with that cell: most of a feed sits in a few hundred
	// departments.
	placed map[string][]placement
}

// pathShape notices a path column that is mostly single names: the few
// values holding the separator are then more likely names with a "/" in
// them (IT/IS) than paths, and splitting them invents departments.
type pathShape struct {
	nested, flat int
	first        *RowError // the first nested row, to show as the example
	firstSeq     int
}

func (p *pathShape) add(e *entry, col, sep string) {
	if len(e.places) == 0 {
		return
	}
	nested := ""
	for _, pl := range e.places {
		if len(pl.segs) > 1 {
			nested = strings.Join(pl.segs, sep)
			break
		}
	}
	if nested == "" {
		p.flat++
		return
	}
	p.nested++
	if p.first == nil {
		p.first = &RowError{Ref: e.ref, Column: col, Rule: RuleSeparatorInFewRows, UserID: e.userid,
			Message: fmt.Sprintf("%q is split at %q into nested departments", nested, sep)}
		p.firstSeq = int(e.seq)
	}
}

// warning is the separator warning, or nil when most paths are nested (a
// real path column) or none are.
func (p *pathShape) warning(sep string) (int, *RowError) {
	if p.first == nil || p.nested >= p.flat {
		return 0, nil
	}
	w := *p.first
	w.Message = fmt.Sprintf("%s, but only %d of %d rows have a path with %q: if %q is part of department names here, set departments.separator to a character they do not use",
		w.Message, p.nested, p.nested+p.flat, sep, sep)
	return p.firstSeq, &w
}

// entry is an accepted row. It keeps the member in a compact form and
// Directory builds the Member: a Record is mostly empty fields, and a
// feed's worth of them would otherwise be held twice while Directory
// copies them out.
type entry struct {
	seq     int32 // 1-based position among the rows added, to order rejects
	leaver  bool
	enabled bool
	ref     string
	userid  string
	// text packs (see texts) the values of Mapper.text, in its order, and
	// after them direct_leader as written (leaders), resolved in Directory.
	text   string
	places []placement // the member's departments, shared with rows of the same cell
	tags   []string    // the WeCom tags the row gives the member, sorted
	more   *entryMore  // nil unless the row sets one of its fields
}

// entryMore are the member fields few rows set.
type entryMore struct {
	isLeader []int
	order    []uint32
	mainDept string
	extAttr  json.RawMessage
	toInvite *bool
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
		fields:    map[string]*field{},
		dept:      newDeptRules(cfg.Departments),
		byUserID:  map[string]int{},
		byMobile:  map[string]int{},
		byEmail:   map[string]int{},
		byBizMail: map[string]int{},

		rejectedIDs: map[string]*RowError{},
		placed:      map[string][]placement{},

		onUnknownLeader: cmp.Or(cfg.OnUnknownLeader, LeaderKeep),
		maxLeaders:      cmp.Or(cfg.MaxDirectLeaders, defaultMaxDirectLeaders),
	}
	// Validate has checked every template, regex and layout, so the
	// compile errors below cannot happen; they are passed on rather than
	// ignored all the same.
	for name, f := range cfg.Fields {
		if len(f.OneOf) > 0 {
			// Read unresolved, the field would find no column and clear
			// what WeCom holds on every row.
			return nil, fmt.Errorf("mapping config: fields.%s names columns %s: resolve them against the source's header (Config.ForHeader) first", name, strings.Join(f.OneOf, ", "))
		}
		c, err := compileField(name, f)
		if err != nil {
			return nil, fmt.Errorf("mapping config: fields.%s: %w", name, err)
		}
		m.fields[name] = c
	}
	for _, t := range member.TextFields {
		if m.fields[t.Name] != nil {
			m.text = append(m.text, t)
		}
	}
	if cfg.Status != nil {
		c, err := compileField("status", *cfg.Status)
		if err != nil {
			return nil, fmt.Errorf("mapping config: status: %w", err)
		}
		m.status = c
	}
	attrs, err := compileAttrs(cfg.ExtAttr)
	if err != nil {
		return nil, fmt.Errorf("mapping config: extattr: %w", err)
	}
	m.attrs = attrs
	m.tags = newTagger(cfg.Tags)
	switch {
	case cfg.Departments.Table != nil:
		m.table = newDeptTable(cfg.Departments)
	case cfg.Departments.CodeColumn != "":
		m.codes = newCodeIndex()
	}
	return m, nil
}

// AddDepartmentRow reads one row of the department table. Every
// department row must come before the first member row (Add), because a
// member's departments are checked as the member is added. A bad
// department row becomes a RowError in Directory; the error returned here
// is only for misuse: no departments.table in the config, or a call after
// Add.
func (m *Mapper) AddDepartmentRow(row Row) error {
	if m.table == nil {
		return errors.New("add department row: the mapping has no departments.table")
	}
	if err := m.table.add(row); err != nil {
		return fmt.Errorf("add department row %s: %w", row.Ref, err)
	}
	return nil
}

// Add maps one row: it becomes a member or a RowError. Feed-level rules
// that need only earlier rows (duplicates) are applied here; the ones that
// need the whole feed (unknown_leader) wait for Directory.
func (m *Mapper) Add(row Row) {
	if m.spent {
		panic("mapper: Add after TakeDirectory")
	}
	if m.table != nil {
		m.table.seal()
	}
	m.rows++
	seq := m.rows
	e, rerr := m.mapRow(row)
	if rerr != nil {
		userid := ""
		// A row the source could not trust as a whole (a wrong field count
		// shifts every column) names nobody; one bad cell elsewhere in the
		// row still leaves its userid readable.
		trusted := row.Problem == "" || (row.ProblemColumn != "" && row.ProblemColumn != m.column(FieldUserID))
		if f := m.fields[FieldUserID]; f != nil && trusted {
			if v, err := f.value(row); err == nil {
				if rule, _ := checkUserid(v); rule == "" {
					userid = v
				}
			}
		}
		m.rejectRow(seq, rerr, userid)
		return
	}
	e.seq = int32(seq)
	if m.table == nil {
		m.paths.add(e, m.deptColumn(), m.dept.Separator)
	}
	m.accept(e)
}

// column is the source column of a member field, for RowError.Column.
func (m *Mapper) column(name string) string {
	if f := m.fields[name]; f != nil {
		return f.label
	}
	return ""
}

// deptColumn is the member column that names departments.
func (m *Mapper) deptColumn() string {
	if m.table != nil {
		return m.dept.DepartmentCodeColumn
	}
	return m.dept.PathColumn
}

func (m *Mapper) mapRow(row Row) (*entry, *RowError) {
	if row.Problem != "" {
		rule := cmp.Or(row.ProblemRule, RuleRaggedRow)
		return nil, &RowError{Ref: row.Ref, Column: row.ProblemColumn, Rule: rule, Message: row.Problem}
	}
	vals := map[string]string{}
	// lists holds the per-department fields whose cell has several parts;
	// a single value is in vals, like any other field.
	var lists map[string][]string
	deptParts := func() int { return len(m.dept.split(row.Values[m.deptColumn()], 0)) }
	check := func(name string) *RowError {
		f := m.fields[name]
		if f == nil {
			return nil
		}
		raw := f.raw(row)
		if slices.Contains(perDepartment, name) && m.dept.Multi != "" && strings.Contains(raw, m.dept.Multi) {
			return m.checkList(row.Ref, f, m.dept.split(raw, deptParts()), &lists)
		}
		v, rerr := f.clean(row.Ref, raw)
		if rerr != nil {
			return rerr
		}
		if rule, msg := checkValue(name, v); rule != "" {
			return &RowError{Ref: row.Ref, Column: f.label, Rule: rule, Message: msg}
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
		e := &entry{ref: row.Ref, userid: strings.Clone(vals[FieldUserID]), leaver: true}
		if f := m.fields[FieldName]; f != nil {
			if v, rerr := f.value(row); rerr == nil {
				e.text = m.texts(map[string]string{FieldName: v})
			}
		}
		return e, nil
	}

	for _, name := range memberFields[1:] {
		if rerr := check(name); rerr != nil {
			return nil, rerr
		}
	}
	attrs := make([]ExtAttr, 0, len(m.attrs))
	for _, a := range m.attrs {
		v, rerr := a.value(row)
		if rerr != nil {
			return nil, rerr
		}
		attrs = append(attrs, v)
	}
	tags, rerr := m.tags.tags(row)
	if rerr != nil {
		return nil, rerr
	}
	leaders, rerr := m.directLeaders(row.Ref, vals[FieldUserID], vals[FieldDirectLeader])
	if rerr != nil {
		return nil, rerr
	}
	places, rerr := m.placements(row, lists)
	if rerr != nil {
		return nil, rerr
	}
	mainKey := ""
	if v := vals[FieldMainDepartment]; v != "" {
		if mainKey = m.mainKey(v); !slices.ContainsFunc(places, func(p placement) bool { return p.key == mainKey }) {
			return nil, &RowError{Ref: row.Ref, Column: m.column(FieldMainDepartment), Rule: RuleMainDepartmentNotMember,
				Message: fmt.Sprintf("main department %q is not one of the member's departments (%s)", v, m.deptColumn())}
		}
	}
	if vals[FieldMobile] == "" && vals[FieldEmail] == "" {
		return nil, &RowError{Ref: row.Ref, Rule: RuleMobileOrEmail,
			Message: fmt.Sprintf("mobile (%s) and email (%s) are both empty; WeCom needs one (60129)", m.column(FieldMobile), m.column(FieldEmail))}
	}
	// The entry's strings are copies: a value cut from the source's line
	// would keep the whole line, unmapped columns and all, until the end.
	e := &entry{ref: row.Ref, userid: strings.Clone(vals[FieldUserID]), enabled: vals[FieldEnable] != "0", text: m.texts(vals, leaders...), places: places, tags: tags}
	m.more(e, vals, lists, mainKey, attrs)
	return e, nil
}

// checkList cleans and checks each part of a per-department cell.
func (m *Mapper) checkList(ref string, f *field, parts []string, lists *map[string][]string) *RowError {
	vs := make([]string, len(parts))
	set := false
	for i, p := range parts {
		v, rerr := f.clean(ref, strings.TrimSpace(p))
		if rerr != nil {
			return rerr
		}
		if rule, msg := checkValue(f.name, v); rule != "" {
			return &RowError{Ref: ref, Column: f.label, Rule: rule, Message: msg}
		}
		vs[i] = v
		set = set || v != ""
	}
	if set {
		if *lists == nil {
			*lists = map[string][]string{}
		}
		(*lists)[f.name] = vs
	}
	return nil
}

// placements reads the member's departments and lines up the
// per-department columns with them. A per-department column holds either
// one value, meaning every department, or exactly one per part of the
// department cell: WeCom rejects lists of different lengths (60132), and
// guessing which value belongs where would put the leader flag on the
// wrong department.
func (m *Mapper) placements(row Row, lists map[string][]string) ([]placement, *RowError) {
	col := m.deptColumn()
	cell := row.Values[col]
	parts := m.dept.split(cell, 0)
	seen := cell
	if m.codes != nil {
		seen += "\x00" + row.Values[m.dept.CodeColumn]
	}
	places, known := m.placed[seen]
	if !known {
		var rule, msg string
		if m.table != nil {
			places, rule, msg = m.table.places(parts)
		} else {
			places, rule, msg = m.dept.parse(parts)
		}
		if rule != "" {
			return nil, &RowError{Ref: row.Ref, Column: col, Rule: rule, Message: msg}
		}
	}
	for _, name := range perDepartment {
		if vs := lists[name]; vs != nil && len(vs) != 1 && len(vs) != len(parts) {
			return nil, &RowError{Ref: row.Ref, Column: m.column(name), Rule: countRules[name],
				Message: fmt.Sprintf("%s has %d values but %s has %d entries; give one value, or one per entry (60132)", name, len(vs), col, len(parts))}
		}
	}
	if known {
		return places, nil
	}
	if m.codes != nil {
		cc := m.dept.CodeColumn
		if cell := row.Values[cc]; strings.TrimSpace(cell) != "" {
			codes := m.dept.split(cell, len(parts))
			if len(codes) != len(parts) {
				return nil, &RowError{Ref: row.Ref, Column: cc, Rule: RuleDepartmentCodeCount,
					Message: fmt.Sprintf("%d codes but %s has %d entries; give one code per entry", len(codes), col, len(parts))}
			}
			for i := range places {
				places[i].code = strings.TrimSpace(codes[places[i].part])
			}
		}
	}
	m.placed[seen] = places
	return places, nil
}

// countRules are the count-mismatch rules of the per-department fields.
var countRules = map[string]string{FieldIsLeader: RuleIsLeaderCount, FieldOrder: RuleOrderCount}

// mainKey turns a main_department value into the key placements use.
func (m *Mapper) mainKey(v string) string {
	if m.table != nil {
		return strings.TrimSpace(v)
	}
	segs, _ := m.dept.pathSegs(v)
	return strings.Join(segs, keySep)
}

func (m *Mapper) leaver(row Row) (bool, *RowError) {
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
	return false, &RowError{Ref: row.Ref, Column: m.status.label, Rule: RuleStatusValue,
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
	if len(out) > m.maxLeaders {
		return nil, &RowError{Ref: ref, Column: col, Rule: RuleDirectLeaderCount,
			Message: fmt.Sprintf("%d direct leaders, WeCom allows %d (60257; mapping.max_direct_leaders)", len(out), m.maxLeaders)}
	}
	return out, nil
}

// texts are the values of the mapped text fields, in Mapper.text's order,
// and then the leaders, packed into one string.
func (m *Mapper) texts(vals map[string]string, leaders ...string) string {
	// Sized exactly: grown by doubling, the packing would cost up to twice
	// its length, for every row of the feed.
	size := 0
	each := func(f func(v string)) {
		for _, t := range m.text {
			f(vals[t.Name])
		}
		for _, l := range leaders {
			f(l)
		}
	}
	each(func(v string) {
		size += len(v) + 1
		for n := len(v); n >= 0x80; n >>= 7 {
			size++ // the uvarint's further bytes
		}
	})
	var b strings.Builder
	b.Grow(size)
	var n [binary.MaxVarintLen64]byte
	each(func(v string) {
		b.Write(n[:binary.PutUvarint(n[:], uint64(len(v)))])
		b.WriteString(v)
	})
	return b.String()
}

// leaders is e's direct_leader as written.
func (m *Mapper) leaders(e *entry) []string {
	v, rest := "", e.text
	for range m.text {
		_, rest = nextText(rest)
	}
	var out []string
	for rest != "" {
		v, rest = nextText(rest)
		out = append(out, v)
	}
	return out
}

// nextText splits the first value off what texts packed: each value
// follows its length as a uvarint, so an entry's values cost one
// allocation, where a slice of strings costs its own array and a header
// per value. An empty or exhausted packing gives "".
func nextText(packed string) (v, rest string) {
	n, w := binary.Uvarint([]byte(packed[:min(len(packed), binary.MaxVarintLen64)]))
	if w <= 0 || n > uint64(len(packed)-w) {
		return "", ""
	}
	end := w + int(n)
	return packed[w:end], packed[end:]
}

// textAt is the i-th value packed by texts.
func textAt(packed string, i int) string {
	v, rest := nextText(packed)
	for ; i > 0; i-- {
		v, rest = nextText(rest)
	}
	return v
}

// textOf is e's value of a text field, "" when the mapping has no such field.
func (m *Mapper) textOf(e *entry, name string) string {
	for i, t := range m.text {
		if t.Name == name {
			return textAt(e.text, i)
		}
	}
	return ""
}

// more sets e's rarely mapped fields, when the row has any.
func (m *Mapper) more(e *entry, vals map[string]string, lists map[string][]string, mainKey string, attrs []ExtAttr) {
	// checkValue has vetted every value parsed below, so errors cannot occur.
	x := entryMore{mainDept: mainKey}
	x.isLeader = perPlace(vals[FieldIsLeader], lists[FieldIsLeader], e.places, func(v string) int {
		n, _ := strconv.Atoi(v)
		return n
	})
	x.order = perPlace(vals[FieldOrder], lists[FieldOrder], e.places, func(v string) uint32 {
		n, _ := strconv.ParseUint(v, 10, 32)
		return uint32(n)
	})
	if v := vals[FieldToInvite]; v != "" {
		b := v == "true"
		x.toInvite = &b
	}
	if len(attrs) > 0 {
		x.extAttr, _ = json.Marshal(attrs) // plain strings and ints always encode
	}
	if x.isLeader != nil || x.order != nil || x.toInvite != nil || x.extAttr != nil || x.mainDept != "" {
		e.more = &x
	}
}

// record writes e's record into r, to be encoded, departments named by
// the keys resolve gives their path keys.
func (m *Mapper) record(r *member.Record, e *entry, resolve func(string) string) {
	*r = member.Record{UserID: e.userid, Enabled: e.enabled}
	v, rest := "", e.text
	for _, t := range m.text {
		v, rest = nextText(rest)
		t.Set(r, v)
	}
	if !e.leaver {
		r.DeptKeys = make([]string, len(e.places))
		for i, p := range e.places {
			r.DeptKeys[i] = resolve(p.key)
		}
	}
	if x := e.more; x != nil {
		r.IsLeader, r.Order, r.ExtAttr, r.ToInvite = x.isLeader, x.order, x.extAttr, x.toInvite
		if x.mainDept != "" {
			r.MainDept = resolve(x.mainDept)
		}
	}
}

// perPlace gives each department its value of a per-department field: the
// single value for all of them, or the one at the department's position
// in the cell. An empty part means 0, WeCom's default. nil when the field
// is unset.
func perPlace[T any](single string, list []string, places []placement, parse func(string) T) []T {
	if single == "" && list == nil {
		return nil
	}
	out := make([]T, len(places))
	for i, p := range places {
		v := single
		if list != nil {
			v = list[p.part]
		}
		if v != "" {
			out[i] = parse(v)
		}
	}
	return out
}

// accept applies the duplicate rules against earlier accepted rows. The
// later row loses, except that an active row beats a leaver row for the
// same userid: a rehire listed twice must stay enabled.
func (m *Mapper) accept(e *entry) {
	mobile, email, bizMail := m.textOf(e, FieldMobile), m.textOf(e, FieldEmail), m.textOf(e, FieldBizMail)
	superseded := -1
	if i, dup := m.byUserID[useridKey(e.userid)]; dup {
		first := m.entries[i]
		if !first.leaver || e.leaver {
			m.rejectDup(e, RuleDuplicateUserid, FieldUserID, "userid", e.userid, first)
			return
		}
		superseded = i
	}
	if !e.leaver {
		// Leavers keep no claim on a number or address: both are often
		// handed on to someone else.
		if i, dup := m.byMobile[mobileKey(mobile)]; dup && mobile != "" {
			m.rejectDup(e, RuleDuplicateMobile, FieldMobile, "mobile", mobile, m.entries[i])
			return
		}
		if i, dup := m.byEmail[emailKey(email)]; dup && email != "" {
			m.rejectDup(e, RuleDuplicateEmail, FieldEmail, "email", email, m.entries[i])
			return
		}
		if i, dup := m.byBizMail[emailKey(bizMail)]; dup && bizMail != "" {
			m.rejectDup(e, RuleDuplicateBizMail, FieldBizMail, "biz_mail", bizMail, m.entries[i])
			return
		}
		if m.codes != nil {
			if msg := m.codes.conflict(e.places); msg != "" {
				m.rejectRow(int(e.seq), &RowError{Ref: e.ref, Column: m.dept.CodeColumn, Rule: RuleDepartmentCodeConflict, Message: msg}, e.userid)
				return
			}
		}
	}
	if superseded >= 0 {
		old := m.entries[superseded]
		m.rejects = append(m.rejects, reject{int(old.seq), &RowError{
			Ref: old.ref, Column: m.column(FieldUserID), Rule: RuleDuplicateUserid, UserID: old.userid,
			Message: fmt.Sprintf("userid %q is also on row %s, which is active and wins over this leaver row", old.userid, e.ref),
		}})
		m.entries[superseded] = nil
	}
	idx := len(m.entries)
	m.entries = append(m.entries, e)
	m.byUserID[useridKey(e.userid)] = idx
	if !e.leaver {
		if mobile != "" {
			m.byMobile[mobileKey(mobile)] = idx
		}
		if email != "" {
			m.byEmail[emailKey(email)] = idx
		}
		if bizMail != "" {
			m.byBizMail[emailKey(bizMail)] = idx
		}
		if m.codes != nil {
			m.codes.claim(e.ref, e.places)
		}
	}
}

func (m *Mapper) rejectDup(e *entry, rule, field, what, value string, first *entry) {
	m.rejectRow(int(e.seq), &RowError{
		Ref: e.ref, Column: m.column(field), Rule: rule,
		Message: fmt.Sprintf("%s %q is already used by row %s", what, value, first.ref),
	}, e.userid)
}

// rejectRow records a rejected row. userid, when the row had a valid one,
// is remembered so that a member naming it as direct leader is told which
// row to fix rather than that the manager is missing.
func (m *Mapper) rejectRow(seq int, rerr *RowError, userid string) {
	rerr.UserID = userid
	m.rejects = append(m.rejects, reject{seq, rerr})
	if userid == "" {
		return
	}
	if _, seen := m.rejectedIDs[useridKey(userid)]; !seen {
		m.rejectedIDs[useridKey(userid)] = rerr
	}
}

// Directory applies the whole-feed rules and returns the desired
// directory. It does not change the Mapper, except that it closes the
// department table as Add does: calling it twice, or adding member rows
// after it, is fine.
func (m *Mapper) Directory() Directory { return m.directory(false) }

// TakeDirectory is Directory for the mapper's last call: it releases each
// row as soon as its member is packed, so a large feed is not held twice,
// as rows and as members, at the end of a read. The Mapper is spent: it
// holds no rows afterwards and must not be used again.
func (m *Mapper) TakeDirectory() Directory { return m.directory(true) }

func (m *Mapper) directory(release bool) Directory {
	if m.spent {
		panic("mapper: Directory after TakeDirectory")
	}
	if m.table != nil {
		m.table.seal()
	}
	resolve := func(k string) string { return k }
	if m.codes != nil {
		resolve = m.codes.resolve
	}
	var live []*entry
	for _, e := range m.entries {
		if e != nil {
			live = append(live, e)
		}
	}

	// A row rejected for its leader may itself be someone's leader, so the
	// rejection spreads down the reporting lines. A worklist over a reverse
	// index keeps that linear: a long chain under a missing top (a rejected
	// CEO row) would otherwise take one pass over the feed per level.
	rejects := slices.Clone(m.rejects)
	var warnings []reject
	dropped := map[*entry]bool{}
	var queue []*entry
	drop := func(e *entry, msg string) {
		dropped[e] = true
		queue = append(queue, e)
		rejects = append(rejects, reject{int(e.seq), &RowError{
			Ref: e.ref, Column: m.column(FieldDirectLeader), Rule: RuleUnknownLeader, Message: msg,
			UserID: e.userid,
		}})
	}
	// Under keep and drop a leader problem stays with the member's
	// direct_leader, so nothing spreads; the member is applied with a warning.
	kept := map[*entry][]string{} // entry -> the leaders it may be sent with (drop)
	for _, e := range live {
		if e.leaver {
			continue
		}
		msg := m.leaderProblem(e, dropped)
		if msg == "" {
			continue
		}
		switch m.onUnknownLeader {
		case LeaderReject:
			drop(e, msg)
		case LeaderDrop:
			kept[e] = slices.DeleteFunc(m.leaders(e), func(l string) bool {
				le, ok := m.accepted(l)
				return !ok || le.leaver
			})
			warnings = append(warnings, reject{int(e.seq), &RowError{Ref: e.ref, Column: m.column(FieldDirectLeader), Rule: RuleLeaderDropped,
				Message: msg + "; the member is applied without that leader (on_unknown_leader: drop)", UserID: e.userid}})
		default:
			kept[e] = nil
			warnings = append(warnings, reject{int(e.seq), &RowError{Ref: e.ref, Column: m.column(FieldDirectLeader), Rule: RuleLeaderKept,
				Message: msg + "; the rest of the row is applied and direct_leader stays as WeCom has it (on_unknown_leader: keep)", UserID: e.userid}})
		}
	}
	// The reverse index costs an entry per led member, so it is built only
	// when a rejection has to spread.
	reports := map[string][]*entry{} // leader key -> active rows naming it
	if len(queue) > 0 {
		for _, e := range live {
			if !e.leaver {
				for _, l := range m.leaders(e) {
					reports[useridKey(l)] = append(reports[useridKey(l)], e)
				}
			}
		}
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		for _, e := range reports[useridKey(d.userid)] {
			if !dropped[e] {
				drop(e, m.leaderProblem(e, dropped))
			}
		}
	}

	// Sized up front: growing the slice by doubling would copy a
	// 100k-member directory several times over.
	dir := Directory{Rows: m.rows, Members: make([]Member, 0, len(live)-len(dropped)), TagsMapped: m.tags != nil}
	for _, name := range memberFields {
		if m.fields[name] != nil {
			dir.Fields = append(dir.Fields, name)
		}
	}
	if len(m.attrs) > 0 {
		dir.Fields = append(dir.Fields, "extattr")
	}
	if m.table != nil {
		// Every accepted department of the table, members or not: the table
		// is the org chart, and a department HR just opened is meant to be
		// there before anyone moves in.
		dir.Departments = slices.Clone(m.table.out)
		dir.DepartmentRows = m.table.rows
		dir.Rejects = slices.Clone(m.table.rejects)
	} else {
		var active []*entry
		for _, e := range live {
			if !dropped[e] && !e.leaver {
				active = append(active, e)
			}
		}
		dir.Departments = tree(active, resolve)
	}
	// WeCom matches userids case-insensitively; each member is sent with
	// its leaders (those kept, under a leader problem) spelled as the feed
	// spells them on the leaders' own rows.
	spell := func(e *entry, written []string) []string {
		leaders := written
		if ok, problem := kept[e]; problem {
			leaders = ok
		}
		if len(leaders) == 0 {
			return nil
		}
		spelled := make([]string, len(leaders))
		for i, l := range leaders {
			le, _ := m.accepted(l)
			spelled[i] = le.userid
		}
		return spelled
	}
	sent := func(e *entry) []string { return spell(e, m.leaders(e)) }
	if release {
		// Every row's leaders are looked up before any row goes, and kept
		// aside where they differ from what the row says (a leader's row
		// spells the userid another way, or a leader is left out); then the
		// indexes are done with, and live would keep every row.
		respelled := map[*entry][]string{}
		for _, e := range live {
			if dropped[e] {
				continue
			}
			written := m.leaders(e)
			if s := spell(e, written); !slices.Equal(s, written) {
				respelled[e] = s
			}
		}
		sent = func(e *entry) []string {
			if s, ok := respelled[e]; ok {
				return s
			}
			return m.leaders(e)
		}
		m.byUserID, m.byMobile, m.byEmail, m.byBizMail, m.rejectedIDs = nil, nil, nil, nil, nil
		live = nil
	}
	var r member.Record // one for all: members keep only its encoding
	for i, e := range m.entries {
		if e == nil || dropped[e] {
			continue
		}
		m.record(&r, e, resolve)
		r.DirectLeader = sent(e)
		mem := pack(&r)
		mem.Leaver, mem.Ref, mem.Tags = e.leaver, e.ref, e.tags
		if _, problem := kept[e]; problem {
			mem.LeaderKept = m.onUnknownLeader != LeaderDrop
		}
		dir.Members = append(dir.Members, mem)
		if release {
			m.entries[i] = nil
		}
	}
	if release {
		m.entries, m.spent = nil, true
	}

	slices.SortStableFunc(rejects, func(a, b reject) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range rejects {
		dir.Rejects = append(dir.Rejects, r.err)
	}
	if seq, w := m.paths.warning(m.dept.Separator); w != nil {
		warnings = append(warnings, reject{seq, w})
	}
	slices.SortStableFunc(warnings, func(a, b reject) int { return cmp.Compare(a.seq, b.seq) })
	for _, w := range warnings {
		dir.Warnings = append(dir.Warnings, w.err)
	}
	return dir
}

// accepted is the accepted row of a userid, if any.
func (m *Mapper) accepted(userid string) (*entry, bool) {
	i, ok := m.byUserID[useridKey(userid)]
	if !ok {
		return nil, false
	}
	return m.entries[i], true
}

// leaderProblem says why one of e's direct leaders cannot be set, or "".
func (m *Mapper) leaderProblem(e *entry, dropped map[*entry]bool) string {
	for _, l := range m.leaders(e) {
		le, ok := m.accepted(l)
		switch {
		case !ok:
			if rerr := m.rejectedIDs[useridKey(l)]; rerr != nil {
				return fmt.Sprintf("direct leader %q is on row %s, which was rejected (%s)", l, rerr.Ref, rerr.Rule)
			}
			return fmt.Sprintf("direct leader %q is not in this feed: no row has that userid, and WeCom only accepts a leader who exists", l)
		case le.leaver:
			return fmt.Sprintf("direct leader %q is a leaver (row %s)", l, le.ref)
		case dropped[le]:
			return fmt.Sprintf("direct leader %q was rejected (row %s, unknown_leader)", l, le.ref)
		}
	}
	return ""
}
