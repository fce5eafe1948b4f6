package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The workbooks under testdata/<scenario>/input.xlsx were written by
// LibreOffice (see testdata/make-xlsx.sh), except encrypted/, which
// LibreOffice 7.4 cannot password-protect headless and excelize wrote.
func TestXLSX(t *testing.T) {
	vals := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	staff := []string{"工号", "姓名", "部门", "手机"}
	titleRows := []Row{
		{Ref: "花名册!5", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心/后端组", "手机", "13800000001")},
		{Ref: "花名册!7", Values: vals("工号", "E002", "姓名", "李四", "部门", "总部/销售部/华东区", "手机", "13800000002")},
		{Ref: "花名册!8", Values: vals("工号", "E003", "姓名", " 王五 ", "部门", "总部", "手机", "")},
	}
	tests := []struct {
		name    string
		dir     string
		opts    XLSXOptions
		sheet   string
		columns []string
		rows    []Row
		openErr string // exact error from OpenXLSX
	}{
		{
			// A merged title, an export note and a blank row above the
			// header; a blank row inside the data; formatted empty rows
			// after it. Refs keep the sheet's own row numbers.
			name: "header found by the mapped columns", dir: "title_rows", opts: XLSXOptions{Columns: staff},
			sheet: "花名册", columns: staff, rows: titleRows,
		},
		{name: "header row given", dir: "title_rows", opts: XLSXOptions{HeaderRow: 4}, sheet: "花名册", columns: staff, rows: titleRows},
		{
			// Only some mapped columns anywhere: the best row wins and the
			// caller's CheckColumns names the missing one.
			name: "header with a missing column", dir: "title_rows", opts: XLSXOptions{Columns: []string{"工号", "邮箱"}},
			sheet: "花名册", columns: staff, rows: titleRows,
		},
		{
			// Without mapped columns the first non-blank row is the header.
			name: "no columns to look for", dir: "title_rows", sheet: "花名册", columns: []string{"2024年3月员工花名册"},
			rows: []Row{
				{Ref: "花名册!2", Values: vals("2024年3月员工花名册", "导出时间：2024-03-01 09:00")},
				{Ref: "花名册!4", Values: vals("2024年3月员工花名册", "工号")},
				{Ref: "花名册!5", Values: vals("2024年3月员工花名册", "E001")},
				{Ref: "花名册!7", Values: vals("2024年3月员工花名册", "E002")},
				{Ref: "花名册!8", Values: vals("2024年3月员工花名册", "E003")},
			},
		},
		{
			// A merged banner and merged group headings above the header.
			// A vertically merged data cell holds its value in the top
			// cell only: the rows below read it as empty (see doc.go).
			name: "merged", dir: "merged", opts: XLSXOptions{Columns: []string{"工号", "手机", "邮箱"}},
			sheet: "Sheet1", columns: []string{"工号", "姓名", "部门", "手机", "邮箱"},
			rows: []Row{
				{Ref: "Sheet1!4", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/销售部", "手机", "13800000001", "邮箱", "zhangsan@example.com")},
				{Ref: "Sheet1!5", Values: vals("工号", "E002", "姓名", "李四", "部门", "", "手机", "13800000002", "邮箱", "lisi@example.com")},
			},
		},
		{
			name: "dates", dir: "dates", opts: XLSXOptions{Columns: []string{"入职日期"}},
			sheet: "Sheet1", columns: []string{"工号", "格式", "入职日期"},
			rows: []Row{
				{Ref: "Sheet1!2", Values: vals("工号", "E001", "格式", "yyyy-mm-dd", "入职日期", "2024-01-05")},
				{Ref: "Sheet1!3", Values: vals("工号", "E002", "格式", "yyyy/m/d", "入职日期", "2023-12-31")},
				{Ref: "Sheet1!4", Values: vals("工号", "E003", "格式", "yyyy年m月d日", "入职日期", "2020-02-29")},
				{Ref: "Sheet1!5", Values: vals("工号", "E004", "格式", "m/d/yy", "入职日期", "1999-07-04")},
				{Ref: "Sheet1!6", Values: vals("工号", "E005", "格式", "datetime", "入职日期", "2024-03-01 09:30:00")},
				{Ref: "Sheet1!7", Values: vals("工号", "E006", "格式", "text", "入职日期", "2024-02-01")},
				// A serial in a General cell cannot be told from a number
				// here; the mapper's date transform reads serials.
				{Ref: "Sheet1!8", Values: vals("工号", "E007", "格式", "serial, General", "入职日期", "45296")},
				{Ref: "Sheet1!9", Values: vals("工号", "E008", "格式", "1900-03-01", "入职日期", "1900-03-01")},
			},
		},
		{
			name: "long ids", dir: "long_ids", sheet: "Sheet1", columns: []string{"工号", "格式", "值"},
			rows: []Row{
				{Ref: "Sheet1!2", Values: vals("工号", "E001", "格式", "mobile, General", "值", "13800138001")},
				{Ref: "Sheet1!3", Values: vals("工号", "E002", "格式", "id card as text", "值", "110101199001011234")},
				// Excel and LibreOffice keep 15 significant digits of a
				// number; what is left is shown whole, not as 1.1E+17.
				{Ref: "Sheet1!4", Values: vals("工号", "E003", "格式", "id card as number", "值", "110101199001011000")},
				{Ref: "Sheet1!5", Values: vals("工号", "E004", "格式", "000000", "值", "000123")},
				{Ref: "Sheet1!6", Values: vals("工号", "E005", "格式", "#,##0", "值", "1234567")},
				{Ref: "Sheet1!7", Values: vals("工号", "E006", "格式", "0.00", "值", "1.5")},
				{Ref: "Sheet1!8", Values: vals("工号", "E007", "格式", "0.00E+00", "值", "13800138001")},
				{Ref: "Sheet1!9", Values: vals("工号", "E008", "格式", "decimal", "值", "0.1")},
				{Ref: "Sheet1!10", Values: vals("工号", "E009", "格式", "negative", "值", "-42")},
			},
		},
		{
			name: "formulas by cached value", dir: "formulas", sheet: "Sheet1",
			columns: []string{"工号", "姓", "名", "姓名", "编号", "入职日期", "错误"},
			rows: []Row{
				{Ref: "Sheet1!2", Values: vals("工号", "E001", "姓", "欧阳", "名", "娜娜", "姓名", "欧阳娜娜", "编号", "1002", "入职日期", "2024-01-05", "错误", "#DIV/0!")},
				{Ref: "Sheet1!3", Values: vals("工号", "E002", "姓", "张", "名", "三", "姓名", "张三", "编号", "1003", "入职日期", "2024-02-05", "错误", "E002")},
			},
		},
		{
			name: "first visible sheet", dir: "hidden_sheet", sheet: "Summary", columns: []string{"工号", "姓名"},
			rows: []Row{{Ref: "Summary!2", Values: vals("工号", "E001", "姓名", "张三")}},
		},
		{
			name: "hidden sheet by name", dir: "hidden_sheet", opts: XLSXOptions{Sheet: "archive"}, sheet: "Archive", columns: []string{"工号", "姓名"},
			rows: []Row{{Ref: "Archive!2", Values: vals("工号", "E500", "姓名", "归档")}},
		},
		{
			name: "hidden sheet by number", dir: "hidden_sheet", opts: XLSXOptions{Sheet: "#1"}, sheet: "Raw", columns: []string{"工号", "姓名"},
			rows: []Row{{Ref: "Raw!2", Values: vals("工号", "E900", "姓名", "隐藏")}},
		},
		{name: "missing sheet", dir: "hidden_sheet", opts: XLSXOptions{Sheet: "花名册"}, openErr: `input.xlsx: no sheet "花名册"; sheets: "Raw" (hidden), "Summary", "Archive" (hidden)`},
		{name: "sheet number too big", dir: "hidden_sheet", opts: XLSXOptions{Sheet: "#4"}, openErr: `input.xlsx: sheet #4: the workbook has 3 sheets: "Raw" (hidden), "Summary", "Archive" (hidden)`},
		{name: "bad sheet number", dir: "hidden_sheet", opts: XLSXOptions{Sheet: "#0"}, openErr: `input.xlsx: sheet "#0": want a name or #N with N from 1`},
		{name: "header past the end", dir: "hidden_sheet", opts: XLSXOptions{HeaderRow: 9}, openErr: "input.xlsx: sheet Summary: header row 9 is past the end of the sheet"},
		{name: "blank header row", dir: "title_rows", opts: XLSXOptions{HeaderRow: 3}, openErr: "input.xlsx: 花名册!3: the header row is empty"},
		{name: "negative header row", dir: "title_rows", opts: XLSXOptions{HeaderRow: -1}, openErr: "input.xlsx: header row -1: must be 1 or more"},
		{name: "xls", dir: "xls", openErr: "input.xls: " + ErrLegacyXLS.Error()},
		{name: "encrypted", dir: "encrypted", openErr: "input.xlsx: " + ErrEncrypted.Error()},
		{name: "html named xlsx", dir: "not_xlsx", openErr: "input.xlsx: this is text (CSV, tab-separated or HTML), not an .xlsx workbook: if it is delimited text, use source.type csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", tt.dir, "input.xlsx")
			if tt.dir == "xls" {
				path = filepath.Join("testdata", tt.dir, "input.xls")
			}
			x, err := OpenXLSX(path, tt.opts)
			if tt.openErr != "" {
				if err == nil || err.Error() != tt.openErr {
					t.Fatalf("OpenXLSX error = %v\nwant %s", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenXLSX: %v", err)
			}
			defer x.Close()
			if x.Sheet() != tt.sheet {
				t.Errorf("sheet = %q, want %q", x.Sheet(), tt.sheet)
			}
			if diff := cmp.Diff(tt.columns, x.Columns()); diff != "" {
				t.Errorf("Columns (-want +got):\n%s", diff)
			}
			rows, err := readAll(x)
			if err != nil {
				t.Fatalf("Err: %v", err)
			}
			if diff := cmp.Diff(tt.rows, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestXLSXTypedErrors(t *testing.T) {
	for _, tc := range []struct {
		path string
		want error
	}{
		{"testdata/xls/input.xls", ErrLegacyXLS},
		{"testdata/encrypted/input.xlsx", ErrEncrypted},
	} {
		if _, err := OpenXLSX(tc.path, XLSXOptions{}); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.path, err, tc.want)
		}
	}
}

// The sample feed saved by LibreOffice as a workbook (mobiles become
// numbers on the way) must read exactly like the CSV it came from.
func TestSampleWorkbookMatchesCSV(t *testing.T) {
	read := func(spec Spec) ([]string, []map[string]string) {
		t.Helper()
		r, err := Open(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		rows, err := readAll(r)
		if err != nil {
			t.Fatal(err)
		}
		var vals []map[string]string
		for _, row := range rows {
			if row.Problem != "" {
				t.Fatalf("%s: %s", row.Ref, row.Problem)
			}
			vals = append(vals, row.Values)
		}
		return r.Columns(), vals
	}
	csvCols, csvRows := read(Spec{Path: "../../samples/staff.csv"})
	xCols, xRows := read(Spec{Type: TypeXLSX, Path: "../../samples/staff.xlsx", Columns: []string{"工号", "手机"}})
	if diff := cmp.Diff(csvCols, xCols); diff != "" {
		t.Errorf("columns (-csv +xlsx):\n%s", diff)
	}
	if diff := cmp.Diff(csvRows, xRows); diff != "" {
		t.Errorf("rows (-csv +xlsx):\n%s", diff)
	}
}

func TestOpenDispatch(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		spec Spec
		want string // error substring, "" = opens
	}{
		{"csv by default", Spec{Path: "testdata/utf8/input.csv"}, ""},
		{"xlsx", Spec{Type: "XLSX", Path: "testdata/title_rows/input.xlsx"}, ""},
		{"workbook as csv", Spec{Type: TypeCSV, Path: "testdata/title_rows/input.xlsx"}, "input.xlsx: this is an .xlsx workbook (or another ZIP file), not CSV: use source.type xlsx"},
		{"xls as csv", Spec{Path: "testdata/xls/input.xls"}, "input.xls: this is a binary Excel workbook"},
		{"csv as xlsx", Spec{Type: TypeXLSX, Path: "testdata/utf8/input.csv"}, "input.csv: this is text"},
		{"missing csv", Spec{Path: "testdata/nope/input.csv"}, "open csv: stat testdata/nope/input.csv: no such file or directory"},
		{"missing xlsx", Spec{Type: TypeXLSX, Path: "testdata/nope/input.xlsx"}, "input.xlsx: stat testdata/nope/input.xlsx: no such file or directory"},
		{"unknown type", Spec{Type: "xls"}, `unknown source type "xls" (want csv, xlsx or postgres)`},
		{"postgres without view", Spec{Type: TypePostgres, Key: "id"}, "postgres source: no view or table name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(ctx, tt.spec)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestXLSXCloseRemovesTempFiles(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "big.xlsx")
	const n = 5_000 // ~2 MB of sheet XML: over xlsxInMemory, so it spills
	writeStaffWorkbook(t, path, n)
	spill := t.TempDir()
	x, err := OpenXLSX(path, XLSXOptions{TmpDir: spill})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(spill); len(ents) == 0 {
		t.Error("nothing spilled to TmpDir: the memory bound is not in effect")
	}
	rows := 0
	for x.Next() {
		rows++
	}
	if err := x.Err(); err != nil || rows != n {
		t.Fatalf("read %d rows, err %v", rows, err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if ents, _ := os.ReadDir(spill); len(ents) != 0 {
		t.Errorf("Close left %d temporary files", len(ents))
	}
}

func TestClassifyFormat(t *testing.T) {
	tests := []struct {
		code string
		want fmtKind
	}{
		{"General", fmtRaw},
		{"0", fmtZeroPad},
		{"000000", fmtZeroPad},
		{"0.00", fmtRaw},
		{"#,##0", fmtRaw},
		{"0.00E+00", fmtRaw},
		{"@", fmtRaw},
		{`[$¥-804]#,##0.00;[Red]-[$¥-804]#,##0.00`, fmtRaw},
		{`#,##0 "days"`, fmtRaw},
		{"yyyy-mm-dd", fmtDate},
		{`yyyy\-mm\-dd`, fmtDate},
		{`yyyy"年"m"月"d"日"`, fmtDate},
		{`yyyy\年m\月d\日`, fmtDate},
		{"[$-F800]dddd, mmmm dd, yyyy", fmtDate},
		{"mmm", fmtDate},
		{"m/d/yy h:mm", fmtDateTime},
		{`yyyy\-mm\-dd\ hh:mm`, fmtDateTime},
		{"h:mm AM/PM", fmtTime},
		{"[h]:mm:ss", fmtTime},
		{"mm:ss", fmtTime},
		{`_(* #,##0_)`, fmtRaw},
	}
	for _, tt := range tests {
		if got := classifyFormat(tt.code); got != tt.want {
			t.Errorf("classifyFormat(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestPlainNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.10101199001011E+17", "110101199001011000"},
		{"-1.5E+20", "-150000000000000000000"},
		{"1.23456789012346E-05", "0.0000123456789012346"},
		{"13800138001", "13800138001"},
		{"3E12", "3E12"},       // text, not excelize's form
		{"1.5E+10", "1.5E+10"}, // exponent below 15: not what excelize writes
		{"E+17", "E+17"},
		{"张三", "张三"},
	}
	for _, tt := range tests {
		if got := plainNumber(tt.in); got != tt.want {
			t.Errorf("plainNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnmark(t *testing.T) {
	d, dt, tm := string(markDate), string(markDateTime), string(markTime)
	tests := []struct {
		in    string
		d1904 bool
		want  string
	}{
		{d + "45296", false, "2024-01-05"},
		{d + "45296.9999", false, "2024-01-05"},
		{d + "1", false, "1900-01-01"},
		{d + "59", false, "1900-02-28"},
		{d + "61", false, "1900-03-01"},
		{d + "0", true, "1904-01-01"},
		{d + "43834", true, "2024-01-05"},
		{dt + "45352.3958333333", false, "2024-03-01 09:30:00"},
		{tm + "0.5", false, "12:00:00"},
		{d + "-1", false, "-1"},
		{d + "abc", false, "abc"},
		{"45296", false, "45296"},
		{"张三", false, "张三"},
	}
	for _, tt := range tests {
		if got := unmark(tt.in, tt.d1904); got != tt.want {
			t.Errorf("unmark(%q, %v) = %q, want %q", tt.in, tt.d1904, got, tt.want)
		}
	}
}
