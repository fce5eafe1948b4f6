package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/hrfeed/importer/internal/journal"
)

// firstScale imports a fresh feed into an empty emulator through the built
// importer binary, so the process's own peak memory can be read, once per
// size: the mode's FirstScaleMembers, or each of Options.FirstMembers.
// Before the run, a dry run (`importer plan --json`, which lists every
// operation) plans the same import.
func (b *bench) firstScale(ctx context.Context) error {
	sizes := b.opts.FirstMembers
	if len(sizes) == 0 {
		if b.sizes.FirstScaleMembers == 0 {
			return nil
		}
		sizes = []int{b.sizes.FirstScaleMembers}
	}
	if err := b.measureBaseline(ctx); err != nil {
		return err
	}
	for _, n := range sizes {
		if err := b.firstScaleAt(ctx, n); err != nil {
			return fmt.Errorf("%s members: %w", num(n), err)
		}
	}
	return nil
}

// measureBaseline sets baseRSS, the peak of an importer process that reads
// nothing, once per bench.
func (b *bench) measureBaseline(ctx context.Context) error {
	if b.baseRSS != 0 {
		return nil
	}
	base, err := b.runChild(ctx, childEnv(), "bench", "read-source", "--type", "none")
	if err != nil {
		return err
	}
	// The idle process exits within a sampling interval or two: its own
	// figure is the one to trust.
	var idle readResult
	if base.Exit == 0 && json.Unmarshal(base.Stdout, &idle) == nil {
		b.baseRSS = max(idle.PeakRSS, base.MaxRSS)
	}
	return nil
}

func (b *bench) firstScaleAt(ctx context.Context, n int) error {
	dir, em, cfgPath, err := b.emulatorJob(fmt.Sprintf("first-scale-%d", n), unlimitedSim(), -1, -1)
	if err != nil {
		return err
	}
	defer em.close()
	feed := staffFeed{Members: n, Departments: 300, Leaders: true, Position: "工程师"}
	b.logf("first import at scale: writing a %s-member feed", num(n))
	want, err := feed.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	setup := fmt.Sprintf("%s members / %s departments with a leader tree into an empty emulator, through the importer binary; no latency, no limits; embedded journal",
		num(n), num(feed.Departments))
	env := childEnv(secretEnv + "=" + em.secret)

	b.logf("first import at scale: importer plan --json (dry run) in a child process")
	dry, planned, problems, err := b.dryRun(ctx, env, cfgPath)
	if err != nil {
		return err
	}
	records := feed.Departments + n
	row := Row{Scenario: "first import at scale: plan", Setup: setup}
	row.Result = fmt.Sprintf("dry run listing every operation (%s of JSON) %s, peak RSS %s; %s writes planned",
		mb(int64(len(dry.Stdout))), secs(dry.Wall), b.rssPer(dry.MaxRSS, n), num(planned))
	if len(problems) == 0 && planned != records {
		problems = append(problems, fmt.Sprintf("planned %s writes for %s records (departments + members)", num(planned), num(records)))
	}
	row.Check, row.Failed = verdict(fmt.Sprintf("planned writes = %s departments + members", num(records)), problems)
	b.add(row)

	b.logf("first import at scale: importer run in a child process")
	run, problems, err := b.runToEnd(ctx, env, cfgPath)
	if err != nil {
		return err
	}
	_, writes := em.calls()
	row = Row{Scenario: "first import at scale: run", Setup: setup}
	row.Result = fmt.Sprintf("wall %s (process) = %s writes/s, peak RSS %s; %s write calls",
		secs(run.Wall), num(int(float64(writes)/run.Wall.Seconds())), b.rssPer(run.MaxRSS, n), num(writes))
	if writes != records {
		problems = append(problems, fmt.Sprintf("%s write calls for %s records (departments + members)", num(writes), num(records)))
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	unj, err := unjournaledWrites(ctx, em.sim.CallLog(), st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	problems = append(problems, integrity(checkDirectory(em.sim.Snapshot(), want), duplicateEffects(em.sim.CallLog()), unj)...)
	row.Check, row.Failed = verdict(fmt.Sprintf("write calls = %s departments + members; directory equals the feed; every write journaled", num(records)), problems)
	b.add(row)
	return nil
}
