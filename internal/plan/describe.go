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
	var out []FieldChange
	for _, f := range fields {
		after := field(op.After, f)
		before := ""
		if op.Before != nil {
			before = field(op.Before, f)
		}
		if after == before {
			continue // a create's empty field, or an adoption pushing what is already there
		}
		out = append(out, FieldChange{Field: f, Before: before, After: after})
	}
	return out
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
