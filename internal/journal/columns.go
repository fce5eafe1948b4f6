// Conversions and checks shared by both stores for the values they write to columns.

package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/plan"
)

// Timestamps are cut to microseconds because that is what PostgreSQL keeps;
// doing the same for SQLite makes both stores hand back identical values.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// finalStatus reports whether a run may end with status.
func finalStatus(status RunStatus) error {
	switch status {
	case RunDone, RunDoneWithRejects, RunPartial, RunFailed, RunRefused, RunDryRun, RunCanceled, RunInterrupted, RunSuperseded:
		return nil
	case RunRunning:
		return errors.New("status running does not finish a run")
	}
	return fmt.Errorf("unknown run status %q", status)
}

func startStatus(status RunStatus) error {
	if status != "" && status != RunRunning {
		return fmt.Errorf("a run starts as %q, not %q; record the end with FinishRun", RunRunning, status)
	}
	return nil
}

func occurrenceOutcome(outcome string) error {
	switch outcome {
	case OccurrenceRan, OccurrenceBusy, OccurrenceError:
		return nil
	}
	return fmt.Errorf("journal: an occurrence finishes %s, %s or %s, not %q", OccurrenceRan, OccurrenceBusy, OccurrenceError, outcome)
}

func answerOutcome(outcome CallOutcome) error {
	switch outcome {
	case CallOK, CallFailed:
		return nil
	case CallPending:
		return errors.New("outcome pending is not an answer")
	}
	return fmt.Errorf("unknown call outcome %q", outcome)
}

// nullableJSON returns nil (SQL NULL) for an empty payload and the text
// otherwise. Checking validity here gives both stores the same error instead
// of each database's own wording.
func nullableJSON(what string, p json.RawMessage) (any, error) {
	if len(p) == 0 {
		return nil, nil
	}
	if !json.Valid(p) {
		return nil, fmt.Errorf("%s is not valid JSON", what)
	}
	return string(p), nil
}

func encodeCounts(m map[string]int) (string, error) {
	if m == nil {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode counts: %w", err)
	}
	return string(b), nil
}

func decodeCounts(b []byte) (map[string]int, error) {
	m := map[string]int{}
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode counts: %w", err)
	}
	return m, nil
}

// memberKey is the case-insensitive identity of a WeCom userid. It is
// computed in Go, not with SQL lower(), so LoadState's map keys and the
// stored keys agree with strings.ToLower in callers for every input.
func memberKey(userID string) string { return strings.ToLower(userID) }

func checkChange(c *plan.StateChange) error {
	if c == nil {
		return nil
	}
	if d := c.PutDepartment; d != nil && d.Key == "" {
		return errors.New("put department: empty key")
	}
	if m := c.PutMember; m != nil {
		if m.UserID == "" {
			return errors.New("put member: empty userid")
		}
		if len(m.Payload) > 0 && !json.Valid(m.Payload) {
			return fmt.Errorf("put member %s: payload is not valid JSON", m.UserID)
		}
	}
	if t := c.PutTag; t != nil && (t.Name == "" || t.WeComID <= 0) {
		return fmt.Errorf("put tag %q: want a name and a WeCom id, got id %d", t.Name, t.WeComID)
	}
	for _, tm := range []*plan.TagMembers{c.AddTagMembers, c.RemoveTagMembers} {
		if tm == nil {
			continue
		}
		if tm.Tag == "" {
			return errors.New("tag members: no tag")
		}
		if slices.Contains(tm.UserIDs, "") {
			return fmt.Errorf("members of tag %s: an empty userid", tm.Tag)
		}
	}
	return nil
}

// tagRows collects a corp's tags and their members as LoadState reads
// them. Tag names are shared between a tag and its members' lists, so a
// large directory tagged by a few locations holds a few strings.
type tagRows struct {
	st    *plan.State
	names map[string]string
}

func (r *tagRows) tag(t plan.AppliedTag) {
	if r.st.Tags == nil {
		r.st.Tags, r.names = map[string]plan.AppliedTag{}, map[string]string{}
	}
	r.st.Tags[t.Name] = t
	r.names[t.Name] = t.Name
}

func (r *tagRows) member(userKey, tag string) {
	if name, ok := r.names[tag]; ok {
		tag = name
	}
	if r.st.MemberTags == nil {
		r.st.MemberTags = map[string][]string{}
	}
	r.st.MemberTags[userKey] = append(r.st.MemberTags[userKey], tag)
}

func (r *tagRows) done() {
	for _, tags := range r.st.MemberTags {
		slices.Sort(tags)
	}
}

// memberKeys are the journal's keys of userids.
func memberKeys(userids []string) []string {
	keys := make([]string, len(userids))
	for i, u := range userids {
		keys[i] = memberKey(u)
	}
	return keys
}

// nullID stores "no run" as NULL so the foreign key does not look for run 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func limitOrAll(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// SQL shared by both stores. Numbered $N placeholders are understood by
// PostgreSQL and by modernc.org/sqlite alike.
const (
	sqlInsertRun = `INSERT INTO runs
	(job, corp_id, source, source_digest, mode, status, resumed_from, host, started_at, counts,
	 run_trigger, os_user, importer_version, config_digest)
	VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9, $10, $11, $12, $13)
	RETURNING id`

	sqlFinishRun = `UPDATE runs SET status = $2, counts = $3, finished_at = $4
	WHERE id = $1 AND status = 'running'`

	sqlRunExists = `SELECT EXISTS (SELECT 1 FROM runs WHERE id = $1)`

	sqlRunColumns = `id, job, corp_id, source, source_digest, mode, status,
	COALESCE(resumed_from, 0), host, started_at, finished_at, counts,
	run_trigger, os_user, importer_version, config_digest`

	sqlInsertCall = `INSERT INTO calls
	(run_id, seq, phase, operation, api, target, source_ref, payload, attempt, outcome, started_at, request_token,
	 before_record, after_record, reason)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11, $12, $13, $14)
	ON CONFLICT (request_token) DO NOTHING
	RETURNING id`

	sqlCompleteCall = `UPDATE calls SET outcome = $2, errcode = $3, errmsg = $4, finished_at = $5
	WHERE id = $1 AND outcome = 'pending'`

	sqlCallColumns = `SELECT id, run_id, seq, phase, operation, api, target, source_ref, payload,
	attempt, outcome, errcode, errmsg, started_at, finished_at, before_record, after_record, reason FROM calls `

	sqlListCalls = sqlCallColumns + `WHERE run_id = $1 ORDER BY seq, id`

	// A member's calls across runs, as an auditor asks for them; userids
	// compare case-insensitively, as WeCom compares them.
	sqlMemberCalls = sqlCallColumns + `WHERE api LIKE 'user/%' AND lower(target) = lower($1) ORDER BY id`

	sqlInsertReject = `INSERT INTO rejects (run_id, source_ref, column_name, rule, message, created_at, request_token, userid)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (request_token) DO NOTHING`

	sqlRejectColumns = `SELECT run_id, source_ref, column_name, rule, message, userid, created_at FROM rejects `

	sqlListRejects = sqlRejectColumns + `WHERE run_id = $1 ORDER BY id`

	// A member's rejected rows, warnings and holds across runs.
	sqlMemberRejects = sqlRejectColumns + `WHERE userid <> '' AND lower(userid) = lower($1) ORDER BY id`

	sqlPutDepartment = `INSERT INTO applied_departments
	(corp_id, dept_key, wecom_id, parent_id, name, sort_order, run_id, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (corp_id, dept_key) DO UPDATE SET
	wecom_id = excluded.wecom_id, parent_id = excluded.parent_id, name = excluded.name,
	sort_order = excluded.sort_order, run_id = excluded.run_id, updated_at = excluded.updated_at`

	sqlDeleteDepartment = `DELETE FROM applied_departments WHERE corp_id = $1 AND dept_key = $2`

	sqlPutMember = `INSERT INTO applied_members
	(corp_id, userid_lower, userid, payload, hash, enabled, run_id, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
	ON CONFLICT (corp_id, userid_lower) DO UPDATE SET
	userid = excluded.userid, payload = excluded.payload, hash = excluded.hash,
	enabled = excluded.enabled, run_id = excluded.run_id, updated_at = excluded.updated_at`

	sqlDeleteMember = `DELETE FROM applied_members WHERE corp_id = $1 AND userid_lower = $2`

	sqlLoadDepartments = `SELECT dept_key, wecom_id, parent_id, name, sort_order, run_id
	FROM applied_departments WHERE corp_id = $1`

	sqlLoadDigests = `SELECT userid_lower, hash FROM applied_members WHERE corp_id = $1`

	// The payloads of the members named in one parameter, however many:
	// a text[] on PostgreSQL, a JSON array on SQLite.
	sqlLoadRecordsPostgres = `SELECT userid_lower, payload FROM applied_members
	WHERE corp_id = $1 AND payload IS NOT NULL AND userid_lower = ANY($2)`
	sqlLoadRecordsSQLite = `SELECT userid_lower, payload FROM applied_members
	WHERE corp_id = $1 AND payload IS NOT NULL AND userid_lower IN (SELECT value FROM json_each($2))`

	sqlPutTag = `INSERT INTO applied_tags (corp_id, name, wecom_id, created, run_id, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6)
	ON CONFLICT (corp_id, name) DO UPDATE SET
	wecom_id = excluded.wecom_id, created = excluded.created, run_id = excluded.run_id, updated_at = excluded.updated_at`

	// The tag's members go with it (ON DELETE CASCADE).
	sqlDeleteTag = `DELETE FROM applied_tags WHERE corp_id = $1 AND name = $2`

	sqlDeleteMemberTags = `DELETE FROM applied_tag_members WHERE corp_id = $1 AND userid_lower = $2`

	sqlLoadTags = `SELECT name, wecom_id, created, run_id FROM applied_tags WHERE corp_id = $1`

	sqlLoadTagMembers = `SELECT userid_lower, tag FROM applied_tag_members WHERE corp_id = $1`
)
