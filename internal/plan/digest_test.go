package plan

import (
	"testing"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

// TestDigestNamesThePlan: the same inputs give the same digest every
// time (map order must not leak into it), and a change to one member's
// field, or to what WeCom already holds, gives another.
func TestDigestNamesThePlan(t *testing.T) {
	build := func(dir func() mapper.Directory, live func(Live)) string {
		t.Helper()
		l := Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}
		if live != nil {
			live(l)
		}
		p, err := Build(dir(), emptyState(), l, Policy{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Digest()
	}
	first := build(feed, nil)
	for i := 0; i < 20; i++ {
		if d := build(feed, nil); d != first {
			t.Fatalf("build %d: digest %s, first %s", i, d, first)
		}
	}
	renamed := func() mapper.Directory {
		d := feed()
		d.Members[1].Edit(func(r *member.Record) { r.Name = "张薇" })
		return d
	}
	if build(renamed, nil) == first {
		t.Error("a renamed member left the digest unchanged")
	}
	// dev1 already in WeCom: adopted instead of created.
	if build(feed, func(l Live) { l.Users["dev1"] = "dev1" }) == first {
		t.Error("a member WeCom already holds left the digest unchanged")
	}
}
