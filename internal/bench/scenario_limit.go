package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// limitCase is one run into a rate limit: perMinute and perHour are set
// alike on the client and the emulator (0 = WeCom's documented 10,000/min
// and 150,000/h, -1 = off).
type limitCase struct {
	name               string
	perMinute, perHour int
	members            int
	latency            time.Duration
}

// atTheLimit imports members into an emulator that answers every request
// after 50, 150 or 300 ms and enforces a per-API limit that the client is
// configured with too, with the default config: the executor must size the
// calls it keeps in flight to rate × latency for the limiter, not the
// pool, to pace the run.
//
// The first case isolates the minute window (hour window off) at R with
// 1.35 R creates, so the run spans more than one window and its rate is
// the limiter's steady rate, not its opening burst. The second keeps
// WeCom's documented defaults for both windows, where the hour window
// (150,000/h, i.e. 2,500/min on average) is the one that binds once its
// burst is spent.
func (b *bench) atTheLimit(ctx context.Context) error {
	// The default config must reach the limit however far WeCom is: the
	// executor sizes the calls in flight from the latency it measures.
	var cases []limitCase
	for _, lat := range []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond} {
		cases = append(cases, limitCase{fmt.Sprintf("at the limit: %s latency", lat), b.sizes.LimitPerMinute, -1, b.sizes.LimitMembers, lat})
	}
	if n := b.sizes.DefaultLimitMembers; n > 0 {
		cases = append(cases, limitCase{"at the limit: WeCom's default limits", 0, 0, n, 50 * time.Millisecond})
	}
	for _, c := range cases {
		if err := b.limitRun(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) limitRun(ctx context.Context, c limitCase) error {
	dir, em, cfgPath, err := b.emulatorJob(c.name, wecomsim.Options{Latency: c.latency, CorpPerMinute: c.perMinute, CorpPerHour: c.perHour}, c.perMinute, c.perHour)
	if err != nil {
		return err
	}
	defer em.close()
	// No leaders: their second pass would be a second user/update stream
	// under its own budget and double the time without telling more.
	feed := staffFeed{Members: c.members, Departments: 10, Position: "工程师"}
	want, err := feed.write(filepath.Join(dir, "staff.csv"))
	if err != nil {
		return err
	}
	st, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	cl, err := em.client(c.perMinute, c.perHour, nil)
	if err != nil {
		return err
	}
	r := c.perMinute
	limits := fmt.Sprintf("R = %s calls/min per API (hour window off)", num(r))
	if r == 0 {
		r = 10000
		limits = "R = 10,000 calls/min and 150,000/h per API (WeCom's documented defaults)"
	}
	b.logf("%s: %s member creates, %s, %s latency", c.name, num(c.members), limits, c.latency)
	rep, err := runInProcess(ctx, cfgPath, st, cl, 0, "")
	if err != nil {
		return err
	}

	log := em.sim.CallLog()
	var first, last time.Time
	accepted, limited := 0, 0
	for _, call := range log {
		if call.Errcode == 45009 {
			limited++
		}
		if call.API != "user/create" || call.Errcode != 0 {
			continue
		}
		if accepted == 0 {
			first = call.At
		}
		last = call.At
		accepted++
	}
	rate := 0.0
	if span := last.Sub(first); accepted > 1 && span > 0 {
		rate = float64(accepted-1) / span.Minutes()
	}
	worst := em.sim.MaxWindowCount("user/create", time.Minute)
	row := Row{Scenario: c.name,
		Setup: fmt.Sprintf("%s members; emulator latency %s; %s on the emulator and the client; concurrency up to %d (sized by the executor); embedded journal", num(c.members), c.latency, limits, benchConcurrency)}
	row.Result = fmt.Sprintf("user/create: %s calls over %s = %s/min = %.3f R; 45009 answers: %d; worst minute at the emulator: %s (R = %s); run %s",
		num(accepted), secs(last.Sub(first)), num(int(rate)), rate/float64(r), limited, num(worst), num(r), secs(rep.Duration))
	var problems []string
	if rep.Status != journal.RunDone {
		problems = append(problems, fmt.Sprintf("run ended %s: %v", rep.Status, rep.Fatal))
	}
	problems = append(problems, integrity(checkDirectory(em.sim.Snapshot(), want), duplicateEffects(log), 0)...)
	check := "every member created"
	if limited > 0 {
		check += fmt.Sprintf("; note: %d calls answered 45009 (retried)", limited)
	}
	row.Check, row.Failed = verdict(check, problems)
	b.add(row)
	if c.perMinute > 0 && c.members < c.perMinute && c.latency == 50*time.Millisecond {
		b.limitedBy("at the limit (this mode): fewer creates than R, so the run fits inside the limiter's opening burst and one window; the rate is not the steady one.")
	}
	return nil
}
