package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/member"
)

// FieldChange is one field of an operation, before and after, as a person
// reviewing a plan reads it.
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Changes lists what the operation changes, field by field. Creates show
// every field set; updates only the fields they send.
func (op Op) Changes() []FieldChange {
	if t := op.Tag; t != nil {
		members := strings.Join(t.UserIDs, ", ")
		switch op.Kind {
		case TagCreate:
			return []FieldChange{{Field: "name", After: t.Name}}
		case TagAdopt:
			return []FieldChange{{Field: "adopted", After: fmt.Sprintf("id %d", t.ID)}}
		case TagAddUsers:
			return []FieldChange{{Field: "members", After: members}}
		case TagDelUsers:
			return []FieldChange{{Field: "members", Before: members}}
		case TagDelete:
			return []FieldChange{{Field: "name", Before: t.Name}}
		}
		return nil
	}
	if op.Dept != nil {
		d := op.Dept
		switch op.Kind {
		case DeptCreate:
			return []FieldChange{{Field: "name", After: d.Name}, {Field: "parent", After: parentLabel(d.ParentKey)}}
		case DeptUpdate:
			var out []FieldChange
			if d.PrevName != d.Name {
				out = append(out, FieldChange{Field: "name", Before: d.PrevName, After: d.Name})
			}
			if d.PrevParentKey != d.ParentKey {
				out = append(out, FieldChange{Field: "parent", Before: parentLabel(d.PrevParentKey), After: parentLabel(d.ParentKey)})
			}
			return out
		}
		return nil
	}
	if op.After == nil {
		return nil
	}
	fields := op.Fields
	if op.Kind == UserCreate {
		fields = append(slices.Clone(allFields), "direct_leader")
	}
	return changes(op.Before, op.After, fields)
}

// RecordChanges lists every field in which after differs from before (nil:
// nothing known before), as a journal reader compares the records a call
// stored without knowing which fields it sent.
func RecordChanges(before, after *member.Record) []FieldChange {
	if after == nil {
		return nil
	}
	return changes(before, after, append(slices.Clone(allFields), "direct_leader"))
}

func changes(before, after *member.Record, fields []string) []FieldChange {
	var out []FieldChange
	for _, f := range fields {
		a := field(after, f)
		b := ""
		if before != nil {
			b = field(before, f)
		}
		if a == b {
			continue // a create's empty field, or an adoption pushing what is already there
		}
		out = append(out, FieldChange{Field: f, Before: b, After: a})
	}
	return out
}

// Reasons an operation is in a plan, as the journal records them for
// auditors (Op.Reason).
const (
	ReasonNew        = "new"          // in the feed, not in WeCom
	ReasonRecreate   = "recreate"     // applied before, then deleted by hand in WeCom
	ReasonFeedChange = "feed_change"  // the feed's row differs from what WeCom holds
	ReasonAdopt      = "adopt"        // already in WeCom: taken over
	ReasonRelease    = "release"      // frees a unique value another member of the feed takes
	ReasonLeader     = "leader_cycle" // direct leaders of a leader cycle, after the creates
	ReasonLeaver     = "leaver"       // the feed's row says the person left
	ReasonAbsent     = "absent"       // no longer in the feed
	ReasonCleanup    = "cleanup"      // a department, or a tag the importer made, no member of the feed needs any more
)

// Reason says why the plan makes op, in one of the Reason words.
func (op Op) Reason() string {
	switch op.Kind {
	case UserCreate, DeptCreate:
		if op.Before != nil {
			return ReasonRecreate
		}
		return ReasonNew
	case TagCreate:
		return ReasonNew
	case UserAdopt, DeptAdopt, TagAdopt:
		return ReasonAdopt
	case UserRelease:
		return ReasonRelease
	case UserLeaders:
		return ReasonLeader
	case UserDisable, UserDelete:
		if op.Ref != "" {
			return ReasonLeaver
		}
		return ReasonAbsent
	case DeptDelete, TagDelete:
		return ReasonCleanup
	}
	return ReasonFeedChange
}

func parentLabel(key string) string {
	if key == "" {
		return "(root)"
	}
	return key
}

// field renders one update field of a record for display.
func field(r *member.Record, name string) string {
	if t, ok := member.TextField(name); ok {
		return t.Get(r)
	}
	switch name {
	case "department":
		// order and the leader flags travel with the department list.
		v := strings.Join(r.DeptKeys, ";")
		if len(r.Order) > 0 {
			v += fmt.Sprintf(" order=%v", r.Order)
		}
		if len(r.IsLeader) > 0 {
			v += fmt.Sprintf(" leader=%v", r.IsLeader)
		}
		return v
	case "enable":
		if r.Enabled {
			return "1"
		}
		return "0"
	case "main_department":
		return r.MainDept
	case "extattr":
		return string(r.ExtAttr)
	case "direct_leader":
		return strings.Join(r.DirectLeader, ",")
	}
	return fmt.Sprintf("?%s", name)
}
