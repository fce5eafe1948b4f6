package journal_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/internal/plan"
)

// The auditor views answer docs/journal.md's questions on both journals.
func TestAuditViews(t *testing.T) {
	stores := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "j.db") },
		"postgres": func(t *testing.T) string { return pgtest.DSN(t) },
	}
	for name, dsn := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st, err := journal.Open(ctx, dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			run := startRun(t, st, journal.Run{Job: "staff", CorpID: "ww1", Mode: "run"})
			ok := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_create", API: "user/create", Target: "ZhangSan", Attempt: 1})
			if err := st.CompleteCall(ctx, ok, journal.CallOK, 0, "", nil); err != nil {
				t.Fatal(err)
			}
			bad := beginCall(t, st, journal.Call{RunID: run, Seq: 2, Operation: "user_update", API: "user/update", Target: "zhangsan", Attempt: 1,
				Reason: "feed_change", Before: json.RawMessage(`{"mobile":"13800000001"}`), After: json.RawMessage(`{"mobile":"13800000002"}`)})
			if err := st.CompleteCall(ctx, bad, journal.CallFailed, 60104, "mobile existed", nil); err != nil {
				t.Fatal(err)
			}
			beginCall(t, st, journal.Call{RunID: run, Seq: 3, Operation: "department_create", API: "department/create", Target: "总部", Attempt: 1})
			if err := st.AddReject(ctx, journal.Reject{RunID: run, SourceRef: "staff.csv:3", Rule: "mobile_format"}); err != nil {
				t.Fatal(err)
			}

			if n := count(t, st, `SELECT count(*) FROM member_history WHERE userid_lower = 'zhangsan'`); n != 2 {
				t.Errorf("member_history for zhangsan: %d rows, want 2 (userids compare case-insensitively)", n)
			}
			if n := count(t, st, `SELECT count(*) FROM member_history WHERE userid_lower = 'zhangsan' AND reason = 'feed_change' AND before_record IS NOT NULL AND after_record IS NOT NULL`); n != 1 {
				t.Errorf("member_history with reason and records: %d rows, want 1", n)
			}
			if n := count(t, st, `SELECT calls_failed + 10*calls_pending + 100*calls_ok + 1000*rows_rejected FROM run_overview WHERE run_id = $1`, run); n != 1111 {
				t.Errorf("run_overview totals encode to %d, want 1111 (1 failed, 1 pending, 1 ok, 1 reject)", n)
			}
			// A create answered "exists" and then adopted is not a failure.
			exists := beginCall(t, st, journal.Call{RunID: run, Seq: 4, Operation: "user_create", API: "user/create", Target: "lisi", Attempt: 1})
			if err := st.CompleteCall(ctx, exists, journal.CallFailed, 60102, "userid existed", nil); err != nil {
				t.Fatal(err)
			}
			adopt := beginCall(t, st, journal.Call{RunID: run, Seq: 4, Operation: "user_adopt", API: "user/update", Target: "lisi", Attempt: 1})
			if err := st.CompleteCall(ctx, adopt, journal.CallOK, 0, "", nil); err != nil {
				t.Fatal(err)
			}
			if n := count(t, st, `SELECT calls_failed + 10*calls_adopted FROM run_overview WHERE run_id = $1`, run); n != 11 {
				t.Errorf("after an adoption, run_overview encodes %d, want 11 (still 1 failed, 1 adopted)", n)
			}
			// So is a tag create answered "name taken" and then adopted.
			taken := beginCall(t, st, journal.Call{RunID: run, Seq: 5, Operation: "tag_create", API: "tag/create", Target: "地点-北京", Attempt: 1})
			if err := st.CompleteCall(ctx, taken, journal.CallFailed, 40071, "tagname exist", nil); err != nil {
				t.Fatal(err)
			}
			tagAdopt := beginCall(t, st, journal.Call{RunID: run, Seq: 5, Operation: "tag_adopt", API: "tag/list", Target: "地点-北京", Attempt: 1})
			if err := st.CompleteCall(ctx, tagAdopt, journal.CallOK, 0, "", nil); err != nil {
				t.Fatal(err)
			}
			if n := count(t, st, `SELECT calls_failed + 10*calls_adopted FROM run_overview WHERE run_id = $1`, run); n != 21 {
				t.Errorf("after a tag adoption, run_overview encodes %d, want 21 (still 1 failed, 2 adopted)", n)
			}
			// A member's history has the tag calls naming them; a tag's has
			// every call about it.
			add := beginCall(t, st, journal.Call{RunID: run, Seq: 6, Operation: "tag_add_users", API: "tag/addtagusers", Target: "地点-北京",
				Payload: []byte(`{"tagid":7,"userlist":["ZhangSan","lisi"]}`), Attempt: 1})
			if err := st.CompleteCall(ctx, add, journal.CallOK, 0, "", nil); err != nil {
				t.Fatal(err)
			}
			if n := count(t, st, `SELECT count(*) FROM member_history WHERE userid_lower = 'zhangsan'`); n != 3 {
				t.Errorf("member_history for zhangsan with a tag call: %d rows, want 3", n)
			}
			if n := count(t, st, `SELECT count(*) FROM member_history WHERE userid_lower = 'lisi' AND tag = '地点-北京'`); n != 1 {
				t.Errorf("member_history for lisi's tag: %d rows, want 1", n)
			}
			if n := count(t, st, `SELECT count(*) FROM tag_history WHERE tag = '地点-北京'`); n != 3 {
				t.Errorf("tag_history: %d rows, want the create, the adoption and the add", n)
			}
			if n := count(t, st, `SELECT calls FROM errcode_totals WHERE run_id = $1 AND errcode = 60104`, run); n != 1 {
				t.Errorf("errcode_totals 60104: %d", n)
			}
			if n := count(t, st, `SELECT count(*) FROM call_failures WHERE run_id = $1 AND errcode NOT IN (60102, 40071)`, run); n != 2 {
				t.Errorf("call_failures: %d, want the failed and the pending call", n)
			}
			// department_paths names each managed department from the top.
			for i, d := range []plan.AppliedDepartment{
				{Key: "HQ", WeComID: 2, ParentID: 1, Name: "总部"},
				{Key: "RD", WeComID: 3, ParentID: 2, Name: "研发中心"},
				{Key: "BE", WeComID: 4, ParentID: 3, Name: "后端组"},
			} {
				c := beginCall(t, st, journal.Call{RunID: run, Seq: 10 + i, Operation: "department_create", API: "department/create", Target: d.Key, Attempt: 1})
				if err := st.CompleteCall(ctx, c, journal.CallOK, 0, "", &plan.StateChange{PutDepartment: &d}); err != nil {
					t.Fatal(err)
				}
			}
			if n := count(t, st, `SELECT count(*) FROM department_paths WHERE corp_id = 'ww1' AND dept_key = 'BE' AND wecom_id = 4 AND path = '总部/研发中心/后端组' AND depth = 3`); n != 1 {
				t.Errorf("department_paths has no row 总部/研发中心/后端组 for BE")
			}
		})
	}
}
