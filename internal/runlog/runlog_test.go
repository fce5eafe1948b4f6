package runlog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil))).With("component", "wecom")
	records := func() []map[string]any {
		t.Helper()
		var out []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			var rec map[string]any
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			out = append(out, rec)
		}
		buf.Reset()
		return out
	}

	log.InfoContext(context.Background(), "unlabeled")
	if rec := records()[0]; rec["job"] != nil || rec["run_id"] != nil || rec["component"] != "wecom" {
		t.Errorf("without a label: %v", rec)
	}

	ctx := WithJob(context.Background(), "staff")
	derived, cancel := context.WithCancel(ctx) // as the run's calls get theirs
	defer cancel()
	log.InfoContext(derived, "before the run is recorded")
	SetRunID(ctx, 42)
	log.InfoContext(derived, "wecom call")
	got := records()
	if got[0]["job"] != "staff" || got[0]["run_id"] != 0.0 {
		t.Errorf("before the run id: %v", got[0])
	}
	if got[1]["job"] != "staff" || got[1]["run_id"] != 42.0 || got[1]["component"] != "wecom" {
		t.Errorf("after the run id: %v", got[1])
	}
	SetRunID(context.Background(), 7) // no label: nothing to do, no panic
}
