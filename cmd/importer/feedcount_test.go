package main

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/samples"
)

// sampleCounts is what the sample feed asks of a first import, read from
// the feed itself so that no test hard-codes a figure of a planner: the
// departments its paths name, its active members, how many of them name
// a direct leader, and the tags the sample mapping's rules give them.
type sampleCounts struct{ departments, members, withLeader, tags int }

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
	tags := map[string]bool{}
	rules := sampleTagRules(t)
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
		for _, rule := range rules {
			switch {
			case rule.Name == "":
				if v := r[col[rule.Column]]; v != "" {
					tags[rule.Prefix+v] = true
				}
			case rule.When == nil || strings.Contains(","+strings.Join(rule.When.In, ",")+",", ","+r[col[rule.When.Column]]+","):
				tags[rule.Name] = true
			}
		}
	}
	c.departments = len(paths)
	c.tags = len(tags)
	return c
}

// sampleTagRules are the sample config's tag rules, which the counts
// apply to the feed's cells themselves.
func sampleTagRules(t *testing.T) []mapper.TagRule {
	t.Helper()
	cfg, err := config.Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	job, err := cfg.Job("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range job.Mapping.Tags {
		if r.Separator != "" || (r.When != nil && r.When.Equals != "") {
			t.Fatalf("tag rule %+v: countSample reads only single values and in: conditions", r)
		}
	}
	return job.Mapping.Tags
}

// firstImportWrites checks a first import's write count against the feed:
// one call per department and per member, direct_leader travelling with
// each member's own create (the sample has no leader cycle), and per tag
// a create and one addtagusers (the sample's tags hold far fewer than
// 1,000 members).
func (c sampleCounts) firstImportWrites(t *testing.T, what string, writes int) {
	t.Helper()
	if want := c.firstImport(); writes != want {
		t.Errorf("%s: %d writes, want %d for %d departments, %d members and %d tags", what, writes, want, c.departments, c.members, c.tags)
	}
}

// firstImport is how many calls a first import of the sample makes (see
// firstImportWrites).
func (c sampleCounts) firstImport() int { return c.departments + c.members + 2*c.tags }
