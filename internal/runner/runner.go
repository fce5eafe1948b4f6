// Package runner runs one job end to end: read the source, map rows,
// record rejects, read known state from the journal and live state from
// WeCom, plan, apply the safety guard, and execute. It is the one place
// that wires the pure parts (mapper, plan) to the I/O parts (source,
// journal, WeCom), so run, resume, demo and the scheduler share it.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/source"
	"github.com/hrfeed/importer/internal/wecom"
)

// Client is what a run needs from WeCom: the writes plus the two listings
// that work for a contacts-sync secret from any IP.
type Client interface {
	executor.Client
	AllUserIDs(ctx context.Context) ([]wecom.DeptUser, error)
	SimpleListDepartments(ctx context.Context, id int) ([]wecom.DepartmentRef, error)
}

// Params is one run's inputs.
type Params struct {
	Job        *config.Job
	CorpID     string
	SourcePath string // resolved path of the source file
	// DepartmentSpec, when the mapping reads departments from a table, is
	// that table's source; it is read before the member rows.
	DepartmentSpec *source.Spec
	DryRun         bool
	Force          bool
	ResumedFrom    int64
	// Reload, on resume, also retries members whose calls failed with a
	// row error in the resumed run, on the grounds that HR fixed the
	// source; without it those rows wait for the next full run.
	Reload      bool
	Store       journal.Store
	Client      Client
	Concurrency int
	// PerMinute is the client's per-API rate (0: WeCom's default), from
	// which the executor sizes the calls it keeps in flight.
	PerMinute int
	Logger    *slog.Logger
	OnResult  func(executor.Result)
	// OnPlan, if set, sees the plan before it is executed (for progress output).
	OnPlan func(*plan.Plan)
	// Trigger, Version and ConfigDigest are recorded with the run, with
	// the operating-system user, for auditors.
	Trigger, Version, ConfigDigest string
	// Approved, when set, is the reviewed plan file this run applies.
	Approved *Approval
}

// MaxJournaledRejects is how many rejected rows and warnings a run
// records one by one; past it, one row with rule RuleRejectsTruncated
// counts the rest.
const MaxJournaledRejects = 1000

// RuleRejectsTruncated marks the journal row that stands for the rejects
// of a run past MaxJournaledRejects.
const RuleRejectsTruncated = "rejects_truncated"

// ClientFor is the WeCom client of a corp. WeCom issues tokens and counts
// its rate limits per corp, so a caller running several jobs gives the
// jobs of one corp one client and never lets two corps share one.
type ClientFor func(config.Corp) (Client, error)

// Options are what a caller decides about one run. Everything the config
// decides (the job, its source path, its department table, the corp, the
// concurrency) is resolved by ForJob, so run, plan, resume, serve, demo and
// bench cannot differ in how they read a job.
type Options struct {
	// Source is a file to read instead of the job's source.path.
	Source                string
	DryRun, Force, Reload bool
	ResumedFrom           int64
	Store                 journal.Store
	// Clients gives the run its client: ForJob asks it for the job's
	// corp, so no caller can hand a job another corp's client. Without
	// it the parameters have no client, which is enough to read the
	// source (check, bench's feed check).
	Clients  ClientFor
	Logger   *slog.Logger
	OnResult func(executor.Result)
	OnPlan   func(*plan.Plan)
	// Trigger says what started the run (manual, schedule, resume, apply)
	// and Version which importer runs it; both are recorded with the run.
	Trigger, Version string
	// Approved is the reviewed plan file `importer apply` runs.
	Approved *Approval
}

// ForJob is the one place that turns "run job name of config c" into a
// run's parameters. An empty name means the config's only job.
func ForJob(c *config.Config, name string, o Options) (Params, error) {
	job, err := c.Job(name)
	if err != nil {
		return Params{}, err
	}
	depts, err := c.DepartmentSpec(job)
	if err != nil {
		return Params{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	corp, err := c.CorpOf(job)
	if err != nil {
		return Params{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	var client Client
	if o.Clients != nil {
		if client, err = o.Clients(corp); err != nil {
			return Params{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
	}
	return Params{
		Job: job, CorpID: corp.CorpID, SourcePath: SourcePath(c, job, o.Source), DepartmentSpec: depts,
		DryRun: o.DryRun, Force: o.Force, ResumedFrom: o.ResumedFrom, Reload: o.Reload,
		Store: o.Store, Client: client, Concurrency: corp.Concurrency, PerMinute: corp.PerMinute, Logger: o.Logger,
		OnResult: o.OnResult, OnPlan: o.OnPlan,
		Trigger: o.Trigger, Version: o.Version, ConfigDigest: c.Digest, Approved: o.Approved,
	}, nil
}

// Report is what a run did.
type Report struct {
	RunID   int64
	Job     string
	CorpID  string
	Status  journal.RunStatus
	Rows    int
	Rejects []*mapper.RowError
	// Warnings are rows applied with a caveat (a direct leader kept or dropped).
	Warnings []*mapper.RowError
	Plan     *plan.Plan
	Summary  executor.Summary
	Refusal  *plan.RefusedError
	// Stale says why the plan file a run was to apply is out of date.
	Stale *StaleError
	// Source is the file read and SourceDigest its sha256; LastRunID, on a
	// dry run, is the job's newest run before it (not a dry run). A plan
	// file records both.
	Source, SourceDigest string
	LastRunID            int64
	// DeptPaths names each department of the feed by its path of names
	// (总部/研发中心), for people: in table mode its key is an HR code.
	DeptPaths map[string]string
	// Held counts operations a resume left out because the resumed run's
	// call for that record failed with a row error (see Params.Reload).
	Held     int
	Fatal    error
	Started  time.Time
	Duration time.Duration
}

// Unapplied reports whether some row of the feed was not applied: a row
// rejected, or a member held.
func (r *Report) Unapplied() bool {
	return len(r.Rejects) > 0 || (r.Plan != nil && len(r.Plan.Held) > 0)
}

// Run executes one job. The returned error is non-nil only when no run
// could be recorded at all; every other failure is in the report and the
// journal.
func Run(ctx context.Context, p Params) (*Report, error) {
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mode := "run"
	switch {
	case p.DryRun:
		mode = "dry_run"
	case p.ResumedFrom != 0:
		mode = "resume"
	}
	digest, err := fileDigest(p.SourcePath)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", p.SourcePath, err)
	}
	if p.ResumedFrom != 0 {
		if err := checkResumedCorp(ctx, p); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	rep := &Report{Job: p.Job.Name, CorpID: p.CorpID, Started: time.Now(), Source: p.SourcePath, SourceDigest: digest}
	rep.RunID, err = p.Store.StartRun(ctx, journal.Run{
		Job: p.Job.Name, CorpID: p.CorpID, Source: p.SourcePath, SourceDigest: digest,
		Mode: mode, Status: journal.RunRunning, ResumedFrom: p.ResumedFrom, Host: host, StartedAt: rep.Started,
		Trigger: p.Trigger, OSUser: osUser(), Version: p.Version, ConfigDigest: p.ConfigDigest,
	})
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	log = log.With("run_id", rep.RunID, "job", p.Job.Name)
	log.Info("run started", "mode", mode, "source", p.SourcePath, "corp_id", p.CorpID)

	rep.Status = execute(ctx, p, rep, log)
	rep.Duration = time.Since(rep.Started)
	counts := rep.counts()
	if err := p.Store.FinishRun(context.WithoutCancel(ctx), rep.RunID, rep.Status, counts); err != nil {
		rep.Status = journal.RunFailed
		rep.Fatal = errors.Join(rep.Fatal, fmt.Errorf("finish run: %w", err))
	}
	// The cause goes on the same line as the status: a scheduled run's log
	// is often all an admin has, and "failed" alone sends them to the journal.
	attrs := []any{"status", rep.Status, "rows", rep.Rows, "rejected", len(rep.Rejects), "failed", rep.Summary.Failed}
	switch {
	case rep.Fatal != nil:
		log.Error("run finished", append(attrs, "cause", rep.Fatal.Error())...)
	case rep.Refusal != nil:
		log.Warn("run finished", append(attrs, "cause", rep.Refusal.Error())...)
	default:
		log.Info("run finished", attrs...)
	}
	return rep, nil
}

func execute(ctx context.Context, p Params, rep *Report, log *slog.Logger) journal.RunStatus {
	dir, err := ReadDirectory(ctx, p)
	if err != nil {
		rep.Fatal = err
		return journal.RunFailed
	}
	// The mapper's rows and indexes, most of what a run ever holds at once,
	// are garbage now. Collected here, they no longer set the heap's next
	// target, which would otherwise let the listings and the journal's
	// state pile up garbage to twice the mapper's size before the next
	// collection.
	runtime.GC()
	rep.Rows, rep.Rejects, rep.Warnings = dir.Rows, dir.Rejects, dir.Warnings
	rep.DeptPaths = deptPaths(dir.Departments)
	// Warnings go to the same table: an auditor reading a row's findings
	// sees them all, and their rules (leader_kept, leader_dropped) say the
	// row was applied. A broken export can reject millions of rows; the
	// first MaxJournaledRejects say what is wrong, and one more row says
	// how many were left out.
	findings := slices.Concat(dir.Rejects, dir.Warnings)
	for i, re := range findings {
		r := journal.Reject{RunID: rep.RunID, SourceRef: re.Ref, Column: re.Column, Rule: re.Rule, Message: re.Message, UserID: re.UserID}
		if i == MaxJournaledRejects {
			r = journal.Reject{RunID: rep.RunID, SourceRef: re.Ref, Rule: RuleRejectsTruncated,
				Message: fmt.Sprintf("%d more rejected rows and warnings from here on are not recorded one by one; fix the source and run again", len(findings)-i)}
		}
		if err := p.Store.AddReject(ctx, r); err != nil {
			rep.Fatal = fmt.Errorf("record reject %s: %w", re.Ref, err)
			return journal.RunFailed
		}
		if i == MaxJournaledRejects {
			break
		}
	}
	for _, w := range dir.Warnings {
		log.Warn("row applied with a warning", "ref", w.Ref, "column", w.Column, "rule", w.Rule, "message", w.Message)
	}
	users, err := p.Client.AllUserIDs(ctx)
	if err != nil {
		rep.Fatal = fmt.Errorf("list live members: %w", err)
		return journal.RunFailed
	}
	depts, err := p.Client.SimpleListDepartments(ctx, 0)
	if err != nil {
		rep.Fatal = fmt.Errorf("list live departments: %w", err)
		return journal.RunFailed
	}
	live := liveFrom(users, depts)
	if dir.TagsMapped {
		tags, err := p.Client.ListTags(ctx)
		if err != nil {
			rep.Fatal = fmt.Errorf("list live tags: %w", err)
			return journal.RunFailed
		}
		live.Tags = make(map[int]string, len(tags))
		for _, t := range tags {
			live.Tags[t.ID] = t.Name
		}
	}
	var skip map[string]bool
	if !p.DryRun {
		// The caller holds the job's lock, so a run of this job still
		// marked running died; its unanswered calls are settled against
		// what WeCom lists before the state is read.
		if skip, err = reconcile(ctx, p, rep.RunID, live); err != nil {
			rep.Fatal = err
			return journal.RunFailed
		}
	}
	state, err := p.Store.LoadState(ctx, p.CorpID, func(st plan.State) []string { return plan.Needs(dir, st, live) })
	if err != nil {
		rep.Fatal = fmt.Errorf("load state: %w", err)
		return journal.RunFailed
	}
	readAdoptedTags(ctx, p.Client, dir, state, &live, p.Job.Policy, log)
	pl, err := plan.Build(dir, state, live, p.Job.Policy)
	rep.Plan = pl
	// The plan holds what it sends; the mapped directory, the state's
	// records and what Build used to decide are garbage now. Collected
	// before the executor builds its graph, they do not set the heap's
	// next target: on a first import, where the plan holds every member,
	// they would otherwise let the peak reach twice the directory and the
	// plan together.
	runtime.GC()
	if pl != nil {
		// Tags the plan leaves alone are warnings of the run, journaled
		// with the mapper's.
		for _, w := range pl.Warnings {
			rep.Warnings = append(rep.Warnings, w)
			log.Warn("row applied with a warning", "ref", w.Ref, "column", w.Column, "rule", w.Rule, "message", w.Message)
			if err := p.Store.AddReject(ctx, journal.Reject{RunID: rep.RunID, SourceRef: w.Ref, Column: w.Column, Rule: w.Rule, Message: w.Message, UserID: w.UserID}); err != nil {
				rep.Fatal = fmt.Errorf("record warning %s: %w", w.Ref, err)
				return journal.RunFailed
			}
		}
		// Members held for a reason only the plan knows (a value someone
		// else still holds) are journaled like the mapper's rejects.
		for _, h := range pl.Held {
			if h.Message == "" {
				continue
			}
			if err := p.Store.AddReject(ctx, journal.Reject{RunID: rep.RunID, SourceRef: h.Ref, Rule: h.Rule, Message: h.Message, UserID: h.UserID}); err != nil {
				rep.Fatal = fmt.Errorf("record held member %s: %w", h.Ref, err)
				return journal.RunFailed
			}
		}
		if pl.Suspended != "" {
			log.Warn("leavers and cleanup suspended", "why", pl.Suspended)
		}
	}
	if err != nil {
		var refused *plan.RefusedError
		if !errors.As(err, &refused) {
			rep.Fatal = err
			return journal.RunFailed
		}
		rep.Refusal = refused
		if !p.Force && !p.DryRun && p.Approved == nil {
			log.Warn("plan refused by a safety guard", "guard", refused.Guard, "rule", refused.Rule)
			return journal.RunRefused
		}
	}
	if p.Approved != nil {
		if rep.Stale = p.Approved.check(ctx, p, rep, pl); rep.Stale != nil {
			log.Warn("plan file refused", "file", p.Approved.File, "reason", rep.Stale.Reason)
			return journal.RunRefused
		}
		log.Info("applying the reviewed plan", "file", p.Approved.File, "made_at", p.Approved.MadeAt)
	}
	if p.DryRun {
		last, err := lastRun(ctx, p.Store, p.Job.Name, rep.RunID)
		if err != nil {
			rep.Fatal = fmt.Errorf("list runs: %w", err)
			return journal.RunFailed
		}
		rep.LastRunID = last.ID
	}
	var absent []string
	if len(skip) > 0 {
		n := len(pl.Ops)
		pl.Ops = slices.DeleteFunc(pl.Ops, func(op plan.Op) bool { return skip[strings.ToLower(op.Target)] })
		rep.Held = n - len(pl.Ops)
		for k := range skip {
			if _, ok := live.Users[k]; !ok {
				absent = append(absent, k)
			}
		}
	}
	if p.DryRun {
		return journal.RunDryRun
	}
	if p.OnPlan != nil {
		p.OnPlan(pl)
	}
	ids := map[string]int{}
	for k, d := range state.Departments {
		ids[k] = d.WeComID
	}
	tagIDs := map[string]int{}
	for name, t := range state.Tags {
		if _, alive := live.Tags[t.WeComID]; alive {
			tagIDs[name] = t.WeComID
		}
	}
	var taken takenValues
	ex := executor.New(executor.Config{
		Client: p.Client, Store: p.Store, RunID: rep.RunID, Concurrency: p.Concurrency, PerMinute: p.PerMinute,
		Logger: log, DeptIDs: ids, TagIDs: tagIDs, Absent: absent, OnResult: func(r executor.Result) {
			taken.note(r)
			if p.OnResult != nil {
				p.OnResult(r)
			}
		},
	})
	rep.Summary, err = ex.Execute(ctx, pl)
	if err == nil {
		err = taken.explain(context.WithoutCancel(ctx), p.Store, rep.RunID, p.CorpID)
	}
	switch {
	case err != nil:
		rep.Fatal = err
		return journal.RunFailed
	case ctx.Err() != nil:
		return journal.RunCanceled
	case rep.Summary.Failed > 0 || rep.Held > 0:
		return journal.RunPartial
	case rep.Unapplied():
		return journal.RunDoneWithRejects
	}
	return journal.RunDone
}

// deptPaths names each department by the names from the top down to it.
func deptPaths(depts []mapper.Department) map[string]string {
	byKey := make(map[string]mapper.Department, len(depts))
	for _, d := range depts {
		byKey[d.Key] = d
	}
	paths := make(map[string]string, len(depts))
	var path func(key string, depth int) string
	path = func(key string, depth int) string {
		if p, ok := paths[key]; ok {
			return p
		}
		d, ok := byKey[key]
		// A parent outside the feed, or a loop the mapper let through,
		// ends the path rather than the run.
		if !ok || depth > len(depts) {
			return key
		}
		p := d.Name
		if d.ParentKey != "" {
			p = path(d.ParentKey, depth+1) + "/" + d.Name
		}
		paths[key] = p
		return p
	}
	for _, d := range depts {
		path(d.Key, 0)
	}
	return paths
}

// readAdoptedTags reads the members of the tags the plan would adopt
// (plan.AdoptTags) into live. A tag that cannot be read (48009 for a sync
// secret on a new IP, where tag/get is refused) is left out, and the plan
// leaves it alone with a warning.
func readAdoptedTags(ctx context.Context, c Client, dir mapper.Directory, state plan.State, live *plan.Live, pol plan.Policy, log *slog.Logger) {
	for _, id := range plan.AdoptTags(dir, state, *live, pol) {
		m, err := c.GetTag(ctx, id)
		if err != nil {
			log.Warn("tag not adopted: its members could not be read", "tag", live.Tags[id], "tagid", id, "err", err.Error())
			continue
		}
		if live.TagMembers == nil {
			live.TagMembers = map[int][]string{}
		}
		users := make([]string, 0, len(m.Users))
		for _, u := range m.Users {
			users = append(users, u.UserID)
		}
		live.TagMembers[id] = users
	}
}

// liveFrom builds the planner's view of WeCom from the two list calls' answers.
func liveFrom(users []wecom.DeptUser, depts []wecom.DepartmentRef) plan.Live {
	l := plan.Live{Users: make(map[string]string, len(users)), Departments: make(map[int]plan.LiveDept, len(depts))}
	for _, u := range users {
		l.Users[strings.ToLower(u.UserID)] = u.UserID
	}
	for _, d := range depts {
		l.Departments[d.ID] = plan.LiveDept{ID: d.ID, ParentID: d.ParentID}
	}
	return l
}

// ReadDirectory streams the run's source through the mapper, after the
// department table when the job has one. The source is the file at
// p.SourcePath (csv or xlsx, by its name), or, for a postgres job run
// without a file, the configured view; ctx bounds the read, which for
// PostgreSQL is one long query.
func ReadDirectory(ctx context.Context, p Params) (mapper.Directory, error) {
	job, sourcePath, departments := p.Job, p.SourcePath, p.DepartmentSpec
	spec, err := job.SourceSpec(sourcePath)
	if err != nil {
		return mapper.Directory{}, err
	}
	src, err := source.Open(ctx, spec)
	if err != nil {
		return mapper.Directory{}, err
	}
	defer src.Close()
	// The header decides which spelling of a column a field reads and
	// which optional fields are mapped at all, so it is read first.
	cfg, err := job.Mapping.ForHeader(src.Columns())
	if err != nil {
		return mapper.Directory{}, fmt.Errorf("%s: %w", sourceName(spec), err)
	}
	m, err := mapper.New(cfg)
	if err != nil {
		return mapper.Directory{}, fmt.Errorf("mapping: %w", err)
	}
	if departments != nil {
		if err := readDepartments(ctx, m, cfg, *departments); err != nil {
			return mapper.Directory{}, err
		}
	}
	for src.Next() {
		m.Add(mapper.Row(src.Row()))
	}
	if err := src.Err(); err != nil {
		return mapper.Directory{}, err
	}
	return m.TakeDirectory(), nil
}

// readDepartments feeds the department table to the mapper, which must
// see every department before the first member row.
func readDepartments(ctx context.Context, m *mapper.Mapper, cfg mapper.Config, spec source.Spec) error {
	src, err := source.Open(ctx, spec)
	if err != nil {
		return fmt.Errorf("department table: %w", err)
	}
	defer src.Close()
	if err := cfg.CheckDepartmentColumns(src.Columns()); err != nil {
		return fmt.Errorf("department table %s: %w", sourceName(spec), err)
	}
	for src.Next() {
		if err := m.AddDepartmentRow(mapper.Row(src.Row())); err != nil {
			return fmt.Errorf("department table: %w", err)
		}
	}
	return src.Err()
}

func sourceName(spec source.Spec) string {
	if spec.Type == source.TypePostgres {
		return spec.View
	}
	return filepath.Base(spec.Path)
}

// counts is the run's summary as the journal keeps it.
func (r *Report) counts() map[string]int {
	c := map[string]int{"rows": r.Rows, "rejected": len(r.Rejects)}
	if len(r.Warnings) > 0 {
		c["warnings"] = len(r.Warnings)
	}
	if r.Plan != nil && len(r.Plan.Held) > 0 {
		c["held"] = len(r.Plan.Held)
	}
	if r.Held > 0 {
		c["held_row_errors"] = r.Held
	}
	for k, v := range r.Summary.Counts {
		c[k] = v
	}
	if r.Plan != nil {
		c["unchanged_members"] = r.Plan.UnchangedMembers
		c["unchanged_departments"] = r.Plan.UnchangedDepartments
		if r.Status == journal.RunDryRun || r.Status == journal.RunRefused {
			for k, v := range r.Plan.Counts() {
				c[string(k)+"/planned"] = v
			}
		}
	}
	return c
}

// fileDigest is the sha256 of the source file, so an auditor can tell
// which export a run read. A PostgreSQL source (path "") has no bytes to
// hash and gets "": what it read is the snapshot taken when the run
// started, which the run's start time already records.
func fileDigest(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// SourcePath resolves a job's source against the config, unless the
// operator named one on the command line.
func SourcePath(c *config.Config, job *config.Job, override string) string {
	if override != "" {
		if abs, err := filepath.Abs(override); err == nil {
			return abs
		}
		return override
	}
	return c.Resolve(job.Source.Path)
}

// osUser is the operating-system account the run is under, "" when the
// system cannot say (a container without a passwd entry).
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
