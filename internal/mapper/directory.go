package mapper

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hrfeed/importer/internal/member"
)

// Department is one node of the desired tree. Key is stable across runs:
// the full path from the feed's top ("总部/研发中心/后端组"), or the HR code
// when the feed has one (departments.table, or code_column for the
// department a path ends in), which also survives renames and moves. Use
// Depth and ParentKey for the tree's shape, never the Key's text.
type Department struct {
	Key       string
	Name      string
	ParentKey string // "" for a top-level department (child of WeCom's root, id 1)
	Order     uint32
	Depth     int    // 1 for top-level departments; WeCom's root is depth 0 here
	Ref       string // first row that mentioned it
}

// Member is one desired member. Its record is what the feed wants WeCom
// to hold, with departments named by Key (in feed order) because WeCom
// ids are only known to the planner; MainDept is one of those keys, or ""
// for WeCom's default (the first department); ExtAttr lists the
// configured attributes sorted by name, each present even when empty (an
// empty value clears it in WeCom), or is nil when none are configured.
//
// The record is kept in its canonical encoding (member.Record.JSON),
// which is also what its digest is taken of: a directory holds a member
// for every row of the feed, a Record value is mostly empty fields, and
// the planner reads the fields of only the few members that changed.
type Member struct {
	// Leaver is true when the feed marks the person as gone (e.g. 离职);
	// the planner applies the leavers policy to them. Only UserID and
	// Name are read from a leaver's row.
	Leaver bool
	Ref    string

	// Tags are the WeCom tags the row gives the member, sorted; a leaver's
	// row gives none (the planner leaves a leaver's tags as they are).
	// They are kept beside the record, not in it: they are no part of what
	// user/update sends, so no part of the member's digest either.
	Tags []string

	// LeaderKept is set when the row names a direct leader the feed cannot
	// vouch for and the policy is LeaderKeep: DirectLeader is then empty
	// and means "leave it as WeCom holds it", not "clear it".
	LeaderKept bool

	userid   string
	record   []byte // member.Record.JSON
	toInvite *bool  // not part of the encoding: it only matters to a create
}

// NewMember holds r as a directory's member. r's ExtAttr must be JSON,
// as the mapper makes it: a record that does not encode has no fields to
// give back.
func NewMember(r member.Record) Member { return pack(&r) }

// pack encodes r, which it does not keep. The userid is copied out: it is
// usually a piece of the source row, which it would otherwise keep alive.
func pack(r *member.Record) Member {
	return Member{userid: strings.Clone(r.UserID), record: r.JSON(), toInvite: r.ToInvite}
}

// UserID is the record's userid, without decoding it.
func (m Member) UserID() string { return m.userid }

// Digest is the digest of the record's canonical encoding, which the
// journal keeps of what it pushed (member.Record.Digest).
func (m Member) Digest() member.Digest { return sha256.Sum256(m.record) }

// Record decodes the member's record into a new one the caller may keep:
// the plan keeps it as the call's record rather than copying it.
func (m Member) Record() *member.Record {
	r := new(member.Record)
	_ = json.Unmarshal(m.record, r) // an encoding NewMember made decodes
	r.ToInvite = m.toInvite
	return r
}

// Text is one text field of the record (by its Name), read without
// decoding the rest.
func (m Member) Text(name string) string {
	v, _ := member.TextValue(m.record, name) // an encoding NewMember made parses
	return v
}

// MarshalJSON writes the member as its record's fields followed by its
// own: the shape it has as a struct holding its Record.
func (m Member) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		member.Record
		Leaver     bool
		Ref        string
		Tags       []string
		LeaderKept bool
	}{*m.Record(), m.Leaver, m.Ref, m.Tags, m.LeaderKept})
}

// Edit changes the member's record.
func (m *Member) Edit(change func(*member.Record)) {
	r := m.Record()
	change(r)
	p := pack(r)
	m.userid, m.record, m.toInvite = p.userid, p.record, p.toInvite
}

// Directory is what the feed says the directory should hold.
type Directory struct {
	Departments []Department // parents before children
	Members     []Member     // feed order
	// Rejects are the rows refused; a member whose row is refused is held:
	// the planner leaves them exactly as WeCom has them.
	Rejects []*RowError
	// Warnings are rows applied with a caveat (a direct leader kept as
	// WeCom holds it, or dropped); they are not rejects.
	Warnings []*RowError
	// Fields names the member fields the mapping sets (its fields keys,
	// and extattr when attributes are configured): what adopting a member
	// WeCom already has may overwrite. A field the mapping does not name
	// is none of the feed's business.
	Fields []string
	// TagsMapped says the mapping has tag rules, so each member's Tags is
	// the whole of what the feed wants; without them tags are none of the
	// feed's business.
	TagsMapped bool
	Rows       int // data rows seen
	// DepartmentRows is the number of department-table rows seen; their
	// rejects come first in Rejects, in table order.
	DepartmentRows int
}

// RowError is a rejected row: which row, which column, which rule.
type RowError struct {
	Ref     string // source row reference, e.g. "staff.csv:12"
	Column  string // source column, "" when the rule is about the whole row
	Rule    string // short stable rule id, e.g. "mobile_format", "duplicate_userid"
	Message string // human sentence, may include the offending value (never a secret)
	// UserID is the member the rejected row is about, when its userid
	// could be read; "" means the row's person cannot be told, so the run
	// cannot tell who is absent from the feed either.
	UserID string
	// DeptKey is, for a department-table row, the department it is about
	// when its id could be read.
	DeptKey string
}

// Readable reports whether the rejected row still names its subject (a
// member, or a department-table row), so that subject can be held.
func (e *RowError) Readable() bool { return e.UserID != "" || e.DeptKey != "" }

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s: %s: %s", e.Ref, e.Rule, e.Message)
	}
	return fmt.Sprintf("%s: column %q: %s: %s", e.Ref, e.Column, e.Rule, e.Message)
}
