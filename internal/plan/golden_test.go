package plan

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.plan")

// goldenScenario is a layout worth reading as a whole plan: the feed, what
// the journal and WeCom hold, and the policy.
type goldenScenario struct {
	name  string
	build func() (mapper.Directory, State, Live, Policy)
}

func codeDept(key, name, parent string, depth int) mapper.Department {
	return mapper.Department{Key: key, Name: name, ParentKey: parent, Depth: depth}
}

var goldenScenarios = []goldenScenario{
	{"path_first_import", func() (mapper.Directory, State, Live, Policy) {
		return feed(), emptyState(), Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}, Policy{}
	}},
	{"multi_department_member", func() (mapper.Directory, State, Live, Policy) {
		st, live := applied(feed())
		d := feed()
		d.Members[1].Edit(func(r *member.Record) {
			r.DeptKeys = []string{"总部/研发中心/后端组", "总部/销售部"}
			r.IsLeader = []int{0, 1}
			r.Order = []uint32{10, 20}
			r.MainDept = "总部/销售部"
		})
		return d, st, live, Policy{}
	}},
	{"path_rename", func() (mapper.Directory, State, Live, Policy) {
		// With path keys a rename is a new department; the old one goes
		// once its members moved.
		st, live := applied(feed())
		d := feed()
		d.Departments[3] = dept("总部/市场部")
		d.Members[2].Edit(func(r *member.Record) { r.DeptKeys = []string{"总部/市场部"} })
		return d, st, live, Policy{}
	}},
	{"code_rename_and_move", func() (mapper.Directory, State, Live, Policy) {
		// With HR codes as keys a rename or a move is department/update.
		base := mapper.Directory{
			Departments: []mapper.Department{codeDept("D1", "总部", "", 1), codeDept("D2", "研发中心", "D1", 2), codeDept("D3", "后端组", "D2", 3), codeDept("D4", "销售部", "D1", 2)},
			Members:     []mapper.Member{person("dev1", "张伟", "D3")},
		}
		st, live := applied(base)
		d := base
		d.Departments = []mapper.Department{codeDept("D1", "总部", "", 1), codeDept("D2", "研发中心", "D1", 2), codeDept("D4", "销售部", "D1", 2), codeDept("D3", "服务端组", "D4", 3)}
		return d, st, live, Policy{}
	}},
	{"leavers_disable", func() (mapper.Directory, State, Live, Policy) {
		st, live := applied(feed())
		d := feed()
		d.Members[2].Leaver = true
		return d, st, live, Policy{MaxDeleteRatio: 0.5}
	}},
	{"leavers_delete_and_absent", func() (mapper.Directory, State, Live, Policy) {
		st, live := applied(feed())
		d := feed()
		d.Members = d.Members[:2]
		return d, st, live, Policy{Leavers: LeaversDelete, MaxDeleteRatio: 0.5}
	}},
	{"protected_accounts", func() (mapper.Directory, State, Live, Policy) {
		st, live := applied(feed())
		d := feed()
		// boss is protected: not updated; sales1 absent but protected:
		// kept; 销售部 dropped but protected: kept.
		d.Members[0].Edit(func(r *member.Record) { r.Position = "董事长" })
		d.Members = d.Members[:2]
		d.Departments = d.Departments[:3]
		return d, st, live, Policy{ProtectedUsers: []string{"boss", "sales1"}, ProtectedDepartments: []string{"总部/销售部"}}
	}},
	{"guard_tripped", func() (mapper.Directory, State, Live, Policy) {
		st, live := applied(feed())
		d := feed()
		d.Members = d.Members[:1]
		return d, st, live, Policy{}
	}},
	{"tags_first_import", func() (mapper.Directory, State, Live, Policy) {
		// Tags are created after the members they name, then filled.
		return tagFeed(), emptyState(), Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}, Tags: map[int]string{}}, Policy{}
	}},
	{"tags_member_moves", func() (mapper.Directory, State, Live, Policy) {
		// dev1 moves from Beijing to Shanghai: one removal, one addition.
		st, live := appliedTags(tagFeed())
		d := tagFeed()
		d.Members[1].Tags = []string{"地点-上海"}
		return d, st, live, Policy{}
	}},
	{"tags_emptied", func() (mapper.Directory, State, Live, Policy) {
		// sales1, the only member in Shanghai, moves to Beijing: the tag
		// the importer created for Shanghai is deleted, members and all.
		st, live := appliedTags(tagFeed())
		d := tagFeed()
		d.Members[2].Tags = []string{"地点-北京"}
		return d, st, live, Policy{}
	}},
	{"tags_foreign_left_alone", func() (mapper.Directory, State, Live, Policy) {
		// 外包 exists in WeCom, made by someone else: under the default
		// tags_scope it is left alone with a warning; 全员, which no row
		// names, is not touched either.
		st, live := appliedTags(tagFeed())
		live.Tags[7], live.Tags[8] = "外包", "全员"
		d := tagFeed()
		d.Members[2].Tags = append(d.Members[2].Tags, "外包")
		return d, st, live, Policy{}
	}},
	{"tags_foreign_adopted", func() (mapper.Directory, State, Live, Policy) {
		// Under tags_scope authoritative 外包 is adopted and holds exactly
		// the feed's members: dev1 and a member the feed does not list
		// leave it, sales1 joins it.
		st, live := appliedTags(tagFeed())
		live.Tags[7] = "外包"
		live.Users["stranger"] = "stranger"
		live.TagMembers = map[int][]string{7: {"dev1", "stranger"}}
		d := tagFeed()
		d.Members[2].Tags = append(d.Members[2].Tags, "外包")
		return d, st, live, Policy{TagsScope: ScopeAuthoritative}
	}},
}

// render writes a plan as a person reviews it: one line per operation,
// then its field changes.
func render(p *Plan, err error) string {
	var b strings.Builder
	for _, op := range p.Ops {
		fmt.Fprintf(&b, "%3d %-11s L%d %-17s %s\n", op.Seq, op.Phase, op.Level, op.Kind, op.Target)
		for _, c := range op.Changes() {
			fmt.Fprintf(&b, "      %s: %q -> %q\n", c.Field, c.Before, c.After)
		}
	}
	fmt.Fprintf(&b, "unchanged: %d members, %d departments; removals %d of %d\n", p.UnchangedMembers, p.UnchangedDepartments, p.Removals, p.Members)
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "warning: %v\n", w)
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		fmt.Fprintf(&b, "refused: %v\n", refused)
	}
	return b.String()
}

// TestGoldenPlans compares each scenario's plan with
// testdata/golden/<name>.plan; run with -update after an intended change
// and read the diff.
func TestGoldenPlans(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			dir, st, live, pol := sc.build()
			p, err := planned(t, dir, st, live, pol)
			var refused *RefusedError
			if err != nil && !errors.As(err, &refused) {
				t.Fatal(err)
			}
			got := render(p, err)
			path := filepath.Join("testdata", "golden", sc.name+".plan")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", path, diff)
			}
		})
	}
}
