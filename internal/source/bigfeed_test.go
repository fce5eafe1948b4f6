package source

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// bigColumns is the 12-column staff feed the benchmarks read.
var bigColumns = []string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级", "入职日期", "身份证号", "备注"}

var bigDepts = []string{"总部/研发中心/后端组", "总部/研发中心/前端组", "总部/销售部/华东区", "总部/销售部/华南区", "总部/人力资源部", "总部/财务部"}

// bigRow is row i of the feed as text, in bigColumns order.
func bigRow(i int) []string {
	return []string{
		fmt.Sprintf("E%06d", i),
		fmt.Sprintf("员工%d号", i),
		fmt.Sprintf("139%08d", i),
		fmt.Sprintf("e%d@example.com", i),
		bigDepts[i%len(bigDepts)],
		[]string{"工程师", "经理", "专员", "总监"}[i%4],
		[]string{"男", "女"}[i%2],
		"在职",
		fmt.Sprintf("E%06d", i/10),
		fmt.Sprintf("%d", 40000+i%5000), // an Excel serial, date-formatted
		fmt.Sprintf("1101011990%08d", i),
		"",
	}
}

// writeStaffWorkbook writes an n-row workbook the way Excel does: every
// text cell in the shared-strings table, mobiles and dates as numbers,
// the date column with a date format. excelize's own stream writer uses
// inline strings, which would miss the shared-strings cost the benchmark
// is about, so the parts are written directly.
func writeStaffWorkbook(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	writeBookParts(tb, zw)

	// Shared strings are numbered in order of first use, as Excel does.
	sst := map[string]int{}
	var order []string
	idx := func(s string) int {
		if i, ok := sst[s]; ok {
			return i
		}
		sst[s] = len(order)
		order = append(order, s)
		return len(order) - 1
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	writeRow := func(r int, cells []string) {
		fmt.Fprintf(bw, `<row r="%d">`, r)
		for c, v := range cells {
			ref := string(rune('A'+c)) + fmt.Sprint(r)
			switch {
			case v == "":
			case r > 1 && c == 2: // mobile as a number
				fmt.Fprintf(bw, `<c r="%s"><v>%s</v></c>`, ref, v)
			case r > 1 && c == 9: // date serial with a date format
				fmt.Fprintf(bw, `<c r="%s" s="1"><v>%s</v></c>`, ref, v)
			default:
				fmt.Fprintf(bw, `<c r="%s" t="s"><v>%d</v></c>`, ref, idx(v))
			}
		}
		bw.WriteString(`</row>`)
	}
	writeRow(1, bigColumns)
	for i := range n {
		writeRow(i+2, bigRow(i))
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}

	w, err = zw.Create("xl/sharedStrings.xml")
	if err != nil {
		tb.Fatal(err)
	}
	bw = bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="%d">`, len(order))
	var esc strings.Builder
	for _, s := range order {
		esc.Reset()
		if err := xmlEscape(&esc, s); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(bw, `<si><t>%s</t></si>`, esc.String())
	}
	bw.WriteString(`</sst>`)
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}

// writeBookParts writes the parts of a one-sheet workbook other than the
// sheet and the shared strings, as Excel names them: xl/worksheets/
// sheet1.xml is "Sheet1", and cell style 1 is a date.
func writeBookParts(tb testing.TB, zw *zip.Writer) {
	tb.Helper()
	part := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			tb.Fatal(err)
		}
	}
	part("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`)
	part("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	part("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	part("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`)
	part("xl/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`)
}

var xmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func xmlEscape(w io.Writer, s string) error {
	_, err := io.WriteString(w, xmlText.Replace(s))
	return err
}
