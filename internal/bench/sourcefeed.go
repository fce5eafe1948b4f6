package bench

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"os"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// wideColumns is the 12-column HR export the source-read scenario reads
// (issue 4): the import feed's columns plus a hire date, an id number and a
// remark, as real exports carry columns nobody maps.
var wideColumns = []string{"工号", "姓名", "手机", "邮箱", "部门", "职位", "性别", "状态", "直属上级", "入职日期", "身份证号", "备注"}

var wideDepts = []string{"总部/研发中心/后端组", "总部/研发中心/前端组", "总部/销售部/华东区", "总部/销售部/华南区", "总部/人力资源部", "总部/财务部"}

// wideRow is row i in wideColumns order; the hire date is an ISO date.
func wideRow(i int) []string {
	return []string{
		fmt.Sprintf("E%06d", i),
		fmt.Sprintf("员工%d号", i),
		fmt.Sprintf("139%08d", i),
		fmt.Sprintf("e%d@example.com", i),
		wideDepts[i%len(wideDepts)],
		[]string{"工程师", "经理", "专员", "总监"}[i%4],
		[]string{"男", "女"}[i%2],
		"在职",
		fmt.Sprintf("E%06d", i/10),
		fmt.Sprintf("20%02d-%02d-%02d", 10+i%15, 1+i%12, 1+i%28),
		fmt.Sprintf("1101011990%08d", i),
		[]string{"", "试用期", "外派上海"}[i%3],
	}
}

// writeWideCSV writes n rows as CSV, UTF-8 or (gb18030) as GB18030 the way
// a Chinese Windows Excel saves "CSV".
func writeWideCSV(path string, n int, gb18030 bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var dst io.Writer = f
	if gb18030 {
		dst = simplifiedchinese.GB18030.NewEncoder().Writer(f)
	}
	bw := bufio.NewWriterSize(dst, 1<<16)
	w := csv.NewWriter(bw)
	if err := w.Write(wideColumns); err != nil {
		return err
	}
	for i := range n {
		if err := w.Write(wideRow(i)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// writeWideXLSX writes n rows as Excel does: every text cell in the shared
// strings table (the costly part to read), mobiles as numbers, hire dates
// as date-formatted serials. excelize's stream writer uses inline strings
// instead, which would miss that cost, so the parts are written directly.
func writeWideXLSX(path string, n int) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`},
		{"xl/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`},
	}
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			return err
		}
	}

	// Shared strings are numbered in order of first use, as Excel does.
	index := map[string]int{}
	var strs []string
	sst := func(s string) int {
		i, ok := index[s]
		if !ok {
			i = len(strs)
			index[s] = i
			strs = append(strs, s)
		}
		return i
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	writeRow := func(r int, cells []string) {
		fmt.Fprintf(bw, `<row r="%d">`, r)
		for c, v := range cells {
			ref := fmt.Sprintf("%c%d", 'A'+c, r)
			switch {
			case v == "":
			case r > 1 && c == 2: // mobile typed as a number
				fmt.Fprintf(bw, `<c r="%s"><v>%s</v></c>`, ref, v)
			case r > 1 && c == 9: // hire date as a serial with a date format
				fmt.Fprintf(bw, `<c r="%s" s="1"><v>%d</v></c>`, ref, 40000+r%5000)
			default:
				fmt.Fprintf(bw, `<c r="%s" t="s"><v>%d</v></c>`, ref, sst(v))
			}
		}
		bw.WriteString(`</row>`)
	}
	writeRow(1, wideColumns)
	for i := range n {
		writeRow(i+2, wideRow(i))
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return err
	}

	w, err = zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	bw = bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(strs), len(strs))
	for _, s := range strs {
		bw.WriteString("<si><t>")
		if err := xml.EscapeText(bw, []byte(s)); err != nil {
			return err
		}
		bw.WriteString("</t></si>")
	}
	bw.WriteString(`</sst>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}
