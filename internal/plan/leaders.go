package plan

import (
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/member"
)

// leaderWaves lets direct_leader travel with each member's own create or
// update when the leader is created in the same run. Each member goes one
// level after the deepest leader it waits for, so plan order has a
// leader's create before the calls that name it, and the executor sends
// those calls once that create has finished. A first import of a
// reporting tree then costs one call per member instead of two. Only
// members in a leader cycle (A leads B, B leads A) keep a call in the
// leaders phase: one of them has to exist before the other can name it.
func (b *builder) leaderWaves() {
	wishes := b.wishes
	b.wishes = nil
	if len(wishes) == 0 {
		return
	}
	// Indexes rather than maps keyed by userid: on a first import every
	// member has a wish, and these are built while the whole plan is live.
	createOf := map[string]int32{} // member -> its create in the members phase
	for i := range b.p.Ops {
		if op := &b.p.Ops[i]; op.Phase == PhaseMembers && op.Kind == UserCreate {
			createOf[key(op.Target)] = int32(i)
		}
	}
	opWish := make([]int32, len(b.p.Ops)) // operation -> its member's wish, or -1
	for i := range opWish {
		opWish[i] = -1
	}
	for wi, w := range wishes {
		if w.op >= 0 {
			opWish[w.op] = int32(wi)
		}
	}
	wanted := func(w leaderWish) *member.Record {
		if w.op >= 0 {
			return b.p.Ops[w.op].After
		}
		return w.lone.after
	}
	// pending calls f with each leader of wish wi that WeCom lacks: the
	// index of the wish of that leader's own create (-1 for none), or
	// ok false when this run does not create that leader either, which
	// keeps the leaders call.
	pending := func(wi int, f func(leaderWish int32)) (ok bool) {
		for _, l := range wanted(wishes[wi]).DirectLeader {
			lk := key(l)
			if _, live := b.live.Users[lk]; live && !b.vanished[lk] {
				continue
			}
			ci, created := createOf[lk]
			if !created {
				return false
			}
			if f != nil {
				f(opWish[ci])
			}
		}
		return true
	}
	waits := make([]bool, len(wishes)) // every leader it waits for is created in this run
	var walkOrder []int32
	for wi := range wishes {
		if waits[wi] = pending(wi, nil); waits[wi] {
			walkOrder = append(walkOrder, int32(wi))
		}
	}

	const unseen, visiting = -2, -1
	depth := make([]int32, len(wishes))
	for i := range depth {
		depth[i] = unseen
	}
	cyclic := make([]bool, len(wishes))
	var walk func(wi int32, stack []int32) int32
	walk = func(wi int32, stack []int32) int32 {
		switch d := depth[wi]; d {
		case visiting:
			// wi leads, through the stack, back to itself.
			for i := len(stack) - 1; i >= 0; i-- {
				cyclic[stack[i]] = true
				if stack[i] == wi {
					break
				}
			}
			return 0
		case unseen:
		default:
			return d
		}
		depth[wi] = visiting
		var d int32
		if waits[wi] {
			pending(int(wi), func(lw int32) {
				ld := int32(0) // a leader with no wish of its own goes first
				if lw >= 0 {
					ld = walk(lw, append(stack, wi))
				}
				d = max(d, ld+1)
			})
		}
		depth[wi] = d
		return d
	}
	// Sorted by userid, as the levels of a cycle's members depend on where
	// the walk enters it.
	slices.SortFunc(walkOrder, func(a, c int32) int { return strings.Compare(wishes[a].key, wishes[c].key) })
	for _, wi := range walkOrder {
		walk(wi, nil)
	}

	// calls are the wishes that stay calls of their own, each with the
	// place in the plan it was asked for in.
	type call struct {
		at int32
		op Op
	}
	var calls []call
	for wi, w := range wishes {
		fold := waits[wi] && !cyclic[wi]
		if fold {
			pending(wi, func(lw int32) {
				if lw >= 0 && cyclic[lw] && depth[lw] >= depth[wi] {
					fold = false
				}
			})
		}
		if fold && w.op >= 0 {
			// The member's call already has want's record, leaders and all.
			m := &b.p.Ops[w.op]
			if m.Kind == UserUpdate && !slices.Contains(m.Fields, "direct_leader") {
				m.Fields = append(slices.Clone(m.Fields), "direct_leader")
			}
			m.Level = int(depth[wi])
			continue
		}
		after, ref := wanted(w), ""
		held := *after
		held.DirectLeader = w.held
		if w.op >= 0 {
			// The member's call carries what WeCom can take now.
			b.p.Ops[w.op].After = &held
			ref = b.p.Ops[w.op].Ref
		} else {
			ref = w.lone.ref
		}
		op := Op{Phase: PhaseLeaders, Kind: UserLeaders, Target: after.UserID, Ref: ref, Before: &held, After: after, Fields: []string{"direct_leader"}}
		if fold {
			op.Phase, op.Level = PhaseMembers, int(depth[wi])
		}
		calls = append(calls, call{at: w.at, op: op})
	}
	if len(calls) == 0 {
		return
	}
	// One pass puts each call where it was asked for: inserting them one
	// by one would move the rest of the plan each time.
	ops := make([]Op, 0, len(b.p.Ops)+len(calls))
	for i := range b.p.Ops {
		for len(calls) > 0 && int(calls[0].at) == i {
			ops = append(ops, calls[0].op)
			calls = calls[1:]
		}
		ops = append(ops, b.p.Ops[i])
	}
	for _, c := range calls {
		ops = append(ops, c.op)
	}
	b.p.Ops = ops
}

// leaderWish is a member whose direct_leader list cannot go with its own
// call in the members phase, or who has no such call. op is the index of
// that call (-1 for none; lone then says what a call of its own sets),
// whose record has the whole list until leaderWaves decides; held is the
// list WeCom can take now; at is where in the plan a call of its own goes.
type leaderWish struct {
	key    string
	op, at int32
	held   []string
	lone   *loneWish
}

type loneWish struct {
	ref   string
	after *member.Record
}
