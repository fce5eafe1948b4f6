package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/wecom"
)

type exportFlags struct {
	run          int64
	since, until string
	job          string
	csv, xlsx    string
}

// exportHeader is one change per row, in Chinese first: the auditors who
// ask for this work in Excel on Chinese Windows.
var exportHeader = []string{"运行 run", "时间 time", "任务 job", "触发 trigger", "操作人 user", "操作 operation",
	"对象 target", "结果 outcome", "错误码 errcode", "含义 meaning", "WeCom errmsg", "来源行 source row", "发送内容 payload"}

func (a *app) journalExportCommand(f *journalFlags) *cobra.Command {
	var x exportFlags
	cmd := &cobra.Command{
		Use:   "export (--run N | --since DATE [--until DATE]) [--job NAME] (--csv FILE | --xlsx FILE)",
		Short: "Every call of a run or a period as a spreadsheet for auditors: CSV with a UTF-8 BOM, or a workbook",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (x.run == 0) == (x.since == "") || (x.csv == "") == (x.xlsx == "") {
				return &exitError{code: exitUsage, err: errors.New("give --run N or --since DATE, and --csv FILE or --xlsx FILE")}
			}
			return a.withJournal(cmd.Context(), *f, func(st journal.Store) error {
				rows, err := exportRows(cmd.Context(), st, x)
				if err != nil {
					return err
				}
				if x.csv != "" {
					err = writeExportCSV(x.csv, rows)
				} else {
					err = writeExportXLSX(x.xlsx, rows)
				}
				if err != nil {
					return fatal(err)
				}
				fmt.Fprintf(a.stdout, "%d calls written\n", len(rows)-1)
				return nil
			})
		},
	}
	cmd.Flags().Int64Var(&x.run, "run", 0, "the run to export")
	cmd.Flags().StringVar(&x.since, "since", "", "export the runs started on or after this date (2006-01-02)")
	cmd.Flags().StringVar(&x.until, "until", "", "and before the end of this date (default: today)")
	cmd.Flags().StringVar(&x.job, "job", "", "only this job's runs")
	cmd.Flags().StringVar(&x.csv, "csv", "", "write CSV (UTF-8 with a BOM, so Excel reads the Chinese right)")
	cmd.Flags().StringVar(&x.xlsx, "xlsx", "", "write an Excel workbook")
	return cmd
}

// exportRows is the header and one row per call of the runs asked for.
func exportRows(ctx context.Context, st journal.Store, x exportFlags) ([][]string, error) {
	var runs []journal.Run
	if x.run != 0 {
		r, err := st.GetRun(ctx, x.run)
		if errors.Is(err, journal.ErrNotFound) {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("run %d is not in the journal", x.run)}
		}
		if err != nil {
			return nil, fatal(err)
		}
		runs = []journal.Run{r}
	} else {
		from, err := time.ParseInLocation(time.DateOnly, x.since, time.Local)
		if err != nil {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("--since %q: want a date such as 2026-11-01", x.since)}
		}
		to := time.Now()
		if x.until != "" {
			u, err := time.ParseInLocation(time.DateOnly, x.until, time.Local)
			if err != nil {
				return nil, &exitError{code: exitUsage, err: fmt.Errorf("--until %q: want a date such as 2026-11-30", x.until)}
			}
			to = u.AddDate(0, 0, 1)
		}
		all, err := st.ListRuns(ctx, 0)
		if err != nil {
			return nil, fatal(err)
		}
		for i := len(all) - 1; i >= 0; i-- { // oldest first
			if r := all[i]; !r.StartedAt.Before(from) && r.StartedAt.Before(to) {
				runs = append(runs, r)
			}
		}
	}
	rows := [][]string{exportHeader}
	for _, r := range runs {
		if x.job != "" && r.Job != x.job {
			continue
		}
		calls, err := st.ListCalls(ctx, r.ID)
		if err != nil {
			return nil, fatal(err)
		}
		for _, c := range calls {
			meaning := ""
			if m, ok := wecom.Describe(c.Errcode); ok && c.Errcode != 0 {
				meaning = m.ZH + " / " + m.EN
			}
			rows = append(rows, []string{strconv.FormatInt(r.ID, 10), c.StartedAt.Local().Format(time.DateTime), r.Job, r.Trigger,
				r.OSUser, c.Operation, c.Target, string(c.Outcome), strconv.Itoa(c.Errcode), meaning, c.Errmsg, c.SourceRef, string(c.Payload)})
		}
	}
	return rows, nil
}

func writeExportCSV(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString("\ufeff") // Excel on Chinese Windows reads a file without it as GBK
	w := csv.NewWriter(bw)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeExportXLSX(path string, rows [][]string) error {
	x := excelize.NewFile()
	defer x.Close()
	const sheet = "调用 calls"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	w := sheetRows{sw: sw}
	for _, r := range rows {
		w.add(r)
	}
	if err := w.done(); err != nil {
		return err
	}
	return x.SaveAs(path)
}
