package executor

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptrace"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

// Client is the part of the WeCom client the executor writes with.
type Client interface {
	CreateUserBody(ctx context.Context, body wecom.UserPatch) error
	UpdateUser(ctx context.Context, p wecom.UserPatch) error
	DeleteUser(ctx context.Context, userid string) error
	CreateDepartment(ctx context.Context, d wecom.Department) (int, error)
	UpdateDepartment(ctx context.Context, p wecom.DepartmentPatch) error
	DeleteDepartment(ctx context.Context, id int) error
	ListDepartments(ctx context.Context, id int) ([]wecom.Department, error)
	SimpleListDepartments(ctx context.Context, id int) ([]wecom.DepartmentRef, error)
	CreateTag(ctx context.Context, t wecom.Tag) (int, error)
	DeleteTag(ctx context.Context, id int) error
	GetTag(ctx context.Context, id int) (*wecom.TagMembers, error)
	ListTags(ctx context.Context) ([]wecom.Tag, error)
	AddTagUsers(ctx context.Context, ch wecom.TagMembersChange) (wecom.TagMembersResult, error)
	DelTagUsers(ctx context.Context, ch wecom.TagMembersChange) (wecom.TagMembersResult, error)
}

// Outcome is what happened to one planned operation.
type Outcome string

// Outcomes of one planned operation, as counted in a run's summary.
const (
	OK       Outcome = "ok"       // the call took effect
	Adopted  Outcome = "adopted"  // it already existed; adopted (and updated) instead of created
	Gone     Outcome = "gone"     // delete of something already absent: the intent holds
	Kept     Outcome = "kept"     // cleanup of a department WeCom refused to delete (it still has members or children)
	Partial  Outcome = "partial"  // a tag call applied to all but the members WeCom named invalid; the next run sends them again
	Failed   Outcome = "failed"   // recorded with its errcode; resume or the next run retries it
	Skipped  Outcome = "skipped"  // not sent: something it depends on failed
	Canceled Outcome = "canceled" // not started, or cut off waiting to send, because the run was interrupted
)

// Result is what happened to one operation.
type Result struct {
	Op      plan.Op
	Outcome Outcome
	Errcode int
	Err     error
}

// Summary counts outcomes per operation kind ("user_create/ok") and the
// errcodes seen: every errcode WeCom answered to an attempt, retried ones
// included (a 45009 that was waited out counts), plus an operation's own
// errcode where no attempt answered it (a gettoken failure).
type Summary struct {
	Counts   map[string]int
	Errcodes map[int]int
	Failed   int // operations that failed, were skipped or applied in part
}

// Executor runs a plan against WeCom, journaling every call before it is
// sent and completing it after the answer.
type Executor struct {
	client      Client
	store       journal.Store
	runID       int64
	concurrency int
	log         *slog.Logger
	onResult    func(Result)
	callTimeout time.Duration
	pace        *pace

	mu     sync.Mutex
	ids    map[string]int // HR department key -> WeCom id
	tagIDs map[string]int // tag name -> WeCom id
	sum    Summary
	// notCreated holds members whose create did not take effect in this
	// run, and stillThere departments whose delete did not: calls that
	// depend on them could only fail (60111, 60006), so they are not sent.
	notCreated map[string]bool
	stillThere map[string]bool
	// adopt is what a create answered "exists" (60102) pushes instead.
	adopt []string
}

// Config wires an Executor.
type Config struct {
	Client Client
	Store  journal.Store
	RunID  int64
	// Concurrency caps each API's calls in flight, as WeCom's 45033 limits
	// each API on its own; default 64, well below the concurrency at which
	// WeCom answers it. Within it the executor keeps as many calls of each
	// API in flight as PerMinute and that API's measured latency call for
	// (see pace), so APIs busy at once each reach their own limit.
	Concurrency int
	// PerMinute is the per-API rate the client keeps to (0: WeCom's
	// 10,000; negative: no limit, so the cap applies).
	PerMinute int
	Logger    *slog.Logger
	// DeptIDs seeds key -> WeCom id from the journal's state, and TagIDs
	// tag name -> WeCom id for the journal's tags WeCom still has.
	DeptIDs map[string]int
	TagIDs  map[string]int
	// OnResult, if set, is called after each operation (for progress output).
	OnResult func(Result)
	// Absent names members known not to exist in WeCom although the plan
	// does not create them (a resume holds their failed create): calls that
	// need them are not sent, as for a create that fails in this run.
	Absent []string
	// CallTimeout bounds how long each WeCom call of an operation may
	// have requests on the wire, its retries included; an interrupted run
	// still lets requests already sent finish within it. Waiting for the
	// rate limits, a 45009 pause among them, is not counted (see
	// wecom.Detach). Default 60 s.
	CallTimeout time.Duration
}

// New returns an Executor.
func New(cfg Config) *Executor {
	e := &Executor{
		client:      cfg.Client,
		store:       cfg.Store,
		runID:       cfg.RunID,
		concurrency: cfg.Concurrency,
		log:         cfg.Logger,
		onResult:    cfg.OnResult,
		callTimeout: cfg.CallTimeout,
		ids:         map[string]int{},
		tagIDs:      map[string]int{},
		sum:         Summary{Counts: map[string]int{}, Errcodes: map[int]int{}},
		notCreated:  map[string]bool{},
		stillThere:  map[string]bool{},
	}
	if e.concurrency <= 0 {
		e.concurrency = DefaultConcurrency
	}
	e.pace = newPace(cfg.PerMinute, e.concurrency)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.callTimeout <= 0 {
		e.callTimeout = 60 * time.Second
	}
	for k, v := range cfg.DeptIDs {
		e.ids[k] = v
	}
	for k, v := range cfg.TagIDs {
		e.tagIDs[k] = v
	}
	for _, u := range cfg.Absent {
		e.notCreated[strings.ToLower(u)] = true
	}
	return e
}

// FatalError stops a run: the journal cannot be written, or WeCom says the
// deployment is misconfigured (bad secret, no permission, untrusted IP).
type FatalError struct{ Err error }

func (e *FatalError) Error() string { return e.Err.Error() }
func (e *FatalError) Unwrap() error { return e.Err }

// Execute runs the plan. Each operation starts as soon as the operations
// it depends on have finished (see dependencies), so calls to different
// APIs, each under its own WeCom limit, are in flight at once; within
// that, operations start in plan order. Cancelling ctx stops new
// operations; calls already sent finish and are recorded. It returns a
// *FatalError when the run had to stop.
func (e *Executor) Execute(ctx context.Context, p *plan.Plan) (Summary, error) {
	e.adopt = p.AdoptFields
	if e.adopt == nil {
		e.adopt = plan.AllFields()
	}
	// plan.Build numbers its operations in order; a copy, which at a first
	// import's size is tens of megabytes, only for a plan that is not.
	ops := p.Ops
	if !slices.IsSortedFunc(ops, func(a, b plan.Op) int { return cmp.Compare(a.Seq, b.Seq) }) {
		ops = slices.Clone(p.Ops)
		sort.SliceStable(ops, func(i, j int) bool { return ops[i].Seq < ops[j].Seq })
	}
	fatal := e.run(ctx, ops, dependencies(ops))
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sum, fatal
}

// lane is one API's operations: those ready to start, in plan order, and
// how many are in flight.
type lane struct {
	api      string
	ready    readyQueue
	inFlight int
}

type finished struct {
	op  int
	err error
}

// run starts every operation of ops once the graph says it is ready,
// keeping each API's calls in flight to what its rate and latency call
// for (see pace), within concurrency. After a fatal error
// or an interruption it starts nothing more, waits for what is in flight,
// and records every operation it did not start as canceled.
func (e *Executor) run(ctx context.Context, ops []plan.Op, g *graph) error {
	lanes := map[string]*lane{}
	var order []*lane // for a choice that does not depend on map order
	laneOf := func(i int) *lane {
		api := ops[i].Kind.API()
		l := lanes[api]
		if l == nil {
			l = &lane{api: api}
			lanes[api] = l
			order = append(order, l)
		}
		return l
	}
	ready := func(i int) { heap.Push(&laneOf(i).ready, int32(i)) }
	for i := range ops {
		if g.waits[i] == 0 {
			ready(i)
		}
	}
	started := make([]bool, len(ops))
	done := make(chan finished)
	inFlight := 0
	stopped := ctx.Err() != nil
	interrupted := ctx.Done()
	var fatal error
	for {
		for !stopped {
			l := e.nextLane(order)
			if l == nil {
				break
			}
			i := int(heap.Pop(&l.ready).(int32))
			started[i] = true
			l.inFlight++
			inFlight++
			go func() { done <- finished{i, e.runOp(ctx, ops[i])} }()
		}
		if inFlight == 0 {
			break
		}
		select {
		case f := <-done:
			inFlight--
			lanes[ops[f.op].Kind.API()].inFlight--
			if f.err != nil && fatal == nil {
				fatal, stopped = f.err, true
			}
			g.finish(f.op, ready)
		case <-interrupted:
			stopped, interrupted = true, nil
		}
	}
	for i, op := range ops {
		if !started[i] {
			e.record(Result{Op: op, Outcome: Canceled})
		}
	}
	return fatal
}

// nextLane picks the API whose next operation starts now: of those with an
// operation ready and room under their own share, the one with the fewest
// calls in flight, so busy APIs start their calls in turn; among equals,
// the one whose next operation comes first in the plan.
func (e *Executor) nextLane(lanes []*lane) *lane {
	var best *lane
	for _, l := range lanes {
		if len(l.ready) == 0 || l.inFlight >= e.pace.inFlight(l.api) {
			continue
		}
		if best == nil || l.inFlight < best.inFlight || (l.inFlight == best.inFlight && l.ready[0] < best.ready[0]) {
			best = l
		}
	}
	return best
}

// readyQueue holds operation indices, the smallest (first in plan order)
// on top.
type readyQueue []int32

func (q readyQueue) Len() int           { return len(q) }
func (q readyQueue) Less(i, j int) bool { return q[i] < q[j] }
func (q readyQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *readyQueue) Push(x any)        { *q = append(*q, x.(int32)) }
func (q *readyQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

func (e *Executor) record(r Result) {
	e.mu.Lock()
	switch {
	case r.Op.Kind == plan.UserCreate && r.Outcome != OK && r.Outcome != Adopted:
		e.notCreated[strings.ToLower(r.Op.Target)] = true
	case r.Op.Kind == plan.DeptDelete && r.Outcome != OK && r.Outcome != Gone:
		e.stillThere[r.Op.Target] = true
	}
	e.sum.Counts[string(r.Op.Kind)+"/"+string(r.Outcome)]++
	if r.Outcome == Failed || r.Outcome == Skipped || r.Outcome == Canceled || r.Outcome == Partial {
		e.sum.Failed++
	}
	e.mu.Unlock()
	if r.Err != nil {
		e.log.Warn("operation", "op", r.Op.Kind, "target", r.Op.Target, "ref", r.Op.Ref, "outcome", r.Outcome, "errcode", r.Errcode, "err", r.Err.Error())
	} else {
		e.log.Debug("operation", "op", r.Op.Kind, "target", r.Op.Target, "outcome", r.Outcome)
	}
	if e.onResult != nil {
		e.onResult(r)
	}
}

// records are what an auditor reads beside a call: the member as the
// journal held it and as the call makes it, or the department's names.
func records(op plan.Op) (before, after json.RawMessage) {
	if op.Before != nil {
		before = op.Before.JSON()
	}
	if op.After != nil {
		after = op.After.JSON()
	}
	if d := op.Dept; d != nil {
		if op.Kind == plan.DeptDelete {
			before, _ = json.Marshal(map[string]string{"key": d.Key, "name": d.Name})
			return before, nil
		}
		if d.PrevName != "" || d.PrevParentKey != "" {
			before, _ = json.Marshal(map[string]string{"key": d.Key, "name": d.PrevName, "parent": d.PrevParentKey})
		}
		after, _ = json.Marshal(map[string]string{"key": d.Key, "name": d.Name, "parent": d.ParentKey})
	}
	return before, after
}

// call makes one planned WeCom call and journals every HTTP attempt of it:
// the client's hook writes a pending row before each attempt is sent and
// completes it when that attempt failed and will be retried; the executor
// completes the last attempt's row together with the state change. do
// returns the state change to apply on success, or with an error when the
// error still leaves the intent fulfilled (deleting what is already gone).
// The first returned error is WeCom's, the second a *FatalError.
func (e *Executor) call(ctx context.Context, op plan.Op, kind plan.Kind, api string, payload any, do func(context.Context) (*plan.StateChange, error)) (wecomErr error, fatal error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &FatalError{fmt.Errorf("encode %s %s: %w", kind, op.Target, err)}
	}
	var (
		open       int64 // row of the attempt whose answer is not yet recorded
		journalErr error
	)
	before, after := records(op)
	at := attemptsOf(ctx)
	hook := func(_ string, attempt int) (func(int, error), error) {
		id, err := e.store.BeginCall(ctx, journal.Call{
			RunID: e.runID, Seq: op.Seq, Phase: op.Phase, Operation: string(kind), API: api,
			Target: op.Target, SourceRef: op.Ref, Payload: body, Attempt: attempt,
			Before: before, After: after, Reason: op.Reason(),
		})
		if err != nil {
			// No journal row, so no call: the contract is write-ahead.
			journalErr = err
			return nil, err
		}
		open = id
		at.queued(time.Now())
		return func(code int, err error) {
			at.finished()
			if c := wecom.CodeOf(err); c != 0 {
				e.countErrcode(ctx, c)
			}
			if err == nil || !retried(err) {
				return // the last attempt: completed below with the outcome of the whole call
			}
			if cerr := e.store.CompleteCall(context.WithoutCancel(ctx), id, journal.CallFailed, code, errmsgOf(err), nil); cerr != nil {
				journalErr = cerr
				return
			}
			open = 0
		}, nil
	}
	change, callErr := do(wecom.WithAttemptHook(ctx, hook))
	if journalErr != nil {
		return callErr, &FatalError{fmt.Errorf("%s %s: %w", kind, op.Target, journalErr)}
	}
	if open == 0 {
		// Nothing was sent (the client failed before sending, e.g. while
		// fetching a token), or every attempt is already recorded.
		return callErr, nil
	}
	outcome, code, msg := journal.CallOK, 0, ""
	var notSent *wecom.NotSentError
	if errors.As(callErr, &notSent) {
		// Its row was written, then the run was interrupted while it
		// waited for its turn: the row says that nothing left.
		if err := e.store.CompleteCall(context.WithoutCancel(ctx), open, journal.CallFailed, 0, "not sent: "+notSent.Err.Error(), nil); err != nil {
			return callErr, &FatalError{fmt.Errorf("%s %s: %w", kind, op.Target, err)}
		}
		return callErr, nil
	}
	if callErr != nil && change != nil {
		// The intent holds anyway: recorded as ok with WeCom's errcode.
		code, msg = wecom.CodeOf(callErr), errmsgOf(callErr)
	} else if callErr != nil {
		outcome, code, msg = journal.CallFailed, wecom.CodeOf(callErr), errmsgOf(callErr)
		if code == 0 && errors.Is(callErr, context.DeadlineExceeded) {
			// The answer did not come within CallTimeout: the call may or
			// may not have taken effect. Leave it pending so resume
			// reconciles it.
			return callErr, &FatalError{fmt.Errorf("%s %s: no answer within the call timeout: %w", kind, op.Target, callErr)}
		}
	}
	if err := e.store.CompleteCall(context.WithoutCancel(ctx), open, outcome, code, msg, change); err != nil {
		return callErr, &FatalError{fmt.Errorf("%s %s: %w", kind, op.Target, err)}
	}
	if change != nil {
		e.mu.Lock()
		if d := change.PutDepartment; d != nil {
			e.ids[d.Key] = d.WeComID
		}
		if change.DeleteTag != "" {
			delete(e.tagIDs, change.DeleteTag)
		}
		if t := change.PutTag; t != nil {
			e.tagIDs[t.Name] = t.WeComID
		}
		e.mu.Unlock()
	}
	return callErr, nil
}

// retried reports whether the client will send another attempt after an
// attempt that failed with err: transient failures and an invalid token are
// retried (within the client's budget; a last failed attempt is then also
// closed here, and the call's own row is already complete).
func retried(err error) bool {
	switch wecom.ClassOf(err) {
	case wecom.ClassRetry, wecom.ClassRefresh, wecom.ClassRateLimited:
		return true
	}
	return false
}

func (e *Executor) runOp(parent context.Context, op plan.Op) error {
	// A request already sent is answered even if the run is interrupted,
	// so its journal row is completed rather than left in doubt; waiting
	// for a turn is cut off instead, since nothing is in flight then.
	//
	// The call timeout counts only time on the wire. A deadline over the
	// whole operation would have to outlast the client's waits: a 45009
	// pause alone is 60 s, the old default deadline, so every operation
	// that met the rate limit failed after one attempt while the API sat
	// idle; and how long the waits may be is the client's business (its
	// MaxRetries, its limits), not the executor's. With the client's
	// defaults a call gives up only when WeCom refuses it four times in a
	// row, three 60 s pauses apart, as under an hour's ban; a minute's ban
	// costs an operation a minute or two, not a failure.
	start := time.Now()
	at := &attempts{answered: map[int]bool{}}
	ctx := context.WithValue(wecom.Detach(parent, e.callTimeout), attemptsKey{}, at)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GetConn: func(string) { at.sent = time.Now() }})
	defer func() { e.pace.observe(op.Kind.API(), time.Since(start)-at.waited) }()
	res, err := e.dispatch(ctx, op)
	if c := res.Errcode; c != 0 && !at.answered[c] {
		e.mu.Lock()
		e.sum.Errcodes[c]++
		e.mu.Unlock()
	}
	if res.Outcome == Failed && parent.Err() != nil && errors.Is(res.Err, context.Canceled) {
		// The interruption cut off its wait for a turn: whatever it had
		// sent is recorded, and what it had not is left for resume.
		res.Outcome = Canceled
	}
	if err != nil {
		var fe *FatalError
		if !errors.As(err, &fe) {
			err = &FatalError{err}
		}
		res.Outcome = Failed
		e.record(res)
		return err
	}
	if res.Err != nil && wecom.ClassOf(res.Err) == wecom.ClassConfig {
		e.record(res)
		return &FatalError{res.Err}
	}
	e.record(res)
	return nil
}

// blocked says why op cannot succeed because of what this run already
// failed to do, or "".
func (e *Executor) blocked(op plan.Op) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch op.Kind {
	case plan.UserLeaders:
		if e.notCreated[strings.ToLower(op.Target)] {
			return fmt.Sprintf("%s was not created in this run", op.Target)
		}
		if op.After != nil {
			for _, l := range op.After.DirectLeader {
				if e.notCreated[strings.ToLower(l)] {
					return fmt.Sprintf("its leader %s was not created in this run", l)
				}
			}
		}
	case plan.DeptDelete:
		for _, c := range op.Dept.Children {
			if e.stillThere[c] {
				return fmt.Sprintf("its sub-department %s is still there", c)
			}
		}
	}
	return ""
}

// attempts is what one operation's attempts leave behind for the
// operation, all on the goroutine that runs it.
type attempts struct {
	// answered is the errcodes WeCom answered to them, each already
	// counted in the summary. runOp counts the operation's own errcode
	// only if it is not among them: one no attempt saw (gettoken's), not
	// one an attempt already answered (a failed adoption repeats its
	// create's 60008).
	answered map[int]bool
	// waited is how long they stood in line for their turn under the
	// client's rate limits (a 45009 pause among them): from each attempt's
	// journal row (since) to the moment net/http asked for a connection
	// for it (sent). pace sizes an API by its latency without that time:
	// at the limit the line grows with every call added to it, so an API
	// sized by whole durations would take all of concurrency from the
	// others, and hold it through a 45009 pause. A transport net/http does
	// not trace leaves it 0.
	waited      time.Duration
	since, sent time.Time
}

type attemptsKey struct{}

func attemptsOf(ctx context.Context) *attempts { return ctx.Value(attemptsKey{}).(*attempts) }

// queued notes that an attempt, its journal row written, waits for its
// turn from t.
func (a *attempts) queued(t time.Time) { a.since, a.sent = t, time.Time{} }

// finished adds an attempt's time in line, once it was sent.
func (a *attempts) finished() {
	if !a.sent.IsZero() {
		a.waited += a.sent.Sub(a.since)
	}
}

// countErrcode counts an errcode WeCom answered to an attempt of the
// operation running under ctx.
func (e *Executor) countErrcode(ctx context.Context, code int) {
	attemptsOf(ctx).answered[code] = true
	e.mu.Lock()
	e.sum.Errcodes[code]++
	e.mu.Unlock()
}

// withoutAbsentLeaders drops direct_leader from a create or update that
// names a leader whose own create failed in this run: WeCom would refuse
// the whole call for it, and the member's other fields are still wanted.
// The journal then records what WeCom holds; the next run sets the leader.
func (e *Executor) withoutAbsentLeaders(op plan.Op) plan.Op {
	if (op.Kind != plan.UserCreate && op.Kind != plan.UserUpdate) || op.After == nil {
		return op
	}
	e.mu.Lock()
	absent := slices.ContainsFunc(op.After.DirectLeader, func(l string) bool { return e.notCreated[strings.ToLower(l)] })
	e.mu.Unlock()
	if !absent {
		return op
	}
	after := *op.After
	after.DirectLeader = nil
	if op.Before != nil {
		after.DirectLeader = op.Before.DirectLeader
	}
	op.After = &after
	op.Fields = slices.DeleteFunc(slices.Clone(op.Fields), func(f string) bool { return f == "direct_leader" })
	return op
}

func (e *Executor) dispatch(ctx context.Context, op plan.Op) (Result, error) {
	op = e.withoutAbsentLeaders(op)
	if why := e.blocked(op); why != "" {
		if op.Kind == plan.DeptDelete {
			// Like a delete WeCom refuses for its children (60006): the
			// department stays, and that is not the run's failure.
			return Result{Op: op, Outcome: Kept, Err: errors.New(why)}, nil
		}
		return e.skip(ctx, op, errors.New(why))
	}
	switch op.Kind {
	case plan.DeptCreate:
		return e.deptCreate(ctx, op)
	case plan.DeptUpdate:
		return e.deptUpdate(ctx, op)
	case plan.DeptDelete:
		return e.deptDelete(ctx, op)
	case plan.UserCreate:
		return e.userCreateOp(ctx, op)
	case plan.UserUpdate, plan.UserLeaders, plan.UserDisable, plan.UserRelease:
		return e.userUpdateOp(ctx, op, op.Kind)
	case plan.UserDelete:
		return e.userDelete(ctx, op)
	case plan.TagCreate:
		return e.tagCreate(ctx, op)
	case plan.TagAdopt:
		return e.tagAdopt(ctx, op)
	case plan.TagAddUsers, plan.TagDelUsers:
		return e.tagMembers(ctx, op, op.Kind == plan.TagAddUsers)
	case plan.TagDelete:
		return e.tagDelete(ctx, op)
	}
	return Result{Op: op}, fmt.Errorf("unknown operation kind %q", op.Kind)
}

// skip records an operation that could not be sent as a row reject, so the
// journal says why nothing was called.
func (e *Executor) skip(ctx context.Context, op plan.Op, why error) (Result, error) {
	err := e.store.AddReject(ctx, journal.Reject{RunID: e.runID, SourceRef: op.Ref, Rule: "dependency_failed",
		Message: fmt.Sprintf("%s %s not sent: %v", op.Kind, op.Target, why)})
	if err != nil {
		return Result{Op: op}, &FatalError{fmt.Errorf("%s %s: %w", op.Kind, op.Target, err)}
	}
	return Result{Op: op, Outcome: Skipped, Err: why}, nil
}

func result(op plan.Op, outcome Outcome, wecomErr error) Result {
	if wecomErr != nil {
		return Result{Op: op, Outcome: Failed, Errcode: wecom.CodeOf(wecomErr), Err: wecomErr}
	}
	return Result{Op: op, Outcome: outcome}
}

func memberChange(r *member.Record, runID int64) *plan.StateChange {
	if r == nil {
		return nil
	}
	return &plan.StateChange{PutMember: &plan.AppliedMember{
		UserID: r.UserID, Payload: r.JSON(), Hash: r.Hash(), Enabled: r.Enabled, RunID: runID,
	}}
}

// errmsgOf is what the journal keeps as errmsg: WeCom's own text when WeCom
// answered, so auditors see exactly what it said; the (redacted) error
// otherwise.
func errmsgOf(err error) string {
	var ae *wecom.APIError
	if errors.As(err, &ae) {
		return ae.Msg
	}
	return err.Error()
}
