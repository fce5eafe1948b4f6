package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

// takenErrcodes map WeCom's answer for a unique value another member
// holds to the field it is about, from the member table.
var takenErrcodes = func() map[int]string {
	m := map[int]string{}
	for _, f := range member.TextFields {
		if f.Taken != 0 {
			m[f.Taken] = f.Name
		}
	}
	return m
}()

// takenValues collects the calls WeCom refused because someone else holds
// the value, so the run can say who: WeCom's answer does not.
type takenValues struct {
	mu     sync.Mutex
	failed []executor.Result
}

func (t *takenValues) note(r executor.Result) {
	if _, ok := takenErrcodes[r.Errcode]; ok && r.Outcome == executor.Failed && r.Op.After != nil {
		t.mu.Lock()
		t.failed = append(t.failed, r)
		t.mu.Unlock()
	}
}

// explain records, for each such failure, a reject naming the member the
// journal now says holds the value, or saying that no member this
// importer manages holds it. It reads the journal's records only when
// there is something to explain.
func (t *takenValues) explain(ctx context.Context, store journal.Store, runID int64, corpID string) error {
	if len(t.failed) == 0 {
		return nil
	}
	state, err := store.LoadState(ctx, corpID, journal.EveryRecord)
	if err != nil {
		return err
	}
	holders := map[string]string{} // field + "\x00" + value key -> userid
	for _, r := range state.Records {
		for _, tf := range member.TextFields {
			if v := tf.Get(&r); v != "" && tf.Taken != 0 {
				holders[tf.Name+"\x00"+member.UniqueKey(tf.Name, v)] = r.UserID
			}
		}
	}
	for _, res := range t.failed {
		f := takenErrcodes[res.Errcode]
		v := recordValue(*res.Op.After, f)
		who := "no member this importer manages: find it in the WeCom admin console"
		if h := holders[f+"\x00"+member.UniqueKey(f, v)]; h != "" && !strings.EqualFold(h, res.Op.Target) {
			who = h + ", per the journal"
		}
		msg := fmt.Sprintf("%s %s: %s %q is held by %s (WeCom %d)", res.Op.Kind, res.Op.Target, f, v, who, wecom.CodeOf(res.Err))
		if err := store.AddReject(ctx, journal.Reject{RunID: runID, SourceRef: res.Op.Ref, Column: f, Rule: plan.RuleValueTaken, Message: msg, UserID: res.Op.Target}); err != nil {
			return fmt.Errorf("record reject %s: %w", res.Op.Ref, err)
		}
	}
	return nil
}

func recordValue(r member.Record, field string) string {
	t, _ := member.TextField(field)
	return t.Get(&r)
}
