package wecomsim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// userHeader is batch_user_sample.csv's header line.
const userHeader = "姓名,帐号,手机号,邮箱,所在部门,职位,性别,是否部门内领导,排序,别名,地址,座机,禁用,禁用项说明：(0-启用;1-禁用)"

const partyHeader = "部门名称,部门ID,父部门ID,排序"

// userRow is one line of a user CSV in userHeader's column order.
type userRow struct {
	name, userid, mobile, email, dept, position, gender, leader, order, alias, address, phone, disabled string
}

func (r userRow) String() string {
	return strings.Join([]string{r.name, r.userid, r.mobile, r.email, r.dept, r.position, r.gender,
		r.leader, r.order, r.alias, r.address, r.phone, r.disabled, ""}, ",")
}

func userCSV(rows []userRow) string {
	var b strings.Builder
	b.WriteString(userHeader + "\n")
	for _, r := range rows {
		b.WriteString(r.String() + "\n")
	}
	return b.String()
}

// submit uploads file and starts a batch job with it, returning the answer.
func (e *env) submit(api, file string, extra obj) result {
	e.t.Helper()
	body := obj{"media_id": e.mediaID("file", "import.csv", []byte(file))}
	for k, v := range extra {
		body[k] = v
	}
	return e.post(api, body)
}

// jobID submits a job that must be accepted and returns its jobid.
func (e *env) jobID(api, file string) string {
	e.t.Helper()
	r := e.submit(api, file, nil)
	must(e.t, r, 0, api)
	id, _ := r.body["jobid"].(string)
	if id == "" || len(id) > 64 {
		e.t.Fatalf("%s: jobid %q", api, id)
	}
	return id
}

func (e *env) jobResult(jobid string) result {
	e.t.Helper()
	return e.get("batch/getresult", map[string]string{"jobid": jobid})
}

// advance moves the clock and forgets the token, which a long advance
// would have expired.
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	delete(e.tokens, editSecret)
}

// finish advances past a job's duration and returns its final result.
func (e *env) finish(jobid string) result {
	e.t.Helper()
	e.advance(e.sim.opts.BatchJobDuration)
	r := e.jobResult(jobid)
	must(e.t, r, 0, "getresult")
	if r.body["status"] != float64(jobDone) {
		e.t.Fatalf("job not done after its duration: %s", r.raw)
	}
	return r
}

func rowCodes(t *testing.T, r result) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, x := range r.body["result"].([]any) {
		m := x.(map[string]any)
		out[m["userid"].(string)] = int(m["errcode"].(float64))
	}
	return out
}

// TestBatchSyncUser2000 applies a 2,000-row syncuser file asynchronously:
// status 1 on submission, 2 with the directory half updated halfway
// through, 3 with a result per row at the end, every row refused with the
// code user/create would have given.
func TestBatchSyncUser2000(t *testing.T) {
	e := newEnv(t, Options{})
	d := e.mkDept("研发", 1, nil)
	for i := range 20 {
		e.mkUser(fmt.Sprintf("old%03d", i), []int{d}, obj{"mobile": fmt.Sprintf("137%08d", i), "position": "v1"})
	}
	e.mkUser("keep", []int{1}, nil)

	var rows []userRow
	for i := range 20 { // updates of existing members, userid in another case
		rows = append(rows, userRow{name: fmt.Sprint("老", i), userid: fmt.Sprintf("OLD%03d", i), mobile: fmt.Sprintf("137%08d", i),
			dept: fmt.Sprint(d), position: "v2", disabled: "0"})
	}
	for i := 20; i < 1990; i++ {
		rows = append(rows, userRow{name: fmt.Sprint("新", i), userid: fmt.Sprintf("new%04d", i), mobile: fmt.Sprintf("139%08d", i),
			dept: fmt.Sprintf("1;%d", d), position: "工程师", gender: []string{"男", "女"}[i%2], leader: "0;1", order: "5;6",
			alias: "a", address: "深圳", phone: "0755-1234", disabled: "0"})
	}
	bad := []struct {
		row  userRow
		code int
		body obj // the same member as a user/create body
	}{
		{userRow{name: "x", userid: "b1990", mobile: "12ab", dept: "1"}, 60103, obj{"userid": "b1990", "name": "x", "mobile": "12ab", "department": []int{1}}},
		{userRow{name: "x", userid: "b1991", mobile: "13900000100", dept: "1"}, 60104, obj{"userid": "b1991", "name": "x", "mobile": "13900000100", "department": []int{1}}},
		{userRow{name: "x", userid: "b1992", mobile: "13600000001", dept: "999"}, 60123, obj{"userid": "b1992", "name": "x", "mobile": "13600000001", "department": []int{999}}},
		{userRow{name: "", userid: "b1993", mobile: "13600000002", dept: "1"}, 60112, obj{"userid": "b1993", "name": "", "mobile": "13600000002", "department": []int{1}}},
		{userRow{name: "x", userid: "bad id", mobile: "13600000003", dept: "1"}, 40003, obj{"userid": "bad id", "name": "x", "mobile": "13600000003", "department": []int{1}}},
		{userRow{name: "x", userid: "b1995", mobile: "13600000004", dept: fmt.Sprintf("1;%d", d), leader: "1"}, 60132,
			obj{"userid": "b1995", "name": "x", "mobile": "13600000004", "department": []int{1, d}, "is_leader_in_dept": []int{1}}},
		{userRow{name: "x", userid: "b1996", mobile: "13600000005", dept: "1", phone: "010 123"}, 301013,
			obj{"userid": "b1996", "name": "x", "mobile": "13600000005", "department": []int{1}, "telephone": "010 123"}},
		{userRow{name: "x", userid: "b1997", dept: "1"}, 60129, obj{"userid": "b1997", "name": "x", "department": []int{1}}},
		{userRow{name: "x", userid: "b1998", mobile: "13600000006"}, 60127, obj{"userid": "b1998", "name": "x", "mobile": "13600000006"}},
		{userRow{name: "x", userid: "b1999", mobile: "13600000007", dept: "1", position: strings.Repeat("p", 129)}, 301012,
			obj{"userid": "b1999", "name": "x", "mobile": "13600000007", "department": []int{1}, "position": strings.Repeat("p", 129)}},
	}
	for _, b := range bad {
		rows = append(rows, b.row)
	}
	if len(rows) != 2000 {
		t.Fatalf("%d rows", len(rows))
	}

	media := e.mediaID("file", "staff.csv", []byte(userCSV(rows)))
	startReal, startSim := time.Now(), e.clock.Now()
	r := e.post("batch/syncuser", obj{"media_id": media})
	must(t, r, 0, "batch/syncuser")
	jobid := r.body["jobid"].(string)
	r = e.jobResult(jobid)
	must(t, r, 0, "getresult at once")
	if r.body["status"] != float64(jobStarted) || r.body["percentage"] != float64(0) || r.body["total"] != float64(2000) ||
		r.body["type"] != "sync_user" || r.body["result"] != nil {
		t.Fatalf("at submission: %s", r.raw)
	}

	e.advance(e.sim.opts.BatchJobDuration / 2)
	r = e.jobResult(jobid)
	if r.body["status"] != float64(jobRunning) || r.body["percentage"] != float64(50) || r.body["result"] != nil {
		t.Fatalf("halfway: %s", r.raw)
	}
	if n := len(e.sim.Snapshot().Users); n != 21+980 {
		t.Fatalf("halfway the directory holds %d members, want %d (the first 1,000 rows applied)", n, 21+980)
	}

	e.advance(e.sim.opts.BatchJobDuration / 2)
	r = e.jobResult(jobid)
	elapsedSim, elapsedReal := e.clock.Now().Sub(startSim), time.Since(startReal)
	t.Logf("2,000-row syncuser: done after %v of emulator time; %v of real time from submission to the last getresult", elapsedSim, elapsedReal)
	if r.body["status"] != float64(jobDone) || r.body["percentage"] != float64(100) || len(r.body["result"].([]any)) != 2000 {
		t.Fatalf("done: percentage %v, %d result rows", r.body["percentage"], len(r.body["result"].([]any)))
	}
	codes := rowCodes(t, r)
	for _, row := range rows[:1990] {
		if codes[row.userid] != 0 {
			t.Errorf("row %s: errcode %d", row.userid, codes[row.userid])
		}
	}
	// Each refused row carries the code user/create answers for the same
	// member (checked against a fresh emulator, with the same collision).
	twin := newEnv(t, Options{})
	twin.mkDept("研发", 1, nil)
	twin.mkUser("holder", []int{1}, obj{"mobile": "13900000100"})
	for _, b := range bad {
		if codes[b.row.userid] != b.code {
			t.Errorf("row %s: errcode %d, want %d", b.row.userid, codes[b.row.userid], b.code)
		}
		must(t, twin.post("user/create", b.body), b.code, "user/create twin of "+b.row.userid)
	}

	snap := e.sim.Snapshot()
	if len(snap.Users) != 21+1970 {
		t.Fatalf("%d members at the end, want %d", len(snap.Users), 21+1970)
	}
	if u := snapUser(e, "old007"); u.Position != "v2" || u.Name != "老7" || u.UserID != "old007" {
		t.Errorf("updated member %+v", u)
	}
	if u := snapUser(e, "keep"); u.Name != "N keep" {
		t.Errorf("a member the file does not list changed: %+v", u)
	}
	u := snapUser(e, "new0021")
	if !reflect.DeepEqual(u.Department, []int{1, d}) || !reflect.DeepEqual(u.Order, []uint32{5, 6}) ||
		!reflect.DeepEqual(u.IsLeaderInDept, []int{0, 1}) || u.Gender != "2" || u.Enable != 1 || !u.Invited ||
		u.Telephone != "0755-1234" || u.Alias != "a" || u.Address != "深圳" || u.Position != "工程师" {
		t.Errorf("created member %+v", u)
	}
}

// seed fills the directory with n members m000.. through one syncuser
// job, and returns their userids.
func seed(e *env, n int) []string {
	e.t.Helper()
	var rows []userRow
	var ids []string
	for i := range n {
		id := fmt.Sprintf("m%03d", i)
		ids = append(ids, id)
		rows = append(rows, userRow{name: id, userid: id, email: id + "@example.com", dept: "1"})
	}
	r := e.finish(e.jobID("batch/syncuser", userCSV(rows)))
	for id, code := range rowCodes(e.t, r) {
		if code != 0 {
			e.t.Fatalf("seeding %s: %d", id, code)
		}
	}
	return ids
}

// TestBatchReplaceUserGuard: replaceuser refuses to delete more than 50
// members and more than 20% of them, or fewer than 50 and more than 80%,
// and deletes at the boundaries. By default the guard stops the job and
// getresult answers 45026; with ReplaceUserAbortAtSubmit the submission
// does.
func TestBatchReplaceUserGuard(t *testing.T) {
	cases := []struct {
		members, deleted int
		trips            bool
	}{
		{200, 51, true},  // > 50 people and 25.5% > 20%
		{200, 50, false}, // exactly 50: neither rule
		{300, 61, true},  // > 50 and 20.3%
		{300, 60, false}, // > 50 but exactly 20%
		{40, 33, true},   // < 50 and 82.5% > 80%
		{40, 32, false},  // < 50 but exactly 80%
	}
	for _, atSubmit := range []bool{false, true} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("submit=%v/%d of %d", atSubmit, c.deleted, c.members), func(t *testing.T) {
				e := newEnv(t, Options{ReplaceUserAbortAtSubmit: atSubmit})
				ids := seed(e, c.members)
				var rows []userRow
				for _, id := range ids[c.deleted:] {
					rows = append(rows, userRow{name: "R " + id, userid: id, email: id + "@example.com", dept: "1"})
				}
				r := e.submit("batch/replaceuser", userCSV(rows), nil)
				switch {
				case c.trips && atSubmit:
					must(t, r, 45026, "submission")
				case c.trips:
					must(t, r, 0, "submission")
					must(t, e.jobResult(r.body["jobid"].(string)), 45026, "getresult")
				default:
					must(t, r, 0, "submission")
					res := e.finish(r.body["jobid"].(string))
					if res.body["type"] != "replace_user" || len(res.body["result"].([]any)) != len(rows) {
						t.Fatalf("result %s", res.raw)
					}
				}
				snap := e.sim.Snapshot()
				want := c.members
				if !c.trips {
					want -= c.deleted
				}
				if len(snap.Users) != want {
					t.Fatalf("%d members left, want %d", len(snap.Users), want)
				}
				if !c.trips && snapUser(e, ids[len(ids)-1]).Name != "R "+ids[len(ids)-1] {
					t.Error("a kept member was not updated from the file")
				}
			})
		}
	}
}

// TestBatchReplaceUserSparesTheCreator: the corp creator is never among
// the members a full replace deletes.
func TestBatchReplaceUserSparesTheCreator(t *testing.T) {
	e := newEnv(t, Options{CreatorUserID: "m000"})
	seed(e, 3)
	e.finish(e.jobID("batch/replaceuser", userCSV([]userRow{{name: "x", userid: "m001", email: "m001@example.com", dept: "1"}})))
	var got []string
	for _, u := range e.sim.Snapshot().Users {
		got = append(got, u.UserID)
	}
	if !reflect.DeepEqual(got, []string{"m000", "m001"}) {
		t.Fatalf("members after replace %v", got)
	}
}

// TestBatchGetResultRetention: only the last five jobs keep a result
// (40089 for older ones); an id never issued is 40088.
func TestBatchGetResultRetention(t *testing.T) {
	e := newEnv(t, Options{})
	var ids []string
	for i := range 6 {
		ids = append(ids, e.jobID("batch/syncuser", userCSV([]userRow{{name: "n", userid: fmt.Sprint("j", i), email: fmt.Sprintf("j%d@example.com", i), dept: "1"}})))
	}
	// Jobs run one after another: at 10 s the first is done, the second
	// has just begun.
	e.advance(e.sim.opts.BatchJobDuration)
	must(t, e.jobResult(ids[0]), 40089, "the sixth job's submission purged the first")
	if r := e.jobResult(ids[1]); r.code != 0 || r.body["status"] != float64(jobStarted) {
		t.Fatalf("second job after 10 s: %s", r.raw)
	}
	if n := len(e.sim.Snapshot().Users); n != 1 {
		t.Fatalf("a purged job still runs: %d members, want 1", n)
	}
	e.advance(5 * e.sim.opts.BatchJobDuration)
	for _, id := range ids[1:] {
		if r := e.jobResult(id); r.code != 0 || r.body["status"] != float64(jobDone) {
			t.Fatalf("job %s: %s", id, r.raw)
		}
	}
	must(t, e.jobResult("wsjobnosuchjob"), 40088, "unknown jobid")
	must(t, e.get("batch/getresult", nil), 40058, "no jobid")
	must(t, e.jobResult(ids[0]), 40089, "still purged")
}

// TestBatchSubmissionRefusals: what batch/syncuser refuses before a job
// exists.
func TestBatchSubmissionRefusals(t *testing.T) {
	e := newEnv(t, Options{})
	file := func(s string) string { return e.mediaID("file", "a.csv", []byte(s)) }
	oneRow := "\nn,u1,13800000001,,1,,,,,,,,,\n"
	cases := []struct {
		why  string
		api  string
		body obj
		want int
	}{
		{"no media_id", "batch/syncuser", obj{}, 40058},
		{"an unknown media_id", "batch/syncuser", obj{"media_id": "3nosuchmedia"}, 40007},
		{"an image, not a file", "batch/syncuser", obj{"media_id": e.mediaID("image", "a.png", pngBytes)}, 40007},
		{"a blank file", "batch/syncuser", obj{"media_id": file("\n\n\n\n\n\n")}, 40092},
		{"a header and no rows", "batch/syncuser", obj{"media_id": file(userHeader + "\n")}, 40092},
		{"no 帐号 column", "batch/syncuser", obj{"media_id": file("姓名,手机号,所在部门\nn,13800000001,1\n")}, 40092},
		{"neither 手机号 nor 邮箱", "batch/replaceuser", obj{"media_id": file("姓名,帐号,所在部门\nn,u1,1\n")}, 40092},
		{"no 父部门ID column", "batch/replaceparty", obj{"media_id": file("部门名称,部门ID\nA,2\n")}, 40092},
		{"to_invite not a bool", "batch/syncuser", obj{"media_id": file(userHeader + oneRow), "to_invite": "no"}, 40058},
		{"a well-formed file", "batch/syncuser", obj{"media_id": file(userHeader + oneRow)}, 0},
	}
	for _, c := range cases {
		must(t, e.post(c.api, c.body), c.want, c.why)
	}
	must(t, e.postAs(roSecret, "batch/syncuser", obj{"media_id": file(userHeader + oneRow)}), 48002, "read-only secret")
	must(t, e.postAs(appSecret, "batch/replaceparty", obj{"media_id": file(partyHeader + "\nA,2,1,\n")}), 48002, "app secret")
}

// A file saved by Excel on a Chinese Windows is GB18030, not UTF-8.
func TestBatchGB18030File(t *testing.T) {
	e := newEnv(t, Options{BatchJobDuration: -1})
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(userHeader + "\n张三,zs,13800000001,,1,经理,男,,,,,,0,\n")
	if err != nil {
		t.Fatal(err)
	}
	r := e.jobResult(e.jobID("batch/syncuser", gb))
	if codes := rowCodes(t, r); codes["zs"] != 0 {
		t.Fatalf("row zs: %d", codes["zs"])
	}
	if u := snapUser(e, "zs"); u.Name != "张三" || u.Position != "经理" || u.Gender != "1" {
		t.Fatalf("decoded member %+v", u)
	}
}

// TestBatchSyncUserColumns: only the columns the file has are applied,
// an empty cell in a present column clears, extension columns become text
// extattr, to_invite reaches the members created.
func TestBatchSyncUserColumns(t *testing.T) {
	e := newEnv(t, Options{BatchJobDuration: -1})
	e.mkUser("a", []int{1}, obj{"mobile": "13800000001", "position": "P", "alias": "Al", "telephone": "010-1"})
	file := "姓名,帐号,手机号,别名,所在部门,工号\nA2,a,13800000001,,,E1\nB,b,13800000002,Bee,1,E2\n"
	r := e.post("batch/syncuser", obj{"media_id": e.mediaID("file", "a.csv", []byte(file)), "to_invite": false})
	must(t, r, 0, "submit")
	codes := rowCodes(t, e.jobResult(r.body["jobid"].(string)))
	if codes["a"] != 0 || codes["b"] != 0 {
		t.Fatalf("codes %v", codes)
	}
	a := snapUser(e, "a")
	if a.Name != "A2" || a.Alias != "" || a.Position != "P" || a.Telephone != "010-1" || !reflect.DeepEqual(a.Department, []int{1}) {
		t.Errorf("a after sync %+v", a)
	}
	if len(a.ExtAttr) != 1 || a.ExtAttr[0].Name != "工号" || a.ExtAttr[0].Text.Value != "E1" {
		t.Errorf("a extattr %+v", a.ExtAttr)
	}
	if b := snapUser(e, "b"); b.Invited || b.Alias != "Bee" {
		t.Errorf("b %+v", b)
	}
}

// TestBatchReplaceParty: departments are created, renamed, moved and
// reordered by id whatever the row order; the action bits say which; a
// department the file omits goes if empty and stays if not; a bad row is
// refused with department/create's code.
func TestBatchReplaceParty(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.mkDept("A", 1, obj{"order": 1})
	b := e.mkDept("B", 1, nil)
	e.mkDept("B1", b, nil)
	full := e.mkDept("Full", 1, nil)
	e.mkUser("u", []int{full}, nil)

	file := partyHeader + "\n" +
		"后端,11,10,\n" + // before its parent on purpose
		"研发,10,1,5\n" +
		fmt.Sprintf("A2,%d,10,9\n", a) +
		"坏:名,12,1,\n" +
		"总公司,1,0,\n"
	r := e.finish(e.jobID("batch/replaceparty", file))
	if r.body["type"] != "replace_party" {
		t.Fatalf("type %v", r.body["type"])
	}
	type row struct{ action, code int }
	got := map[int]row{}
	var order []int
	for _, x := range r.body["result"].([]any) {
		m := x.(map[string]any)
		id := int(m["partyid"].(float64))
		got[id] = row{int(m["action"].(float64)), int(m["errcode"].(float64))}
		order = append(order, id)
	}
	want := map[int]row{
		10: {actionCreated, 0}, 11: {actionCreated, 0}, a: {actionRenamed | actionMoved | actionOrdered, 0},
		12: {0, 60009}, 1: {actionRenamed, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if slices.Index(order, 10) > slices.Index(order, 11) {
		t.Errorf("the child row ran before its parent: %v", order)
	}
	snap := e.sim.Snapshot()
	byID := map[int]SnapDept{}
	for _, d := range snap.Departments {
		byID[d.ID] = d
	}
	if byID[1].Name != "总公司" || byID[10].Order != 5 || byID[11].ParentID != 10 || byID[a].ParentID != 10 || byID[a].Order != 9 {
		t.Errorf("tree %+v", snap.Departments)
	}
	if _, ok := byID[b]; ok {
		t.Error("B, empty and not in the file, was kept")
	}
	if _, ok := byID[full]; !ok {
		t.Error("Full, which has a member, was deleted")
	}
	if len(snap.Departments) != 5 { // 1, 10, 11, A, Full
		t.Errorf("%d departments: %+v", len(snap.Departments), snap.Departments)
	}
}
