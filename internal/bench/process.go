package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
)

// Environment variables the bench sets for the importer processes it
// starts. Secrets and database URLs travel only this way, never as
// arguments, which any user of the machine can read in ps.
const (
	secretEnv  = "WECOM_SECRET"
	journalEnv = "DATABASE_URL"
	// SourceDSNEnv carries the PostgreSQL URL of the source-read child.
	SourceDSNEnv = "HRFEED_BENCH_SOURCE_DSN"
)

// childEnv is this process's environment without anything that could
// point a child at a real WeCom or journal, plus the given settings.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == secretEnv || k == journalEnv || k == SourceDSNEnv {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// child is a finished importer process.
type child struct {
	Wall   time.Duration
	MaxRSS int64 // peak RSS (VmHWM) in bytes, sampled; 0 where there is no /proc
	Exit   int
	Stdout []byte
	Stderr []byte
}

// runChild runs the importer with args and env and measures it. A non-zero
// exit is not an error here: callers decide what each exit code means.
func (b *bench) runChild(ctx context.Context, env []string, args ...string) (child, error) {
	cmd := exec.CommandContext(ctx, b.opts.Importer, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return child{}, fmt.Errorf("start importer %s: %w", args[0], err)
	}
	stop := make(chan struct{})
	peak := watchRSS(cmd.Process.Pid, stop)
	// The samples end when Wait returns, i.e. after the child exited.
	_ = cmd.Wait()
	c := child{Wall: time.Since(start), Stdout: out.Bytes(), Stderr: errb.Bytes(), Exit: cmd.ProcessState.ExitCode()}
	close(stop)
	c.MaxRSS = <-peak
	if ctx.Err() != nil {
		return c, ctx.Err()
	}
	return c, nil
}

// runSummary is the part of `importer run --json` the bench reads.
type runSummary struct {
	RunID      int64          `json:"run_id"`
	Status     string         `json:"status"`
	ExitCode   int            `json:"exit_code"`
	Counts     map[string]int `json:"counts"`
	Planned    map[string]int `json:"planned"`
	Writes     int            `json:"writes"`
	DurationMS int64          `json:"duration_ms"`
	Error      string         `json:"error"`
}

func parseSummary(c child) (runSummary, error) {
	var s runSummary
	if err := json.Unmarshal(c.Stdout, &s); err != nil {
		return s, fmt.Errorf("importer exited %d without a JSON summary: %s", c.Exit, firstLine(c.Stderr))
	}
	return s, nil
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// dryRun runs `importer plan --json` on the config at cfgPath and sums the
// writes its summary plans; problems say why that summary cannot be read
// as a plan.
func (b *bench) dryRun(ctx context.Context, env []string, cfgPath string) (c child, planned int, problems []string, err error) {
	c, err = b.runChild(ctx, env, "plan", "--config", cfgPath, "--json")
	if err != nil {
		return c, 0, nil, err
	}
	sum, perr := parseSummary(c)
	for _, v := range sum.Planned {
		planned += v
	}
	switch {
	case perr != nil:
		problems = append(problems, perr.Error())
	case c.Exit != 0:
		problems = append(problems, fmt.Sprintf("plan exited %d: %s", c.Exit, sum.Error))
	}
	return c, planned, problems, nil
}

// runToEnd runs `importer run --json` on the config at cfgPath; problems
// say why it did not end done.
func (b *bench) runToEnd(ctx context.Context, env []string, cfgPath string) (c child, problems []string, err error) {
	c, err = b.runChild(ctx, env, "run", "--config", cfgPath, "--json")
	if err != nil {
		return c, nil, err
	}
	switch sum, perr := parseSummary(c); {
	case perr != nil:
		problems = append(problems, perr.Error())
	case sum.Status != string(journal.RunDone):
		problems = append(problems, fmt.Sprintf("run ended %s (exit %d): %s", sum.Status, c.Exit, sum.Error))
	}
	return c, problems, nil
}
