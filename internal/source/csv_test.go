package source

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures under testdata/")

// encodedFixtures are written with the x/text encoders rather than by
// hand, so the committed bytes are what a real GBK or UTF-16 export holds.
// Run `go test -run TestEncodedFixtures -update` after changing one.
var encodedFixtures = []struct {
	dir  string
	enc  encoding.Encoding
	text string
}{
	{"gbk", simplifiedchinese.GBK, "工号,姓名,部门,性别\nE001,张三,总部/研发中心/后端组,男\nE002,欧阳娜娜,总部/销售部/华东区,女\n"},
	{"utf16le", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "工号\t姓名\t部门\r\nE001\t张三\t总部/研发中心\r\nE003\t赵六\t总部/人力资源部\r\n"},
}

func TestEncodedFixtures(t *testing.T) {
	for _, fx := range encodedFixtures {
		want, err := fx.enc.NewEncoder().Bytes([]byte(fx.text))
		if err != nil {
			t.Fatalf("%s: encode: %v", fx.dir, err)
		}
		path := filepath.Join("testdata", fx.dir, "input.csv")
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run go test -run TestEncodedFixtures -update", path)
		}
	}
}

func TestCSV(t *testing.T) {
	type tc struct {
		dir       string
		opts      CSVOptions
		columns   []string
		encoding  string
		delim     rune
		rows      []Row
		openErr   string // exact error from OpenCSV
		streamErr string // exact error from Err after the last row
	}
	vals := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []tc{
		{
			dir: "utf8", columns: []string{"工号", "姓名", "部门", "手机"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心/后端组", "手机", "13800000001")},
				{Ref: "input.csv:3", Values: vals("工号", "E002", "姓名", "李四", "部门", "总部/销售部/华东区", "手机", "13800000002")},
			},
		},
		{
			dir: "utf8bom", columns: []string{"工号", "姓名", "部门"}, encoding: "utf-8", delim: ',',
			rows: []Row{{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心")}},
		},
		{
			dir: "gbk", columns: []string{"工号", "姓名", "部门", "性别"}, encoding: "gb18030", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心/后端组", "性别", "男")},
				{Ref: "input.csv:3", Values: vals("工号", "E002", "姓名", "欧阳娜娜", "部门", "总部/销售部/华东区", "性别", "女")},
			},
		},
		{
			dir: "gbk", opts: CSVOptions{Encoding: "gbk"}, columns: []string{"工号", "姓名", "部门", "性别"}, encoding: "gb18030", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心/后端组", "性别", "男")},
				{Ref: "input.csv:3", Values: vals("工号", "E002", "姓名", "欧阳娜娜", "部门", "总部/销售部/华东区", "性别", "女")},
			},
		},
		{
			dir: "utf16le", columns: []string{"工号", "姓名", "部门"}, encoding: "utf-16le", delim: '\t',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部/研发中心")},
				{Ref: "input.csv:3", Values: vals("工号", "E003", "姓名", "赵六", "部门", "总部/人力资源部")},
			},
		},
		{
			dir: "tab", columns: []string{"工号", "姓名", "部门", "bio"}, encoding: "utf-8", delim: '\t',
			rows: []Row{{Ref: "input.csv:2", Values: vals("工号", "E001", "姓名", "王五", "部门", "总部/财务部", "bio", "likes, commas")}},
		},
		{
			dir: "semicolon", columns: []string{"userid", "name", "dept"}, encoding: "utf-8", delim: ';',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("userid", "u1", "name", "Ann", "dept", "HQ/IT")},
				{Ref: "input.csv:3", Values: vals("userid", "u2", "name", "Bob", "dept", "HQ;Annex")},
			},
		},
		{
			// A forced delimiter wins over the sniffed one.
			dir: "utf8", opts: CSVOptions{Delimiter: ';'}, columns: []string{"工号,姓名,部门,手机"}, encoding: "utf-8", delim: ';',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("工号,姓名,部门,手机", "E001,张三,总部/研发中心/后端组,13800000001")},
				{Ref: "input.csv:3", Values: vals("工号,姓名,部门,手机", "E002,李四,总部/销售部/华东区,13800000002")},
			},
		},
		{
			dir: "quoted_newline", columns: []string{"id", "name", "note"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("id", "1", "name", "Ann", "note", "first line\nsecond line\nthird line")},
				{Ref: "input.csv:5", Values: vals("id", "2", "name", "Bob", "note", "plain")},
				{Ref: "input.csv:6", Values: vals("id", "3", "name", "Cid", "note", "x\ny")},
				{Ref: "input.csv:8", Values: vals("id", "4", "name", "Dee", "note", "end")},
			},
		},
		{
			dir: "crlf", columns: []string{"id", "name"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("id", "1", "name", "Ann")},
				{Ref: "input.csv:3", Values: vals("id", "2", "name", "B\nob")},
				{Ref: "input.csv:5", Values: vals("id", "3", "name", "Cid")},
			},
		},
		{
			dir: "ragged", columns: []string{"id", "name", "dept"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:2", Values: vals("id", "1", "name", "Ann", "dept", "HQ")},
				{Ref: "input.csv:3", Values: vals("id", "2", "name", "Bob"), Problem: "row has 2 fields, header has 3", ProblemRule: "ragged_row"},
				{Ref: "input.csv:4", Values: vals("id", "3", "name", "Cid", "dept", "HQ"), Problem: "row has 5 fields, header has 3", ProblemRule: "ragged_row"},
				{Ref: "input.csv:5", Values: vals("id", "4", "name", "Dee", "dept", "HQ")},
			},
		},
		{
			dir: "blank_lines", columns: []string{"id", "name"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:4", Values: vals("id", "1", "name", "Ann")},
				{Ref: "input.csv:7", Values: vals("id", "2", "name", "Bob")},
				{Ref: "input.csv:10", Values: vals("id", "3", "name", "Cid")},
			},
		},
		{
			dir: "header_row", opts: CSVOptions{HeaderRow: 3}, columns: []string{"工号", "姓名", "部门"}, encoding: "utf-8", delim: ',',
			rows: []Row{
				{Ref: "input.csv:4", Values: vals("工号", "E001", "姓名", "张三", "部门", "总部")},
				{Ref: "input.csv:5", Values: vals("工号", "E002", "姓名", "李四", "部门", "总部/销售部")},
			},
		},
		{
			dir: "bad_quote", columns: []string{"id", "name"}, encoding: "utf-8", delim: ',',
			rows:      []Row{{Ref: "input.csv:2", Values: vals("id", "1", "name", "Ann")}},
			streamErr: `input.csv:3:5: bare " in non-quoted-field`,
		},
		{
			dir: "unterminated_quote", columns: []string{"id", "name"}, encoding: "utf-8", delim: ',',
			rows:      []Row{{Ref: "input.csv:2", Values: vals("id", "1", "name", "Ann")}},
			streamErr: `input.csv:4:7: extraneous or missing " in quoted-field (the record starts on line 3)`,
		},
		{dir: "empty", openErr: "input.csv: no header: the file is empty"},
		{dir: "duplicate_header", openErr: `input.csv:1: header column 3 "id" duplicates column 1`},
		{dir: "empty_header", openErr: "input.csv:1: header column 2 is empty"},
		{dir: "utf8", opts: CSVOptions{HeaderRow: 9}, openErr: "input.csv: header row 9 is past the end of the file"},
		{dir: "utf8", opts: CSVOptions{Encoding: "latin1"}, openErr: `input.csv: unknown encoding "latin1" (want auto, utf-8, gb18030, gbk or utf-16)`},
		{dir: "utf8", opts: CSVOptions{Delimiter: '"'}, openErr: `input.csv: invalid delimiter '"'`},
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i)+"_"+tt.dir, func(t *testing.T) {
			c, err := OpenCSV(filepath.Join("testdata", tt.dir, "input.csv"), tt.opts)
			if tt.openErr != "" {
				if err == nil || err.Error() != tt.openErr {
					t.Fatalf("OpenCSV error = %v, want %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenCSV: %v", err)
			}
			defer c.Close()
			if diff := cmp.Diff(tt.columns, c.Columns()); diff != "" {
				t.Errorf("Columns (-want +got):\n%s", diff)
			}
			if c.Encoding() != tt.encoding || c.Delimiter() != tt.delim {
				t.Errorf("encoding, delimiter = %s, %q; want %s, %q", c.Encoding(), c.Delimiter(), tt.encoding, tt.delim)
			}
			rows, err := readAll(c)
			if diff := cmp.Diff(tt.rows, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.streamErr {
				t.Errorf("Err() = %q, want %q", gotErr, tt.streamErr)
			}
		})
	}
}

func readAll(r Reader) ([]Row, error) {
	var rows []Row
	for r.Next() {
		rows = append(rows, r.Row())
	}
	return rows, r.Err()
}

// A multibyte character cut by the sniff window must not make a UTF-8
// file look like GB18030.
func TestSniffWindowBoundary(t *testing.T) {
	for cut := 1; cut <= 2; cut++ { // the 3-byte 张 split after 1 or 2 bytes
		var b strings.Builder
		b.WriteString("id,name\n")
		at := sniffSize - cut // where 张 must start
		for b.Len()+len("1,a\n1,") <= at {
			b.WriteString("1,a\n")
		}
		pad := at - len("1,") - b.Len()
		b.WriteString("1," + strings.Repeat("a", pad) + "张三\n")
		if got := b.String()[:sniffSize]; utf8Tail(got) != cut {
			t.Fatalf("test setup: window ends %d bytes into a rune, want %d", utf8Tail(got), cut)
		}
		c, err := NewCSV("big.csv", strings.NewReader(b.String()), CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if c.Encoding() != EncodingUTF8 {
			t.Fatalf("cut %d: encoding = %s, want utf-8", cut, c.Encoding())
		}
		rows, err := readAll(c)
		if err != nil {
			t.Fatal(err)
		}
		last := rows[len(rows)-1]
		if last.Problem != "" || !strings.HasSuffix(last.Values["name"], "张三") {
			t.Errorf("cut %d: last row = %+v", cut, last)
		}
	}
}

// utf8Tail is how many bytes of an incomplete final rune s ends with.
func utf8Tail(s string) int {
	for i := 1; i <= 3 && i <= len(s); i++ {
		if c := s[len(s)-i]; c >= 0xC0 {
			return i
		}
	}
	return 0
}

// A file that is UTF-8 for the sniff window and GBK after it is read as
// UTF-8; the GBK rows surface as row problems rather than mojibake.
func TestInvalidBytesAfterSniffWindow(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,name\n")
	for b.Len() < sniffSize+100 {
		b.WriteString("1,张三\n")
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("李四"))
	b.WriteString("2,")
	b.Write(gbk)
	b.WriteString("\n")

	c, err := NewCSV("mixed.csv", &b, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(c)
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	line := strings.TrimPrefix(last.Ref, "mixed.csv:")
	want := "byte 0xC0 in column name (line " + line + ", byte 1 of the cell) is not valid utf-8; " +
		"the encoding was sniffed; if the file is not utf-8, set it in the job's config: source: {encoding: gb18030} (or utf-16)"
	if last.Problem != want || last.ProblemRule != RuleInvalidEncoding || last.ProblemColumn != "name" {
		t.Errorf("last row problem = %q/%q/%q\nwant %q/invalid_encoding/name", last.Problem, last.ProblemRule, last.ProblemColumn, want)
	}
	for _, r := range rows[:len(rows)-1] {
		if r.Problem != "" {
			t.Fatalf("row %s: unexpected problem %q", r.Ref, r.Problem)
		}
	}
}

func TestForcedEncodingMismatch(t *testing.T) {
	// GBK bytes read as UTF-8: every Chinese cell is undecodable. The
	// header fails first, as it should: no mapping could find its columns.
	data, err := os.ReadFile(filepath.Join("testdata", "gbk", "input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewCSV("gbk.csv", bytes.NewReader(data), CSVOptions{Encoding: "utf-8"})
	want := `gbk.csv:1: header column 1 "\xb9\xa4\xba\xc5" has byte 0xB9, which is not valid utf-8; ` +
		"the job's config sets source: {encoding: utf-8}; if the file is in another encoding, change it (utf-8, gb18030 or utf-16)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}

	// A stray byte GB18030 cannot decode is a row problem that names it.
	c, err := NewCSV("g.csv", strings.NewReader("id,name\n1,a\xffb\n"), CSVOptions{Encoding: "gb18030"})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readAll(c)
	if err != nil || len(rows) != 1 || rows[0].ProblemRule != RuleInvalidEncoding {
		t.Fatalf("rows = %+v, err = %v", rows, err)
	}
	if want := "byte 0xFF in column name (line 2, byte 2 of the cell) is not valid gb18030; "; !strings.HasPrefix(rows[0].Problem, want) {
		t.Errorf("problem = %q, want it to start %q", rows[0].Problem, want)
	}
}

type closeSpy struct {
	*strings.Reader
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }

func TestCloseOwnership(t *testing.T) {
	spy := &closeSpy{Reader: strings.NewReader("a\n1\n")}
	c, err := NewCSV("x.csv", spy, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil || spy.closed {
		t.Fatalf("NewCSV's Close closed the caller's reader (err %v)", err)
	}

	f, err := OpenCSV(filepath.Join("testdata", "utf8", "input.csv"), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := OpenCSV(filepath.Join("testdata", "nope", "input.csv"), CSVOptions{}); err == nil {
		t.Fatal("OpenCSV of a missing file succeeded")
	}
}

var refForm = regexp.MustCompile(`^fuzz\.csv:([1-9][0-9]*)$`)

func FuzzCSV(f *testing.F) {
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range dirs {
		if data, err := os.ReadFile(filepath.Join("testdata", d.Name(), "input.csv")); err == nil {
			f.Add(data, uint8(0))
		}
	}
	f.Add([]byte("a;b\n1;2\n"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, headerRow uint8) {
		c, err := NewCSV("fuzz.csv", bytes.NewReader(data), CSVOptions{HeaderRow: int(headerRow % 4)})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("open error does not name the file: %v", err)
			}
			return
		}
		prev := 0
		for c.Next() {
			row := c.Row()
			m := refForm.FindStringSubmatch(row.Ref)
			if m == nil {
				t.Fatalf("ref %q is not file:line", row.Ref)
			}
			line, _ := strconv.Atoi(m[1])
			if line <= prev {
				t.Fatalf("ref line %d after %d", line, prev)
			}
			prev = line
			if row.Problem == "" && len(row.Values) != len(c.Columns()) {
				t.Fatalf("row %s has %d values for %d columns and no problem", row.Ref, len(row.Values), len(c.Columns()))
			}
		}
		if err := c.Err(); err != nil && !strings.HasPrefix(err.Error(), "fuzz.csv:") && !strings.Contains(err.Error(), "fuzz.csv") {
			t.Fatalf("stream error does not name the file: %v", err)
		}
	})
}
