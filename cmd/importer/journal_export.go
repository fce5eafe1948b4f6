package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
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
	"原因 reason", "对象 target", "姓名 name", "部门 departments", "字段 field", "原值 before", "新值 after",
	"结果 outcome", "错误码 errcode", "含义 meaning", "WeCom errmsg", "来源行 source row", "发送内容 payload"}

// reasonLabels put the journal's reason words in Chinese first.
var reasonLabels = map[string]string{
	plan.ReasonNew: "新增", plan.ReasonRecreate: "重建（企业微信中被手工删除）", plan.ReasonFeedChange: "资料变更",
	plan.ReasonAdopt: "接管已有", plan.ReasonRelease: "释放手机/邮箱给他人", plan.ReasonLeader: "直属上级循环",
	plan.ReasonLeaver: "离职", plan.ReasonAbsent: "不在名单中", plan.ReasonCleanup: "清理空部门",
	reasonRejected: "行被拒绝",
}

// reasonRejected marks a rejected row in an export: it made no call.
const reasonRejected = "rejected"

func reasonLabel(r string) string {
	if l, ok := reasonLabels[r]; ok {
		return l + " " + r
	}
	return r
}

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
				runs, err := exportRuns(cmd.Context(), st, x)
				if err != nil {
					return err
				}
				// The rows go to the file as they are made: one run of a
				// first import is a row per field of every member.
				n := 0
				rows := func(emit func([]string) error) (err error) {
					if err = emit(exportHeader); err != nil {
						return err
					}
					n, err = exportRows(cmd.Context(), st, runs, emit)
					return err
				}
				if x.csv != "" {
					err = writeExportCSV(x.csv, rows)
				} else if err = writeExportXLSX(x.xlsx, rows); errors.Is(err, errSheetFull) {
					err = fmt.Errorf("%w; export to --csv instead, or fewer runs", err)
				}
				if err != nil {
					return fatal(err)
				}
				fmt.Fprintf(a.stdout, "%d rows written\n", n)
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

// exportRuns are the runs asked for, oldest first.
func exportRuns(ctx context.Context, st journal.Store, x exportFlags) ([]journal.Run, error) {
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
	var kept []journal.Run
	for _, r := range runs {
		if x.job == "" || r.Job == x.job {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// exportRows emits one row per field each call of runs changed, and one
// per rejected row, and returns how many it emitted.
func exportRows(ctx context.Context, st journal.Store, runs []journal.Run, emit func([]string) error) (int, error) {
	n := 0
	paths := map[string]map[string]string{} // corp -> department key -> path
	for _, r := range runs {
		if _, ok := paths[r.CorpID]; !ok {
			st, err := st.LoadState(ctx, r.CorpID, nil)
			if err != nil {
				return n, err
			}
			paths[r.CorpID] = journalDeptPaths(st.Departments)
		}
		err := st.EachCall(ctx, r.ID, func(c journal.Call) error {
			meaning := ""
			if m, ok := wecom.Describe(c.Errcode); ok && c.Errcode != 0 {
				meaning = m.ZH + " / " + m.EN
			}
			name, depts, changes := callChanges(c, paths[r.CorpID])
			if len(changes) == 0 {
				changes = []plan.FieldChange{{}}
			}
			for _, ch := range changes {
				n++
				if err := emit([]string{strconv.FormatInt(r.ID, 10), c.StartedAt.Local().Format(time.DateTime), r.Job, r.Trigger,
					r.OSUser, c.Operation, reasonLabel(c.Reason), c.Target, name, depts, ch.Field, ch.Before, ch.After,
					string(c.Outcome), strconv.Itoa(c.Errcode), meaning, c.Errmsg, c.SourceRef, string(c.Payload)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		rejects, err := st.ListRejects(ctx, r.ID)
		if err != nil {
			return n, err
		}
		for _, j := range rejects {
			n++
			if err := emit([]string{strconv.FormatInt(r.ID, 10), r.StartedAt.Local().Format(time.DateTime), r.Job, r.Trigger,
				r.OSUser, "", reasonLabel(reasonRejected) + ": " + j.Rule, "", "", "", j.Column, "", "",
				"", "", j.Message, "", j.SourceRef, ""}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// callChanges reads the records a call stored: the member's name and
// department paths, and each field before → after; for a tag call, the
// members it added or removed. A call journaled before records were kept,
// or a department's, has only its payload.
func callChanges(c journal.Call, paths map[string]string) (name, depts string, changes []plan.FieldChange) {
	var before, after *member.Record
	for _, v := range []struct {
		raw json.RawMessage
		to  **member.Record
	}{{c.Before, &before}, {c.After, &after}} {
		if len(v.raw) == 0 || !strings.HasPrefix(c.API, "user/") {
			continue
		}
		if r, err := member.ParseRecord(v.raw); err == nil {
			*v.to = &r
		}
	}
	show := after
	if show == nil {
		show = before
	}
	if show != nil {
		name, depts = show.Name, deptList(show, paths)
	}
	changes = plan.RecordChanges(before, after)
	for i, ch := range changes {
		if ch.Field == "department" {
			changes[i].Before, changes[i].After = deptList(before, paths), deptList(after, paths)
		}
	}
	if strings.HasPrefix(c.API, "department/") {
		var b, a struct{ Name, Parent string }
		_ = json.Unmarshal(c.Before, &b)
		_ = json.Unmarshal(c.After, &a)
		if b.Name != a.Name {
			changes = append(changes, plan.FieldChange{Field: "name", Before: b.Name, After: a.Name})
		}
		if b.Parent != a.Parent && a.Name != "" {
			changes = append(changes, plan.FieldChange{Field: "parent", Before: pathOf(paths, b.Parent), After: pathOf(paths, a.Parent)})
		}
		depts = pathOf(paths, c.Target)
	}
	if add := c.API == wecom.APITagAddUsers; add || c.API == wecom.APITagDelUsers {
		// A tag call's members are its change: added after, removed before.
		var body wecom.TagMembersChange
		if json.Unmarshal(c.Payload, &body) == nil && len(body.UserIDs) > 0 {
			ch := plan.FieldChange{Field: "members"}
			if add {
				ch.After = strings.Join(body.UserIDs, ", ")
			} else {
				ch.Before = strings.Join(body.UserIDs, ", ")
			}
			changes = append(changes, ch)
		}
	}
	return name, depts, changes
}

// deptList names r's departments by their paths, "" for no record.
func deptList(r *member.Record, paths map[string]string) string {
	if r == nil {
		return ""
	}
	ps := make([]string, len(r.DeptKeys))
	for i, k := range r.DeptKeys {
		ps[i] = pathOf(paths, k)
	}
	return strings.Join(ps, "; ")
}

// journalDeptPaths names the departments the journal holds by their path
// of names, following WeCom parent ids; a parent it does not hold starts
// the path.
func journalDeptPaths(depts map[string]plan.AppliedDepartment) map[string]string {
	byID := make(map[int]plan.AppliedDepartment, len(depts))
	for _, d := range depts {
		byID[d.WeComID] = d
	}
	out := make(map[string]string, len(depts))
	for key, d := range depts {
		path := d.Name
		for p, n := byID[d.ParentID], 0; p.WeComID != 0 && n < len(depts); p, n = byID[p.ParentID], n+1 {
			path = p.Name + "/" + path
		}
		out[key] = path
	}
	return out
}

// writeExportCSV writes the rows to a file beside path and renames it only
// once the last row is written, so a read that fails half way leaves no
// export that looks whole.
func writeExportCSV(path string, rows func(emit func([]string) error) error) error {
	part := path + ".part"
	f, err := os.Create(part)
	if err != nil {
		return err
	}
	defer os.Remove(part) // gone by then when the rename succeeded
	bw := bufio.NewWriter(f)
	bw.WriteString("\ufeff") // Excel on Chinese Windows reads a file without it as GBK
	w := csv.NewWriter(bw)
	if err := rows(w.Write); err != nil {
		f.Close()
		return err
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(part, path)
}

func writeExportXLSX(path string, rows func(emit func([]string) error) error) error {
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
	if err := rows(w.emit); err != nil {
		return err
	}
	if err := w.done(); err != nil {
		return err
	}
	return x.SaveAs(path)
}
