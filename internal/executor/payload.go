package executor

import (
	"encoding/json"
	"fmt"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/wecom"
)

// deptIDs resolves HR department keys to WeCom ids; "" is WeCom's root.
func (e *Executor) deptIDs(keys []string) ([]int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]int, 0, len(keys))
	for _, k := range keys {
		if k == "" {
			ids = append(ids, 1)
			continue
		}
		id, ok := e.ids[k]
		if !ok {
			return nil, fmt.Errorf("department %q has no WeCom id (its creation failed or was skipped)", k)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// knownDeptIDs is the set of WeCom department ids this importer manages.
func (e *Executor) knownDeptIDs() map[int]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	known := make(map[int]bool, len(e.ids))
	for _, id := range e.ids {
		known[id] = true
	}
	return known
}

// deptID resolves one HR department key, "" being WeCom's root.
func (e *Executor) deptID(key string) (int, error) {
	ids, err := e.deptIDs([]string{key})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func enableFlag(enabled bool) *int {
	v := 0
	if enabled {
		v = 1
	}
	return &v
}

// userCreate builds the user/create body from a record: the text fields
// from the member table, the rest by hand; empty values are left out, so
// WeCom applies its defaults.
func (e *Executor) userCreate(r *member.Record) (wecom.UserPatch, error) {
	ids, err := e.deptIDs(r.DeptKeys)
	if err != nil {
		return nil, err
	}
	body := wecom.UserPatch{"userid": r.UserID, "department": ids, "enable": *enableFlag(r.Enabled)}
	for _, f := range member.TextFields {
		if v := f.Get(r); v != "" {
			body[f.Name] = v
		}
	}
	if len(r.Order) > 0 {
		body["order"] = r.Order
	}
	if len(r.IsLeader) > 0 {
		body["is_leader_in_dept"] = r.IsLeader
	}
	if len(r.DirectLeader) > 0 {
		body["direct_leader"] = r.DirectLeader
	}
	if r.ToInvite != nil {
		body["to_invite"] = *r.ToInvite
	}
	if r.MainDept != "" {
		if body["main_department"], err = e.deptID(r.MainDept); err != nil {
			return nil, err
		}
	}
	if len(r.ExtAttr) > 0 {
		body["extattr"] = extAttr(r.ExtAttr)
	}
	return body, nil
}

// extAttr wraps the record's attrs array in WeCom's {"attrs": [...]} object.
func extAttr(attrs json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(map[string]json.RawMessage{"attrs": attrs}) // attrs is valid JSON from member.Record
	return b
}

// userPatch builds a partial user/update body holding only fields. An
// empty text value is sent to clear the field, except where WeCom refuses
// one (member.Text.NoClear).
func (e *Executor) userPatch(r *member.Record, fields []string) (wecom.UserPatch, error) {
	p := wecom.UserPatch{"userid": r.UserID}
	for _, f := range fields {
		if t, ok := member.TextField(f); ok {
			if v := t.Get(r); v != "" || !t.NoClear {
				p[t.Name] = v
			}
			continue
		}
		switch f {
		case "department":
			ids, err := e.deptIDs(r.DeptKeys)
			if err != nil {
				return nil, err
			}
			p["department"] = ids
			if len(r.Order) > 0 {
				p["order"] = r.Order
			}
			if len(r.IsLeader) > 0 {
				p["is_leader_in_dept"] = r.IsLeader
			}
		case "enable":
			p["enable"] = *enableFlag(r.Enabled)
		case "main_department":
			// WeCom keeps its own main department when none is sent, so an
			// empty value is left out rather than cleared.
			if r.MainDept != "" {
				main, err := e.deptID(r.MainDept)
				if err != nil {
					return nil, err
				}
				p["main_department"] = main
			}
		case "extattr":
			attrs := r.ExtAttr
			if len(attrs) == 0 {
				attrs = json.RawMessage("[]")
			}
			p["extattr"] = extAttr(attrs)
		case "direct_leader":
			leaders := r.DirectLeader
			if leaders == nil {
				leaders = []string{}
			}
			p["direct_leader"] = leaders
		default:
			return nil, fmt.Errorf("unknown member field %q in plan", f)
		}
	}
	return p, nil
}
