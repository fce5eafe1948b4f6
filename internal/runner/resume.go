package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

// reconcile settles what earlier runs of the job left open, before run
// runID reads the state. Every other run of the job still marked running
// died (the caller holds the job's lock): its calls left pending are
// closed and it ends interrupted. A pending delete is settled by the live
// listing, so the state follows what WeCom holds; any other pending call
// is closed as failed, and the new plan, which sees WeCom's live
// directory, sends what did not take effect (a create that did is adopted,
// never repeated). For a resume, the resumed run's pending calls are
// closed the same way, whatever its status, and reconcile returns the
// targets whose calls failed with a row error there, which the resume
// leaves alone unless Reload is set.
func reconcile(ctx context.Context, p Params, runID int64, live plan.Live) (map[string]bool, error) {
	runs, err := p.Store.ListRuns(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var skip map[string]bool
	for _, r := range runs {
		resumed := r.ID == p.ResumedFrom
		// serve, told not to resume an abandoned run (resume_stale: false),
		// marks it failed and counts it abandoned: its unanswered calls are
		// still this run's to settle.
		dead := r.Status == journal.RunRunning || (r.Status == journal.RunFailed && r.Counts["abandoned"] > 0)
		abandoned := dead && r.Mode != "dry_run" && r.ID != runID && r.Job == p.Job.Name && r.CorpID == p.CorpID
		if !resumed && !abandoned {
			continue
		}
		calls, failedRows, err := unsettled(ctx, p.Store, r.ID, resumed && !p.Reload)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", r.ID, err)
		}
		pending, err := closePending(ctx, p.Store, calls, runID, live)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", r.ID, err)
		}
		if resumed {
			skip = failedRows
		}
		if r.Status == journal.RunRunning {
			err := p.Store.FinishRun(ctx, r.ID, journal.RunInterrupted, map[string]int{"interrupted_calls": pending})
			if err != nil && !errors.Is(err, journal.ErrCompleted) {
				return nil, fmt.Errorf("close run %d: %w", r.ID, err)
			}
		}
	}
	return skip, nil
}

// closePending completes the calls that never got an answer.
func closePending(ctx context.Context, store journal.Store, calls []journal.Call, runID int64, live plan.Live) (int, error) {
	n := 0
	for _, c := range calls {
		if c.Outcome != journal.CallPending {
			continue
		}
		n++
		outcome, msg := journal.CallFailed, fmt.Sprintf("no answer recorded (the run was interrupted); reconciled against WeCom by run %d", runID)
		var change *plan.StateChange
		if gone := deleted(c, live); gone != nil {
			outcome, change = journal.CallOK, gone
			msg = fmt.Sprintf("no answer recorded, but WeCom no longer lists it: the delete took effect (reconciled by run %d)", runID)
		} else if made := tagCreated(c, live); made != nil {
			outcome, change = journal.CallOK, made
			msg = fmt.Sprintf("no answer recorded, but WeCom lists a tag of that name: the create took effect (reconciled by run %d)", runID)
		}
		err := store.CompleteCall(ctx, c.ID, outcome, 0, msg, change)
		if err != nil && !errors.Is(err, journal.ErrCompleted) {
			return n, fmt.Errorf("close call %d: %w", c.ID, err)
		}
	}
	return n, nil
}

// deleted is the state change of a pending delete that took effect, or nil.
func deleted(c journal.Call, live plan.Live) *plan.StateChange {
	switch plan.Kind(c.Operation) {
	case plan.UserDelete:
		if _, alive := live.Users[strings.ToLower(c.Target)]; !alive {
			return &plan.StateChange{DeleteMember: c.Target}
		}
	case plan.DeptDelete:
		var body struct {
			ID int `json:"id"`
		}
		if json.Unmarshal(c.Payload, &body) != nil || body.ID == 0 {
			return nil
		}
		if _, alive := live.Departments[body.ID]; !alive {
			return &plan.StateChange{DeleteDepartment: c.Target}
		}
	case plan.TagDelete:
		var body struct {
			ID int `json:"tagid"`
		}
		if live.Tags == nil || json.Unmarshal(c.Payload, &body) != nil || body.ID == 0 {
			return nil
		}
		if _, alive := live.Tags[body.ID]; !alive {
			return &plan.StateChange{DeleteTag: c.Target}
		}
	}
	return nil
}

// tagCreated is the state change of a pending tag create that took
// effect, or of the tag/list that was to find it after a 40071, or nil.
// The plan sent the create because WeCom had no tag of the name, so one
// listed now is the create's.
func tagCreated(c journal.Call, live plan.Live) *plan.StateChange {
	if k := plan.Kind(c.Operation); k != plan.TagCreate && (k != plan.TagAdopt || c.API != wecom.APITagList) {
		return nil
	}
	for id, name := range live.Tags {
		if name == c.Target {
			return &plan.StateChange{DeleteTag: name, PutTag: &plan.AppliedTag{Name: name, WeComID: id, Created: true, RunID: c.RunID}}
		}
	}
	return nil
}

// unsettled reads a run's calls as they stream from the journal and keeps
// only the calls left pending and, with rows, the targets whose calls
// failed with a row error and never succeeded in that run: the rows a
// resume leaves for HR to fix unless --reload. A first import's run has a
// call per member, too many to hold beside the plan. The second read,
// only when some row error was found, finds the targets that also
// succeeded, before any pending call is settled.
func unsettled(ctx context.Context, store journal.Store, runID int64, rows bool) (pending []journal.Call, failedRows map[string]bool, err error) {
	failedRows = map[string]bool{}
	err = store.EachCall(ctx, runID, func(c journal.Call) error {
		switch {
		case c.Outcome == journal.CallPending:
			pending = append(pending, c)
		case rows && c.Outcome == journal.CallFailed && wecom.ClassifyCode(c.API, c.Errcode) == wecom.ClassRow:
			failedRows[strings.ToLower(c.Target)] = true
		}
		return nil
	})
	if err != nil || len(failedRows) == 0 {
		return pending, failedRows, err
	}
	err = store.EachCall(ctx, runID, func(c journal.Call) error {
		if c.Outcome == journal.CallOK {
			delete(failedRows, strings.ToLower(c.Target))
		}
		return nil
	})
	return pending, failedRows, err
}

// CorpChangedError refuses to resume a run of another corp than the one
// its job syncs now: its unanswered calls would be settled against the
// other corp's directory, and its members planned into the other corp.
type CorpChangedError struct {
	Run      int64
	Job      string
	Was, Now string
}

func (e *CorpChangedError) Error() string {
	return fmt.Sprintf("run %d synced corp %s, but job %s now syncs corp %s: a resume would settle the run's calls against the other corp's directory; start a new run (the journal keeps corp %s's state as the run left it)", e.Run, e.Was, e.Job, e.Now, e.Was)
}

// checkResumedCorp refuses, before anything is recorded, to resume a run
// of another corp (CorpChangedError): the config may have moved the job
// since, and serve resumes abandoned runs with the config it has now.
func checkResumedCorp(ctx context.Context, p Params) error {
	prev, err := p.Store.GetRun(ctx, p.ResumedFrom)
	if err != nil {
		return fmt.Errorf("run %d: %w", p.ResumedFrom, err)
	}
	if prev.CorpID != p.CorpID {
		return &CorpChangedError{Run: prev.ID, Job: p.Job.Name, Was: prev.CorpID, Now: p.CorpID}
	}
	return nil
}

// SupersededError refuses to resume a run that a later run of the job
// came after: resuming it would re-apply an older feed over newer work.
type SupersededError struct {
	Run, By  int64
	ByStatus journal.RunStatus
}

func (e *SupersededError) Error() string {
	return fmt.Sprintf("run %d was superseded by run %d (%s) of the same job: resuming it would go back in time; resume run %d if it did not finish, or start a new run", e.Run, e.By, e.ByStatus, e.By)
}

// SourceChangedError refuses to resume a run whose source file is no
// longer the file it read.
type SourceChangedError struct {
	Run          int64
	Source       string
	Was, Now     string
	ReplanOption string
}

func (e *SourceChangedError) Error() string {
	now := e.Now
	if now == "" {
		now = "unreadable"
	}
	return fmt.Sprintf("run %d read %s with digest %s, but the file is now %s: resuming would apply a different export; start a new run, or resume with %s to plan against the file as it is", e.Run, e.Source, e.Was, now, e.ReplanOption)
}

// CheckResume says whether run prev may be resumed: only the newest run of
// its job may be (a superseded run still marked running is closed as
// superseded), and only against the file it read unless replan is set.
func CheckResume(ctx context.Context, store journal.Store, prev journal.Run, replan bool) error {
	runs, err := store.ListRuns(ctx, 0)
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	for _, r := range runs {
		if r.ID <= prev.ID || r.Job != prev.Job || r.CorpID != prev.CorpID || r.Mode == "dry_run" {
			continue
		}
		if prev.Status == journal.RunRunning {
			err := store.FinishRun(ctx, prev.ID, journal.RunSuperseded, prev.Counts)
			if err != nil && !errors.Is(err, journal.ErrCompleted) {
				return fmt.Errorf("close run %d: %w", prev.ID, err)
			}
		}
		return &SupersededError{Run: prev.ID, By: r.ID, ByStatus: r.Status}
	}
	if replan || prev.SourceDigest == "" {
		return nil
	}
	now, err := fileDigest(prev.Source)
	if err != nil {
		now = ""
	}
	if now != prev.SourceDigest {
		return &SourceChangedError{Run: prev.ID, Source: prev.Source, Was: prev.SourceDigest, Now: now, ReplanOption: "--replan"}
	}
	return nil
}
