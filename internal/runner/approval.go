package runner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
)

// Approval is a reviewed plan file. A run given one executes only the plan
// the file shows: the same source file, the same config, and a plan whose
// digest is the file's — which holds exactly while the journal's state and
// WeCom's directory are still what the plan relied on. Applying it is how
// a person approves a plan a guard refused: the guard is not asked again.
type Approval struct {
	File                                   string
	SourceDigest, ConfigDigest, PlanDigest string
	// Planned is the file's count of operations per kind, and LastRunID the
	// job's newest run (not a dry run) when it was made: they say what
	// changed when the digest no longer matches.
	Planned   map[string]int
	LastRunID int64
	MadeAt    time.Time
}

// StaleError says why a plan file may not be applied any more.
type StaleError struct {
	File, Reason string
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("plan file %s is out of date: %s; nothing was sent. Make a new one with `importer plan --out FILE`, review it and apply that", e.File, e.Reason)
}

// check compares what this run would do with the reviewed plan.
func (a *Approval) check(ctx context.Context, p Params, rep *Report, pl *plan.Plan) *StaleError {
	stale := func(format string, args ...any) *StaleError {
		return &StaleError{File: a.File, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case rep.SourceDigest != a.SourceDigest:
		return stale("the source %s changed since the plan was made at %s", p.SourcePath, a.MadeAt.Format(time.RFC3339))
	case p.ConfigDigest != a.ConfigDigest:
		return stale("the config changed since the plan was made at %s", a.MadeAt.Format(time.RFC3339))
	case pl.Digest() == a.PlanDigest:
		return nil
	}
	why := "WeCom's directory changed since the plan was made"
	if last, err := lastRun(ctx, p.Store, p.Job.Name, rep.RunID); err == nil && last.ID > a.LastRunID {
		why = fmt.Sprintf("run %d of job %s (%s, started %s) changed the journal since the plan was made", last.ID, last.Job, last.Status, last.StartedAt.Format(time.RFC3339))
	}
	now := map[string]int{}
	for k, n := range pl.Counts() {
		now[string(k)] = n
	}
	return stale("%s: the reviewed plan had %s, a run now would do %s", why, countsText(a.Planned), countsText(now))
}

// lastRun is the job's newest run other than exclude that was not a dry
// run: the journal position a plan relied on.
func lastRun(ctx context.Context, st journal.Store, job string, exclude int64) (journal.Run, error) {
	runs, err := st.ListRuns(ctx, 500)
	if err != nil {
		return journal.Run{}, err
	}
	var last journal.Run
	for _, r := range runs {
		if r.Job == job && r.ID != exclude && r.Mode != "dry_run" && r.ID > last.ID {
			last = r
		}
	}
	return last, nil
}

func countsText(c map[string]int) string {
	if len(c) == 0 {
		return "no operations"
	}
	parts := make([]string, 0, len(c))
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, c[k]))
	}
	return strings.Join(parts, ", ")
}
