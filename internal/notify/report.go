package notify

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

// maxFailures bounds the failures a notification lists; the rest is a
// count and a pointer to `importer journal show`.
const maxFailures = 20

// FromReport builds the notification for a finished run. calls are the
// run's journaled calls (the failed ones are listed); trigger says why the
// run happened.
func FromReport(rep *runner.Report, trigger, host string, resumedFrom int64, calls []journal.Call) Run {
	r := Run{
		RunID: rep.RunID, Job: rep.Job, Status: string(rep.Status), Trigger: trigger, ResumedFrom: resumedFrom,
		Host: host, Started: rep.Started, DurationMS: rep.Duration.Milliseconds(),
		Rows: rep.Rows, Rejected: len(rep.Rejects), Failed: rep.Summary.Failed,
		Counts: map[string]int{}, Errcodes: map[string]int{},
		Show: fmt.Sprintf("importer journal show %d", rep.RunID),
	}
	maps.Copy(r.Counts, rep.Summary.Counts)
	for code, n := range rep.Summary.Errcodes {
		r.Errcodes[strconv.Itoa(code)] += n
	}
	for k, n := range rep.Summary.Counts {
		if _, outcome, _ := strings.Cut(k, "/"); executor.Outcome(outcome) != executor.Skipped && executor.Outcome(outcome) != executor.Canceled {
			r.Writes += n
		}
	}
	switch {
	case rep.Fatal != nil:
		r.Error = rep.Fatal.Error()
	case rep.Refusal != nil:
		r.Error = rep.Refusal.Error()
	}
	add := func(f Failure) {
		if len(r.Failures) < maxFailures {
			r.Failures = append(r.Failures, f)
		} else {
			r.MoreFailures++
		}
	}
	for _, c := range calls {
		if c.Outcome == journal.CallFailed {
			add(Failure{Operation: c.Operation, Target: c.Target, Errcode: c.Errcode, Message: c.Errmsg})
		}
	}
	for _, re := range rep.Rejects {
		add(Failure{Operation: "reject", Target: re.Ref, Message: re.Message})
	}
	return r
}
