package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/hrfeed/importer/samples"
)

// sampleCounts is what the sample feed asks of a first import, read from
// the feed itself so that no test hard-codes a figure of today's planner:
// the departments its paths name, its active members, and how many of them
// name a direct leader (the most a planner may spend on leaders beyond the
// members' own calls).
type sampleCounts struct{ departments, members, withLeader int }

func countSample(t *testing.T) sampleCounts {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(samples.StaffCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var c sampleCounts
	paths := map[string]bool{}
	for _, r := range rows[1:] {
		if r[col["状态"]] != "在职" {
			continue
		}
		c.members++
		if r[col["直属上级"]] != "" {
			c.withLeader++
		}
		segs := strings.Split(r[col["部门"]], "/")
		for i := range segs {
			paths[strings.Join(segs[:i+1], "/")] = true
		}
	}
	c.departments = len(paths)
	return c
}

// firstImportWrites checks a first import's write count against the feed:
// one call per department and member at least, plus at most one leaders
// call per member who has a leader.
func (c sampleCounts) firstImportWrites(t *testing.T, what string, writes int) {
	t.Helper()
	if lo, hi := c.departments+c.members, c.departments+c.members+c.withLeader; writes < lo || writes > hi {
		t.Errorf("%s: %d writes, want %d to %d for %d departments and %d members (%d with a leader)",
			what, writes, lo, hi, c.departments, c.members, c.withLeader)
	}
}
