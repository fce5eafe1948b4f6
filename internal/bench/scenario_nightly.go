package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
)

// nightlyResult is what the seed-approach comparison needs from the
// nightly scenario: the same emulator and feed, and our figures.
type nightlyResult struct {
	em      *emulator
	changed mapper.Directory // the nightly feed, mapped
	members int
	calls   int           // HTTP requests our run made
	wall    time.Duration // our run, process start to exit
	ran     bool
}

// nightlyRun runs the nightly job once per directory size: the mode's
// size, or each of Options.NightlyMembers in turn, so memory and plan time
// can be read as a curve. The seed's approach compares with the last.
func (b *bench) nightlyRun(ctx context.Context) error {
	sizes := b.opts.NightlyMembers
	if len(sizes) == 0 {
		sizes = []int{b.sizes.NightlyMembers}
	}
	if err := b.measureBaseline(ctx); err != nil {
		return err
	}
	for _, n := range sizes {
		if b.nightly != nil {
			// Only the last size's emulator is kept for the seed's approach.
			b.nightly.em.close()
			b.nightly = nil
		}
		if err := b.nightlyAt(ctx, n, len(sizes) > 1); err != nil {
			return fmt.Errorf("%s members: %w", num(n), err)
		}
	}
	return nil
}

// nightlyAt is the nightly job at one size: a large directory already
// applied, a feed with 1% changed. The directory is seeded rather than
// imported: the emulator's cost per create grew with its directory when
// this was written (uniqueness scans), and importing 100,000 members
// through it could take longer than the whole bench may. The seed goes
// through public APIs only. named puts the size in the work directory's
// name, for a run of several sizes.
func (b *bench) nightlyAt(ctx context.Context, n int, named bool) error {
	every := b.sizes.NightlyChangedEvery
	work := "nightly"
	if named {
		work = fmt.Sprintf("nightly-%d", n)
	}
	// per_minute 0: the client keeps WeCom's documented 10,000/min per API,
	// as a production config does.
	dir, em, cfgPath, err := b.emulatorJob(work, unlimitedSim(), 0, 0)
	if err != nil {
		return err
	}
	// Run closes the emulator: the seed-approach scenario reuses it.
	b.nightly = &nightlyResult{em: em, members: n}
	old := staffFeed{Members: n, Departments: 300, Leaders: true, Position: "工程师"}
	now := old
	now.ChangedEvery, now.Changed = every, "高级工程师"
	changed := now.changedMembers()
	setup := fmt.Sprintf("%s members / 300 departments already applied, %s changed (position); embedded journal; client at WeCom's default 10,000/min per API",
		num(n), num(changed))

	b.logf("nightly: writing and mapping %s-member feeds", num(n))
	appliedPath := filepath.Join(dir, "staff-applied.csv")
	if _, err := old.write(appliedPath); err != nil {
		return err
	}
	want, err := now.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	oldDir, err := mapFeed(ctx, cfgPath, appliedPath)
	if err != nil {
		return err
	}
	a := applyDirectory(oldDir)

	b.logf("nightly: seeding the emulator and the journal with %s applied members", num(n))
	seedStart := time.Now()
	if err := seedEmulator(em.sim, oldDir, a, filepath.Join(dir, "sim-state.json")); err != nil {
		return fmt.Errorf("seed the emulator: %w", err)
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	err = seedJournal(ctx, st, oldDir, a, appliedPath)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seed the journal: %w", err)
	}
	b.limitedBy(fmt.Sprintf("nightly setup: the %s applied members were seeded in %s through wecomsim.Server.LoadFile (its state file) and journal.Store "+
		"(one run with one completed user_create call and state change per member, as a first import records them) rather than imported, "+
		"so the setup does not depend on the emulator's cost per create at this size.",
		num(n), secs(time.Since(seedStart))))

	// The planner alone, on the same inputs the run will load.
	nowDir, err := mapFeed(ctx, cfgPath, filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	b.nightly.changed = nowDir
	_, job, err := loadJob(cfgPath)
	if err != nil {
		return err
	}
	pl, build, err := planAsRun(nowDir, a.State, a.Live, job.Policy)
	if err != nil {
		return err
	}

	env := childEnv(secretEnv + "=" + em.secret)
	b.logf("nightly: importer plan (dry run) in a child process")
	dry, planned, problems, err := b.dryRun(ctx, env, cfgPath)
	if err != nil {
		return err
	}
	row := Row{Scenario: "nightly: plan", Setup: setup}
	row.Result = fmt.Sprintf("dry run (read, journal state, live listing, plan) %s, peak RSS %s; plan.Needs + plan.Build alone %s (%s per member); %s writes planned",
		secs(dry.Wall), b.rssPer(dry.MaxRSS, n), secs(build), perMember(build, n), num(planned))
	if len(problems) == 0 && planned != changed {
		problems = append(problems, fmt.Sprintf("planned %s writes for %s changed records", num(planned), num(changed)))
	}
	if len(pl.Ops) != changed {
		problems = append(problems, fmt.Sprintf("plan.Build gave %s operations for %s changed records", num(len(pl.Ops)), num(changed)))
	}
	row.Check, row.Failed = verdict(fmt.Sprintf("planned writes = %s changed records", num(changed)), problems)
	b.add(row)

	b.logf("nightly: importer run in a child process")
	callsBefore, writesBefore := em.calls()
	run, problems, err := b.runToEnd(ctx, env, cfgPath)
	if err != nil {
		return err
	}
	callsAfter, writesAfter := em.calls()
	writes := writesAfter - writesBefore
	b.nightly.calls, b.nightly.wall, b.nightly.ran = callsAfter-callsBefore, run.Wall, true
	row = Row{Scenario: "nightly: run", Setup: setup}
	row.Result = fmt.Sprintf("wall %s (process), peak RSS %s; %s write calls, %s HTTP calls in all (token, listings)",
		secs(run.Wall), b.rssPer(run.MaxRSS, n), num(writes), num(callsAfter-callsBefore))
	if writes != changed {
		problems = append(problems, fmt.Sprintf("%s write calls for %s changed records", num(writes), num(changed)))
	}
	problems = append(problems, integrity(checkDirectory(em.sim.Snapshot(), want), duplicateEffects(em.sim.CallLog()), 0)...)
	row.Check, row.Failed = verdict(fmt.Sprintf("write calls = %s changed records; directory equals the feed", num(changed)), problems)
	b.add(row)
	return nil
}

// rssPer is a nightly process's peak RSS with what it adds per 1,000
// members over a process that starts and reads nothing (issue 15's
// measure: at most 1 MiB).
func (b *bench) rssPer(peak int64, members int) string {
	if peak == 0 || b.baseRSS == 0 {
		return rss(peak)
	}
	return fmt.Sprintf("%s (%.2f MB per 1,000 members above the %s baseline)",
		rss(peak), float64(peak-b.baseRSS)/(1<<20)/float64(members)*1000, rss(b.baseRSS))
}

// planAsRun plans the way a run does: the journal hands plan.Build only the
// records plan.Needs names. It returns the plan and the time both took.
func planAsRun(dir mapper.Directory, state plan.State, live plan.Live, pol plan.Policy) (*plan.Plan, time.Duration, error) {
	start := time.Now()
	lean := state
	lean.Records = map[string]member.Record{}
	for _, k := range plan.Needs(dir, state, live) {
		lean.Records[k] = state.Records[k]
	}
	pl, err := plan.Build(dir, lean, live, pol)
	if err != nil {
		return pl, 0, fmt.Errorf("plan.Build: %w", err)
	}
	return pl, time.Since(start), nil
}
