package plan

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

// uniqueFields are the member fields WeCom keeps unique per corp: a value
// can be given to a member only once nobody else holds it (60104, 60106,
// 60145).
var uniqueFields = func() []string {
	var f []string
	for _, t := range member.TextFields {
		if t.Taken != 0 {
			f = append(f, t.Name)
		}
	}
	return f
}()

// releaseMoved orders the plan so that a mobile, email or biz_mail moving
// from one member to another (a leaver's number handed to a new hire, two
// members swapping) is freed before it is assigned. Every member whose
// last-applied value another member of the feed wants, and who is not
// keeping it, gives it up in the release phase, which runs before the
// members phase: a disable or delete of a leaver moves there (a disabled
// leaver's value is cleared with the disable), and an update gets a
// release call of its own that clears the values, after which the update
// sets the new ones. A value held by a member this run cannot change (a
// held row) holds the member who wants it, with the holder named.
//
// Only values something lets go of can move: the last-applied values of
// leavers and of members whose row changes them, and those of held
// members. The feed is searched for takers of those alone, and not at all
// on the usual night when no such value exists.
func (b *builder) releaseMoved(dir mapper.Directory, held []member.Record) {
	wants := map[string]map[string]string{} // field -> value key -> userid key of its taker
	for _, f := range uniqueFields {
		wants[f] = map[string]string{}
	}
	candidates := 0
	offer := func(f, v string) {
		if v != "" {
			wants[f][member.UniqueKey(f, v)] = ""
			candidates++
		}
	}
	for _, op := range b.p.Ops {
		if op.Before == nil || op.Phase == PhaseLeaders || op.Kind == UserCreate {
			continue
		}
		for _, f := range uniqueFields {
			if before := field(op.Before, f); op.After == nil || op.Kind == UserDisable || field(op.After, f) != before {
				offer(f, before)
			}
		}
	}
	for _, r := range held {
		for _, f := range uniqueFields {
			offer(f, field(&r, f))
		}
	}
	if candidates == 0 {
		return
	}
	for _, m := range dir.Members {
		if m.Leaver {
			continue
		}
		for _, f := range uniqueFields {
			if v := m.Text(f); v != "" {
				if _, offered := wants[f][member.UniqueKey(f, v)]; offered {
					wants[f][member.UniqueKey(f, v)] = key(m.UserID())
				}
			}
		}
	}
	for _, byValue := range wants {
		maps.DeleteFunc(byValue, func(_, taker string) bool { return taker == "" })
	}

	blocked := map[string]string{} // userid key -> why its value cannot be had
	var extra []Op
	for i := range b.p.Ops {
		op := &b.p.Ops[i]
		if op.Before == nil || op.Phase == PhaseLeaders || op.Kind == UserCreate {
			continue
		}
		var give []string
		for _, f := range uniqueFields {
			v := field(op.Before, f)
			if v == "" {
				continue
			}
			taker, ok := wants[f][member.UniqueKey(f, v)]
			if !ok || taker == key(op.Target) {
				continue
			}
			if op.After != nil && op.Kind != UserDisable && member.UniqueKey(f, field(op.After, f)) == member.UniqueKey(f, v) {
				continue
			}
			give = append(give, f)
		}
		if len(give) == 0 {
			continue
		}
		if op.Kind == UserDelete {
			op.Phase, op.Level = PhaseRelease, 0
			continue
		}
		freed := *op.Before
		for _, f := range give {
			t, _ := member.TextField(f)
			t.Set(&freed, "")
		}
		if freed.Mobile == "" && freed.Email == "" {
			// WeCom needs one of the two (60129): the value cannot be freed
			// by this importer, and whoever wants it must wait.
			for _, f := range give {
				blocked[wants[f][member.UniqueKey(f, field(op.Before, f))]] = fmt.Sprintf(
					"%s %q still belongs to %s, who would be left with neither mobile nor email if it were cleared; give %s another mobile or an email first",
					f, field(op.Before, f), op.Target, op.Target)
			}
			continue
		}
		if op.Kind == UserDisable {
			after := freed
			after.Enabled = false
			op.After = &after
			op.Fields = append(slices.Clone(op.Fields), give...)
			op.Phase, op.Level = PhaseRelease, 0
			continue
		}
		rel := freed
		extra = append(extra, Op{Phase: PhaseRelease, Kind: UserRelease, Target: op.Target, Ref: op.Ref,
			Before: op.Before, After: &rel, Fields: give})
		op.Before = &rel
		op.Fields = slices.DeleteFunc(op.Fields, func(f string) bool {
			return slices.Contains(give, f) && field(op.After, f) == ""
		})
	}
	// A held member keeps its values; whoever wants one waits for HR.
	for _, r := range held {
		for _, f := range uniqueFields {
			if v := field(&r, f); v != "" {
				if taker, ok := wants[f][member.UniqueKey(f, v)]; ok && taker != key(r.UserID) {
					blocked[taker] = fmt.Sprintf("%s %q still belongs to %s, whose own row was rejected, so it is not changed in this run", f, v, r.UserID)
				}
			}
		}
	}
	b.p.Ops = slices.DeleteFunc(b.p.Ops, func(op Op) bool {
		return op.Dept == nil && blocked[key(op.Target)] != "" && op.Phase != PhaseRelease
	})
	b.p.Ops = append(b.p.Ops, extra...)
	b.p.Ops = slices.DeleteFunc(b.p.Ops, func(op Op) bool {
		return op.Kind == UserUpdate && len(op.Fields) == 0 && op.Before != nil && op.After != nil && op.Before.Hash() == op.After.Hash()
	})
	for _, m := range dir.Members {
		if why := blocked[key(m.UserID())]; why != "" {
			b.p.Held = append(b.p.Held, Held{UserID: m.UserID(), Ref: m.Ref, Rule: RuleValueTaken, Message: why})
		}
	}
}

// RuleValueTaken holds a member whose row wants a mobile or address that
// someone this run cannot change still has.
const RuleValueTaken = "value_taken"
