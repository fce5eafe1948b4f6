package plan

import (
	"fmt"
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
	Leavers              string   `yaml:"leavers"`
	Scope                string   `yaml:"scope"`
	ProtectedUsers       []string `yaml:"protected_users"`
	ProtectedDepartments []string `yaml:"protected_departments"` // HR department keys
	// MaxDeleteRatio refuses a plan that disables or deletes more than this
	// share of the directory's members. 0 means the default 0.2; a
	// negative value turns the ratio rule off.
	MaxDeleteRatio float64 `yaml:"max_delete_ratio"`
	// MaxDeleteCount refuses a plan that disables or deletes more than this
	// many members. 0 means no count rule.
	MaxDeleteCount int `yaml:"max_delete_count"`
}

// WithDefaults fills unset fields.
func (p Policy) WithDefaults() Policy {
	if p.Leavers == "" {
		p.Leavers = LeaversDisable
	}
	if p.Scope == "" {
		p.Scope = ScopeManaged
	}
	if p.MaxDeleteRatio == 0 {
		p.MaxDeleteRatio = 0.2
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
	if p.MaxDeleteRatio > 1 {
		return fmt.Errorf("policy.max_delete_ratio %v: want a share between 0 and 1", p.MaxDeleteRatio)
	}
	if p.MaxDeleteCount < 0 {
		return fmt.Errorf("policy.max_delete_count %d: want 0 or more", p.MaxDeleteCount)
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

func (p Policy) protectedDept(key string) bool {
	for _, k := range p.ProtectedDepartments {
		if k == key {
			return true
		}
	}
	return false
}

// RefusedError is a plan the mass-change guard would not run.
type RefusedError struct {
	Removals, Members int
	Rule              string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("plan refused: it would disable or delete %d of %d members (%s); review it with `importer plan` and rerun with --force if it is intended", e.Removals, e.Members, e.Rule)
}
