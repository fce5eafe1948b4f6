package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
)

// kindLabels name the operations in Chinese first, for HR signing off a
// plan in Excel; the code after it is what the journal and --json say.
var kindLabels = map[plan.Kind]string{
	plan.DeptCreate:  "新建部门",
	plan.DeptUpdate:  "修改部门",
	plan.DeptDelete:  "删除部门",
	plan.DeptAdopt:   "接管部门",
	plan.UserCreate:  "新建成员",
	plan.UserUpdate:  "修改成员",
	plan.UserLeaders: "设置直属上级",
	plan.UserRelease: "释放手机/邮箱",
	plan.UserAdopt:   "接管成员",
	plan.UserDisable: "禁用成员",
	plan.UserDelete:  "删除成员",
	plan.TagCreate:   "新建标签",
	plan.TagAdopt:    "接管标签",
	plan.TagAddUsers: "添加标签成员",
	plan.TagDelUsers: "移出标签成员",
	plan.TagDelete:   "删除标签",
	plan.TagVerify:   "核对标签成员",
}

func kindLabel(k plan.Kind) string {
	if l, ok := kindLabels[k]; ok {
		return l + " " + string(k)
	}
	return string(k)
}

var (
	planChangesHeader = []string{"序号 seq", "操作 operation", "对象 target", "姓名 name", "部门 departments",
		"字段 field", "原值 before", "新值 after", "来源行 source row"}
	planRowsHeader = []string{"状态 state", "来源行 source row", "成员 userid", "列 column", "规则 rule", "说明 message"}
)

// writePlanXLSX writes the plan as a workbook HR can sign off: a sheet of
// changes, one field per row with its department paths and before and
// after; a sheet of the rows not applied (rejected, held) and the
// warnings; and a summary of where the plan came from.
func writePlanXLSX(path string, h planHeader, rep *runner.Report) error {
	x := excelize.NewFile()
	defer x.Close()
	const changes, rows, summary = "变更 changes", "未导入 not applied", "概要 summary"
	if err := x.SetSheetName("Sheet1", changes); err != nil {
		return err
	}
	for _, s := range []string{rows, summary} {
		if _, err := x.NewSheet(s); err != nil {
			return err
		}
	}

	sw, err := x.NewStreamWriter(changes)
	if err != nil {
		return err
	}
	w := sheetRows{sw: sw}
	w.add(planChangesHeader)
	for _, op := range rep.Plan.Ops {
		target, name, depts := op.Target, "", ""
		switch {
		case op.Dept != nil:
			target = pathOf(rep.DeptPaths, op.Dept.Key)
		case op.After != nil:
			name, depts = op.After.Name, deptList(op.After, rep.DeptPaths)
		case op.Before != nil:
			name, depts = op.Before.Name, deptList(op.Before, rep.DeptPaths)
		}
		head := []string{fmt.Sprint(op.Seq), kindLabel(op.Kind), target, name, depts}
		cs := op.Changes()
		if len(cs) == 0 {
			w.add(append(head, "", "", "", op.Ref))
		}
		for _, c := range cs {
			before, after := c.Before, c.After
			switch {
			case c.Field == "department":
				before, after = deptList(op.Before, rep.DeptPaths), deptList(op.After, rep.DeptPaths)
			case c.Field == "parent" && op.Dept != nil:
				after = parentPath(rep.DeptPaths, op.Dept.ParentKey)
				if c.Before != "" {
					before = parentPath(rep.DeptPaths, op.Dept.PrevParentKey)
				}
			}
			w.add(append(slices.Clone(head), c.Field, before, after, op.Ref))
		}
	}
	if err := w.done(); err != nil {
		return err
	}

	if sw, err = x.NewStreamWriter(rows); err != nil {
		return err
	}
	w = sheetRows{sw: sw}
	w.add(planRowsHeader)
	for _, r := range rep.Rejects {
		w.add([]string{"拒绝 rejected", r.Ref, r.UserID, r.Column, r.Rule, r.Message})
	}
	if rep.Plan != nil {
		for _, hd := range rep.Plan.Held {
			if hd.Message == "" {
				continue // held for its rejected row, listed above
			}
			w.add([]string{"保留原状 held", hd.Ref, hd.UserID, "", hd.Rule, hd.Message})
		}
	}
	for _, r := range rep.Warnings {
		w.add([]string{"已导入，有提示 warning", r.Ref, r.UserID, r.Column, r.Rule, r.Message})
	}
	if err := w.done(); err != nil {
		return err
	}

	if sw, err = x.NewStreamWriter(summary); err != nil {
		return err
	}
	w = sheetRows{sw: sw}
	w.add([]string{"项目 item", "值 value"})
	w.add([]string{"任务 job", h.Job})
	w.add([]string{"企业 corp", h.CorpID})
	w.add([]string{"来源 source", h.Source})
	w.add([]string{"生成时间 made at", h.MadeAt.Format(time.RFC3339)})
	w.add([]string{"计划摘要 plan digest", h.PlanDigest})
	for _, k := range slices.Sorted(maps.Keys(h.Planned)) {
		w.add([]string{kindLabel(plan.Kind(k)), fmt.Sprint(h.Planned[k])})
	}
	if h.Refused != "" {
		w.add([]string{"安全检查 guard", h.Refused})
	}
	if err := w.done(); err != nil {
		return err
	}
	return x.SaveAs(path)
}

// pathOf is a department's path of names, or its key when the feed does
// not name it (a department only the journal knows).
func pathOf(paths map[string]string, key string) string {
	if p, ok := paths[key]; ok {
		return p
	}
	return key
}

// parentPath is pathOf for a parent, where "" is WeCom's root.
func parentPath(paths map[string]string, key string) string {
	if key == "" {
		return "(根部门 root)"
	}
	return pathOf(paths, key)
}

// sheetRows appends rows to a streamed sheet, keeping the first error.
type sheetRows struct {
	sw  *excelize.StreamWriter
	n   int
	err error
}

func (s *sheetRows) add(cells []string) {
	if s.err != nil {
		return
	}
	if s.n == excelize.TotalRows {
		s.err = fmt.Errorf("%w (%s rows)", errSheetFull, strconv.Itoa(excelize.TotalRows))
		return
	}
	s.n++
	row := make([]any, len(cells))
	for i, c := range cells {
		row[i] = c
	}
	cell, _ := excelize.CoordinatesToCellName(1, s.n)
	s.err = s.sw.SetRow(cell, row)
}

// emit is add for a writer that stops at the first error.
func (s *sheetRows) emit(cells []string) error {
	s.add(cells)
	return s.err
}

// errSheetFull is a workbook asked for more rows than a worksheet holds.
var errSheetFull = errors.New("more rows than an Excel worksheet holds")

func (s *sheetRows) done() error {
	if s.err != nil {
		return s.err
	}
	return s.sw.Flush()
}
