package source

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// chineseRows is a UTF-8 feed with Chinese text in every row.
func chineseRows(header string, n int, row func(i int) string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 1; i <= n; i++ {
		b.WriteString(row(i) + "\n")
	}
	return b.String()
}

// One invalid byte in the first 64 KiB of a UTF-8 file flipped the whole
// file to GB18030: the header was blamed for characters it does not
// have, or, with an ASCII header, every row was rejected without a word
// about the encoding.
func TestSniffStrayByte(t *testing.T) {
	for _, header := range []string{"工号,姓名,部门", "id,name,dept"} {
		t.Run(header, func(t *testing.T) {
			data := chineseRows(header, 200, func(i int) string {
				name := "张三丰"
				if i == 2 { // line 3
					name = "张\xff三"
				}
				return fmt.Sprintf("E%03d,%s,总部/研发中心/后端组", i, name)
			})
			c, err := NewCSV("stray.csv", strings.NewReader(data), CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Encoding() != EncodingUTF8 {
				t.Fatalf("encoding = %s, want utf-8", c.Encoding())
			}
			rows, err := readAll(c)
			if err != nil || len(rows) != 200 {
				t.Fatalf("rows %d, err %v", len(rows), err)
			}
			col := strings.Split(header, ",")[1]
			for _, r := range rows {
				switch {
				case r.Ref == "stray.csv:3":
					want := "byte 0xFF in column " + col + " (line 3, byte 4 of the cell) is not valid utf-8; " +
						"the encoding was sniffed; if the file is not utf-8, set it in the job's config: source: {encoding: gb18030} (or utf-16)"
					if r.Problem != want || r.ProblemRule != RuleInvalidEncoding || r.ProblemColumn != col {
						t.Errorf("line 3: %q/%q/%q\nwant %q", r.Problem, r.ProblemRule, r.ProblemColumn, want)
					}
				case r.Problem != "":
					t.Errorf("%s: %s", r.Ref, r.Problem)
				case !strings.HasPrefix(r.Values[col], "张"):
					t.Errorf("%s: %s = %q", r.Ref, col, r.Values[col])
				}
			}
		})
	}
}

// A genuine GB18030 export is still read as one, stray byte or not, and
// its stray byte is named like a UTF-8 one.
func TestSniffGB18030(t *testing.T) {
	text := chineseRows("工号,姓名,部门", 300, func(i int) string {
		return fmt.Sprintf("E%03d,欧阳娜娜,总部/销售部/华东区", i)
	})
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	// A byte GB18030 cannot decode, on line 4.
	at := bytes.Index(gb, []byte("E003,")) + len("E003,")
	gb = append(gb[:at:at], append([]byte{0xFF}, gb[at:]...)...)
	c, err := NewCSV("gb.csv", bytes.NewReader(gb), CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Encoding() != EncodingGB18030 {
		t.Fatalf("encoding = %s, want gb18030", c.Encoding())
	}
	rows, err := readAll(c)
	if err != nil || len(rows) != 300 {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	for _, r := range rows {
		switch {
		case r.Ref == "gb.csv:4":
			want := "byte 0xFF in column 姓名 (line 4, byte 1 of the cell) is not valid gb18030; " +
				"the encoding was sniffed; if the file is not gb18030, set it in the job's config: source: {encoding: utf-8} (or utf-16)"
			if r.Problem != want {
				t.Errorf("line 4: %q\nwant %q", r.Problem, want)
			}
		case r.Problem != "" || r.Values["姓名"] != "欧阳娜娜":
			t.Errorf("%s: %q %q", r.Ref, r.Values["姓名"], r.Problem)
		}
	}
}

// A UTF-8 header over rows that are mostly not UTF-8 is read as
// GB18030, as the rows want; the header, garbled that way, is not
// blamed for bad characters: the error says what happened.
func TestSniffUTF8HeaderOverGBKRows(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("工号,姓名,部门\n")
	for i := range 100 {
		name, _ := simplifiedchinese.GBK.NewEncoder().String("欧阳娜娜")
		fmt.Fprintf(&b, "E%03d,%s,HQ\n", i, name)
	}
	_, err := NewCSV("mixed.csv", &b, CSVOptions{})
	want := "mixed.csv:1: the header is UTF-8 text, but 600 bytes in the first 64 KiB are not UTF-8 (the first is 0xD1 on line 2), so the file was read as GB18030"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "set encoding: utf-8 under source:") {
		t.Fatalf("err = %v\nwant it to start %s", err, want)
	}
}

// The decoder that names undecodable GB18030 bytes must decode what does
// decode exactly as x/text does, across any split of its input.
func TestGB18030RawMatchesXText(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	valid, err := simplifiedchinese.GB18030.NewEncoder().String("工号,姓名\n张三,欧阳娜娜,𠀀€\n")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		var in []byte
		for len(in) < 200 {
			if rng.IntN(4) == 0 {
				in = append(in, byte(rng.UintN(256)))
			} else {
				in = append(in, valid[rng.IntN(len(valid))])
			}
		}
		want, _ := simplifiedchinese.GB18030.NewDecoder().Bytes(in)
		got, err := io.ReadAll(&splitReader{data: in, rng: rng, t: newGB18030Raw()})
		if err != nil {
			t.Fatal(err)
		}
		// Where x/text wrote U+FFFD, the raw decoder passes a byte through;
		// everything else is the same, and every byte passed through is
		// invalid where it lands, or ToValidUTF8 would leave it be.
		if !bytes.Equal(collapse(bytes.ToValidUTF8(got, replacementChar)), collapse(want)) {
			t.Fatalf("case %d: input %x\nx/text %q\nraw    %q", i, in, want, got)
		}
	}
}

// collapse merges runs of U+FFFD, as bytes.ToValidUTF8 does.
func collapse(b []byte) []byte {
	rr := string(replacementChar)
	s := string(b)
	for strings.Contains(s, rr+rr) {
		s = strings.ReplaceAll(s, rr+rr, rr)
	}
	return []byte(s)
}

// splitReader feeds data through a transformer in random slices, to
// exercise the short-source and short-destination paths.
type splitReader struct {
	data []byte
	rng  *rand.Rand
	t    *gb18030Raw
	out  []byte
	dst  [64]byte
}

func (r *splitReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if len(r.data) == 0 {
			return 0, io.EOF
		}
		n := min(len(r.data), 1+r.rng.IntN(8))
		atEOF := n == len(r.data)
		dst := r.dst[:4+r.rng.IntN(len(r.dst)-4)]
		nDst, nSrc, err := r.t.Transform(dst, r.data[:n], atEOF)
		if err != nil && nSrc == 0 && nDst == 0 && n == len(r.data) {
			return 0, fmt.Errorf("no progress at end: %v", err)
		}
		r.out = append(r.out, dst[:nDst]...)
		r.data = r.data[nSrc:]
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}
