package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/runner"
)

// planFormat names the plan file's layout (docs/plan-file.md). A reader
// refuses any other, so a file from a future importer is never half-read.
const planFormat = "hrfeed-plan/1"

// planHeader is what a plan file says about where its plan came from;
// `apply` reads only this part. The fields come first in the file, before
// the operations, so a reader can stop after them.
type planHeader struct {
	Format       string         `json:"format"`
	MadeAt       time.Time      `json:"made_at"`
	Version      string         `json:"importer_version"`
	Job          string         `json:"job"`
	CorpID       string         `json:"corp_id"`
	Config       string         `json:"config"`
	ConfigDigest string         `json:"config_digest"`
	Source       string         `json:"source"`
	SourceDigest string         `json:"source_digest"`
	PlanDigest   string         `json:"plan_digest"`
	LastRunID    int64          `json:"journal_last_run_id"`
	DryRunID     int64          `json:"dry_run_id"`
	Planned      map[string]int `json:"planned"`
	// Refused is the guard's verdict on the plan, if any: applying the
	// file is the approval it asks for.
	Refused string `json:"refused,omitempty"`
}

// planFile is the whole document: the header, then the plan as `--json`
// reports it (operations with their field changes, held and rejected rows).
type planFile struct {
	planHeader
	Plan runSummary `json:"plan"`
}

// newPlanHeader says where rep's plan came from.
func newPlanHeader(c *config.Config, configPath string, rep *runner.Report) (planHeader, error) {
	cfg, err := filepath.Abs(configPath)
	if err != nil {
		return planHeader{}, err
	}
	h := planHeader{
		Format: planFormat, MadeAt: rep.Started.UTC().Truncate(time.Second), Version: buildVersion(), Job: rep.Job,
		CorpID: rep.CorpID, Config: cfg, ConfigDigest: c.Digest, Source: rep.Source,
		SourceDigest: rep.SourceDigest, PlanDigest: rep.Plan.Digest(), LastRunID: rep.LastRunID,
		DryRunID: rep.RunID, Planned: map[string]int{},
	}
	for k, n := range rep.Plan.Counts() {
		h.Planned[string(k)] = n
	}
	if rep.Refusal != nil {
		h.Refused = rep.Refusal.Error()
	}
	return h, nil
}

func writePlanFile(path string, h planHeader, rep *runner.Report) error {
	doc := planFile{planHeader: h, Plan: reportJSON(rep)}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := writeReportJSON(w, doc, rep, 2); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxPlanHeader bounds what readPlanHeader decodes: the header is a few
// hundred bytes, and a file that is not a plan must not cost the host.
const maxPlanHeader = 64 << 10

// readPlanHeader reads a plan file's header, stopping at the plan itself.
func readPlanHeader(path string) (planHeader, error) {
	var h planHeader
	f, err := os.Open(path)
	if err != nil {
		return h, err
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, maxPlanHeader))
	bad := func(why string) (planHeader, error) {
		return planHeader{}, fmt.Errorf("%s is not a plan file written by `importer plan --out` (%s)", path, why)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad("no JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad(err.Error())
		}
		key, _ := tok.(string)
		if key == "plan" {
			break
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return bad(err.Error())
		}
		fields[key] = v
	}
	b, _ := json.Marshal(fields)
	if err := json.Unmarshal(b, &h); err != nil {
		return bad(err.Error())
	}
	if h.Format != planFormat {
		return bad(fmt.Sprintf("format %q, want %q", h.Format, planFormat))
	}
	if h.PlanDigest == "" || h.Job == "" || h.Source == "" {
		return bad("it names no job, source or plan digest")
	}
	return h, nil
}

func (a *app) applyCommand() *cobra.Command {
	var configPath string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "apply PLAN_FILE --config FILE [--json]",
		Short: "Carry out a reviewed plan file exactly, or refuse if anything changed since",
		Long: `Runs the job the plan file names against the source file it was made from, and
sends the plan only when it is still exactly the reviewed one: the same source file, the same
config, and the same operations (so neither the journal nor WeCom changed in a way that matters).
Otherwise it refuses, exit 4, saying what changed. A plan a safety guard refused is sent when
applied: applying the reviewed file is the approval. Exit codes as for run.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.apply(cmd.Context(), args[0], configPath, jsonOut)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML): the one the plan was made with")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print one JSON summary object on stdout")
	return cmd
}

func (a *app) apply(ctx context.Context, file, configPath string, jsonOut bool) error {
	h, err := readPlanHeader(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return &exitError{code: exitUsage, err: err}
		}
		return fatal(err)
	}
	f := runFlags{config: configPath, job: h.Job, source: h.Source, json: jsonOut, approved: &runner.Approval{
		File: file, SourceDigest: h.SourceDigest, ConfigDigest: h.ConfigDigest, PlanDigest: h.PlanDigest,
		Planned: h.Planned, LastRunID: h.LastRunID, MadeAt: h.MadeAt,
	}}
	return a.runJob(ctx, f, 0)
}
