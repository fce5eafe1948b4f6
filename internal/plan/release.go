package plan

import (
	"fmt"
	"slices"

	"github.com/hrfeed/importer/internal/mapper"
)

// uniqueFields are the member fields WeCom keeps unique per corp: a value
// can be given to a member only once nobody else holds it (60104, 60106,
// 60145).
var uniqueFields = []string{mapper.FieldMobile, mapper.FieldEmail, mapper.FieldBizMail}

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
func (b *builder) releaseMoved(dir mapper.Directory, held map[string]bool) {
	wants := map[string]map[string]string{} // field -> value key -> userid key
	for _, f := range uniqueFields {
		wants[f] = map[string]string{}
	}
	for _, m := range dir.Members {
		if m.Leaver {
			continue
		}
		r := RecordOf(m)
		for _, f := range uniqueFields {
			if v := r.field(f); v != "" {
				wants[f][mapper.UniqueKey(f, v)] = key(r.UserID)
			}
		}
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
			v := op.Before.field(f)
			if v == "" {
				continue
			}
			taker, ok := wants[f][mapper.UniqueKey(f, v)]
			if !ok || taker == key(op.Target) {
				continue
			}
			if op.After != nil && op.Kind != UserDisable && mapper.UniqueKey(f, op.After.field(f)) == mapper.UniqueKey(f, v) {
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
			freed.setField(f, "")
		}
		if freed.Mobile == "" && freed.Email == "" {
			// WeCom needs one of the two (60129): the value cannot be freed
			// by this importer, and whoever wants it must wait.
			for _, f := range give {
				blocked[wants[f][mapper.UniqueKey(f, op.Before.field(f))]] = fmt.Sprintf(
					"%s %q still belongs to %s, who would be left with neither mobile nor email if it were cleared; give %s another mobile or an email first",
					f, op.Before.field(f), op.Target, op.Target)
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
			return slices.Contains(give, f) && op.After.field(f) == ""
		})
	}
	// A held member keeps its values; whoever wants one waits for HR.
	for k := range held {
		applied, ok := b.state.Members[k]
		if !ok {
			continue
		}
		r, err := ParseRecord(applied.Payload)
		if err != nil {
			continue
		}
		for _, f := range uniqueFields {
			if v := r.field(f); v != "" {
				if taker, ok := wants[f][mapper.UniqueKey(f, v)]; ok && taker != k {
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
		if why := blocked[key(m.User.UserID)]; why != "" {
			b.p.Held = append(b.p.Held, Held{UserID: m.User.UserID, Ref: m.Ref, Rule: RuleValueTaken, Message: why})
		}
	}
}

// setField sets one of the unique fields.
func (r *Record) setField(name, v string) {
	switch name {
	case mapper.FieldMobile:
		r.Mobile = v
	case mapper.FieldEmail:
		r.Email = v
	case mapper.FieldBizMail:
		r.BizMail = v
	}
}

// RuleValueTaken holds a member whose row wants a mobile or address that
// someone this run cannot change still has.
const RuleValueTaken = "value_taken"
