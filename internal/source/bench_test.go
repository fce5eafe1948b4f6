package source

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// BenchmarkCSVGBK reads a 100k-row GBK export, the sniffing and decoding
// path most Chinese HR systems take.
func BenchmarkCSVGBK(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("工号,姓名,部门,手机,邮箱\n")
	for i := range 100_000 {
		fmt.Fprintf(&buf, "E%06d,张三%d,总部/研发中心/后端组,139%08d,e%d@example.com\n", i, i, i, i)
	}
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes(buf.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := NewCSV("big.csv", bytes.NewReader(data), CSVOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for c.Next() {
			n++
		}
		if c.Err() != nil || n != 100_000 || c.Encoding() != EncodingGB18030 {
			b.Fatalf("rows %d, err %v, encoding %s", n, c.Err(), c.Encoding())
		}
	}
}
