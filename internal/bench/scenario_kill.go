package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
)

// killSeed fixes where the kills land, so a failing campaign can be rerun.
const killSeed = 20261125

// killVersions is how many feed versions the kill campaign goes through at
// least: the first import (creates), then two that change every position
// and drop members (updates and deletes), so a kill can interrupt each
// kind of write. More follow only when a version finished before its share
// of the kills landed.
const killVersions = 3

// childDeadline bounds every wait for an importer process: one that has
// neither finished nor reached the awaited moment by then is hung, and the
// campaign says so instead of waiting forever.
const childDeadline = 2 * time.Minute

// killCampaigns runs the kill campaign on the embedded journal and on the
// bench's PostgreSQL.
func (b *bench) killCampaigns(ctx context.Context) error {
	if b.sizes.Kills+b.sizes.HeldKills == 0 {
		b.logf("kill -9: no kills asked for; left out")
		return nil
	}
	for _, label := range []string{"embedded", "PostgreSQL"} {
		dsn := ""
		if label == "PostgreSQL" {
			pg, err := b.postgres()
			if err != nil {
				b.add(skippedPostgres(killScenario(label), b.killSetup(label), err))
				continue
			}
			if dsn, err = pg.createDB(ctx, "journal_kill"); err != nil {
				return err
			}
		}
		start := time.Now()
		row, err := b.killCampaign(ctx, label, dsn)
		if err != nil {
			return fmt.Errorf("%s journal: %w", label, err)
		}
		b.add(row)
		b.logf("kill -9 on the %s journal done in %s", label, secs(time.Since(start)))
	}
	return nil
}

func killScenario(label string) string {
	return "fault campaign: kill -9 + resume (" + label + " journal)"
}

func (b *bench) killSetup(label string) string {
	return fmt.Sprintf("%s members / 40 departments in 7 location tags, then at least %d more feed versions that change every position, move a third of the members to another location and drop %s members each (leavers: delete); "+
		"the built importer binary (run, or resume of the unfinished run) killed with SIGKILL at random moments and while the emulator holds back "+
		"its answer to a write it applied (seed %d); %s journal; emulator latency 1 ms",
		num(b.sizes.FaultMembers), killVersions-1, num(b.killDrop()), killSeed, label)
}

// killDrop is how many members each feed version after the first drops.
func (b *bench) killDrop() int { return max(1, b.sizes.FaultMembers/25) }

func (b *bench) killFeed(version int) staffFeed {
	return faultFeed(b.sizes.FaultMembers-(version-1)*b.killDrop(), version)
}

// expectedWrites is about how many writes version's import sends from
// scratch, to spread the held-back answers over them.
func (b *bench) expectedWrites(version int) int {
	f := b.killFeed(version)
	tags := 2 * f.Locations // a create and an add per tag, or a removal and an add
	if version == 1 {
		return f.Departments + f.Members + tags // each created once, leaders with their reports
	}
	return f.Members + b.killDrop() + tags // every position, and the dropped members' deletes
}

// killCampaign kills `importer run` or `resume` on one journal (dsn, or
// the embedded file when empty) in two ways: after a random delay, which
// lands anywhere from start-up to between calls, and while the emulator
// holds back its answer to a write it applied, which leaves the journal a
// pending call whose effect happened. Each feed version gets its share of
// both and is then resumed to the end; after the last, one more run must
// write nothing, and CheckRecovered must find nothing.
func (b *bench) killCampaign(ctx context.Context, label, dsn string) (Row, error) {
	row := Row{Scenario: killScenario(label), Setup: b.killSetup(label)}
	dir, err := b.workDir("kill-" + label)
	if err != nil {
		return row, err
	}
	hold := newAnswerHold()
	opts := unlimitedSim()
	opts.Latency = time.Millisecond // a run long enough for kills to land inside it
	opts.AfterEffect = hold.afterEffect
	em, err := startEmulator(opts)
	if err != nil {
		return row, err
	}
	defer em.close()
	defer hold.free() // first: a held answer would keep the server from shutting down
	cfgPath, err := writeFaultConfig(dir, em.url, "delete")
	if err != nil {
		return row, err
	}
	env := childEnv(secretEnv + "=" + em.secret)
	stream := uint64(1) // each journal its own kills, the same on every run
	if dsn == "" {
		dsn = filepath.Join(dir, "journal.db")
	} else {
		env = append(env, journalEnv+"="+dsn)
		stream = 2
	}
	st, err := journal.Open(ctx, dsn)
	if err != nil {
		return row, err
	}
	defer st.Close()
	c := &campaign{b: b, em: em, hold: hold, st: st, env: env, cfgPath: cfgPath,
		rng: rand.New(rand.NewPCG(killSeed, stream)), held: map[string]int{},
		randomLeft: b.sizes.Kills, heldLeft: b.sizes.HeldKills,
		// A first estimate from the feed: about 0.25 ms a member, plus
		// start-up.
		window: 100*time.Millisecond + time.Duration(b.sizes.FaultMembers)*250*time.Microsecond}
	b.logf("kill -9 on the %s journal: %d kills at random moments and %d with an answer held back, on %s members",
		label, c.randomLeft, c.heldLeft, num(b.sizes.FaultMembers))
	feedPath := filepath.Join(dir, "staff.csv")
	var want Want
	for c.versions < killVersions || c.randomLeft+c.heldLeft > 0 {
		if c.versions == 2*killVersions+4 {
			c.problem("only %d of %d kills landed over %d feed versions", c.landed(), b.sizes.Kills+b.sizes.HeldKills, c.versions)
			break
		}
		c.versions++
		if want, err = b.killFeed(c.versions).write(feedPath); err != nil {
			return row, err
		}
		if err := c.killVersion(ctx); err != nil {
			return row, err
		}
		if len(c.problems) > 0 {
			break
		}
	}

	var problems []string
	if len(c.problems) == 0 {
		final, err := c.run(ctx, "run", "--config", cfgPath, "--json")
		if err != nil {
			return row, err
		}
		if sum, err := parseSummary(final); err != nil || sum.Status != string(journal.RunDone) || sum.Writes != 0 {
			problems = append(problems, fmt.Sprintf("a run after recovery ended %q with %d writes (%v)", sum.Status, sum.Writes, err))
		}
	}
	problems = append(c.problems, problems...)
	applied := c.applied()
	for _, api := range []string{"user/create", "user/update", "user/delete", wecom.APITagCreate, wecom.APITagAddUsers, wecom.APITagDelUsers} {
		if applied[api] == 0 {
			problems = append(problems, "WeCom applied no "+api+": the campaign did not exercise it")
		}
	}
	found, err := CheckRecovered(ctx, em.sim, st, corpID, want)
	if err != nil {
		return row, err
	}
	problems = append(problems, found...)

	snap := em.sim.Snapshot()
	row.Result = fmt.Sprintf("%d kills at random moments; %d with an applied write's answer held back (%s); %d importer processes; %s; WeCom applied %s",
		c.randomKills, sumOf(c.held), kinds(c.held), c.processes, plural(c.versions, "feed version"), kinds(applied))
	if len(c.exits) > 0 {
		row.Result += "; ended by themselves with a non-zero exit: " + kinds(c.exits)
	}
	row.Check, row.Failed = verdict(fmt.Sprintf("0 rows lost, 0 duplicate effects, every write journaled, the journal's state equals WeCom (%s members, %s departments), "+
		"no run left running; a final run writes nothing", num(len(snap.Users)), num(len(snap.Departments)-1)), problems)
	return row, nil
}

// campaign is one kill campaign's processes and tallies.
type campaign struct {
	b       *bench
	em      *emulator
	hold    *answerHold
	st      journal.Store
	env     []string
	cfgPath string
	rng     *rand.Rand

	randomLeft, heldLeft int // kills still to land
	attempts             int
	versions             int // feed versions written so far
	// window is how long after its start a process is killed at random,
	// at most: about how long a run lasts, shortened to what a run that
	// finished before its kill took, so kills keep landing as runs get
	// faster.
	window time.Duration

	processes   int
	randomKills int
	held        map[string]int // kills with an answer held back, by API
	exits       map[string]int // non-zero exits of processes that ended by themselves
	problems    []string
}

func (c *campaign) landed() int { return c.randomKills + sumOf(c.held) }

// killVersion lands the current feed version's share of the kills still
// to land, then resumes until the version is applied. A version that
// finished before its share landed leaves the rest to the next.
func (c *campaign) killVersion(ctx context.Context) error {
	b, version := c.b, c.versions
	before, err := c.latest(ctx)
	if err != nil {
		return err
	}
	writes0, deletes0 := c.writesReceived()
	share := func(left int) int { v := max(1, killVersions-version+1); return (left + v - 1) / v }
	randomHere, heldHere, heldDone := share(c.randomLeft), share(c.heldLeft), 0
	for i := 0; randomHere+heldHere > 0; i++ {
		if done, err := c.versionDone(ctx, before.ID); err != nil || done {
			return err
		}
		if c.attempts++; c.attempts > 10*(b.sizes.Kills+b.sizes.HeldKills)+20 {
			c.problem("only %d of %d kills landed in %d attempts", c.landed(), b.sizes.Kills+b.sizes.HeldKills, c.attempts-1)
			return nil
		}
		args, err := c.next(ctx)
		if err != nil {
			return err
		}
		// The two kinds take turns while both have kills to land. After
		// the first version a held-back answer comes first: a leaver waits
		// for nothing but the calls naming them, so the deletes are among
		// a run's first writes, and a kill at random would let them all
		// through.
		if heldHere == 0 || (randomHere > 0 && (i%2 == 0) == (version == 1)) {
			landed, err := c.killAfter(ctx, args, time.Duration(c.rng.Int64N(int64(c.window))))
			if err != nil {
				return err
			}
			if landed {
				randomHere, c.randomLeft = randomHere-1, c.randomLeft-1
			}
			continue
		}
		// After the first version every other answer held back is a
		// delete's, the first among them: WeCom no longer lists the
		// member, so only the listing can tell the next run that the
		// delete took effect. One more is a tag write's: in the first
		// version a create (its tag then found by name in tag/list), after
		// it a removal of members from a tag. The others fall anywhere in
		// what the version has left to write.
		n, api := 0, ""
		writes, deletes := c.writesReceived()
		deletesLeft := b.killDrop() - (deletes - deletes0)
		locations := b.killFeed(version).Locations
		switch {
		case version == 1 && heldDone == 0:
			n, api = 1+c.rng.IntN(locations), wecom.APITagCreate
		case version > 1 && heldDone == 1:
			n, api = 1+c.rng.IntN(locations), wecom.APITagDelUsers
		case version > 1 && deletesLeft > 0 && (heldHere == 1 || heldDone%2 == 0):
			n, api = 1+c.rng.IntN(deletesLeft), "user/delete"
		default:
			remaining := max(1, b.expectedWrites(version)-(writes-writes0))
			n = 1 + c.rng.IntN(max(1, remaining/(randomHere+heldHere)))
		}
		landed, err := c.killHeld(ctx, args, n, api)
		if err != nil {
			return err
		}
		if landed {
			heldHere, c.heldLeft, heldDone = heldHere-1, c.heldLeft-1, heldDone+1
		}
		if len(c.problems) > 0 {
			return nil
		}
	}
	return c.finish(ctx, before.ID)
}

func (c *campaign) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *campaign) latest(ctx context.Context) (journal.Run, error) {
	runs, err := c.st.ListRuns(ctx, 1)
	if err != nil || len(runs) == 0 {
		return journal.Run{}, err
	}
	return runs[0], nil
}

// next is what an operator would type: resume the last run unless it is
// done, else a new run.
func (c *campaign) next(ctx context.Context) ([]string, error) {
	r, err := c.latest(ctx)
	if err != nil {
		return nil, err
	}
	if r.ID != 0 && r.Status != journal.RunDone {
		return []string{"resume", fmt.Sprint(r.ID), "--config", c.cfgPath, "--json"}, nil
	}
	return []string{"run", "--config", c.cfgPath, "--json"}, nil
}

// versionDone: a run newer than after is done, so the current feed is applied.
func (c *campaign) versionDone(ctx context.Context, after int64) (bool, error) {
	r, err := c.latest(ctx)
	return r.ID > after && r.Status == journal.RunDone, err
}

// writesReceived counts the writes and the deletes that reached WeCom.
func (c *campaign) writesReceived() (writes, deletes int) {
	_, writes = c.em.calls()
	return writes, c.em.sim.Stats()["user/delete"]
}

// applied counts the writes WeCom applied, by API.
func (c *campaign) applied() map[string]int {
	n := map[string]int{}
	for _, call := range c.em.sim.CallLog() {
		if call.Errcode == 0 && slices.Contains(writeAPIs, call.API) {
			n[call.API]++
		}
	}
	return n
}

// process is a started importer; exited yields Wait's result once.
type process struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan error
}

func (c *campaign) start(ctx context.Context, args []string) (*process, error) {
	p := &process{cmd: exec.CommandContext(ctx, c.b.opts.Importer, args...), exited: make(chan error, 1)}
	p.cmd.Env = c.env
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start importer %s: %w", args[0], err)
	}
	c.processes++
	go func() { p.exited <- p.cmd.Wait() }()
	return p, nil
}

// kill sends SIGKILL (no handler, no clean-up, as a crash or the OOM
// killer) and reports whether the signal is what ended the process.
func (c *campaign) kill(p *process) (bool, error) {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(childDeadline):
		return false, fmt.Errorf("importer %s did not exit %s after SIGKILL", p.cmd.Args[1], childDeadline)
	}
	if p.cmd.ProcessState.ExitCode() != -1 {
		c.ended(p)
		return false, nil
	}
	return true, nil
}

// ended notes a process that finished by itself.
func (c *campaign) ended(p *process) {
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		if c.exits == nil {
			c.exits = map[string]int{}
		}
		c.exits[fmt.Sprintf("exit %d", code)]++
		c.b.logf("kill -9: importer %s exited %d by itself: %s", p.cmd.Args[1], code, firstLine(p.stderr.Bytes()))
	}
}

// killAfter starts args and kills the process after delay, unless it
// finished first.
func (c *campaign) killAfter(ctx context.Context, args []string, delay time.Duration) (bool, error) {
	p, err := c.start(ctx, args)
	if err != nil {
		return false, err
	}
	start := time.Now()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-p.exited:
		c.ended(p)
		if p.cmd.ProcessState.ExitCode() == 0 {
			c.window = min(c.window, time.Since(start))
		}
		return false, nil
	case <-t.C:
	}
	landed, err := c.kill(p)
	if landed {
		c.randomKills++
	}
	return landed, err
}

// killHeld starts args with WeCom holding back its answer to the n-th
// write of api ("" for any) it applies, and kills the process while it
// waits for that answer. It reports false when the process finished first.
func (c *campaign) killHeld(ctx context.Context, args []string, n int, api string) (bool, error) {
	c.hold.arm(n, api)
	defer c.hold.free()
	p, err := c.start(ctx, args)
	if err != nil {
		return false, err
	}
	t := time.NewTimer(childDeadline)
	defer t.Stop()
	select {
	case heldAPI := <-c.hold.held:
		landed, err := c.kill(p)
		if landed {
			c.held[heldAPI]++
		}
		return landed, err
	case <-p.exited:
		c.ended(p)
		return false, nil
	case <-t.C:
		_, _ = c.kill(p)
		c.problem("importer %s neither finished nor reached write %d (%q) in %s", args[0], n, api, childDeadline)
		return false, nil
	}
}

// finish resumes until a run newer than after is done.
func (c *campaign) finish(ctx context.Context, after int64) error {
	for i := 0; ; i++ {
		done, err := c.versionDone(ctx, after)
		if err != nil || done {
			return err
		}
		if i == 5 {
			r, err := c.latest(ctx)
			if err != nil {
				return err
			}
			c.problem("run %d still %s after 5 resumes", r.ID, r.Status)
			return nil
		}
		args, err := c.next(ctx)
		if err != nil {
			return err
		}
		if _, err := c.run(ctx, args...); err != nil {
			return err
		}
	}
}

// run runs the importer to its end, within childDeadline.
func (c *campaign) run(ctx context.Context, args ...string) (child, error) {
	cctx, cancel := context.WithTimeout(ctx, childDeadline)
	defer cancel()
	c.processes++
	res, err := c.b.runChild(cctx, c.env, args...)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return res, fmt.Errorf("importer %s did not finish within %s: %s", args[0], childDeadline, firstLine(res.Stderr))
	}
	return res, err
}

// answerHold holds back WeCom's answer to one write it has applied, until
// freed: killed meanwhile, the importer never learns the write took effect.
type answerHold struct {
	mu      sync.Mutex
	armed   bool
	api     string // the write to hold back; "" for any
	left    int    // matching successful writes until the one held back
	release chan struct{}
	held    chan string // the API held back, once per arm
}

func newAnswerHold() *answerHold { return &answerHold{held: make(chan string, 1)} }

// arm holds back the answer to the n-th successful write of api from now.
func (h *answerHold) arm(n int, api string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.held: // a hold freed before anyone took it
	default:
	}
	h.armed, h.api, h.left, h.release = true, api, n, make(chan struct{})
}

// afterEffect is the emulator's wecomsim.Options.AfterEffect.
func (h *answerHold) afterEffect(api string, code int) {
	if code != 0 || !slices.Contains(writeAPIs, api) {
		return
	}
	h.mu.Lock()
	if !h.armed || (h.api != "" && h.api != api) {
		h.mu.Unlock()
		return
	}
	if h.left--; h.left > 0 {
		h.mu.Unlock()
		return
	}
	h.armed = false
	release := h.release
	h.mu.Unlock()
	h.held <- api
	<-release
}

// free answers what is held back, if anything, and disarms.
func (h *answerHold) free() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed = false
	if h.release != nil {
		close(h.release)
		h.release = nil
	}
}
