package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
)

// memberChange is one call about a member, as an auditor reads it.
type memberChange struct {
	At        time.Time           `json:"at"`
	RunID     int64               `json:"run_id"`
	Job       string              `json:"job"`
	CorpID    string              `json:"corp_id"`
	Trigger   string              `json:"trigger,omitempty"`
	By        string              `json:"by,omitempty"`
	Operation string              `json:"operation"`
	Outcome   journal.CallOutcome `json:"outcome"`
	Errcode   int                 `json:"errcode"`
	Errmsg    string              `json:"errmsg,omitempty"`
	SourceRef string              `json:"source_ref,omitempty"`
	Fields    []fieldChange       `json:"fields,omitempty"`
	// Rule and Message are set for a row of the member's that a run did
	// not apply (operation "not_applied": rejected, held) or applied with
	// a warning: the runs that left the member as WeCom had them.
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message,omitempty"`
}

// notApplied is the operation of a history line that made no call.
const notApplied = "not_applied"

type fieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// memberHistory lists every call about userid, oldest first. A call's
// payload holds what it sent; the value before is what the member's last
// call that took effect had sent for that field, so a field shows before
// → after even though updates send only what changes. A userid is a
// corp's own: in a journal of several corps the same one may be two
// people, so each corp's values are followed apart and each call names its
// corp.
func (a *app) memberHistory(ctx context.Context, st journal.Store, userid string, asJSON bool) error {
	calls, err := st.MemberCalls(ctx, userid)
	if err != nil {
		return fatal(err)
	}
	runs := map[int64]journal.Run{}
	byCorp := map[string]map[string]string{} // corp id -> field -> value as WeCom last took it
	var out []memberChange
	for _, c := range calls {
		r, ok := runs[c.RunID]
		if !ok {
			if r, err = st.GetRun(ctx, c.RunID); err != nil {
				return fatal(err)
			}
			runs[c.RunID] = r
		}
		ch := memberChange{At: c.StartedAt, RunID: c.RunID, Job: r.Job, CorpID: r.CorpID, Trigger: r.Trigger, By: r.OSUser,
			Operation: c.Operation, Outcome: c.Outcome, Errcode: c.Errcode, Errmsg: c.Errmsg, SourceRef: c.SourceRef}
		if byCorp[r.CorpID] == nil {
			byCorp[r.CorpID] = map[string]string{}
		}
		known := byCorp[r.CorpID]
		var body map[string]json.RawMessage
		_ = json.Unmarshal(c.Payload, &body) // a delete's payload names only the userid
		for _, k := range slices.Sorted(maps.Keys(body)) {
			if k == "userid" {
				continue
			}
			v := strings.Trim(string(body[k]), `"`)
			if before := known[k]; before != v || c.Outcome != journal.CallOK {
				ch.Fields = append(ch.Fields, fieldChange{Field: k, Before: before, After: v})
			}
			if c.Outcome == journal.CallOK {
				known[k] = v
			}
		}
		out = append(out, ch)
	}
	rejects, err := st.MemberRejects(ctx, userid)
	if err != nil {
		return fatal(err)
	}
	for _, j := range rejects {
		r, ok := runs[j.RunID]
		if !ok {
			if r, err = st.GetRun(ctx, j.RunID); err != nil {
				return fatal(err)
			}
			runs[j.RunID] = r
		}
		out = append(out, memberChange{At: j.CreatedAt, RunID: j.RunID, Job: r.Job, CorpID: r.CorpID, Trigger: r.Trigger, By: r.OSUser,
			Operation: notApplied, SourceRef: j.SourceRef, Rule: j.Rule, Message: j.Message})
	}
	// Calls and rows in the order they happened; within a run a row's
	// finding comes before the calls, as the run journals it first.
	slices.SortStableFunc(out, func(x, y memberChange) int {
		if x.RunID != y.RunID {
			return cmp.Compare(x.RunID, y.RunID)
		}
		return cmp.Compare(boolRank(x.Operation != notApplied), boolRank(y.Operation != notApplied))
	})
	if asJSON {
		return writeJSON(a.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(a.stdout, "nothing about %s in the journal\n", userid)
		return nil
	}
	for _, ch := range out {
		job := ch.Job
		if len(byCorp) > 1 {
			job += " of corp " + ch.CorpID
		}
		if ch.Operation == notApplied {
			fmt.Fprintf(a.stdout, "%s  run %d (%s, %s)  row not applied or applied with a warning: %s: %s  %s\n", ch.At.Local().Format(time.DateTime), ch.RunID, job,
				strings.TrimSpace(ch.Trigger+" "+ch.By), ch.Rule, ch.Message, ch.SourceRef)
			continue
		}
		fmt.Fprintf(a.stdout, "%s  run %d (%s, %s)  %s  %s", ch.At.Local().Format(time.DateTime), ch.RunID, job,
			strings.TrimSpace(ch.Trigger+" "+ch.By), ch.Operation, ch.Outcome)
		if ch.Errcode != 0 {
			fmt.Fprintf(a.stdout, " %d %s", ch.Errcode, ch.Errmsg)
		}
		if ch.SourceRef != "" {
			fmt.Fprintf(a.stdout, "  %s", ch.SourceRef)
		}
		fmt.Fprintln(a.stdout)
		for _, f := range ch.Fields {
			fmt.Fprintf(a.stdout, "    %s: %q → %q\n", f.Field, f.Before, f.After)
		}
	}
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
