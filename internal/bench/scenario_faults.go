package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hrfeed/importer/internal/journal"
)

// faults is the fault campaign: the importer killed with SIGKILL and
// resumed (scenario_kill.go), the emulator's fault mix, and the journal's
// PostgreSQL stopped under a run. Each ends with the same checks,
// CheckRecovered's: the directory equals the feed (no row lost), no create
// took effect twice, every write WeCom received has its journal row, the
// journal's applied state equals WeCom, no run is left running.
func (b *bench) faults(ctx context.Context) error {
	parts := []struct {
		name string
		run  func(context.Context) error
	}{{"kill -9", b.killCampaigns}, {"fault mix", b.faultMix}, {"PostgreSQL restart", b.postgresRestart}}
	for _, p := range parts {
		start := time.Now()
		if err := p.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		b.logf("%s done in %s", p.name, secs(time.Since(start)))
	}
	return nil
}

// faultMix runs an import in-process against an emulator that answers
// 10% of calls with -1 (system busy), 3% with HTTP 5xx, applies 2% and
// then drops the connection, drops 2% before any effect, and, a third
// and two thirds of the way in, answers a burst of 45009 and invalidates
// every token. Runs and resumes go on until one finishes.
func (b *bench) faultMix(ctx context.Context) error {
	dir, err := b.workDir("faultmix")
	if err != nil {
		return err
	}
	opts := unlimitedSim()
	opts.FailRate = 0.15
	opts.FailCodes = []int{-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 500, 502, 503, -3, -3}
	opts.DropRate = 0.02
	opts.Seed = 6
	em, err := startEmulator(opts)
	if err != nil {
		return err
	}
	defer em.close()
	cfgPath, err := writeFaultConfig(dir, em.url, "disable")
	if err != nil {
		return err
	}
	feed := faultFeed(b.sizes.FaultMembers, 1)
	want, err := feed.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	// The injected 45009s are scripted answers, not a real window ban, so
	// the client's minute-long rest after one (and its backoff) is cut
	// to at most 0.2 s here to keep the campaign short.
	cl, err := em.client(-1, -1, func(ctx context.Context, d time.Duration) error {
		t := time.NewTimer(min(d, 200*time.Millisecond))
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return err
	}

	// Business calls a clean import makes: creates, then leader updates.
	expected := feed.Members*2 + feed.Departments
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		burst, invalidated := false, false
		for !invalidated {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			all, _ := em.calls()
			if !burst && all > expected/3 {
				em.sim.InjectFaults(45009, 45009, 45009, 45009, 45009, 45009, 45009, 45009)
				burst = true
			}
			if all > 2*expected/3 {
				em.sim.InvalidateTokens()
				invalidated = true
			}
		}
	}()

	b.logf("fault mix: %s members with faults injected", num(feed.Members))
	var problems []string
	rep, err := runInProcess(ctx, cfgPath, st, cl, 0, "")
	runs := 1
	for err == nil && rep.Status != journal.RunDone && runs < 8 {
		rep, err = runInProcess(ctx, cfgPath, st, cl, rep.RunID, "")
		runs++
	}
	close(stop)
	<-done
	if err != nil {
		return err
	}
	if rep.Status != journal.RunDone {
		problems = append(problems, fmt.Sprintf("still %s after %d runs: %v", rep.Status, runs, rep.Fatal))
	}

	log := em.sim.CallLog()
	faults := map[string]int{}
	for _, c := range log {
		switch {
		case c.Errcode == -1:
			faults["-1"]++
		case c.Errcode >= 500 && c.Errcode <= 599:
			faults["5xx"]++
		case c.Errcode == -2:
			faults["dropped"]++
		case c.Dropped:
			faults["applied+dropped"]++
		case c.Errcode == 45009:
			faults["45009"]++
		case c.Errcode == 42001 || c.Errcode == 40014:
			faults["token invalid"]++
		}
	}
	found, err := CheckRecovered(ctx, em.sim, st, corpID, want)
	if err != nil {
		return err
	}
	problems = append(problems, found...)
	row := Row{Scenario: "fault campaign: emulator fault mix",
		Setup: fmt.Sprintf("%s members / 40 departments in-process; 10%% -1, 3%% HTTP 5xx, 2%% applied then dropped, 2%% dropped, a burst of 8 × 45009, all tokens invalidated mid-run; embedded journal",
			num(feed.Members)),
		Result: fmt.Sprintf("%s (first + resumes) to done; %s of %s calls faulted (%s)", plural(runs, "run"), num(sumOf(faults)), num(len(log)), kinds(faults))}
	row.Check, row.Failed = verdict("0 rows lost, 0 duplicate effects, every write journaled, the journal's state equals WeCom, no run left running", problems)
	b.add(row)
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return num(n) + " " + what + "s"
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// postgresRestart stops the journal's PostgreSQL (immediate shutdown, as a
// crash) under a running `importer run`, which must stop without sending a
// call it cannot journal; after the restart `importer resume` must finish.
func (b *bench) postgresRestart(ctx context.Context) error {
	setup := fmt.Sprintf("%s members, built importer binary on a PostgreSQL journal stopped (immediate) mid-run, restarted, then resumed; emulator latency 3 ms",
		num(b.sizes.FaultMembers))
	const name = "fault campaign: PostgreSQL restart"
	pg, err := b.postgres()
	if err != nil {
		b.add(skippedPostgres(name, setup, err))
		return nil
	}
	dir, err := b.workDir("pgrestart")
	if err != nil {
		return err
	}
	opts := unlimitedSim()
	opts.Latency = 3 * time.Millisecond
	em, err := startEmulator(opts)
	if err != nil {
		return err
	}
	defer em.close()
	cfgPath, err := writeFaultConfig(dir, em.url, "disable")
	if err != nil {
		return err
	}
	// The server stays down until the run gives up; the journal's writes
	// need not wait their default 30 s (and FinishRun another 30) for that.
	if err := setRetryFor(cfgPath, "2s"); err != nil {
		return err
	}
	want, err := faultFeed(b.sizes.FaultMembers, 1).write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	dsn, err := pg.createDB(ctx, "journal_restart")
	if err != nil {
		return err
	}
	env := childEnv(secretEnv+"="+em.secret, journalEnv+"="+dsn)

	b.logf("PostgreSQL restart: stopping the journal under a running import")
	cmd := exec.CommandContext(ctx, b.opts.Importer, "run", "--config", cfgPath, "--json")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var problems []string
	trigger := max(1, b.sizes.FaultMembers/5)
	stoppedAt := -1
	deadline := time.NewTimer(childDeadline)
	defer deadline.Stop()
wait:
	for {
		select {
		case <-exited:
			problems = append(problems, "the run finished before the journal could be stopped")
			break wait
		case <-deadline.C:
			_ = cmd.Process.Kill()
			<-exited
			problems = append(problems, fmt.Sprintf("the run sent fewer than %d user/create calls in %s", trigger, childDeadline))
			break wait
		case <-time.After(2 * time.Millisecond):
		}
		if n := em.sim.Stats()["user/create"]; n >= trigger {
			if err := pg.halt(); err != nil {
				_ = cmd.Process.Kill()
				return err
			}
			stoppedAt = n
			select {
			case err := <-exited:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 1 {
					problems = append(problems, fmt.Sprintf("with its journal gone the run should stop with exit 1, got %v", err))
				}
			case <-time.After(childDeadline):
				_ = cmd.Process.Kill()
				<-exited
				problems = append(problems, fmt.Sprintf("the run did not stop within %s of losing its journal", childDeadline))
			}
			break wait
		}
	}
	sentWhileDown := em.sim.Stats()["user/create"]
	if stoppedAt >= 0 {
		if err := pg.serve(); err != nil {
			return err
		}
	}
	st, err := journal.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	runs := 1
	if r, err := st.ListRuns(ctx, 1); err != nil {
		return err
	} else if len(r) == 1 && r[0].Status != journal.RunDone {
		res, err := b.runChild(ctx, env, "resume", fmt.Sprint(r[0].ID), "--config", cfgPath, "--json")
		if err != nil {
			return err
		}
		runs++
		if sum, err := parseSummary(res); err != nil || sum.Status != string(journal.RunDone) {
			problems = append(problems, fmt.Sprintf("resume after the restart ended %q (exit %d): %v %s", sum.Status, res.Exit, err, sum.Error))
		}
	}
	found, err := CheckRecovered(ctx, em.sim, st, corpID, want)
	if err != nil {
		return err
	}
	problems = append(problems, found...)
	row := Row{Scenario: name, Setup: setup,
		Result: fmt.Sprintf("journal stopped after %s user/create calls (%s reached WeCom in all before the run stopped); %d runs (run + resume)",
			num(stoppedAt), num(sentWhileDown), runs)}
	row.Check, row.Failed = verdict("0 rows lost, 0 duplicate effects, no call sent unjournaled, the journal's state equals WeCom, no run left running", problems)
	b.add(row)
	return nil
}
