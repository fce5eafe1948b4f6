package mapper

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tableConfig maps members that name their departments by HR code.
func tableConfig() Config {
	return Config{
		Fields: map[string]Field{
			FieldUserID:   {Column: "工号"},
			FieldName:     {Column: "姓名"},
			FieldMobile:   {Column: "手机"},
			FieldIsLeader: {Column: "负责人"},
		},
		Departments: DeptConfig{
			Table:                &DeptTable{IDColumn: "编码", ParentColumn: "上级", NameColumn: "名称", OrderColumn: "排序", RootID: "0"},
			DepartmentCodeColumn: "部门编码",
			Multi:                ";",
			MaxDepth:             3,
		},
	}
}

// deptRow is one department-table row: id, parent, name[, order].
func deptRow(line int, id, parent, name string, order ...string) Row {
	v := map[string]string{"编码": id, "上级": parent, "名称": name, "排序": ""}
	if len(order) > 0 {
		v["排序"] = order[0]
	}
	return Row{Ref: "dept.csv:" + strconv.Itoa(line), Values: v}
}

func TestDepartmentTable(t *testing.T) {
	tests := []struct {
		name    string
		rows    []Row
		keys    []string // accepted departments, in Directory order, as key@depth<parent
		rejects []rej
		message string // substring of the first reject's message
	}{
		{
			name: "tree in any row order, root row skipped",
			rows: []Row{
				deptRow(2, "D3", "D2", "后端组"),
				deptRow(3, "0", "", "示例科技"),
				deptRow(4, "D2", "D1", "研发中心", "10"),
				deptRow(5, "D1", "0", "总部"),
				deptRow(6, "D4", "", "顾问"),
			},
			keys: []string{"D1@1<", "D4@1<", "D2@2<D1", "D3@3<D2"},
		},
		{
			name: "duplicate id: the later row loses",
			rows: []Row{
				deptRow(2, "D1", "", "总部"),
				deptRow(3, "D1", "", "分部"),
			},
			keys:    []string{"D1@1<"},
			rejects: []rej{{"dept.csv:3", "编码", "duplicate_department_id"}},
			message: `department id "D1" is already on row dept.csv:2`,
		},
		{
			name: "unknown parent rejects the subtree",
			rows: []Row{
				deptRow(2, "D2", "D9", "研发中心"),
				deptRow(3, "D3", "D2", "后端组"),
			},
			rejects: []rej{{"dept.csv:2", "上级", "department_parent_unknown"}, {"dept.csv:3", "上级", "department_parent_rejected"}},
			message: `parent "D9" of department "D2" is not in the department table`,
		},
		{
			name: "cycle: every department on it is rejected, and what hangs below",
			rows: []Row{
				deptRow(2, "A", "C", "甲"),
				deptRow(3, "B", "A", "乙"),
				deptRow(4, "C", "B", "丙"),
				deptRow(5, "X", "B", "戊"),
				deptRow(6, "OK", "", "正常"),
			},
			keys: []string{"OK@1<"},
			rejects: []rej{
				{"dept.csv:2", "上级", "department_cycle"}, {"dept.csv:3", "上级", "department_cycle"},
				{"dept.csv:4", "上级", "department_cycle"}, {"dept.csv:5", "上级", "department_parent_rejected"},
			},
			message: `department "A" is on a parent cycle: A (row dept.csv:2) → C (row dept.csv:4) → B (row dept.csv:3) → A`,
		},
		{
			name: "a subtree walked after its cycle is rejected too",
			rows: []Row{
				deptRow(2, "A", "B", "甲"),
				deptRow(3, "B", "A", "乙"),
				deptRow(4, "Y", "X", "己"),
				deptRow(5, "X", "A", "戊"),
			},
			rejects: []rej{
				{"dept.csv:2", "上级", "department_cycle"}, {"dept.csv:3", "上级", "department_cycle"},
				{"dept.csv:4", "上级", "department_parent_rejected"}, {"dept.csv:5", "上级", "department_parent_rejected"},
			},
		},
		{
			name:    "own parent",
			rows:    []Row{deptRow(2, "A", "A", "甲")},
			rejects: []rej{{"dept.csv:2", "上级", "department_cycle"}},
			message: "A (row dept.csv:2) → A",
		},
		{
			name: "too deep",
			rows: []Row{
				deptRow(2, "L1", "", "一"), deptRow(3, "L2", "L1", "二"), deptRow(4, "L3", "L2", "三"),
				deptRow(5, "L4", "L3", "四"), deptRow(6, "L5", "L4", "五"),
			},
			keys:    []string{"L1@1<", "L2@2<L1", "L3@3<L2"},
			rejects: []rej{{"dept.csv:5", "上级", "department_depth"}, {"dept.csv:6", "上级", "department_parent_rejected"}},
			message: `department "L4" is 4 levels deep, the limit is 3`,
		},
		{
			name: "row rules: id, name, order, source problem",
			rows: []Row{
				deptRow(2, " ", "", "空编码"),
				deptRow(3, "A", "", ""),
				deptRow(4, "B", "", "研发:一部"),
				deptRow(5, "C", "", strings.Repeat("部", 33)),
				deptRow(6, "D", "", "丁", "-1"),
				{Ref: "dept.csv:7", Values: map[string]string{"编码": "E"}, Problem: "row has 1 fields, header has 4"},
				deptRow(8, "F", "B", "己"),
			},
			rejects: []rej{
				{"dept.csv:2", "编码", "department_id_required"},
				{"dept.csv:3", "名称", "department_name_empty"},
				{"dept.csv:4", "名称", "department_name_chars"},
				{"dept.csv:5", "名称", "department_name_length"},
				{"dept.csv:6", "排序", "department_order_value"},
				{"dept.csv:7", "", "ragged_row"},
				{"dept.csv:8", "上级", "department_parent_rejected"},
			},
		},
		{
			name: "sibling names must differ; cousins may share",
			rows: []Row{
				deptRow(2, "P1", "", "华东"), deptRow(3, "P2", "", "华南"),
				deptRow(4, "S1", "P1", "销售部"), deptRow(5, "S2", "P2", "销售部"), deptRow(6, "S3", "P1", "销售部"),
				deptRow(7, "T1", "", "华东"),
			},
			keys:    []string{"P1@1<", "P2@1<", "S1@2<P1", "S2@2<P2"},
			rejects: []rej{{"dept.csv:6", "名称", "duplicate_department_name"}, {"dept.csv:7", "名称", "duplicate_department_name"}},
			message: `name "销售部" is already used under the same parent by "S1" (row dept.csv:4)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tableConfig())
			for _, r := range tt.rows {
				if err := m.AddDepartmentRow(r); err != nil {
					t.Fatal(err)
				}
			}
			d := m.Directory()
			var keys []string
			for _, dep := range d.Departments {
				keys = append(keys, dep.Key+"@"+strconv.Itoa(dep.Depth)+"<"+dep.ParentKey)
			}
			if diff := cmp.Diff(tt.keys, keys); diff != "" {
				t.Errorf("departments (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.rejects, rejects(d)); diff != "" {
				t.Errorf("rejects (-want +got):\n%s", diff)
			}
			if tt.message != "" && (len(d.Rejects) == 0 || !strings.Contains(d.Rejects[0].Message, tt.message)) {
				t.Errorf("first reject message = %v, want it to contain %q", d.Rejects, tt.message)
			}
			if d.DepartmentRows != len(tt.rows) || d.Rows != 0 {
				t.Errorf("DepartmentRows = %d, Rows = %d", d.DepartmentRows, d.Rows)
			}
		})
	}
}

func TestTableMembers(t *testing.T) {
	m := mustNew(t, tableConfig())
	for _, r := range []Row{
		deptRow(2, "0", "", "示例科技"),
		deptRow(3, "D1", "0", "总部"),
		deptRow(4, "D2", "D1", "研发中心"),
		deptRow(5, "BAD", "D1", "研发|二部"),
	} {
		if err := m.AddDepartmentRow(r); err != nil {
			t.Fatal(err)
		}
	}
	member := func(line int, id, codes, leader string) Row {
		return Row{Ref: "staff.csv:" + strconv.Itoa(line), Values: map[string]string{
			"工号": id, "姓名": id, "手机": fmt.Sprintf("138%08d", line), "部门编码": codes, "负责人": leader}}
	}
	for _, r := range []Row{
		member(2, "a", "D2;D1", "1;0"),
		member(3, "b", "D2;D2", "0;1"), // the duplicate keeps the first's flag
		member(4, "c", "D9", ""),
		member(5, "d", "BAD", ""),
		member(6, "e", "0", ""),
		member(7, "f", "D1;D2", "1"),
		member(8, "g", "D1;D2", "1;0;1"),
	} {
		m.Add(r)
	}
	if err := m.AddDepartmentRow(deptRow(9, "D3", "D1", "晚到")); !errors.Is(err, errSealed) {
		t.Errorf("AddDepartmentRow after Add = %v, want errSealed", err)
	}
	d := m.Directory()
	type got struct {
		ID     string
		Keys   []string
		Leader []int
	}
	var members []got
	for _, mem := range d.Members {
		r := mem.Record()
		members = append(members, got{r.UserID, r.DeptKeys, r.IsLeader})
	}
	want := []got{{"a", []string{"D2", "D1"}, []int{1, 0}}, {"b", []string{"D2"}, []int{0}}, {"f", []string{"D1", "D2"}, []int{1, 1}}}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	wantRejects := []rej{
		{"dept.csv:5", "名称", "department_name_chars"},
		{"staff.csv:4", "部门编码", "department_unknown"},
		{"staff.csv:5", "部门编码", "department_rejected"},
		{"staff.csv:6", "部门编码", "department_missing"},
		{"staff.csv:8", "负责人", "is_leader_count"},
	}
	if diff := cmp.Diff(wantRejects, rejects(d)); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	if len(d.Departments) != 2 {
		t.Errorf("departments = %v", d.Departments)
	}

	pm := mustNew(t, staffConfig())
	if err := pm.AddDepartmentRow(deptRow(2, "D1", "", "总部")); err == nil {
		t.Error("AddDepartmentRow in path mode: want an error")
	}
}
