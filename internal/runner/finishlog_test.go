package runner_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
)

// A failed scheduled run's log is often all an admin reads: the line that
// says "failed" must say why.
func TestRunFinishedLogsCause(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	if err := os.WriteFile(e.feed, []byte("nobody,knows\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	rep := e.run(func(p *runner.Params) { p.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	if rep.Status != journal.RunFailed || rep.Fatal == nil {
		t.Fatalf("headerless feed: status %s, fatal %v", rep.Status, rep.Fatal)
	}
	var finished struct {
		Level, Msg, Status, Cause string
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if err := json.Unmarshal([]byte(line), &finished); err == nil && finished.Msg == "run finished" {
			break
		}
		finished.Msg = ""
	}
	if finished.Msg == "" || finished.Level != "ERROR" || finished.Status != "failed" || finished.Cause != rep.Fatal.Error() {
		t.Errorf("run finished line %+v, want level ERROR, status failed and cause %q; logs:\n%s", finished, rep.Fatal, logs.String())
	}
}
