package wecomsim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// The asynchronous import jobs (异步导入): batch/syncuser, batch/replaceuser
// and batch/replaceparty take a CSV uploaded through media/upload and run
// in the background; batch/getresult reports on them.
//
// Jobs run one after another, each for Options.BatchJobDuration of the
// injectable clock. Nothing runs on a timer: every call (and Snapshot)
// first brings the jobs up to the current time, applying the rows due by
// then, so a test advances the clock instead of sleeping and sees the
// directory exactly as a job halfway through would leave it.

// Job types as getresult names them.
const (
	jobSyncUser     = "sync_user"
	jobReplaceUser  = "replace_user"
	jobReplaceParty = "replace_party"
)

// Job status values from getresult.
const (
	jobStarted = 1
	jobRunning = 2
	jobDone    = 3
)

// keptJobResults: only the results of the last five jobs are kept; older
// ones answer 40089 (its help text in the errcode list).
const keptJobResults = 5

const defaultBatchJobDuration = 10 * time.Second

// The replaceuser deletion guard (the replaceuser page): the import is
// aborted with 45026 when it would delete more than 50 members and more
// than 20% of them, or fewer than 50 and more than 80%.
const (
	guardPeople   = 50
	guardManyPct  = 20
	guardFewerPct = 80
)

// userColumns maps the header of batch_user_sample.csv to the member
// fields; extension columns are allowed and become text extattr
// attributes. A department file has batch_party_sample.csv's header,
// 部门名称,部门ID,父部门ID,排序 (runPartyRow).
var userColumns = map[string]string{
	"姓名": "name", "帐号": "userid", "手机号": "mobile", "邮箱": "email",
	"所在部门": "department", "职位": "position", "性别": "gender",
	"是否部门内领导": "is_leader_in_dept", "排序": "order", "别名": "alias",
	"地址": "address", "座机": "telephone", "禁用": "enable",
}

// userNoteColumn is the template's explanation column for 禁用, which
// carries no data.
const userNoteColumn = "禁用项说明"

type job struct {
	id, typ    string
	start, end time.Time
	toInvite   bool
	header     []string
	rows       [][]string // released once the job is finished
	total      int
	done       int // rows applied
	started    bool
	finished   bool
	purged     bool // its result was dropped by the last-5 rule
	code       int  // job-level errcode (45026), 0 when the rows ran
	results    []map[string]any
	fileIDs    map[string]bool // userid keys (user jobs) or department ids as text
}

func (s *Server) batchSyncUser(c *call) (map[string]any, int) {
	return s.submitJob(c, jobSyncUser)
}

func (s *Server) batchReplaceUser(c *call) (map[string]any, int) {
	return s.submitJob(c, jobReplaceUser)
}

func (s *Server) batchReplaceParty(c *call) (map[string]any, int) {
	return s.submitJob(c, jobReplaceParty)
}

// submitJob validates the request and the file, queues the job, and
// answers its jobid. An empty file or one without the template's required
// columns answers 40092 here, before any job exists.
func (s *Server) submitJob(c *call, typ string) (map[string]any, int) {
	var mediaID string
	toInvite := true
	var callback map[string]json.RawMessage
	_, ok1 := getField(c.body, "media_id", &mediaID)
	_, ok2 := getField(c.body, "to_invite", &toInvite)
	_, ok3 := getField(c.body, "callback", &callback)
	c.target = mediaID
	if !ok1 || !ok2 || !ok3 {
		return nil, 40058
	}
	if mediaID == "" {
		return nil, 40058
	}
	m := s.liveMedia(mediaID, c.now)
	if m == nil || m.typ != "file" {
		return nil, 40007
	}
	header, rows, ok := readCSV(m.data)
	if !ok || !hasRequiredColumns(typ, header) {
		return nil, 40092
	}
	if typ == jobReplaceParty {
		rows = parentsFirst(header, rows)
	}
	j := &job{typ: typ, toInvite: toInvite, header: header, rows: rows, total: len(rows)}
	j.fileIDs = fileKeys(typ, header, rows)
	if typ == jobReplaceUser && s.opts.ReplaceUserAbortAtSubmit && s.guardTrips(j) {
		return nil, 45026
	}
	j.id = newJobID()
	j.start = c.now
	if n := len(s.jobs); n > 0 {
		j.start = maxTime(j.start, s.jobs[n-1].end)
	}
	j.end = j.start.Add(s.opts.BatchJobDuration)
	s.jobs = append(s.jobs, j)
	s.jobByID[j.id] = j
	s.purgeOldJobs()
	s.advanceJobs(c.now) // a zero-length job is done before the answer
	return map[string]any{"jobid": j.id}, 0
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func newJobID() string { return "wsjob" + newTokenValue()[:32] }

// readCSV decodes a CSV in UTF-8 (a BOM is dropped) or, when the bytes are
// not UTF-8, GB18030, which is what Excel on a Chinese Windows saves. It
// reports false for an empty file, a parse error or no data rows.
func readCSV(data []byte) ([]string, [][]string, bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, nil, false
		}
		data = decoded
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, false
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, false
		}
		if allBlank(rec) {
			continue
		}
		rows = append(rows, rec)
	}
	return header, rows, len(rows) > 0
}

func allBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// hasRequiredColumns: a user file needs 姓名, 帐号, 所在部门 and one of
// 手机号 and 邮箱; a department file 部门名称, 部门ID and 父部门ID (40092's
// help text and the replaceparty page).
func hasRequiredColumns(typ string, header []string) bool {
	has := func(col string) bool { return slices.Contains(header, col) }
	if typ == jobReplaceParty {
		return has("部门名称") && has("部门ID") && has("父部门ID")
	}
	return has("姓名") && has("帐号") && has("所在部门") && (has("手机号") || has("邮箱"))
}

func cell(header, row []string, col string) (string, bool) {
	i := slices.Index(header, col)
	if i < 0 {
		return "", false
	}
	if i >= len(row) {
		return "", true
	}
	return strings.TrimSpace(row[i]), true
}

// parentsFirst orders department rows so that a department the file
// creates comes before the rows beneath it, whatever order the file uses;
// rows of equal depth keep the file's order. A parent chain that loops
// within the file is cut at the file's length; those rows then fail on
// their own (60004 or 60010).
func parentsFirst(header []string, rows [][]string) [][]string {
	parentOf := map[string]string{}
	for _, row := range rows {
		id, _ := cell(header, row, "部门ID")
		parent, _ := cell(header, row, "父部门ID")
		parentOf[id] = parent
	}
	depth := func(id string) int {
		d := 0
		for p, ok := parentOf[id]; ok && d < len(rows); p, ok = parentOf[p] {
			d++
		}
		return d
	}
	type ranked struct {
		row   []string
		depth int
	}
	list := make([]ranked, len(rows))
	for i, row := range rows {
		id, _ := cell(header, row, "部门ID")
		list[i] = ranked{row, depth(id)}
	}
	slices.SortStableFunc(list, func(a, b ranked) int { return a.depth - b.depth })
	out := make([][]string, len(list))
	for i, r := range list {
		out[i] = r.row
	}
	return out
}

// fileKeys lists whom the file names: userid keys for user files,
// department ids for department files.
func fileKeys(typ string, header []string, rows [][]string) map[string]bool {
	col := "帐号"
	if typ == jobReplaceParty {
		col = "部门ID"
	}
	keys := make(map[string]bool, len(rows))
	for _, row := range rows {
		v, _ := cell(header, row, col)
		switch {
		case v == "":
		case typ != jobReplaceParty:
			keys[userKey(v)] = true
		default:
			if id, err := strconv.Atoi(v); err == nil {
				keys[strconv.Itoa(id)] = true
			}
		}
	}
	return keys
}

// guardTrips applies replaceuser's deletion guard against the directory
// as it is now.
func (s *Server) guardTrips(j *job) bool {
	members := len(s.users)
	deleting := 0
	for k, u := range s.users {
		if !j.fileIDs[k] && !s.isCreator(u) {
			deleting++
		}
	}
	switch {
	case deleting > guardPeople:
		return deleting*100 > members*guardManyPct
	case deleting < guardPeople:
		return deleting*100 > members*guardFewerPct
	}
	return false
}

func (s *Server) isCreator(u *user) bool {
	return s.opts.CreatorUserID != "" && strings.EqualFold(u.UserID, s.opts.CreatorUserID)
}

// purgeOldJobs drops the results of all but the last keptJobResults jobs.
// A purged job that is still running keeps running; only its result goes.
func (s *Server) purgeOldJobs() {
	for i := 0; i < len(s.jobs)-keptJobResults; i++ {
		j := s.jobs[i]
		if !j.purged {
			j.purged = true
			j.results = nil
		}
	}
	// Finished, purged jobs have nothing left to do or to show.
	s.jobs = slices.DeleteFunc(s.jobs, func(j *job) bool { return j.purged && j.finished })
}

// advanceJobs applies, in submission order, every row due by now. Callers
// hold s.mu.
func (s *Server) advanceJobs(now time.Time) {
	for _, j := range s.jobs {
		if j.finished {
			continue
		}
		if now.Before(j.start) {
			break // later jobs start later still
		}
		if !j.started {
			j.started = true
			if j.typ == jobReplaceUser && s.guardTrips(j) {
				// Checked against the directory the job starts from:
				// nothing is applied.
				j.code, j.done = 45026, j.total
				s.releaseJob(j)
				continue
			}
		}
		due := j.total
		if now.Before(j.end) {
			elapsed, span := now.Sub(j.start), j.end.Sub(j.start)
			due = int(int64(j.total) * int64(elapsed) / int64(span))
		}
		for ; j.done < due; j.done++ {
			j.results = appendResult(j, s.runRow(j, j.rows[j.done]))
		}
		if j.done < j.total || now.Before(j.end) {
			break // still running; later jobs wait for it
		}
		s.finishJob(j)
	}
	s.purgeOldJobs()
}

// releaseJob marks j finished and lets go of its file.
func (s *Server) releaseJob(j *job) {
	j.finished = true
	j.header, j.rows, j.fileIDs = nil, nil, nil
}

// appendResult keeps a row's result unless the job's results were purged.
func appendResult(j *job, r map[string]any) []map[string]any {
	if j.purged {
		return nil
	}
	return append(j.results, r)
}

// finishJob runs the full-replace deletions once every row has been
// applied.
func (s *Server) finishJob(j *job) {
	defer s.releaseJob(j)
	switch j.typ {
	case jobReplaceUser:
		var gone []string
		for k, u := range s.users {
			if !j.fileIDs[k] && !s.isCreator(u) {
				gone = append(gone, k)
			}
		}
		s.removeUsers(gone)
	case jobReplaceParty:
		s.dropUnlistedDepts(j.fileIDs)
	}
}

// dropUnlistedDepts deletes the departments the file does not list,
// deepest first, leaving any that still hold members or sub-departments
// (the replaceparty page: a later user import empties them).
func (s *Server) dropUnlistedDepts(listed map[string]bool) {
	for {
		var victims []int
		for id := range s.depts {
			if id != 1 && !listed[strconv.Itoa(id)] && s.memberCount(id) == 0 && s.childCount(id) == 0 {
				victims = append(victims, id)
			}
		}
		if len(victims) == 0 {
			return
		}
		for _, id := range victims {
			s.removeDept(id)
		}
	}
}

// runRow applies one CSV row and returns its result entry.
func (s *Server) runRow(j *job, row []string) map[string]any {
	if j.typ == jobReplaceParty {
		return s.runPartyRow(j, row)
	}
	userid, _ := cell(j.header, row, "帐号")
	body, code := userRowBody(j.header, row)
	if code == 0 {
		var target string
		if s.users[userKey(userid)] != nil {
			code = s.updateUser(body, &target)
		} else {
			body["to_invite"] = rawJSON(j.toInvite)
			_, code = s.createUser(body, &target)
		}
	}
	return map[string]any{"userid": userid, "errcode": code, "errmsg": rowMsg(code)}
}

func rowMsg(code int) string {
	if code == 0 {
		return "ok"
	}
	return errText(code)
}

func rawJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v) // only strings, bools and int slices come here
	return b
}

// userRowBody turns a user CSV row into the user/create or user/update
// body it stands for, so the row meets exactly the validation those calls
// apply. A column the file has is sent, an empty cell as "" (the file's
// value wins), except where an empty cell can only mean "not given":
// 所在部门 on an update, 性别, 是否部门内领导, 排序 and 禁用.
func userRowBody(header, row []string) (map[string]json.RawMessage, int) {
	body := map[string]json.RawMessage{}
	var attrs []ExtAttr
	for i, col := range header {
		v := ""
		if i < len(row) {
			v = strings.TrimSpace(row[i])
		}
		key, known := userColumns[col]
		switch {
		case col == "" || strings.HasPrefix(col, userNoteColumn):
			continue
		case !known:
			attrs = append(attrs, ExtAttr{Type: attrText, Name: col, Text: &ExtAttrText{Value: v}})
			continue
		}
		switch key {
		case "department", "order", "is_leader_in_dept":
			if v == "" {
				continue
			}
			list, ok := splitInts(v, key == "is_leader_in_dept")
			if !ok {
				if key == "department" {
					return nil, 40066 // the page: department ids must be numbers
				}
				return nil, 40058
			}
			body[key] = rawJSON(list)
		case "gender":
			switch v {
			case "":
				continue
			case "男":
				v = "1"
			case "女":
				v = "2"
			}
			body[key] = rawJSON(v)
		case "enable":
			switch v {
			case "":
				continue
			case "0":
				body[key] = rawJSON(1) // the column is 禁用: 0 means enabled
			case "1":
				body[key] = rawJSON(0)
			default:
				return nil, 40058
			}
		default:
			body[key] = rawJSON(v)
		}
	}
	if len(attrs) > 0 {
		body["extattr"] = rawJSON(map[string]any{"attrs": attrs})
	}
	return body, 0
}

// splitInts reads a ";"-separated list of integers (the template's
// separator; the full-width "；" too). Leader flags may be written 是/否.
func splitInts(v string, flags bool) ([]int64, bool) {
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '；' })
	out := make([]int64, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if flags {
			switch p {
			case "是":
				p = "1"
			case "否":
				p = "0"
			}
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, len(out) > 0
}

// Party result action bits (the getresult page).
const (
	actionCreated = 1
	actionRenamed = 2
	actionMoved   = 4
	actionOrdered = 8
)

// runPartyRow creates or updates one department through the same code as
// department/create and department/update. An empty or 0 排序 leaves the
// order as it is.
func (s *Server) runPartyRow(j *job, row []string) map[string]any {
	name, _ := cell(j.header, row, "部门名称")
	idText, _ := cell(j.header, row, "部门ID")
	parentText, _ := cell(j.header, row, "父部门ID")
	orderText, _ := cell(j.header, row, "排序")
	res := func(action, id, code int) map[string]any {
		return map[string]any{"action": action, "partyid": id, "errcode": code, "errmsg": rowMsg(code)}
	}
	id, err := strconv.Atoi(idText)
	if err != nil || id < 1 {
		// No id means no department to key the full replace on.
		return res(0, 0, 40058)
	}
	parent, err := strconv.Atoi(parentText)
	if err != nil && !(id == 1 && parentText == "") {
		return res(0, id, 60004)
	}
	body := map[string]json.RawMessage{"id": rawJSON(id), "name": rawJSON(name)}
	if orderText != "" && orderText != "0" {
		order, err := strconv.ParseInt(orderText, 10, 64)
		if err != nil {
			return res(0, id, 40058)
		}
		body["order"] = rawJSON(order)
	}
	var target string
	old := s.depts[id]
	if old == nil {
		body["parentid"] = rawJSON(parent)
		_, code := s.createDept(body, &target)
		if code != 0 {
			return res(0, id, code)
		}
		return res(actionCreated, id, 0)
	}
	before := old.SnapDept
	if id != 1 {
		body["parentid"] = rawJSON(parent) // the root has no parent to move to
	}
	if code := s.updateDept(body, &target); code != 0 {
		return res(0, id, code)
	}
	after := s.depts[id].SnapDept
	action := 0
	if after.Name != before.Name {
		action |= actionRenamed
	}
	if after.ParentID != before.ParentID {
		action |= actionMoved
	}
	if after.Order != before.Order {
		action |= actionOrdered
	}
	return res(action, id, 0)
}

// batchGetResult implements GET batch/getresult?jobid=.
func (s *Server) batchGetResult(c *call) (map[string]any, int) {
	id := c.query.Get("jobid")
	c.target = id
	if id == "" || len(id) > 64 {
		return nil, 40058
	}
	j := s.jobByID[id]
	switch {
	case j == nil:
		return nil, 40088
	case j.purged:
		return nil, 40089
	case j.finished && j.code != 0:
		return nil, j.code
	}
	out := map[string]any{"type": j.typ, "total": j.total}
	switch {
	case j.finished:
		out["status"], out["percentage"] = jobDone, 100
		out["result"] = nonNil(j.results)
	case j.done == 0:
		out["status"], out["percentage"] = jobStarted, 0
	default:
		out["status"], out["percentage"] = jobRunning, j.done*100/j.total
	}
	return out, 0
}
