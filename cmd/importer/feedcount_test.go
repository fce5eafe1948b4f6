package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/hrfeed/importer/samples"
)

// sampleCounts is what the sample feed asks of a first import, read from
// the feed itself so that no test hard-codes a figure of a planner: the
// departments its paths name, its active members, and how many of them
// name a direct leader.
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
// one call per department and per member, direct_leader travelling with
// each member's own create (the sample has no leader cycle).
func (c sampleCounts) firstImportWrites(t *testing.T, what string, writes int) {
	t.Helper()
	if want := c.departments + c.members; writes != want {
		t.Errorf("%s: %d writes, want %d for %d departments and %d members", what, writes, want, c.departments, c.members)
	}
}
