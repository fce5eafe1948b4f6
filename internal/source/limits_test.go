package source

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocated is how many bytes of heap f allocates, freed or not. It is an
// upper bound on how far f can raise the heap's peak, and unlike a
// sampled peak it does not depend on when the collector ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// writeFile writes what fill produces to a file in a fresh temporary
// directory, through a small buffer so that a big hostile file costs the
// test no memory.
func writeFile(t *testing.T, name string, fill func(w *bufio.Writer)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	fill(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// repeat writes n bytes of s over and over.
func repeat(w io.Writer, s string, n int) {
	chunk := []byte(strings.Repeat(s, 64<<10/len(s)))
	for n > 0 {
		k := min(n, len(chunk))
		_, _ = w.Write(chunk[:k])
		n -= k
	}
}

// A 20 MB line without a newline stands for the 200 MB one that took
// 1.9 GB and was echoed whole into the error: with a 1 MiB record limit
// both allocate a few MB and say so in one short line.
func TestCSVLongLine(t *testing.T) {
	for _, tc := range []struct{ name, before string }{
		{"as the header", ""},
		{"after a good row", "id,name\n1,Ann\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "long.csv", func(w *bufio.Writer) {
				w.WriteString(tc.before)
				repeat(w, "x", 20<<20)
			})
			var err error
			var rows []Row
			heap := allocated(func() {
				c, oerr := OpenCSV(path, CSVOptions{})
				if oerr != nil {
					err = oerr
					return
				}
				defer c.Close()
				rows, err = readAll(c)
			})
			if err == nil {
				t.Fatal("a 20 MB line was read")
			}
			line := 1
			if tc.before != "" {
				line = 3
				if len(rows) != 1 || rows[0].Values["name"] != "Ann" {
					t.Errorf("rows before the long line = %+v", rows)
				}
			}
			want := fmt.Sprintf("long.csv:%d: line longer than 1 MiB, the limit for one CSV record (it starts %q…)", line, strings.Repeat("x", 64))
			if !strings.HasPrefix(err.Error(), want) || len(err.Error()) > 500 {
				t.Errorf("err (%d bytes) = %v\nwant it to start %s", len(err.Error()), err, want)
			}
			if heap > 16<<20 {
				t.Errorf("reading allocated %d MB", heap>>20)
			}
		})
	}
}

// A quote that never closes would make encoding/csv read the rest of the
// file into one record.
func TestCSVUnclosedQuote(t *testing.T) {
	path := writeFile(t, "quote.csv", func(w *bufio.Writer) {
		w.WriteString("id,note\n1,ok\n2,\"opens here\n")
		for range 40_000 {
			w.WriteString("and goes on and on, line after line\n")
		}
	})
	c, err := OpenCSV(path, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rows, err := readAll(c)
	if len(rows) != 1 || err == nil {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	want := `quote.csv:3: record longer than 1 MiB, the limit for one CSV record: a quoted field is still open on line 29130 (a missing closing quote?); it starts "2,\"opens here\nand goes on and on, line after line\nand goes on an"…`
	if err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// A 10,000-column header printed an 89 KB error line.
func TestCSVWideHeader(t *testing.T) {
	path := writeFile(t, "wide.csv", func(w *bufio.Writer) {
		for i := range 10_000 {
			if i > 0 {
				w.WriteByte(',')
			}
			fmt.Fprintf(w, "column_%d", i)
		}
		w.WriteString("\n1\n")
	})
	_, err := OpenCSV(path, CSVOptions{})
	want := `wide.csv:1: the header has 10,000 columns, over the limit of 1,024: is this the header? ("column_0", "column_1", "column_2", "column_3", "column_4", "column_5", "column_6", "column_7", "column_8", "column_9", … and 9990 more)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}

// Binary noise handed over as CSV fails, one way or another, in a line a
// log can hold: it was quoted ~1 KB into the message. The first 8 KB hold
// no quote, delimiter or newline, so the header is one field of noise.
func TestCSVBinaryNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		path := writeFile(t, "noise.csv", func(w *bufio.Writer) {
			for n := 0; n < 200<<10; {
				c := byte(rng.UintN(256))
				if n < 8<<10 && strings.IndexByte("\",\t;\n", c) >= 0 {
					continue
				}
				w.WriteByte(c)
				n++
			}
		})
		c, err := OpenCSV(path, CSVOptions{})
		if err == nil {
			for c.Next() {
				if p := c.Row().Problem; len(p) > 600 {
					t.Fatalf("noise %d: a %d-byte problem: %s", i, len(p), p)
				}
			}
			err = c.Err()
			c.Close()
		}
		if err != nil && len(err.Error()) > 500 {
			t.Fatalf("noise %d: a %d-byte error: %v", i, len(err.Error()), err)
		}
	}
}

func TestCSVCellTooLarge(t *testing.T) {
	big := strings.Repeat("长", 15_000) // 45,000 bytes
	data := "id,name,note\n1,Ann,short\n2,Bob," + big + "\n3,Cid,\n"
	c, err := NewCSV("big.csv", strings.NewReader(data), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(c)
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	want := `the cell in column note is 43.9 KiB, over the 32 KiB limit for one cell (it starts "长长长长长长长长长长长长长长长长长长长长长"…)`
	if got := rows[1]; got.Problem != want || got.ProblemRule != RuleCellTooLarge || got.ProblemColumn != "note" {
		t.Errorf("row 2 = %q/%q/%q\nwant %q/cell_too_large/note", got.Problem, got.ProblemRule, got.ProblemColumn, want)
	}
	if rows[0].Problem != "" || rows[2].Problem != "" {
		t.Errorf("other rows: %q, %q", rows[0].Problem, rows[2].Problem)
	}
}

func TestCSVRowLimit(t *testing.T) {
	lim := defaultLimits
	lim.rows = 3
	c, err := NewCSV("many.csv", strings.NewReader("id\n1\n\n2\n3\n4\n5\n"), CSVOptions{limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(c)
	want := "many.csv:6: more than 3 data rows, the limit for one source: this is not one HR export"
	if len(rows) != 3 || err == nil || err.Error() != want {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
}

// A NUL byte failed a whole run on the PostgreSQL journal (SQLSTATE
// 22P05) and reached WeCom on the embedded one.
func TestCSVControlCharacters(t *testing.T) {
	data := "id,name,note\n" +
		"1,Ann,\"two\nlines\"\n" + // kept: quoted line break
		"2,Bob,tab\there\n" + // kept: tab
		"3,C\x00d,\n" +
		"4,Dee,bell\a\n" +
		"5,Eve,\x7f\n" +
		"6,Fay,\"\r\n\"\n"
	c, err := NewCSV("ctl.csv", strings.NewReader(data), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ctl.csv:5": `control character U+0000 in column name, byte 2 of "C\x00d"`,
		"ctl.csv:6": `control character U+0007 in column note, byte 5 of "bell\a"`,
		"ctl.csv:7": `control character U+007F in column note, byte 1 of "\x7f"`,
	}
	for _, r := range rows {
		if r.Problem != want[r.Ref] {
			t.Errorf("%s: problem %q, want %q", r.Ref, r.Problem, want[r.Ref])
		}
		if r.Problem != "" && r.ProblemRule != RuleControlCharacter {
			t.Errorf("%s: rule %q", r.Ref, r.ProblemRule)
		}
		if strings.ContainsRune(r.Problem, 0) {
			t.Errorf("%s: the problem holds the NUL itself", r.Ref)
		}
	}
}

func TestCSVHeaderControlCharacter(t *testing.T) {
	_, err := NewCSV("h.csv", strings.NewReader("id,na\x00me\n1,a\n"), CSVOptions{})
	want := `h.csv:1: header: control character U+0000 in column 2, byte 3 of "na\x00me"`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}

// bookPart is one part of a hand-made workbook. With declared set, the
// zip directory claims the part unzips to that many bytes whatever it
// holds, as a zip bomb's directory may.
type bookPart struct {
	name     string
	write    func(w *bufio.Writer)
	declared uint64
}

// writeBook writes a one-sheet workbook of the given sheet and shared
// strings parts (either may be left out) with writeBookParts around them.
func writeBook(t *testing.T, path string, parts ...bookPart) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	writeBookParts(t, zw)
	for _, p := range parts {
		if p.declared == 0 {
			w, err := zw.Create(p.name)
			if err != nil {
				t.Fatal(err)
			}
			bw := bufio.NewWriterSize(w, 64<<10)
			p.write(bw)
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var body, raw bytes.Buffer
		bw := bufio.NewWriter(&body)
		p.write(bw)
		bw.Flush()
		fw, _ := flate.NewWriter(&raw, flate.BestSpeed)
		fw.Write(body.Bytes())
		fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{
			Name: p.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(body.Bytes()),
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: p.declared,
		})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

const (
	sheetHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
	sstHead   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`
)

// sheet is a worksheet part of rows of inline strings, one row a slice.
func sheet(rows ...[]string) bookPart {
	return bookPart{name: "xl/worksheets/sheet1.xml", write: func(w *bufio.Writer) {
		w.WriteString(sheetHead)
		for r, cells := range rows {
			fmt.Fprintf(w, `<row r="%d">`, r+1)
			for c, v := range cells {
				if strings.HasPrefix(v, "#") { // "#N": shared string N
					fmt.Fprintf(w, `<c r="%s%d" t="s"><v>%s</v></c>`, colName(c), r+1, v[1:])
					continue
				}
				fmt.Fprintf(w, `<c r="%s%d" t="inlineStr"><is><t>`, colName(c), r+1)
				xmlEscape(w, v)
				w.WriteString(`</t></is></c>`)
			}
			w.WriteString(`</row>`)
		}
		w.WriteString(sheetTail)
	}}
}

// sharedStrings is a shared strings part; a string is written as it is,
// so it may hold markup.
func sharedStrings(strs ...string) bookPart {
	return bookPart{name: "xl/sharedStrings.xml", write: func(w *bufio.Writer) {
		w.WriteString(sstHead)
		for _, s := range strs {
			w.WriteString("<si><t>" + s + "</t></si>")
		}
		w.WriteString(`</sst>`)
	}}
}

func TestXLSXCellRules(t *testing.T) {
	big := strings.Repeat("长", 15_000)
	path := filepath.Join(t.TempDir(), "cells.xlsx")
	writeBook(t, path,
		sheet(
			[]string{"工号", "姓名", "备注"},
			[]string{"E1", "张三", "#1"},
			[]string{"E2", "李四", big},
			[]string{"E3", "#2", ""},
			[]string{"E4", "#3", "#4"},
			[]string{"E5", "赵六", "_x001B_[31m"},
		),
		sharedStrings("工号", big, "王_x0000_五", "欧阳娜娜", "两行_x000D_\n地址\t有制表符"),
	)
	x, err := OpenXLSX(path, XLSXOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := readAll(x)
	if err != nil {
		t.Fatal(err)
	}
	tooLarge := `the cell in column 备注 is 43.9 KiB, over the 32 KiB limit for one cell (it starts "长长长长长长长长长长长长长长长长长长长长长"…)`
	want := []struct{ ref, rule, column, problem string }{
		{"Sheet1!2", RuleCellTooLarge, "备注", tooLarge},
		{"Sheet1!3", RuleCellTooLarge, "备注", tooLarge},
		{"Sheet1!4", RuleControlCharacter, "姓名", `control character U+0000 in column 姓名, byte 4 of "王\x00五"`},
		{"Sheet1!5", "", "", ""},
		{"Sheet1!6", RuleControlCharacter, "备注", `control character U+001B in column 备注, byte 1 of "\x1b[31m"`},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		if r.Ref != w.ref || r.ProblemRule != w.rule || r.ProblemColumn != w.column || r.Problem != w.problem {
			t.Errorf("row %d = %s %q/%q/%q\nwant %s %q/%q/%q", i, r.Ref, r.ProblemRule, r.ProblemColumn, r.Problem, w.ref, w.rule, w.column, w.problem)
		}
	}
	if got := rows[3].Values["备注"]; got != "两行\r\n地址\t有制表符" {
		t.Errorf("line breaks and tabs = %q", got)
	}
}

func TestXLSXRowLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.xlsx")
	writeBook(t, path, sheet([]string{"id"}, []string{"1"}, []string{"2"}, []string{"3"}))
	lim := defaultLimits
	lim.rows = 2
	x, err := OpenXLSX(path, XLSXOptions{limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := readAll(x)
	want := "rows.xlsx: Sheet1!4: more than 2 data rows, the limit for one source: this is not one HR export"
	if len(rows) != 2 || err == nil || err.Error() != want {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
}

func TestXLSXWideHeader(t *testing.T) {
	header := make([]string, 2000)
	for i := range header {
		header[i] = fmt.Sprintf("列%d", i)
	}
	path := filepath.Join(t.TempDir(), "wide.xlsx")
	writeBook(t, path, sheet(header, []string{"1"}))
	_, err := OpenXLSX(path, XLSXOptions{})
	want := `wide.xlsx: Sheet1!1: the header has 2,000 columns, over the limit of 1,024: is this the header? ("列0", "列1", "列2", "列3", "列4", "列5", "列6", "列7", "列8", "列9", … and 1990 more)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}
