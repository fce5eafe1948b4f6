package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// unlimitedSim is an emulator without latency or rate limits: what the
// importer itself costs, not what WeCom makes it wait.
func unlimitedSim() wecomsim.Options {
	return wecomsim.Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1}
}

// firstImport imports a fresh feed into an empty emulator, once on the
// embedded journal and once on PostgreSQL, in-process so the journal's
// share of every call can be timed around the Store.
func (b *bench) firstImport(ctx context.Context) error {
	feed := staffFeed{Members: b.sizes.FirstMembers, Departments: b.sizes.FirstDepartments, Leaders: true, Position: "工程师"}
	setup := fmt.Sprintf("%s members / %s departments into an empty emulator; no latency, no limits; concurrency up to %d", num(feed.Members), num(feed.Departments), benchConcurrency)
	if err := b.firstImportOn(ctx, "embedded", feed, setup); err != nil {
		return err
	}
	pg, err := b.postgres()
	if err != nil {
		b.add(skippedPostgres("first import (PostgreSQL journal)", setup, err))
		return nil
	}
	return b.firstImportOn(ctx, "postgres", feed, setup, pg)
}

func (b *bench) firstImportOn(ctx context.Context, kind string, feed staffFeed, setup string, pg ...*pgCluster) error {
	name := "first import (embedded journal)"
	if kind == "postgres" {
		name = "first import (PostgreSQL journal)"
	}
	dir, em, cfgPath, err := b.emulatorJob("first-"+kind, unlimitedSim(), -1, -1)
	if err != nil {
		return err
	}
	defer em.close()
	want, err := feed.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	dsn := filepath.Join(dir, "journal.db")
	if kind == "postgres" {
		if dsn, err = pg[0].createDB(ctx, "journal_first"); err != nil {
			return err
		}
	}
	st, err := journal.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	timed := newTimedStore(st)
	cl, err := em.client(-1, -1, nil)
	if err != nil {
		return err
	}
	b.logf("first import: %s members on the %s journal", num(feed.Members), kind)
	rep, err := runInProcess(ctx, cfgPath, timed, cl, 0, "")
	if err != nil {
		return err
	}
	ops, byKind := operations(rep.Summary.Counts)
	calls, _ := em.calls()
	p50, p95, n := timed.percentiles()
	a50, a95, err := journalAlone(ctx, st, 500)
	if err != nil {
		return err
	}
	row := Row{Scenario: name, Setup: setup}
	row.Result = fmt.Sprintf("%s operations (%s) in %s = %s ops/s; %s HTTP calls; journal per call during the import p50 %s, p95 %s (%s calls); "+
		"alone (one writer, no load) p50 %s, p95 %s",
		num(ops), kinds(byKind), secs(rep.Duration), num(int(float64(ops)/rep.Duration.Seconds())), num(calls), ms(p50), ms(p95), num(n), ms(a50), ms(a95))

	var problems []string
	if rep.Status != journal.RunDone {
		problems = append(problems, fmt.Sprintf("run ended %s: %v", rep.Status, rep.Fatal))
	}
	unj, err := unjournaledWrites(ctx, em.sim.CallLog(), st)
	if err != nil {
		return err
	}
	problems = append(problems, integrity(checkDirectory(em.sim.Snapshot(), want), duplicateEffects(em.sim.CallLog()), unj)...)
	// One write per department and per member: direct_leader travels with
	// each member's own create, leaders first (the feed has no cycle).
	stats := em.sim.Stats()
	writes := stats["department/create"] + stats["user/create"] + stats["user/update"]
	if records := len(em.sim.Snapshot().Departments) - 1 + feed.Members; writes != records {
		problems = append(problems, fmt.Sprintf("%d writes for %d records (departments + members)", writes, records))
	}
	row.Check, row.Failed = verdict("directory equals the feed; one write per record; 0 lost, 0 duplicate, every write journaled", problems)
	b.add(row)
	return nil
}

// journalAlone times n journaled calls written one after another with
// nothing else running: the journal's own cost per call (BeginCall, then
// CompleteCall with a member state change, each a durable commit). During
// an import the same writes also wait for a CPU the emulator, the HTTP
// stack and the other workers share, which the in-import figure includes.
func journalAlone(ctx context.Context, st journal.Store, n int) (p50, p95 time.Duration, err error) {
	timed := newTimedStore(st)
	runID, err := st.StartRun(ctx, journal.Run{Job: "bench-journal-probe", CorpID: corpID, Mode: "run", Status: journal.RunRunning, StartedAt: time.Now()})
	if err != nil {
		return 0, 0, err
	}
	payload := json.RawMessage(`{"userid":"probe","name":"probe","dept_keys":["probe"],"enabled":true}`)
	for i := range n {
		id, err := timed.BeginCall(ctx, journal.Call{RunID: runID, Seq: i + 1, Phase: "members", Operation: "user_update",
			API: "user/update", Target: "probe", Payload: payload, Attempt: 1, StartedAt: time.Now()})
		if err != nil {
			return 0, 0, err
		}
		change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "probe", Payload: payload, Hash: fmt.Sprint(i), Enabled: true, RunID: runID}}
		if err := timed.CompleteCall(ctx, id, journal.CallOK, 0, "ok", change); err != nil {
			return 0, 0, err
		}
	}
	p50, p95, _ = timed.percentiles()
	return p50, p95, st.FinishRun(ctx, runID, journal.RunDone, map[string]int{"probe_calls": n})
}
