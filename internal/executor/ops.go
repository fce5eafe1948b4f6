package executor

import (
	"context"
	"fmt"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

func (e *Executor) deptCreate(ctx context.Context, op plan.Op) (Result, error) {
	d := op.Dept
	parent, err := e.deptID(d.ParentKey)
	if err != nil {
		return e.skip(ctx, op, err)
	}
	body := wecom.Department{Name: d.Name, ParentID: parent, Order: d.Order}
	applied := func(id int) *plan.StateChange {
		return &plan.StateChange{PutDepartment: &plan.AppliedDepartment{
			Key: d.Key, WeComID: id, ParentID: parent, Name: d.Name, Order: d.Order, RunID: e.runID,
		}}
	}
	werr, fatal := e.call(ctx, op, op.Kind, "department/create", body, func(ctx context.Context) (*plan.StateChange, error) {
		id, err := e.client.CreateDepartment(ctx, body)
		if err != nil {
			return nil, err
		}
		return applied(id), nil
	})
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	if wecom.CodeOf(werr) != wecom.CodeDeptExists {
		return result(op, OK, werr), nil
	}
	// 60008: a sibling with this name exists (made by hand, or by a run
	// that died before recording the answer). Adopt it: look it up by name
	// under the parent and record its id.
	werr, fatal = e.call(ctx, op, plan.DeptAdopt, "department/list", map[string]any{"id": parent, "name": d.Name},
		func(ctx context.Context) (*plan.StateChange, error) {
			list, err := e.client.ListDepartments(ctx, parent)
			if err != nil {
				return nil, err
			}
			for _, x := range list {
				if x.ParentID == parent && x.Name == d.Name {
					return applied(x.ID), nil
				}
			}
			return nil, &wecom.APIError{API: "department/list", Code: wecom.CodeDeptExists, Msg: fmt.Sprintf("department %q exists under %d but was not listed", d.Name, parent)}
		})
	if fatal == nil && wecom.CodeOf(werr) == wecom.CodeNewIPNoDetails {
		// A contacts-sync secret calling from a new IP may not read names
		// (48009), only ids: adopt the one department under the parent that
		// the journal does not know, if there is exactly one.
		werr, fatal = e.call(ctx, op, plan.DeptAdopt, "department/simplelist", map[string]any{"id": parent, "name": d.Name},
			func(ctx context.Context) (*plan.StateChange, error) {
				refs, err := e.client.SimpleListDepartments(ctx, parent)
				if err != nil {
					return nil, err
				}
				known := e.knownDeptIDs()
				var unknown []int
				for _, r := range refs {
					if r.ParentID == parent && r.ID != parent && !known[r.ID] {
						unknown = append(unknown, r.ID)
					}
				}
				if len(unknown) == 1 {
					return applied(unknown[0]), nil
				}
				return nil, &wecom.APIError{API: "department/simplelist", Code: wecom.CodeDeptExists, Msg: fmt.Sprintf(
					"department %q exists under %d, which holds %d departments the journal does not know; names cannot be read (48009), so it is left for a person to map",
					d.Name, parent, len(unknown))}
			})
	}
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	return result(op, Adopted, werr), nil
}

func (e *Executor) deptUpdate(ctx context.Context, op plan.Op) (Result, error) {
	d := op.Dept
	parent, err := e.deptID(d.ParentKey)
	if err != nil {
		return e.skip(ctx, op, err)
	}
	body := wecom.DepartmentPatch{"id": d.ID, "name": d.Name, "parentid": parent, "order": d.Order}
	werr, fatal := e.call(ctx, op, op.Kind, "department/update", body, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.UpdateDepartment(ctx, body); err != nil {
			return nil, err
		}
		return &plan.StateChange{PutDepartment: &plan.AppliedDepartment{
			Key: d.Key, WeComID: d.ID, ParentID: parent, Name: d.Name, Order: d.Order, RunID: e.runID,
		}}, nil
	})
	return result(op, OK, werr), fatal
}

func (e *Executor) deptDelete(ctx context.Context, op plan.Op) (Result, error) {
	d := op.Dept
	gone := &plan.StateChange{DeleteDepartment: d.Key}
	werr, fatal := e.call(ctx, op, op.Kind, "department/delete", map[string]any{"id": d.ID}, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.DeleteDepartment(ctx, d.ID); err != nil {
			if wecom.CodeOf(err) == wecom.CodeDeptNotFound {
				return gone, err
			}
			return nil, err
		}
		return gone, nil
	})
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	switch wecom.CodeOf(werr) {
	case wecom.CodeDeptNotFound:
		return Result{Op: op, Outcome: Gone, Errcode: wecom.CodeDeptNotFound}, nil
	case wecom.CodeDeptHasMembers, wecom.CodeDeptHasChildren:
		// Someone else's members or departments are still inside; the
		// department stays, and that is not this run's failure.
		return Result{Op: op, Outcome: Kept, Errcode: wecom.CodeOf(werr)}, nil
	}
	return result(op, OK, werr), nil
}

func (e *Executor) userCreateOp(ctx context.Context, op plan.Op) (Result, error) {
	body, err := e.userCreate(op.After)
	if err != nil {
		return e.skip(ctx, op, err)
	}
	werr, fatal := e.call(ctx, op, op.Kind, "user/create", body, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.CreateUserBody(ctx, body); err != nil {
			return nil, err
		}
		change := memberChange(op.After, e.runID)
		change.UntagMember = op.After.UserID
		return change, nil
	})
	if fatal != nil || wecom.CodeOf(werr) != wecom.CodeUserExists {
		return result(op, OK, werr), fatal
	}
	// 60102: the userid exists (case-insensitively). Adopt it by pushing
	// the whole record as an update; a create that took effect before a
	// crash ends here too, so resume never creates twice.
	adopt := op
	adopt.Fields = e.adopt
	res, err := e.userUpdateOp(ctx, adopt, plan.UserAdopt)
	res.Op = op
	if res.Outcome == OK {
		res.Outcome = Adopted
	}
	return res, err
}

func (e *Executor) userUpdateOp(ctx context.Context, op plan.Op, kind plan.Kind) (Result, error) {
	var body wecom.UserPatch
	if op.After == nil {
		// Disabling a member the journal never knew (authoritative scope).
		body = wecom.UserPatch{"userid": op.Target, "enable": 0}
	} else {
		var err error
		if body, err = e.userPatch(op.After, op.Fields); err != nil {
			return e.skip(ctx, op, err)
		}
	}
	werr, fatal := e.call(ctx, op, kind, "user/update", body, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.UpdateUser(ctx, body); err != nil {
			return nil, err
		}
		return memberChange(op.After, e.runID), nil
	})
	return result(op, OK, werr), fatal
}

func (e *Executor) userDelete(ctx context.Context, op plan.Op) (Result, error) {
	gone := &plan.StateChange{DeleteMember: op.Target}
	werr, fatal := e.call(ctx, op, op.Kind, "user/delete", map[string]any{"userid": op.Target}, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.DeleteUser(ctx, op.Target); err != nil {
			if wecom.CodeOf(err) == wecom.CodeUserNotFound {
				return gone, err
			}
			return nil, err
		}
		return gone, nil
	})
	if fatal == nil && wecom.CodeOf(werr) == wecom.CodeUserNotFound {
		return Result{Op: op, Outcome: Gone, Errcode: wecom.CodeUserNotFound}, nil
	}
	return result(op, OK, werr), fatal
}
