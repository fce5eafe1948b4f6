package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

// tagID is the WeCom id of a tag the journal records, from the state or
// from a create or adoption in this run. A tag whose create or adoption
// failed has none, so nothing is recorded against a tag the journal does
// not hold.
func (e *Executor) tagID(name string) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id, ok := e.tagIDs[name]
	if !ok {
		return 0, fmt.Errorf("tag %q has no WeCom id (its creation failed or was skipped)", name)
	}
	return id, nil
}

func (e *Executor) tagCreate(ctx context.Context, op plan.Op) (Result, error) {
	name := op.Tag.Name
	created := func(id int) *plan.StateChange {
		return &plan.StateChange{DeleteTag: name, PutTag: &plan.AppliedTag{Name: name, WeComID: id, Created: true, RunID: e.runID}}
	}
	werr, fatal := e.call(ctx, op, op.Kind, wecom.APITagCreate, wecom.Tag{Name: name}, func(ctx context.Context) (*plan.StateChange, error) {
		id, err := e.client.CreateTag(ctx, wecom.Tag{Name: name})
		if err != nil {
			return nil, err
		}
		return created(id), nil
	})
	if fatal != nil || wecom.CodeOf(werr) != wecom.CodeTagNameTaken {
		return result(op, OK, werr), fatal
	}
	// 40071: the name was free when the plan was made, so the tag that has
	// it now is this create's own, sent by an attempt whose answer was
	// lost. Find it by name and record it as the importer's.
	werr, fatal = e.call(ctx, op, plan.TagAdopt, wecom.APITagList, map[string]any{"tagname": name}, func(ctx context.Context) (*plan.StateChange, error) {
		tags, err := e.client.ListTags(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			if t.Name == name {
				return created(t.ID), nil
			}
		}
		return nil, &wecom.APIError{API: wecom.APITagList, Code: wecom.CodeTagNameTaken, Msg: fmt.Sprintf("tag %q is taken but tag/list does not list it", name)}
	})
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	return result(op, Adopted, werr), nil
}

// tagAdopt takes over a tag someone else made, recording what WeCom says
// it holds; the plan's additions and removals for it follow.
func (e *Executor) tagAdopt(ctx context.Context, op plan.Op) (Result, error) {
	t := op.Tag
	werr, fatal := e.call(ctx, op, op.Kind, wecom.APITagGet, map[string]any{"tagid": t.ID}, func(ctx context.Context) (*plan.StateChange, error) {
		m, err := e.client.GetTag(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		change := &plan.StateChange{DeleteTag: t.Name, PutTag: &plan.AppliedTag{Name: t.Name, WeComID: t.ID, RunID: e.runID}}
		if len(m.Users) > 0 {
			change.AddTagMembers = &plan.TagMembers{Tag: t.Name, UserIDs: tagUserIDs(m)}
		}
		return change, nil
	})
	return result(op, OK, werr), fatal
}

func tagUserIDs(m *wecom.TagMembers) []string {
	ids := make([]string, len(m.Users))
	for i, u := range m.Users {
		ids[i] = u.UserID
	}
	return ids
}

// invalidMembers is a tag call WeCom applied to all but the members it
// named invalid. The call is journaled ok with them in errmsg, and the
// state records the others.
type invalidMembers struct{ userids []string }

func (e *invalidMembers) Error() string { return "invalidlist: " + strings.Join(e.userids, "|") }

// tagMembers adds (add) or removes the op's members. Members whose create
// failed in this run are left out: WeCom would answer them invalid. When
// WeCom answers some invalid (or all: 40070 on add, 40031 on remove), a
// tag/get says which of them the tag holds after all, for an add of a
// member already tagged (or a removal of one already gone) may be
// answered so; the state follows it, and the rest wait for the next run.
func (e *Executor) tagMembers(ctx context.Context, op plan.Op, add bool) (Result, error) {
	t := op.Tag
	id, err := e.tagID(t.Name)
	if err != nil {
		return e.skip(ctx, op, err)
	}
	userids, absent := e.withoutAbsent(t.UserIDs)
	if len(absent) > 0 {
		err := e.store.AddReject(ctx, journal.Reject{RunID: e.runID, SourceRef: op.Ref, Rule: "dependency_failed",
			Message: fmt.Sprintf("%s %s leaves out %s: not created in this run", op.Kind, op.Target, strings.Join(absent, ", "))})
		if err != nil {
			return Result{Op: op}, &FatalError{fmt.Errorf("%s %s: %w", op.Kind, op.Target, err)}
		}
	}
	if len(userids) == 0 {
		return Result{Op: op, Outcome: Skipped, Err: errors.New("none of its members was created in this run")}, nil
	}
	api, send, allInvalid := wecom.APITagAddUsers, e.client.AddTagUsers, wecom.CodeTagAllInvalid
	if !add {
		api, send, allInvalid = wecom.APITagDelUsers, e.client.DelTagUsers, wecom.CodeInvalidUserList
	}
	change := func(ids []string) *plan.StateChange {
		if len(ids) == 0 {
			return &plan.StateChange{}
		}
		tm := &plan.TagMembers{Tag: t.Name, UserIDs: ids}
		if add {
			return &plan.StateChange{AddTagMembers: tm}
		}
		return &plan.StateChange{RemoveTagMembers: tm}
	}
	body := wecom.TagMembersChange{TagID: id, UserIDs: userids}
	var invalid []string
	werr, fatal := e.call(ctx, op, op.Kind, api, body, func(ctx context.Context) (*plan.StateChange, error) {
		res, err := send(ctx, body)
		if err != nil {
			return nil, err
		}
		if len(res.InvalidUsers) == 0 {
			return change(userids), nil
		}
		invalid = res.InvalidUsers
		bad := map[string]bool{}
		for _, u := range invalid {
			bad[strings.ToLower(u)] = true
		}
		return change(slices.DeleteFunc(slices.Clone(userids), func(u string) bool { return bad[strings.ToLower(u)] })), &invalidMembers{invalid}
	})
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	var partial *invalidMembers
	switch {
	case errors.As(werr, &partial):
	case wecom.CodeOf(werr) == allInvalid:
		invalid = userids
	default:
		return result(op, OK, werr), nil
	}
	left, fatal := e.verifyTag(ctx, op, id, add, invalid)
	if fatal != nil {
		return result(op, Failed, werr), fatal
	}
	switch {
	case len(left) == 0:
		return Result{Op: op, Outcome: OK}, nil
	case partial != nil:
		return Result{Op: op, Outcome: Partial, Err: &invalidMembers{left}}, nil
	}
	return result(op, Failed, werr), nil
}

// verifyTag reads the tag after an add or removal WeCom answered some
// members of invalid, records those the tag holds (add) or does not hold
// (removal) as done, and returns the others. A tag/get that fails leaves
// them all for the next run.
func (e *Executor) verifyTag(ctx context.Context, op plan.Op, id int, add bool, invalid []string) ([]string, error) {
	left := invalid
	werr, fatal := e.call(ctx, op, plan.TagVerify, wecom.APITagGet, map[string]any{"tagid": id}, func(ctx context.Context) (*plan.StateChange, error) {
		m, err := e.client.GetTag(ctx, id)
		if err != nil {
			return nil, err
		}
		holds := map[string]bool{}
		for _, u := range m.Users {
			holds[strings.ToLower(u.UserID)] = true
		}
		var done []string
		left = nil
		for _, u := range invalid {
			if holds[strings.ToLower(u)] == add {
				done = append(done, u)
			} else {
				left = append(left, u)
			}
		}
		if len(done) == 0 {
			return &plan.StateChange{}, nil
		}
		tm := &plan.TagMembers{Tag: op.Tag.Name, UserIDs: done}
		if add {
			return &plan.StateChange{AddTagMembers: tm}, nil
		}
		return &plan.StateChange{RemoveTagMembers: tm}, nil
	})
	if werr != nil {
		return invalid, fatal
	}
	return left, fatal
}

// withoutAbsent splits userids into those that exist and those whose
// create did not take effect in this run.
func (e *Executor) withoutAbsent(userids []string) (present, absent []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range userids {
		if e.notCreated[strings.ToLower(u)] {
			absent = append(absent, u)
		} else {
			present = append(present, u)
		}
	}
	return present, absent
}

func (e *Executor) tagDelete(ctx context.Context, op plan.Op) (Result, error) {
	name := op.Tag.Name
	id, err := e.tagID(name)
	if err != nil {
		return e.skip(ctx, op, err)
	}
	gone := &plan.StateChange{DeleteTag: name}
	werr, fatal := e.call(ctx, op, op.Kind, wecom.APITagDelete, map[string]any{"tagid": id}, func(ctx context.Context) (*plan.StateChange, error) {
		if err := e.client.DeleteTag(ctx, id); err != nil {
			if wecom.CodeOf(err) == wecom.CodeInvalidTagID {
				return gone, err
			}
			return nil, err
		}
		return gone, nil
	})
	if fatal == nil && wecom.CodeOf(werr) == wecom.CodeInvalidTagID {
		return Result{Op: op, Outcome: Gone, Errcode: wecom.CodeInvalidTagID}, nil
	}
	return result(op, OK, werr), fatal
}
