package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
)

// TestReportJSONStreamsOps checks that the dry run's summary and the plan
// file, written one operation at a time, are byte for byte what encoding
// the whole value at once gives, and valid JSON.
func TestReportJSONStreamsOps(t *testing.T) {
	before := &member.Record{UserID: "E1", Name: "张三", Position: "<工程师>", DeptKeys: []string{"研发"}, Enabled: true}
	after := *before
	after.Position = "高级工程师 & 组长"
	rep := &runner.Report{RunID: 7, Job: "staff", Status: journal.RunDryRun, Rows: 2, Plan: &plan.Plan{Ops: []plan.Op{
		{Seq: 1, Phase: plan.PhaseDepartments, Kind: plan.DeptCreate, Target: "研发", Ref: "2", Dept: &plan.Dept{Key: "研发", Name: "研发"}},
		{Seq: 2, Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: "E1", Ref: "3", Before: before, After: &after, Fields: []string{"position"}},
	}}}
	ops := func() []opJSON {
		var out []opJSON
		for _, op := range rep.Plan.Ops {
			out = append(out, opJSON{Seq: op.Seq, Phase: op.Phase, Kind: op.Kind, Target: op.Target, Ref: op.Ref, Changes: op.Changes()})
		}
		return out
	}
	type whole struct {
		runSummary
		Ops []opJSON `json:"ops,omitempty"`
	}
	for _, c := range []struct {
		name     string
		streamed any
		depth    int
		atOnce   any
	}{
		{"summary", reportJSON(rep), 1, whole{reportJSON(rep), ops()}},
		{"plan file", planFile{planHeader{Format: planFormat, Job: "staff"}, reportJSON(rep)}, 2, struct {
			planHeader
			Plan whole `json:"plan"`
		}{planHeader{Format: planFormat, Job: "staff"}, whole{reportJSON(rep), ops()}}},
	} {
		var got, want bytes.Buffer
		if err := writeReportJSON(&got, c.streamed, rep, c.depth); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := writeJSON(&want, c.atOnce); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s streamed:\n%s\nwant:\n%s", c.name, got.String(), want.String())
		}
		if !json.Valid(got.Bytes()) {
			t.Errorf("%s: not valid JSON", c.name)
		}
	}

	// A run that is not a dry run lists no operations.
	rep.Status = journal.RunDone
	var got bytes.Buffer
	if err := writeReportJSON(&got, reportJSON(rep), rep, 1); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got.Bytes(), []byte(`"ops"`)) {
		t.Errorf("a finished run's summary lists operations:\n%s", got.String())
	}
}
