package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
)

func dept(key string) mapper.Department {
	parts := strings.Split(key, "/")
	return mapper.Department{Key: key, Name: parts[len(parts)-1], ParentKey: strings.Join(parts[:len(parts)-1], "/"), Depth: len(parts)}
}

func person(id, name, deptKey string, leaders ...string) mapper.Member {
	m := mapper.NewMember(member.Record{UserID: id, Name: name, Mobile: "1380000" + fmt.Sprintf("%04d", len(id)), DirectLeader: leaders,
		DeptKeys: []string{deptKey}, Enabled: true})
	m.Ref = "staff.csv:" + id
	return m
}

func feed() mapper.Directory {
	return mapper.Directory{
		Departments: []mapper.Department{dept("总部"), dept("总部/研发中心"), dept("总部/研发中心/后端组"), dept("总部/销售部")},
		Members: []mapper.Member{
			person("boss", "王总", "总部"),
			person("dev1", "张伟", "总部/研发中心/后端组", "boss"),
			person("sales1", "李娜", "总部/销售部", "boss"),
		},
	}
}

// applied returns the state and live directory as they are after the feed
// was fully applied, giving departments ids from 2 up.
func applied(dir mapper.Directory) (State, Live) {
	st := emptyState()
	live := Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}
	for i, d := range dir.Departments {
		parent := 1
		if d.ParentKey != "" {
			parent = st.Departments[d.ParentKey].WeComID
		}
		st.Departments[d.Key] = AppliedDepartment{Key: d.Key, WeComID: i + 2, ParentID: parent, Name: d.Name, Order: d.Order}
		live.Departments[i+2] = LiveDept{ID: i + 2, ParentID: parent}
	}
	for _, m := range dir.Members {
		r := m.Record()
		st.Members[key(r.UserID)], st.Records[key(r.UserID)] = r.Digest(), *r
		live.Users[key(r.UserID)] = r.UserID
	}
	return st, live
}

type opLine struct {
	Phase  string
	Level  int
	Kind   Kind
	Target string
	Fields string
}

func lines(p *Plan) []opLine {
	var out []opLine
	for _, op := range p.Ops {
		out = append(out, opLine{op.Phase, op.Level, op.Kind, op.Target, strings.Join(op.Fields, ",")})
	}
	return out
}

// planned builds the plan as a run does, with the journal's records of
// only the members Needs names, and fails the test if the plan differs
// from one built with every record: Needs must name all Build reads.
func planned(t *testing.T, dir mapper.Directory, st State, live Live, pol Policy) (*Plan, error) {
	t.Helper()
	p, err := Build(dir, needed(dir, st, live), live, pol)
	full, fullErr := Build(dir, st, live, pol)
	if diff := cmp.Diff(full, p); diff != "" || fmt.Sprint(err) != fmt.Sprint(fullErr) {
		t.Errorf("with only the records Needs names the plan differs (-every record +only those):\n%s\nerrors %v, %v", diff, fullErr, err)
	}
	return p, err
}

// needed is st holding only the records Needs names, as the journal
// loads it for a run.
func needed(dir mapper.Directory, st State, live Live) State {
	lean := st
	lean.Records = map[string]member.Record{}
	for _, k := range Needs(dir, st, live) {
		if r, ok := st.Records[k]; ok {
			lean.Records[k] = r
		}
	}
	return lean
}

func emptyState() State {
	return State{Departments: map[string]AppliedDepartment{}, Members: map[string]member.Digest{}, Records: map[string]member.Record{}}
}

// TestFirstImportCreatesLeadersFirst: on a first import every member costs
// one call, with direct_leader in its own create, one level after its
// leader's create.
func TestFirstImportCreatesLeadersFirst(t *testing.T) {
	p, err := planned(t, feed(), emptyState(), Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []opLine{
		{PhaseDepartments, 1, DeptCreate, "总部", ""},
		{PhaseDepartments, 2, DeptCreate, "总部/研发中心", ""},
		{PhaseDepartments, 2, DeptCreate, "总部/销售部", ""},
		{PhaseDepartments, 3, DeptCreate, "总部/研发中心/后端组", ""},
		{PhaseMembers, 0, UserCreate, "boss", ""},
		{PhaseMembers, 1, UserCreate, "dev1", ""},
		{PhaseMembers, 1, UserCreate, "sales1", ""},
	}
	if diff := cmp.Diff(want, lines(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	for i, op := range p.Ops {
		if op.Seq != i+1 {
			t.Errorf("op %d has seq %d", i, op.Seq)
		}
		if op.Target == "dev1" && !slices.Equal(op.After.DirectLeader, []string{"boss"}) {
			t.Errorf("create of dev1 carries direct_leader %v, want boss", op.After.DirectLeader)
		}
	}
}

// TestLeaderCycleCostsOneCallPerMember: members who lead each other cannot
// all be created with their leader; each of them gets one leaders call,
// and only they do.
func TestLeaderCycleCostsOneCallPerMember(t *testing.T) {
	d := feed()
	d.Members[0].Edit(func(r *member.Record) { r.DirectLeader = []string{"sales1"} }) // boss -> sales1 -> boss
	p, err := planned(t, d, emptyState(), Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}}}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	counts := p.Counts()
	if counts[UserCreate] != 3 || counts[UserLeaders] != 2 {
		t.Fatalf("plan %v, want 3 creates and a leaders call for each of the 2 members in the cycle", lines(p))
	}
	for _, op := range p.Ops {
		if op.Kind == UserLeaders && op.Target == "dev1" {
			t.Errorf("dev1 is led by boss but leads no one: it needs no leaders call")
		}
	}
}

func TestUnchangedFeedPlansNothing(t *testing.T) {
	st, live := applied(feed())
	p, err := planned(t, feed(), st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 0 {
		t.Fatalf("want no operations, got %v", lines(p))
	}
	if p.UnchangedMembers != 3 || p.UnchangedDepartments != 4 {
		t.Errorf("unchanged = %d members, %d departments; want 3, 4", p.UnchangedMembers, p.UnchangedDepartments)
	}
}

func TestChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(*mapper.Directory)
		live   func(*Live)
		policy Policy
		want   []opLine
	}{
		{
			name: "one field changes, only it is sent",
			change: func(d *mapper.Directory) {
				d.Members[1].Edit(func(r *member.Record) { r.Position = "高级工程师" })
			},
			want: []opLine{{PhaseMembers, 0, UserUpdate, "dev1", "position"}},
		},
		{
			name: "moving departments sends department with order and leader flags",
			change: func(d *mapper.Directory) {
				d.Members[1].Edit(func(r *member.Record) { r.DeptKeys = []string{"总部/销售部"} })
			},
			want: []opLine{{PhaseMembers, 0, UserUpdate, "dev1", "department"}},
		},
		{
			name: "a leader who already exists travels with the member's update",
			change: func(d *mapper.Directory) {
				d.Members[2].Edit(func(r *member.Record) { r.DirectLeader = []string{"dev1"} })
			},
			want: []opLine{{PhaseMembers, 0, UserUpdate, "sales1", "direct_leader"}},
		},
		{
			name: "a leader created in the same run is set one level after its create",
			change: func(d *mapper.Directory) {
				d.Members = append(d.Members, person("lead2", "新主管", "总部"))
				d.Members[2].Edit(func(r *member.Record) { r.DirectLeader = []string{"lead2"} })
			},
			want: []opLine{{PhaseMembers, 0, UserCreate, "lead2", ""}, {PhaseMembers, 1, UserLeaders, "sales1", "direct_leader"}},
		},
		{
			name:   "leaver in the feed is disabled",
			change: func(d *mapper.Directory) { d.Members[2].Leaver = true },
			want:   []opLine{{PhaseLeavers, 0, UserDisable, "sales1", "enable"}},
			policy: Policy{MaxDeleteRatio: 0.5},
		},
		{
			name:   "member absent from the feed is deleted under the delete policy",
			change: func(d *mapper.Directory) { d.Members = d.Members[:2] },
			want:   []opLine{{PhaseLeavers, 0, UserDelete, "sales1", ""}},
			policy: Policy{Leavers: LeaversDelete, MaxDeleteRatio: 0.5},
		},
		{
			name:   "ignore policy leaves leavers alone",
			change: func(d *mapper.Directory) { d.Members = d.Members[:2] },
			policy: Policy{Leavers: LeaversIgnore},
		},
		{
			name:   "protected user is never touched",
			change: func(d *mapper.Directory) { d.Members = d.Members[:2] },
			policy: Policy{ProtectedUsers: []string{"SALES1"}, MaxDeleteRatio: 0.5},
		},
		{
			name:   "managed scope leaves members it did not create",
			live:   func(l *Live) { l.Users["stranger"] = "Stranger" },
			policy: Policy{Scope: ScopeManaged},
		},
		{
			name:   "authoritative scope disables members the feed does not list",
			live:   func(l *Live) { l.Users["stranger"] = "Stranger" },
			policy: Policy{Scope: ScopeAuthoritative, MaxDeleteRatio: 0.5},
			want:   []opLine{{PhaseLeavers, 0, UserDisable, "Stranger", "enable"}},
		},
		{
			name: "member deleted by hand in WeCom is created again, with its existing leader",
			live: func(l *Live) { delete(l.Users, "dev1") },
			want: []opLine{{PhaseMembers, 0, UserCreate, "dev1", ""}},
		},
		{
			name: "department deleted by hand is created again",
			live: func(l *Live) { delete(l.Departments, 5) },
			want: []opLine{{PhaseDepartments, 2, DeptCreate, "总部/销售部", ""}},
		},
		{
			name: "dropped departments are removed deepest first after members moved",
			change: func(d *mapper.Directory) {
				d.Departments = d.Departments[:1]
				d.Departments = append(d.Departments, dept("总部/销售部"))
				d.Members[1].Edit(func(r *member.Record) { r.DeptKeys = []string{"总部"} })
			},
			want: []opLine{
				{PhaseMembers, 0, UserUpdate, "dev1", "department"},
				{PhaseCleanup, 0, DeptDelete, "总部/研发中心/后端组", ""},
				{PhaseCleanup, 1, DeptDelete, "总部/研发中心", ""},
			},
		},
		{
			name: "department moved by hand is moved back",
			live: func(l *Live) { l.Departments[5] = LiveDept{ID: 5, ParentID: 3} },
			want: []opLine{{PhaseDepartments, 2, DeptUpdate, "总部/销售部", ""}},
		},
		{
			name:   "protected department is not removed",
			change: func(d *mapper.Directory) { d.Departments = d.Departments[:3] },
			policy: Policy{ProtectedDepartments: []string{"总部/销售部"}},
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, live := applied(feed())
			d := feed()
			if tt.change != nil {
				tt.change(&d)
			}
			if tt.live != nil {
				tt.live(&live)
			}
			p, err := planned(t, d, st, live, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, lines(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdoptionSendsEveryField(t *testing.T) {
	// A create that took effect before a crash, or a member made by hand:
	// WeCom has it, the journal does not.
	_, live := applied(feed())
	st, _ := applied(feed())
	delete(st.Members, "dev1")
	p, err := planned(t, feed(), st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []opLine{
		{PhaseMembers, 0, UserUpdate, "dev1", strings.Join(allFields, ",") + ",direct_leader"},
	}
	if diff := cmp.Diff(want, lines(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestUserIDsCompareCaseInsensitively(t *testing.T) {
	st, live := applied(feed())
	d := feed()
	d.Members[1].Edit(func(r *member.Record) { r.UserID = "DEV1" })
	p, err := planned(t, d, st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Ops {
		if op.Kind == UserCreate || op.Kind == UserDisable || op.Kind == UserDelete {
			t.Errorf("case change of a userid planned %s %s", op.Kind, op.Target)
		}
	}
}

func TestGuardRefusesMassRemoval(t *testing.T) {
	st, live := applied(feed())
	d := feed()
	d.Members = d.Members[:1] // two of three leave
	tests := []struct {
		name    string
		policy  Policy
		refused bool
	}{
		{"default ratio 0.2", Policy{}, true},
		{"ratio allows it", Policy{MaxDeleteRatio: 0.7}, false},
		{"ratio off, count 1", Policy{MaxDeleteRatio: -1, MaxDeleteCount: 1}, true},
		{"ratio off, count 2", Policy{MaxDeleteRatio: -1, MaxDeleteCount: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planned(t, d, st, live, tt.policy)
			var refused *RefusedError
			if got := errors.As(err, &refused); got != tt.refused {
				t.Fatalf("refused = %v (err %v), want %v", got, err, tt.refused)
			}
			if p == nil || p.Removals != 2 || p.Members != 3 {
				t.Fatalf("plan removals/members = %+v, want 2/3 and the plan returned for review", p)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	for _, p := range []Policy{{Leavers: "purge"}, {Scope: "all"}, {MaxDeleteRatio: 1.5}, {MaxDeleteCount: -1}} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: want an error", p)
		}
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("zero policy: %v", err)
	}
}

func TestRecordHashIsStable(t *testing.T) {
	a := person("dev1", "张伟", "总部", "boss").Record()
	b := person("dev1", "张伟", "总部", "boss").Record()
	if a.Hash() != b.Hash() {
		t.Fatal("equal records hash differently")
	}
	b.Position = "x"
	if a.Hash() == b.Hash() {
		t.Fatal("different records hash equally")
	}
	back, err := member.ParseRecord(a.JSON())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*a, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestNewMemberFieldsAreDiffed(t *testing.T) {
	tests := []struct {
		change func(*member.Record)
		field  string
	}{
		{func(r *member.Record) { r.BizMail = "boss@corp.example" }, "biz_mail"},
		{func(r *member.Record) { r.ExternalPosition = "总经理" }, "external_position"},
		{func(r *member.Record) { r.MainDept = "总部" }, "main_department"},
		{func(r *member.Record) {
			r.ExtAttr = json.RawMessage(`[{"type":0,"name":"工号","text":{"value":"E1"}}]`)
		}, "extattr"},
	}
	// Every text field of the member table is diffed and sent on its own.
	for _, f := range member.TextFields {
		if f.Name == "name" || f.Name == "mobile" {
			continue // the fixture's own values; changed below by others
		}
		tests = append(tests, struct {
			change func(*member.Record)
			field  string
		}{func(r *member.Record) { f.Set(r, "x"+f.Name) }, f.Name})
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			st, live := applied(feed())
			d := feed()
			d.Members[0].Edit(tt.change)
			p, err := planned(t, d, st, live, Policy{})
			if err != nil {
				t.Fatal(err)
			}
			want := []opLine{{PhaseMembers, 0, UserUpdate, "boss", tt.field}}
			if diff := cmp.Diff(want, lines(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// With HR codes as keys the key says nothing about depth: cleanup must
// still remove children before parents, from the parent ids on record.
func TestCleanupOrderWithCodeKeys(t *testing.T) {
	st := emptyState()
	st.Departments["D1"] = AppliedDepartment{Key: "D1", WeComID: 10, ParentID: 1, Name: "A"}
	st.Departments["D22"] = AppliedDepartment{Key: "D22", WeComID: 11, ParentID: 10, Name: "B"}
	st.Departments["D3"] = AppliedDepartment{Key: "D3", WeComID: 12, ParentID: 11, Name: "C"}
	live := Live{Users: map[string]string{}, Departments: map[int]LiveDept{1: {ID: 1}, 10: {ID: 10}, 11: {ID: 11, ParentID: 10}, 12: {ID: 12, ParentID: 11}}}
	p, err := planned(t, mapper.Directory{}, st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []opLine{
		{PhaseCleanup, 0, DeptDelete, "D3", ""},
		{PhaseCleanup, 1, DeptDelete, "D22", ""},
		{PhaseCleanup, 2, DeptDelete, "D1", ""},
	}
	if diff := cmp.Diff(want, lines(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestChangesShowBeforeAndAfter(t *testing.T) {
	st, live := applied(feed())
	d := feed()
	d.Members[1].Edit(func(r *member.Record) { r.Position, r.DeptKeys = "架构师", []string{"总部/销售部"} })
	p, err := planned(t, d, st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []FieldChange{
		{Field: "position", Before: "", After: "架构师"},
		{Field: "department", Before: "总部/研发中心/后端组", After: "总部/销售部"},
	}
	if diff := cmp.Diff(want, p.Ops[0].Changes()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	create, _ := planned(t, feed(), emptyState(), Live{}, Policy{})
	for _, op := range create.Ops {
		if op.Kind == UserCreate {
			if got := op.Changes(); len(got) < 3 || got[0].Field != "name" || got[0].After == "" {
				t.Errorf("create changes: %+v", got)
			}
			break
		}
	}
}

func TestLeaderDeletedByHandIsSetAgain(t *testing.T) {
	st, live := applied(feed())
	delete(live.Users, "boss") // deleted in WeCom: WeCom also drops boss from dev1's and sales1's leaders
	p, err := planned(t, feed(), st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := []opLine{
		{PhaseMembers, 0, UserCreate, "boss", ""},
		{PhaseMembers, 1, UserLeaders, "dev1", "direct_leader"},
		{PhaseMembers, 1, UserLeaders, "sales1", "direct_leader"},
	}
	if diff := cmp.Diff(want, lines(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// TestKeptLeaderStaysAsApplied: a row whose leader the feed cannot vouch
// for (on_unknown_leader: keep) asks for the leader the journal last
// pushed, which only the member's record says.
func TestKeptLeaderStaysAsApplied(t *testing.T) {
	st, live := applied(feed())
	d := feed()
	d.Members[1].Edit(func(r *member.Record) { r.DirectLeader = nil })
	d.Members[1].LeaderKept = true
	p, err := planned(t, d, st, live, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 0 || p.UnchangedMembers != 3 {
		t.Fatalf("kept leader, nothing else changed: want no operations, got %v (%d unchanged)", lines(p), p.UnchangedMembers)
	}
	d.Members[1].Edit(func(r *member.Record) { r.Position = "架构师" })
	if p, err = planned(t, d, st, live, Policy{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]opLine{{PhaseMembers, 0, UserUpdate, "dev1", "position"}}, lines(p)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if got := p.Ops[0].After.DirectLeader; !slices.Equal(got, []string{"boss"}) {
		t.Errorf("update records direct_leader %v, want the applied [boss]", got)
	}
}
