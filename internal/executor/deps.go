package executor

import (
	"slices"
	"strings"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
)

// graph is what each operation of a plan waits for. WeCom limits each API
// on its own, so running the plan phase by phase would leave user/create
// idle while user/update works through its budget and the other way round;
// instead each operation starts once the operations it depends on have
// finished, whatever their phase.
//
// Nodes [0, len(ops)) are the operations in plan order; the nodes after
// them are joins, which stand for "all of these" where many operations
// wait for one large set and an edge each would cost memory in proportion
// to the product. Every dependency points back in plan order, so the graph
// has no cycle and plan order is always one way to run it.
type graph struct {
	ops   int
	waits []int32 // unfinished dependencies per node
	// next[first[n]:first[n+1]] are the nodes waiting for node n.
	first []int32
	next  []int32
}

// finish marks node n finished and calls ready for each operation that
// has nothing left to wait for; joins that have nothing left to wait for
// finish in turn.
func (g *graph) finish(n int, ready func(op int)) {
	stack := []int{n}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, m := range g.next[g.first[n]:g.first[n+1]] {
			if g.waits[m]--; g.waits[m] > 0 {
				continue
			}
			if int(m) < g.ops {
				ready(int(m))
			} else {
				stack = append(stack, int(m))
			}
		}
	}
}

// edges collects dependencies while the graph is built.
type edges struct {
	nodes int
	pairs [][2]int32 // (node, what it waits for)
}

func (e *edges) wait(n, on int) { e.pairs = append(e.pairs, [2]int32{int32(n), int32(on)}) }

// join returns a node that finishes once every node of on has.
func (e *edges) join(on []int) int {
	j := e.nodes
	e.nodes++
	for _, n := range on {
		e.wait(j, n)
	}
	return j
}

func (e *edges) graph(ops int) *graph {
	g := &graph{ops: ops, waits: make([]int32, e.nodes), first: make([]int32, e.nodes+1), next: make([]int32, len(e.pairs))}
	for _, p := range e.pairs {
		g.waits[p[0]]++
		g.first[p[1]+1]++
	}
	for n := range e.nodes {
		g.first[n+1] += g.first[n]
	}
	fill := slices.Clone(g.first[:e.nodes])
	for _, p := range e.pairs {
		g.next[fill[p[1]]] = p[0]
		fill[p[1]]++
	}
	return g
}

// setJoin is a join over a list that only grows, made again only when the
// list has grown since.
type setJoin struct {
	node, size int
}

func (s *setJoin) over(e *edges, list []int) (int, bool) {
	if len(list) == 0 {
		return 0, false
	}
	if s.size != len(list) {
		s.node, s.size = e.join(list), len(list)
	}
	return s.node, true
}

// uniqueFields are the member fields WeCom keeps unique per corp.
var uniqueFields = func() []member.Text {
	var f []member.Text
	for _, t := range member.TextFields {
		if t.Taken != 0 {
			f = append(f, t)
		}
	}
	return f
}()

type uniqueValue struct{ field, key string }

// dependencies derives what each operation of ops (in plan order) waits
// for, from the operations themselves:
//
//   - Operations on the same member or department run in plan order: a
//     release before the update that follows it, an update before the
//     leaders call that completes it, each recording the state the next
//     one starts from.
//   - A department create or update waits for its parent's create or
//     update, and for every department update of a lower level: a move
//     changes the ancestry of departments the plan does not show, and a
//     department moved under one of its own descendants before that
//     descendant has moved away is refused.
//   - A member's create, or an update that sends departments, waits for the
//     creates of those departments: it needs their WeCom ids, and is
//     skipped if a create failed.
//   - A call that sends direct_leader waits for the create of each leader
//     it names: WeCom refuses a leader it does not have, and when the
//     leader's create failed the call is sent without it (or skipped).
//   - A call that gives a member a mobile, email or biz_mail waits for the
//     release of that value by whoever held it (plan/release.go's
//     user_release, the leaver's disable or delete).
//   - A leaver's disable or delete waits for the calls that name them as a
//     direct leader, so those are not refused for naming someone gone.
//   - A cleanup delete waits for the deletes of its sub-departments, for
//     every member call that moves someone out of it (by the journal's
//     record; a member the journal has no record of could be in any
//     department, so its moves count for all), and for every department
//     create and update: a department moved out of it, or a create that
//     adopts a department of the same name (60008), must come first. A
//     member create is not waited for: a member WeCom does not have sits
//     in no department.
//   - A tag's operations run in plan order: its create or adoption first
//     (the others need its id), removals before additions (a tag near
//     WeCom's 30,000 entries has room), a cleanup delete last. An addition
//     waits for the creates of the members it names: WeCom answers a
//     member it does not have as invalid, and one whose create failed is
//     left out of the call.
//
// Release-phase operations wait for nothing of another target: they only
// clear values, and everyone taking a value waits for them.
func dependencies(ops []plan.Op) *graph {
	e := &edges{nodes: len(ops)}
	var (
		lastMember  = map[string]int{}
		lastDept    = map[string]int{}
		lastTag     = map[string]int{}
		deptWrite   = map[string]int{} // department key -> its create or update
		deptCreate  = map[string]int{}
		deptMoves   []int // department updates, in plan order
		deptWrites  []int
		userCreate  = map[string]int{}
		frees       = map[uniqueValue][]int{}
		namers      = map[string][]int{} // leader -> calls naming them
		leaving     = map[string][]int{} // department key -> member calls moving someone out of it
		unplaced    []int                // member moves of members the journal has no record of
		deptBarrier setJoin
		unplacedAll setJoin
	)
	for i, op := range ops {
		if op.Dept != nil {
			key := op.Dept.Key
			if j, ok := lastDept[key]; ok {
				e.wait(i, j)
			}
			switch op.Kind {
			case plan.DeptCreate, plan.DeptUpdate:
				if j, ok := deptWrite[op.Dept.ParentKey]; ok {
					e.wait(i, j)
				}
				for _, j := range deptMoves {
					if ops[j].Level < op.Level {
						e.wait(i, j)
					}
				}
				deptWrite[key] = i
				deptWrites = append(deptWrites, i)
				if op.Kind == plan.DeptCreate {
					deptCreate[key] = i
				} else {
					deptMoves = append(deptMoves, i)
				}
			case plan.DeptDelete:
				for _, c := range op.Dept.Children {
					if j, ok := lastDept[c]; ok {
						e.wait(i, j)
					}
				}
				for _, j := range leaving[key] {
					e.wait(i, j)
				}
				if j, ok := deptBarrier.over(e, deptWrites); ok {
					e.wait(i, j)
				}
				if j, ok := unplacedAll.over(e, unplaced); ok {
					e.wait(i, j)
				}
			}
			lastDept[key] = i
			continue
		}

		if t := op.Tag; t != nil {
			if j, ok := lastTag[t.Name]; ok {
				e.wait(i, j)
			}
			if op.Kind == plan.TagAddUsers {
				for _, u := range t.UserIDs {
					if j, ok := userCreate[strings.ToLower(u)]; ok {
						e.wait(i, j)
					}
				}
			}
			lastTag[t.Name] = i
			continue
		}

		who := strings.ToLower(op.Target)
		if j, ok := lastMember[who]; ok {
			e.wait(i, j)
		}
		sendsDepts := op.After != nil && (op.Kind == plan.UserCreate || slices.Contains(op.Fields, "department") || slices.Contains(op.Fields, "main_department"))
		if sendsDepts {
			for _, k := range op.After.DeptKeys {
				if j, ok := deptCreate[k]; ok {
					e.wait(i, j)
				}
			}
			if j, ok := deptCreate[op.After.MainDept]; ok {
				e.wait(i, j)
			}
		}
		sendsLeaders := op.After != nil && (op.Kind == plan.UserCreate || slices.Contains(op.Fields, "direct_leader"))
		if sendsLeaders {
			for _, l := range op.After.DirectLeader {
				l = strings.ToLower(l)
				if j, ok := userCreate[l]; ok && l != who {
					e.wait(i, j)
				}
				namers[l] = append(namers[l], i)
			}
		}
		if op.After != nil && (op.Kind == plan.UserCreate || op.Kind == plan.UserUpdate) {
			for _, t := range uniqueFields {
				v := t.Get(op.After)
				if v == "" || (op.Kind == plan.UserUpdate && !slices.Contains(op.Fields, t.Name)) {
					continue
				}
				for _, j := range frees[uniqueValue{t.Name, member.UniqueKey(t.Name, v)}] {
					e.wait(i, j)
				}
			}
		}
		if op.Kind == plan.UserDisable || op.Kind == plan.UserDelete {
			for _, j := range namers[who] {
				e.wait(i, j)
			}
		}

		lastMember[who] = i
		if op.Kind == plan.UserCreate {
			userCreate[who] = i
		}
		if op.Before != nil {
			for _, t := range uniqueFields {
				v := t.Get(op.Before)
				if v == "" {
					continue
				}
				k := member.UniqueKey(t.Name, v)
				if op.Kind == plan.UserDelete || (slices.Contains(op.Fields, t.Name) && (op.After == nil || member.UniqueKey(t.Name, t.Get(op.After)) != k)) {
					frees[uniqueValue{t.Name, k}] = append(frees[uniqueValue{t.Name, k}], i)
				}
			}
		}
		if op.Kind == plan.UserDelete || (op.Kind == plan.UserUpdate && sendsDepts) {
			if op.Before == nil {
				unplaced = append(unplaced, i)
			} else {
				for _, k := range op.Before.DeptKeys {
					leaving[k] = append(leaving[k], i)
				}
			}
		}
	}
	return e.graph(len(ops))
}
