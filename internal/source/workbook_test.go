package source

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tmpdir points TMPDIR at a fresh directory and returns a check that it
// is empty again.
func tmpdir(t *testing.T) func() {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return func() {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			t.Errorf("left behind in TMPDIR: %s", e.Name())
		}
	}
}

// Parts whose zip directory declares more than the limits are refused
// before anything is unzipped: nothing allocated, nothing spilled. A 2 MB
// workbook holding a 2 GiB cell drove the process to 4.1 GB and left a
// 2 GiB temporary file; excelize sizes its buffers by the declared size.
func TestXLSXDeclaredSizes(t *testing.T) {
	small := func(w *bufio.Writer) { w.WriteString(sheetHead + sheetTail) }
	for _, tc := range []struct {
		name string
		part bookPart
		want string
	}{
		{"sheet", bookPart{"xl/worksheets/sheet1.xml", small, 2 << 30},
			`the workbook unzips to 2.0 GiB, over the 1 GiB limit for one workbook (the largest part, "xl/worksheets/sheet1.xml", is 2 GiB)`},
		{"shared strings", bookPart{"xl/sharedStrings.xml", small, 300 << 20},
			`the shared strings ("xl/sharedStrings.xml") unzip to 300 MiB, over the 256 MiB limit`},
		{"styles", bookPart{"xl/styles2.xml", small, 40 << 20},
			`part "xl/styles2.xml" unzips to 40 MiB, over the 32 MiB limit for a part read whole`},
		{"pictures", bookPart{"xl/media/image1.png", small, 200 << 20},
			`the workbook's parts that are read into memory (styles, pictures, small sheets) unzip to 200.0 MiB, over the 128 MiB limit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			empty := tmpdir(t)
			path := filepath.Join(t.TempDir(), "bomb.xlsx")
			writeBook(t, path, tc.part)
			var err error
			heap := allocated(func() { _, err = OpenXLSX(path, XLSXOptions{}) })
			if err == nil || !strings.HasPrefix(err.Error(), "bomb.xlsx: "+tc.want) {
				t.Errorf("err = %v\nwant it to start bomb.xlsx: %s", err, tc.want)
			}
			if heap > 4<<20 {
				t.Errorf("refusing allocated %d MB", heap>>20)
			}
			empty()
		})
	}
}

// A cell of 8 MiB, within every size limit, is refused before excelize's
// decoder holds it: the scan holds at most one token of the record limit.
func TestXLSXHugeCell(t *testing.T) {
	empty := tmpdir(t)
	path := filepath.Join(t.TempDir(), "huge.xlsx")
	writeBook(t, path, bookPart{name: "xl/worksheets/sheet1.xml", write: func(w *bufio.Writer) {
		w.WriteString(sheetHead + `<row r="1"><c r="A1" t="inlineStr"><is><t>id</t></is></c></row>`)
		w.WriteString(`<row r="2"><c r="A2" t="inlineStr"><is><t>`)
		repeat(w, "x", 8<<20)
		w.WriteString(`</t></is></c></row>` + sheetTail)
	}})
	var err error
	heap := allocated(func() { _, err = OpenXLSX(path, XLSXOptions{}) })
	want := `huge.xlsx: Sheet1!2: the row cannot be read within the limits: more than 1 MiB in one XML text or tag (at byte 249 of "xl/worksheets/sheet1.xml")`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if heap > 16<<20 {
		t.Errorf("refusing allocated %d MB", heap>>20)
	}
	// The 8 MiB sheet was spilled when excelize opened the workbook.
	empty()
}

// A shared string too big to hold is refused before excelize loads the
// table, which it does whole, string by string.
func TestXLSXHugeSharedString(t *testing.T) {
	empty := tmpdir(t)
	path := filepath.Join(t.TempDir(), "sst.xlsx")
	writeBook(t, path, sheet([]string{"id"}, []string{"#1"}), bookPart{name: "xl/sharedStrings.xml", write: func(w *bufio.Writer) {
		w.WriteString(sstHead + "<si><t>id</t></si><si><r><t>")
		repeat(w, "<x/>", 4<<20) // markup, so no one token is big
		w.WriteString("</t></r></si></sst>")
	}})
	var err error
	heap := allocated(func() { _, err = OpenXLSX(path, XLSXOptions{}) })
	want := "sst.xlsx: shared string 1 is more than 1 MiB of XML, the limit for one row's cells"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant it to start %s", err, want)
	}
	if heap > 16<<20 {
		t.Errorf("refusing allocated %d MB", heap>>20)
	}
	empty()
}

// One shared string used many times in a row multiplies what excelize
// builds for the row; the scan counts every use.
func TestXLSXSharedStringAmplification(t *testing.T) {
	path := filepath.Join(t.TempDir(), "amp.xlsx")
	uses := make([]string, 20)
	for i := range uses {
		uses[i] = "#1"
	}
	writeBook(t, path, sheet([]string{"id"}, uses), sharedStrings("id", strings.Repeat("长", 40_000)))
	_, err := OpenXLSX(path, XLSXOptions{})
	want := "amp.xlsx: Sheet1!2: the row holds more than 1 MiB of cells (its XML and the shared strings it uses), the limit for one row"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v\nwant it to start %s", err, want)
	}
}

// A 572 KB workbook of 4 million unnumbered rows was read as one,
// rejecting a million of them: rows past Excel's last are refused before
// the first is read.
func TestXLSXRowsPastExcel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.xlsx")
	writeBook(t, path, bookPart{name: "xl/worksheets/sheet1.xml", write: func(w *bufio.Writer) {
		w.WriteString(sheetHead + `<row><c t="inlineStr"><is><t>id</t></is></c></row>`)
		repeat(w, `<row/>`, MaxSheetRows*6)
		w.WriteString(sheetTail)
	}})
	_, err := OpenXLSX(path, XLSXOptions{})
	want := "rows.xlsx: Sheet1!1048577: the sheet has rows past 1,048,576, Excel's last: this is not a workbook a spreadsheet wrote"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

// excelize decodes _xHHHH_ escapes in time quadratic in their number.
func TestXLSXEscapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "esc.xlsx")
	writeBook(t, path, sheet([]string{"id"}), sharedStrings(strings.Repeat("_x0041_", 300)))
	_, err := OpenXLSX(path, XLSXOptions{})
	want := `esc.xlsx: shared string 0 cannot be read within the limits: more than 256 _xHHHH_ escapes in one XML text (at byte`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v\nwant it to start %s", err, want)
	}
}

// The scanner must find the same tokens in what spreadsheets write as
// encoding/xml does, comments, CDATA and quoted '>' included.
func TestXMLScanner(t *testing.T) {
	doc := `<?xml version="1.0"?><!-- a > comment --><x:sst a='1>2' b="q"><x:si><t><![CDATA[<v>]]>text&amp;</t></x:si><si/></x:sst>`
	s := newXMLScanner(strings.NewReader(doc), "t.xml", 1<<10)
	var got []string
	for {
		tok, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if tok == tokEOF {
			break
		}
		switch tok {
		case tokStart:
			got = append(got, "<"+string(s.name)+" a="+string(s.attr("a"))+">")
		case tokEmpty:
			got = append(got, "<"+string(s.name)+"/>")
		case tokEnd:
			got = append(got, "</"+string(s.name)+">")
		case tokText:
			got = append(got, "text "+string(s.text))
		case tokOther:
			got = append(got, "other")
		}
	}
	want := "other other <sst a=1>2> <si a=> <t a=> text <v> text text&amp; </t> </si> <si/> </sst>"
	if strings.Join(got, " ") != want {
		t.Errorf("tokens:\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
}

// The scanner ends on any input, within its token limit, without
// panicking.
func FuzzXMLScanner(f *testing.F) {
	f.Add(`<?xml version="1.0"?><!-- c --><sst a='>'><si><t><![CDATA[x]]>&amp;</t></si><si/></sst>`)
	f.Add(sheetHead + `<row r="2"><c t="s"><v>1</v></c></row>` + sheetTail)
	f.Add("<a b=\"unclosed")
	f.Add("<!--")
	f.Fuzz(func(t *testing.T, doc string) {
		s := newXMLScanner(strings.NewReader(doc), "f.xml", 64)
		for range len(doc) + 2 {
			tok, err := s.next()
			if err != nil || tok == tokEOF {
				return
			}
			_ = s.attr("r")
			if s.off > int64(len(doc)) {
				t.Fatalf("consumed %d of %d bytes", s.off, len(doc))
			}
		}
		t.Fatal("no end after a token per byte")
	})
}
