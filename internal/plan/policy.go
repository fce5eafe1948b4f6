package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Leaver policies: what happens to a member the feed marks as gone or no
// longer lists.
const (
	LeaversDisable = "disable"
	LeaversDelete  = "delete"
	LeaversIgnore  = "ignore"
)

// Scopes: which WeCom members a run may remove.
const (
	// ScopeManaged removes only members this importer created or adopted
	// (those in the journal's state).
	ScopeManaged = "managed"
	// ScopeAuthoritative treats the feed as the whole truth: any live
	// member it does not list is a leaver.
	ScopeAuthoritative = "authoritative"
)

// Policy is a job's safety and leaver rules.
type Policy struct {
	Leavers              string
	Scope                string
	ProtectedUsers       []string
	ProtectedDepartments []string // HR department keys
	// TagsScope says which of the corp's tags the feed's tag rules may
	// change: ScopeManaged (default) only the tags this importer created;
	// ScopeAuthoritative also adopts a tag the feed names that someone else
	// made, which the feed then fills and empties like the importer's own
	// (it is never deleted).
	TagsScope string
	// ProtectedTags are tag names the plan never creates, changes or deletes.
	ProtectedTags []string
	// MaxDeleteRatio refuses a plan that disables or deletes more than this
	// share of the directory's members. 0 means the default 0.2; a
	// negative value turns the ratio rule off.
	MaxDeleteRatio float64
	// MaxDeleteCount refuses a plan that disables or deletes more than this
	// many members. 0 means no count rule.
	MaxDeleteCount int
	// MaxRejectRatio refuses a run when more than this share of the feed's
	// rows is rejected: an export in the wrong encoding, with the wrong
	// separator, or cut short rejects most of its rows, and acting on the
	// rest would be acting on a broken file. 0 means the default 0.1; a
	// negative value turns the rule off. It applies only once more than
	// rejectRatioFloor rows are rejected, so a five-row spreadsheet with
	// one typo still runs.
	MaxRejectRatio float64
	// MaxRejectCount refuses a run with more than this many rejected rows.
	// 0 means no count rule.
	MaxRejectCount int
}

// rejectRatioFloor is how many rejected rows the ratio rule tolerates
// whatever the feed's size.
const rejectRatioFloor = 3

// WithDefaults fills unset fields.
func (p Policy) WithDefaults() Policy {
	if p.Leavers == "" {
		p.Leavers = LeaversDisable
	}
	if p.Scope == "" {
		p.Scope = ScopeManaged
	}
	if p.TagsScope == "" {
		p.TagsScope = ScopeManaged
	}
	if p.MaxDeleteRatio == 0 {
		p.MaxDeleteRatio = 0.2
	}
	if p.MaxRejectRatio == 0 {
		p.MaxRejectRatio = 0.1
	}
	return p
}

// Validate reports a policy a person mistyped.
func (p Policy) Validate() error {
	p = p.WithDefaults()
	switch p.Leavers {
	case LeaversDisable, LeaversDelete, LeaversIgnore:
	default:
		return fmt.Errorf("policy.leavers %q: want disable, delete or ignore", p.Leavers)
	}
	switch p.Scope {
	case ScopeManaged, ScopeAuthoritative:
	default:
		return fmt.Errorf("policy.scope %q: want managed or authoritative", p.Scope)
	}
	switch p.TagsScope {
	case ScopeManaged, ScopeAuthoritative:
	default:
		return fmt.Errorf("policy.tags_scope %q: want managed or authoritative", p.TagsScope)
	}
	if p.MaxDeleteRatio > 1 {
		return fmt.Errorf("policy.max_delete_ratio %v: want a share between 0 and 1", p.MaxDeleteRatio)
	}
	if p.MaxDeleteCount < 0 {
		return fmt.Errorf("policy.max_delete_count %d: want 0 or more", p.MaxDeleteCount)
	}
	if p.MaxRejectRatio > 1 {
		return fmt.Errorf("policy.max_reject_ratio %v: want a share between 0 and 1", p.MaxRejectRatio)
	}
	if p.MaxRejectCount < 0 {
		return fmt.Errorf("policy.max_reject_count %d: want 0 or more", p.MaxRejectCount)
	}
	return nil
}

func (p Policy) protectedUser(userid string) bool {
	for _, u := range p.ProtectedUsers {
		if strings.EqualFold(u, userid) {
			return true
		}
	}
	return false
}

func (p Policy) protectedTag(name string) bool {
	return slices.Contains(p.ProtectedTags, name)
}

func (p Policy) protectedDept(key string) bool {
	for _, k := range p.ProtectedDepartments {
		if k == key {
			return true
		}
	}
	return false
}

// Guards that can refuse a plan.
const (
	GuardMassChange = "mass_change" // too many members disabled or deleted
	GuardRejects    = "rejects"     // too many rows rejected: the export looks broken
)

// RefusedError is a plan a safety guard would not run.
type RefusedError struct {
	Guard             string
	Removals, Members int // GuardMassChange
	Rejected, Rows    int // GuardRejects
	Rule              string
}

func (e *RefusedError) Error() string {
	if e.Guard == GuardRejects {
		return fmt.Sprintf("plan refused: %d of %d rows were rejected (%s), so the export looks broken (encoding, separator, a truncated file); nothing was sent. Fix the source, or review the rejects with `importer plan --out FILE` and approve them with `importer apply FILE` (or rerun with --force)", e.Rejected, e.Rows, e.Rule)
	}
	return fmt.Sprintf("plan refused: it would disable or delete %d of %d members (%s); review it with `importer plan --out FILE` and, if it is intended, approve it with `importer apply FILE` (or rerun with --force)", e.Removals, e.Members, e.Rule)
}
