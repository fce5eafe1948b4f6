package journal

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/migrations"
)

// EveryRecord, as LoadState's need, reads the record of every member: for
// checks and explanations that look at them all, never for planning,
// which reads only those plan.Needs names.
func EveryRecord(st plan.State) []string {
	return slices.Collect(maps.Keys(st.Members))
}

// RunStatus is where a run stands: running, then one final status.
type RunStatus string

// Run statuses.
const (
	RunRunning RunStatus = "running"
	RunDone    RunStatus = "done"    // finished, nothing failed
	RunPartial RunStatus = "partial" // finished, some calls failed (resume retries them)
	// RunDoneWithRejects: every call succeeded, but some rows were rejected
	// and their members held; the source needs fixing, not a resume.
	RunDoneWithRejects RunStatus = "done_with_rejects"
	// RunInterrupted: the process died mid-run; a later run of the job
	// closed it and settled its unanswered calls.
	RunInterrupted RunStatus = "interrupted"
	// RunSuperseded: a later run of the job came after this one stopped,
	// so resuming it would go back in time.
	RunSuperseded RunStatus = "superseded"
	RunFailed     RunStatus = "failed"   // stopped by a fatal error
	RunRefused    RunStatus = "refused"  // refused by a safety rule
	RunDryRun     RunStatus = "dry_run"  // planned only
	RunCanceled   RunStatus = "canceled" // interrupted (signal); resumable
)

// CallOutcome is what became of one call attempt.
type CallOutcome string

// Call outcomes.
const (
	CallPending CallOutcome = "pending" // journaled, answer not yet recorded
	CallOK      CallOutcome = "ok"
	CallFailed  CallOutcome = "failed"
)

// ErrNotFound is returned when a run (or, from CompleteCall, a call) does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrCompleted is returned when a finished run would be finished again or a
// completed call completed again: history is never rewritten, and a second
// answer for the same call means the caller lost track of what it sent.
var ErrCompleted = errors.New("already completed")

// Run is one execution of a job.
type Run struct {
	ID           int64
	Job          string
	CorpID       string
	Source       string // human description of the source, e.g. a path
	SourceDigest string // sha256 of the source bytes when known
	Mode         string // "run", "dry_run", "resume"
	Status       RunStatus
	ResumedFrom  int64 // 0 when not a resume
	Host         string
	StartedAt    time.Time
	FinishedAt   time.Time // zero while running
	// Counts is a free-form summary: "user_create/ok" -> 12, "rejected" -> 2.
	Counts map[string]int
	// Who and why: what started the run (manual, schedule, resume), the
	// operating-system user, the importer's version, the config's digest.
	Trigger, OSUser, Version, ConfigDigest string
}

// Call is one WeCom call attempt, written before it is sent (Outcome
// pending) and completed after the answer.
type Call struct {
	ID        int64
	RunID     int64
	Seq       int    // position in the plan
	Phase     string // e.g. "departments", "members", "leaders", "leavers", "cleanup"
	Operation string // e.g. "department_create", "user_update"
	API       string // e.g. "user/update"
	Target    string // userid or department key
	SourceRef string // file:line of the row that asked for it, "" when none
	Payload   json.RawMessage
	// Before and After are the record the call is about (a member.Record,
	// or a department) as the journal held it before and as the call makes
	// it; Reason says why the plan made the call (plan.Op.Reason). They are
	// what an auditor reads; the planner never does.
	Before, After json.RawMessage
	Reason        string
	Attempt       int
	Outcome       CallOutcome
	Errcode       int
	Errmsg        string
	StartedAt     time.Time
	FinishedAt    time.Time
}

// Reject is a source row the mapper or a feed-level rule refused.
type Reject struct {
	RunID     int64
	SourceRef string
	Column    string
	Rule      string
	Message   string
	// UserID is the member the row is about, "" when it could not be read.
	UserID string
	// CreatedAt is set by the journal.
	CreatedAt time.Time
}

// Store is the journal. Implementations: Postgres (pgx) and the embedded
// SQLite file. History is append-only: calls are inserted and completed,
// never deleted or rewritten after completion.
type Store interface {
	// Migrate applies pending migrations; safe to call concurrently and repeatedly.
	Migrate(ctx context.Context) error
	// Pending lists the migrations this binary embeds that the database
	// has not recorded. A newer binary's extra versions are not listed:
	// migrations only add.
	Pending(ctx context.Context) ([]migrations.Migration, error)

	StartRun(ctx context.Context, r Run) (int64, error)
	FinishRun(ctx context.Context, id int64, status RunStatus, counts map[string]int) error
	GetRun(ctx context.Context, id int64) (Run, error)
	ListRuns(ctx context.Context, limit int) ([]Run, error)

	// BeginCall inserts the call with Outcome pending and returns its id.
	BeginCall(ctx context.Context, c Call) (int64, error)
	// CompleteCall records the answer and applies change (may be nil) in one transaction.
	CompleteCall(ctx context.Context, id int64, outcome CallOutcome, errcode int, errmsg string, change *plan.StateChange) error
	ListCalls(ctx context.Context, runID int64) ([]Call, error)
	// EachCall calls fn with each call of a run, in ListCalls' order,
	// without holding them all (a first import's run has one per member),
	// and stops at fn's first error, which it returns. fn must not use the
	// Store: the embedded journal has one connection, and the read holds it
	// until it ends.
	EachCall(ctx context.Context, runID int64, fn func(Call) error) error
	// MemberCalls lists every call about one member, across runs, oldest
	// first; the userid matches case-insensitively.
	MemberCalls(ctx context.Context, userid string) ([]Call, error)

	AddReject(ctx context.Context, r Reject) error
	ListRejects(ctx context.Context, runID int64) ([]Reject, error)
	// MemberRejects lists the rejected rows, warnings and holds about one
	// member (Reject.UserID, case-insensitively), across runs, oldest first.
	MemberRejects(ctx context.Context, userid string) ([]Reject, error)

	// LoadState reads a corp's applied state in one snapshot: its
	// departments, the digest of each member's last-applied record and,
	// once need has seen those, the records of the members need names
	// (by lower-cased userid; need may be nil, for none). A record that
	// does not decode is left out, as the planner expects.
	LoadState(ctx context.Context, corpID string, need func(plan.State) []string) (plan.State, error)

	Coordinator

	Close() error
}
