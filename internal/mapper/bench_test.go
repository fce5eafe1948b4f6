package mapper

import (
	"fmt"
	"testing"
)

// BenchmarkFeed100k maps a 100k-member feed, the size the Mapper's
// in-memory indexes are meant for, with a ten-way reporting tree. In
// "orphaned" the top leader is missing, so unknown_leader spreads through
// the whole tree: the worst case for Directory.
func BenchmarkFeed100k(b *testing.B) {
	for _, orphaned := range []bool{false, true} {
		b.Run(fmt.Sprintf("orphaned=%v", orphaned), func(b *testing.B) {
			const n = 100_000
			rows := make([]Row, n)
			for i := range rows {
				leader := ""
				switch {
				case i > 0:
					leader = fmt.Sprintf("e%06d", i/10)
				case orphaned:
					leader = "ghost"
				}
				rows[i] = staffRow(fmt.Sprintf("big.csv:%d", i+2),
					"工号", fmt.Sprintf("e%06d", i), "手机", fmt.Sprintf("139%08d", i), "邮箱", fmt.Sprintf("e%06d@example.com", i),
					"部门", fmt.Sprintf("总部/事业部%d/组%d", i%20, i%400), "上级", leader)
			}
			b.ReportAllocs()
			for b.Loop() {
				m, err := New(staffConfig())
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rows {
					m.Add(r)
				}
				d := m.Directory()
				if want := map[bool]int{false: n, true: 0}[orphaned]; len(d.Members) != want {
					b.Fatalf("%d members, want %d (%d rejects)", len(d.Members), want, len(d.Rejects))
				}
			}
		})
	}
}
