package mapper

import (
	"fmt"

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

// Member is one desired member: Record is what the feed wants WeCom to
// hold, with departments named by Key (in feed order) because WeCom ids
// are only known to the planner; MainDept is one of those keys, or "" for
// WeCom's default (the first department); ExtAttr lists the configured
// attributes sorted by name, each present even when empty (an empty value
// clears it in WeCom), or is nil when none are configured.
type Member struct {
	member.Record
	// Leaver is true when the feed marks the person as gone (e.g. 离职);
	// the planner applies the leavers policy to them. Only UserID and
	// Name are read from a leaver's row.
	Leaver bool
	Ref    string

	// Tags are the WeCom tags the row gives the member, sorted; a leaver's
	// row gives none (the planner leaves a leaver's tags as they are).
	Tags []string

	// LeaderKept is set when the row names a direct leader the feed cannot
	// vouch for and the policy is LeaderKeep: DirectLeader is then empty
	// and means "leave it as WeCom holds it", not "clear it".
	LeaderKept bool
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
