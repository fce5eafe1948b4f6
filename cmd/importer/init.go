package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/scaffold"
	"github.com/hrfeed/importer/internal/source"
)

// initSample is how many rows init reads to choose separators and maps:
// enough to see every status and gender spelling of a real export.
const initSample = 5000

// initHeaderScan is how far down init looks for the header row below a
// title or a notes banner (WeCom's import template has one).
const initHeaderScan = 10

func (a *app) initCommand() *cobra.Command {
	var from, out, sheet, job, corpID string
	var force bool
	cmd := &cobra.Command{
		Use:   "init --from FILE [--out importer.yaml] [--sheet NAME] [--job NAME] [--corp-id ID] [--force]",
		Short: "Write a starting config from a staff file's header",
		Long: `Reads the header (below any title rows) and a sample of the rows of a CSV or xlsx
staff file, recognises the columns Chinese and English HR exports and WeCom's admin-console
export use (工号, 帐号/账号, 姓名, 手机, 邮箱, 部门, 状态, Employee ID, …) and writes a config
that maps them: the department separator, several departments per cell and the corp-name
prefix of paths are read from the values, as are the maps of gender and status. It prints
what it mapped, what it guessed and which columns it did not read. Nothing is sent anywhere.
It refuses to overwrite an existing file unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.init(cmd.Context(), initOptions{from: from, out: out, sheet: sheet, job: job, corpID: corpID, force: force})
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the staff file (CSV or xlsx)")
	cmd.Flags().StringVar(&out, "out", "importer.yaml", "the config file to write")
	cmd.Flags().StringVar(&sheet, "sheet", "", "xlsx: the sheet to read (default the first visible one)")
	cmd.Flags().StringVar(&job, "job", "", "the job's name (default from the file name)")
	cmd.Flags().StringVar(&corpID, "corp-id", "", "your WeCom corp id (企业ID); without it the config holds a placeholder")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite --out if it exists")
	return cmd
}

type initOptions struct {
	from, out, sheet, job, corpID string
	force                         bool
}

func (a *app) init(ctx context.Context, o initOptions) error {
	if o.from == "" {
		return &exitError{code: exitUsage, err: errors.New("--from FILE is required")}
	}
	if _, err := os.Stat(o.out); err == nil && !o.force {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s exists: choose another --out, or --force to overwrite it", o.out)}
	}
	typ := source.TypeCSV
	switch strings.ToLower(filepath.Ext(o.from)) {
	case ".xlsx", ".xlsm":
		typ = source.TypeXLSX
	}
	if o.sheet != "" && typ != source.TypeXLSX {
		return &exitError{code: exitUsage, err: errors.New("--sheet is for an xlsx file")}
	}
	header, headerRow, rows, err := readSample(ctx, source.Spec{Type: typ, Path: o.from, Sheet: o.sheet})
	if err != nil {
		return fatal(err)
	}
	if scaffold.Score(header) < 2 {
		return fatal(fmt.Errorf("%s: no row among the first %d names the columns of a staff list (工号, 姓名, 手机, 部门, …); first row read: %s",
			o.from, initHeaderScan, strings.Join(header, ", ")))
	}
	path, err := pathFrom(filepath.Dir(o.out), o.from)
	if err != nil {
		return fatal(err)
	}
	in := scaffold.Input{Path: path, From: o.from, Type: typ, Sheet: o.sheet, Header: header, Rows: rows, Job: o.job, CorpID: o.corpID}
	if in.Job == "" {
		in.Job = jobName(o.from)
	}
	// The xlsx reader finds the header by the mapped columns, so a banner
	// row HR adds later costs nothing; a CSV names its header line.
	if typ == source.TypeCSV {
		in.HeaderRow = headerRow
	}
	res := scaffold.Write(in)
	if _, err := config.Parse(res.YAML); err != nil {
		return fatal(fmt.Errorf("the config written for %s does not load (%v): please report this", o.from, err))
	}
	if err := os.WriteFile(o.out, res.YAML, 0o644); err != nil {
		return fatal(err)
	}
	a.printInit(o, in, headerRow, len(rows), res)
	return nil
}

// readSample opens the file at each of the first rows until one reads
// as a staff list's header, then reads a sample of the rows below it.
// When none does, it returns the first row, for the caller's message.
func readSample(ctx context.Context, spec source.Spec) (header []string, at int, rows []map[string]string, err error) {
	var first []string
	for at = 1; at <= initHeaderScan; at++ {
		spec.HeaderRow = at
		src, err := source.Open(ctx, spec)
		if err != nil {
			if at == 1 {
				return nil, 0, nil, err
			}
			break // past the end of a short file
		}
		header = src.Columns()
		if at == 1 {
			first = header
		}
		if scaffold.Score(header) < 2 {
			_ = src.Close()
			continue
		}
		defer src.Close()
		for len(rows) < initSample && src.Next() {
			rows = append(rows, src.Row().Values)
		}
		return header, at, rows, src.Err()
	}
	return first, 1, nil, nil
}

// pathFrom names file as a config in dir should: relative to dir when
// file is below it, else absolute, since the importer resolves a relative
// path against the config's directory.
func pathFrom(dir, file string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	if rel, err := filepath.Rel(absDir, abs); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel), nil
	}
	return abs, nil
}

var notJobName = regexp.MustCompile(`[^a-z0-9_-]+`)

// jobName makes a job name of the file's name: "Staff List.xlsx" is
// "staff-list"; a name with no Latin letters (花名册.xlsx) is "staff".
func jobName(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	name := strings.Trim(notJobName.ReplaceAllString(strings.ToLower(base), "-"), "-")
	if name == "" {
		return "staff"
	}
	return name
}

func (a *app) printInit(o initOptions, in scaffold.Input, headerRow, sampled int, res scaffold.Result) {
	w := a.stdout
	where := fmt.Sprintf("header on row %d", headerRow)
	if in.Sheet != "" {
		where = "sheet " + in.Sheet + ", " + where
	}
	fmt.Fprintf(w, "wrote %s: job %s reads %s (%s; %d rows sampled)\n", o.out, in.Job, o.from, where, sampled)
	keys := make([]string, 0, len(res.Mapped))
	for k := range res.Mapped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  mapped   %-26s ← %s\n", k, res.Mapped[k])
	}
	for _, k := range res.Missing {
		fmt.Fprintf(w, "  MISSING  %-26s no such column: edit the placeholder in %s\n", k, o.out)
	}
	if len(res.Unused) > 0 {
		fmt.Fprintf(w, "  not read %s\n", strings.Join(res.Unused, ", "))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "  check    %s\n", n)
	}
	fmt.Fprintf(w, "next: export WECOM_SECRET=…, then importer check --config %s and importer plan --config %s\n", o.out, o.out)
}
