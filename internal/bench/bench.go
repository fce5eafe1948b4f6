package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

// Sizes are the scenario sizes of one mode.
type Sizes struct {
	SourceRows int // rows of the 12-column source-read feed

	FirstMembers, FirstDepartments int
	// FirstScaleMembers is the first import measured in a process of its
	// own, for its peak memory; 0 leaves it out.
	FirstScaleMembers int

	NightlyMembers      int
	NightlyChangedEvery int           // 100 = 1% changed
	SeedBudget          time.Duration // wall time the seed's approach may run before it is extrapolated

	// LimitPerMinute is R, the per-API limit set on both the client and
	// the emulator; LimitMembers is how many user/create calls run into it.
	LimitPerMinute, LimitMembers int
	// DefaultLimitMembers, when > 0, also runs that many creates under
	// WeCom's documented default limits, where the hour window binds.
	DefaultLimitMembers int
	// MixedMembers is the mixed scenario's applied directory and
	// MixedChanges the size of its night (creates, updates and a third as
	// many leavers), at R = LimitPerMinute; either 0 leaves it out.
	MixedMembers, MixedChanges int

	// FaultMembers is the fault campaign's first feed. Kills and
	// HeldKills are the kill campaign's SIGKILLs per journal: at random
	// moments, and while WeCom holds back the answer to a write it applied.
	// Both 0 leave the kill campaign out.
	FaultMembers     int
	Kills, HeldKills int
}

// FullSizes are issue 8's sizes. The limit scenario sends 1.35 R member
// creates, so it runs past one full minute window (about 80 s) and its
// rate is the limiter's steady rate, not its opening burst; at WeCom's
// defaults, 5,000 creates spend the hour window's 2,500-call burst and
// then run at its steady rate for about a minute. The mixed night sends
// 8,000 user/update calls at R = 6,000/min, so that API runs at its limit
// for more than a minute while the creates run beside it.
func FullSizes() Sizes {
	return Sizes{
		SourceRows: 100000, FirstMembers: 10000, FirstDepartments: 300, FirstScaleMembers: 100000,
		NightlyMembers: 100000, NightlyChangedEvery: 100, SeedBudget: 45 * time.Second,
		LimitPerMinute: 6000, LimitMembers: 8100, DefaultLimitMembers: 5000,
		MixedMembers: 20000, MixedChanges: 6000,
		FaultMembers: 2000, Kills: 20, HeldKills: 12,
	}
}

// QuickSizes run every scenario small, for CI: their checks are the
// point, their times are not comparable with the full table.
func QuickSizes() Sizes {
	return Sizes{
		SourceRows: 5000, FirstMembers: 500, FirstDepartments: 30, FirstScaleMembers: 2000,
		NightlyMembers: 2000, NightlyChangedEvery: 100, SeedBudget: 3 * time.Second,
		LimitPerMinute: 1200, LimitMembers: 150,
		MixedMembers: 600, MixedChanges: 150,
		FaultMembers: 300, Kills: 3, HeldKills: 6,
	}
}

// ErrUnknownScenario is returned by Run for a name --only does not know.
var ErrUnknownScenario = errors.New("unknown scenario")

// Scenario names, as --only takes them, in the order they run.
var Scenarios = []string{"source", "first-import", "first-import-scale", "nightly", "nightly-tags", "limit", "mixed", "seed-approach", "faults"}

// Options configure a bench run.
type Options struct {
	Quick bool
	// Sizes overrides the mode's sizes (tests use tiny ones).
	Sizes *Sizes
	// Only restricts the run to these scenarios; empty runs all.
	Only []string
	// NightlyMembers, when set, runs the nightly scenario once per size
	// instead of at the mode's NightlyMembers.
	NightlyMembers []int
	// FirstMembers, when set, runs the first-import-scale scenario once
	// per size instead of at the mode's FirstScaleMembers.
	FirstMembers []int
	// Importer is the importer binary the bench starts where it needs a
	// process of its own: peak RSS and kill -9. It must have the hidden
	// `bench read-source` subcommand.
	Importer string
	// Command is how the run was started, printed above the table.
	Command string
	// Log receives one progress line per step; nil discards them.
	Log io.Writer
}

// bench is one run's shared state.
type bench struct {
	opts    Options
	sizes   Sizes
	tmp     string
	res     *Results
	pg      *pgCluster
	pgErr   error
	pgTried bool
	nightly *nightlyResult // set by the nightly scenario, read by seed-approach
	baseRSS int64          // peak RSS of an importer process that reads nothing
}

// Run runs the selected scenarios and returns the table. The error is
// for a run that could not start at all; a scenario that fails is a FAIL
// row, and the other scenarios still run.
func Run(ctx context.Context, opts Options) (*Results, error) {
	for _, name := range opts.Only {
		if !slices.Contains(Scenarios, name) {
			return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownScenario, name, strings.Join(Scenarios, ", "))
		}
	}
	if slices.Contains(opts.Only, "seed-approach") && !slices.Contains(opts.Only, "nightly") {
		// The comparison runs on the nightly scenario's emulator and feed.
		opts.Only = append(opts.Only, "nightly")
	}
	if opts.Importer == "" {
		return nil, errors.New("bench: Options.Importer (the importer binary) is required")
	}
	b, err := newBench(opts)
	if err != nil {
		return nil, err
	}
	defer b.close()

	start := time.Now()
	steps := map[string]func(context.Context) error{
		"source": b.sourceRead, "first-import": b.firstImport, "first-import-scale": b.firstScale, "nightly": b.nightlyRun, "nightly-tags": b.nightlyTags,
		"limit": b.atTheLimit, "mixed": b.mixedRun, "seed-approach": b.seedApproach, "faults": b.faults,
	}
	for _, name := range Scenarios {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, name) {
			continue
		}
		b.logf("%s ...", name)
		t := time.Now()
		if err := steps[name](ctx); err != nil {
			if ctx.Err() != nil {
				return b.res, ctx.Err()
			}
			b.add(Row{Scenario: name, Check: "FAIL: could not run: " + err.Error(), Failed: true})
		}
		b.logf("%s done in %s", name, secs(time.Since(t)))
	}
	b.res.Took = time.Since(start)
	return b.res, nil
}

// newBench sets up a run's shared state; close removes what it leaves.
func newBench(opts Options) (*bench, error) {
	b := &bench{opts: opts, sizes: FullSizes(), res: &Results{Mode: "full", Command: opts.Command, Machine: thisMachine()}}
	if opts.Quick {
		b.sizes, b.res.Mode = QuickSizes(), "quick"
	}
	if opts.Sizes != nil {
		b.sizes = *opts.Sizes
	}
	tmp, err := os.MkdirTemp("", "hrfeed-bench-")
	if err != nil {
		return nil, err
	}
	b.tmp = tmp
	return b, nil
}

func (b *bench) close() {
	if b.nightly != nil && b.nightly.em != nil {
		b.nightly.em.close()
	}
	if b.pg != nil {
		if err := b.pg.remove(); err != nil {
			b.logf("stopping the bench's PostgreSQL: %v", err)
		}
	}
	os.RemoveAll(b.tmp)
}

func (b *bench) add(r Row) { b.res.Rows = append(b.res.Rows, r) }

// limitedBy records what held a figure back, for the notes under the table.
func (b *bench) limitedBy(note string) { b.res.Limits = append(b.res.Limits, note) }

func (b *bench) logf(format string, args ...any) {
	if b.opts.Log != nil {
		fmt.Fprintf(b.opts.Log, "bench: "+format+"\n", args...)
	}
}

// postgres starts the bench's PostgreSQL on first use. When it cannot,
// every PostgreSQL row says why instead of failing the run.
func (b *bench) postgres() (*pgCluster, error) {
	if !b.pgTried {
		b.pgTried = true
		b.logf("starting a private PostgreSQL ...")
		b.pg, b.pgErr = startPostgres()
	}
	return b.pg, b.pgErr
}

// skippedPostgres is the row for a PostgreSQL case that could not run.
func skippedPostgres(scenario, setup string, why error) Row {
	return Row{Scenario: scenario, Setup: setup, Result: "—", Check: "skipped: no PostgreSQL (" + why.Error() + ")"}
}

// loadJob reads a scenario's config and its only job.
func loadJob(path string) (*config.Config, *config.Job, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	job, err := c.Job("")
	return c, job, err
}

// runInProcess runs the job of the config at cfgPath the way
// `importer run` (resumedFrom 0) or `importer resume` does, minus the
// terminal output; source, when set, is the file a resumed run read.
func runInProcess(ctx context.Context, cfgPath string, st journal.Store, cl runner.Client, resumedFrom int64, source string) (*runner.Report, error) {
	c, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	// A scenario's config has one corp, the emulator's that cl talks to.
	params, err := runner.ForJob(c, "", runner.Options{Source: source, ResumedFrom: resumedFrom, Store: st,
		Clients: func(config.Corp) (runner.Client, error) { return cl, nil }})
	if err != nil {
		return nil, err
	}
	return runner.Run(ctx, params)
}

// operations sums a run's outcomes per operation kind ("user_create"),
// whatever the outcome.
func operations(counts map[string]int) (total int, byKind map[string]int) {
	byKind = map[string]int{}
	for k, n := range counts {
		kind, _, ok := strings.Cut(k, "/")
		if !ok {
			continue
		}
		byKind[kind] += n
		total += n
	}
	return total, byKind
}

func kinds(byKind map[string]int) string {
	keys := make([]string, 0, len(byKind))
	for k := range byKind {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s", k, num(byKind[k]))
	}
	return strings.Join(parts, ", ")
}
