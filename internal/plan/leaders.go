package plan

import (
	"maps"
	"slices"
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
	created := map[string]bool{}
	memberOp := map[string]int{} // member -> its create or update in the members phase
	leadersOp := map[string]int{}
	for i, op := range b.p.Ops {
		switch {
		case op.Phase == PhaseMembers && (op.Kind == UserCreate || op.Kind == UserUpdate):
			memberOp[key(op.Target)] = i
			if op.Kind == UserCreate {
				created[key(op.Target)] = true
			}
		case op.Kind == UserLeaders:
			leadersOp[key(op.Target)] = i
		}
	}
	// waits holds, for each member with a leaders call, the leaders it
	// waits for, when every one of them is created in this run; a leader
	// WeCom lacks that the run does not create keeps the leaders call.
	waits := map[string][]string{}
	for k, i := range leadersOp {
		var w []string
		ok := true
		for _, l := range b.p.Ops[i].After.DirectLeader {
			lk := key(l)
			if _, live := b.live.Users[lk]; live && !b.vanished[lk] {
				continue
			}
			if !created[lk] {
				ok = false
				break
			}
			w = append(w, lk)
		}
		if ok {
			waits[k] = w
		}
	}

	depth := map[string]int{}
	cyclic := map[string]bool{}
	const visiting = -1
	var walk func(k string, stack []string) int
	walk = func(k string, stack []string) int {
		switch d, seen := depth[k]; {
		case seen && d == visiting:
			// k leads, through the stack, back to itself.
			for i := len(stack) - 1; i >= 0; i-- {
				cyclic[stack[i]] = true
				if stack[i] == k {
					break
				}
			}
			return 0
		case seen:
			return d
		}
		depth[k] = visiting
		d := 0
		for _, l := range waits[k] {
			d = max(d, walk(l, append(stack, k))+1)
		}
		depth[k] = d
		return d
	}
	for _, k := range slices.Sorted(maps.Keys(waits)) {
		walk(k, nil)
	}

	var drop []int
	for k, w := range waits {
		if cyclic[k] || slices.ContainsFunc(w, func(l string) bool { return cyclic[l] && depth[l] >= depth[k] }) {
			continue
		}
		li := leadersOp[k]
		want := b.p.Ops[li].After.DirectLeader
		mi, has := memberOp[k]
		if !has {
			b.p.Ops[li].Phase, b.p.Ops[li].Level = PhaseMembers, depth[k]
			continue
		}
		m := &b.p.Ops[mi]
		after := *m.After
		after.DirectLeader = want
		m.After = &after
		if m.Kind == UserUpdate && !slices.Contains(m.Fields, "direct_leader") {
			m.Fields = append(slices.Clone(m.Fields), "direct_leader")
		}
		m.Level = depth[k]
		drop = append(drop, li)
	}
	if len(drop) > 0 {
		// One pass: deleting the calls one by one moves the rest of the
		// plan each time, which on a first import is most of it.
		slices.Sort(drop)
		kept := b.p.Ops[:0]
		for i, op := range b.p.Ops {
			if len(drop) > 0 && drop[0] == i {
				drop = drop[1:]
				continue
			}
			kept = append(kept, op)
		}
		clear(b.p.Ops[len(kept):])
		b.p.Ops = kept
	}
}
