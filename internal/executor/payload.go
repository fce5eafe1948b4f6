package executor

import (
	"encoding/json"
	"fmt"

	"github.com/hrfeed/importer/internal/plan"
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

// userCreate builds the user/create body from a record.
func (e *Executor) userCreate(r *plan.Record) (*wecom.User, error) {
	ids, err := e.deptIDs(r.DeptKeys)
	if err != nil {
		return nil, err
	}
	u := &wecom.User{
		UserID:           r.UserID,
		Name:             r.Name,
		Alias:            r.Alias,
		Mobile:           r.Mobile,
		Email:            r.Email,
		Position:         r.Position,
		Gender:           r.Gender,
		Telephone:        r.Telephone,
		Address:          r.Address,
		Department:       ids,
		Order:            r.Order,
		IsLeaderInDept:   r.IsLeader,
		DirectLeader:     r.DirectLeader,
		Enable:           enableFlag(r.Enabled),
		ToInvite:         r.ToInvite,
		BizMail:          r.BizMail,
		ExternalPosition: r.ExternalPosition,
	}
	if r.MainDept != "" {
		if u.MainDepartment, err = e.deptID(r.MainDept); err != nil {
			return nil, err
		}
	}
	if len(r.ExtAttr) > 0 {
		u.ExtAttr = extAttr(r.ExtAttr)
	}
	return u, nil
}

// extAttr wraps the record's attrs array in WeCom's {"attrs": [...]} object.
func extAttr(attrs json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(map[string]json.RawMessage{"attrs": attrs}) // attrs is valid JSON from plan.Record
	return b
}

// userPatch builds a partial user/update body holding only fields.
// Empty strings are sent to clear a field, except gender, which WeCom only
// accepts as "1" or "2".
func (e *Executor) userPatch(r *plan.Record, fields []string) (wecom.UserPatch, error) {
	p := wecom.UserPatch{"userid": r.UserID}
	for _, f := range fields {
		switch f {
		case "name":
			p["name"] = r.Name
		case "alias":
			p["alias"] = r.Alias
		case "mobile":
			p["mobile"] = r.Mobile
		case "email":
			p["email"] = r.Email
		case "position":
			p["position"] = r.Position
		case "gender":
			if r.Gender != "" {
				p["gender"] = r.Gender
			}
		case "telephone":
			p["telephone"] = r.Telephone
		case "address":
			p["address"] = r.Address
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
		case "biz_mail":
			// biz_mail may be set, never cleared (and changed only once).
			if r.BizMail != "" {
				p["biz_mail"] = r.BizMail
			}
		case "external_position":
			p["external_position"] = r.ExternalPosition
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
