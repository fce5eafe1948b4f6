package journal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/migrations"
)

// testStore is the conformance suite every Store must pass. newDSN returns a
// location for a new, empty journal that journal.Open accepts.
func testStore(t *testing.T, newDSN func(t *testing.T) string, migrationList func() ([]migrations.Migration, error)) {
	open := func(t *testing.T, dsn string) journal.Store {
		t.Helper()
		st, err := journal.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	fresh := func(t *testing.T) journal.Store { return open(t, newDSN(t)) }

	t.Run("MigrateIsIdempotent", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		id := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		for range 2 {
			if err := st.Migrate(ctx); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
		}
		if _, err := st.GetRun(ctx, id); err != nil {
			t.Fatalf("run lost by repeated migrate: %v", err)
		}
		want, err := migrationList()
		if err != nil {
			t.Fatal(err)
		}
		if got := count(t, st, `SELECT count(*) FROM schema_migrations`); got != len(want) {
			t.Errorf("schema_migrations has %d rows, want %d", got, len(want))
		}
	})

	t.Run("ConcurrentMigrate", func(t *testing.T) {
		t.Parallel()
		dsn := newDSN(t)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		stores := make([]journal.Store, 4)
		for i := range 4 {
			wg.Go(func() { stores[i], errs[i] = journal.Open(context.Background(), dsn) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("migrator %d: %v", i, err)
				continue
			}
			t.Cleanup(func() { _ = stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		want, _ := migrationList()
		if got := count(t, stores[0], `SELECT count(*) FROM schema_migrations`); got != len(want) {
			t.Errorf("schema_migrations has %d rows, want %d", got, len(want))
		}
		startRun(t, stores[3], journal.Run{Job: "j", CorpID: "corp"})
	})

	t.Run("RunLifecycle", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		started := time.Date(2025, 3, 1, 8, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
		first := startRun(t, st, journal.Run{Job: "nightly", CorpID: "ww1", Mode: "run", StartedAt: started})
		in := journal.Run{
			Job: "nightly", CorpID: "ww1", Source: "/srv/hr/export.csv", SourceDigest: "abc123",
			Mode: "resume", ResumedFrom: first, Host: "worker-1", StartedAt: started.Add(time.Hour),
			Counts: map[string]int{"planned": 3},
		}
		id := startRun(t, st, in)

		got, err := st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.ID, want.Status = id, journal.RunRunning
		want.StartedAt = in.StartedAt.UTC().Truncate(time.Microsecond)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetRun while running (-want +got):\n%s", diff)
		}

		counts := map[string]int{"user_create/ok": 12, "rejected": 2}
		before := time.Now()
		if err := st.FinishRun(ctx, id, journal.RunPartial, counts); err != nil {
			t.Fatal(err)
		}
		got, err = st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != journal.RunPartial || !cmp.Equal(got.Counts, counts) {
			t.Errorf("after FinishRun: status %q counts %v, want %q %v", got.Status, got.Counts, journal.RunPartial, counts)
		}
		if got.FinishedAt.Before(before.Add(-time.Second)) || got.FinishedAt.Location() != time.UTC {
			t.Errorf("FinishedAt = %v, want about now, in UTC", got.FinishedAt)
		}

		// A finished run is history: it is not finished a second time.
		err = st.FinishRun(ctx, id, journal.RunDone, nil)
		if !errors.Is(err, journal.ErrCompleted) {
			t.Errorf("second FinishRun: got %v, want ErrCompleted", err)
		}
		if got, _ := st.GetRun(ctx, id); got.Status != journal.RunPartial {
			t.Errorf("second FinishRun rewrote status to %q", got.Status)
		}
		if err := st.FinishRun(ctx, first, journal.RunRunning, nil); err == nil {
			t.Error("FinishRun with status running: want an error")
		}
		if _, err := st.StartRun(ctx, journal.Run{Job: "j", CorpID: "c", Status: journal.RunDone}); err == nil {
			t.Error("StartRun with a final status: want an error")
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		if _, err := st.GetRun(ctx, 4242); !errors.Is(err, journal.ErrNotFound) {
			t.Errorf("GetRun of a missing run: got %v, want ErrNotFound", err)
		}
		if err := st.FinishRun(ctx, 4242, journal.RunDone, nil); !errors.Is(err, journal.ErrNotFound) {
			t.Errorf("FinishRun of a missing run: got %v, want ErrNotFound", err)
		}
		if err := st.CompleteCall(ctx, 4242, journal.CallOK, 0, "", nil); !errors.Is(err, journal.ErrNotFound) {
			t.Errorf("CompleteCall of a missing call: got %v, want ErrNotFound", err)
		}
		if _, err := st.BeginCall(ctx, journal.Call{RunID: 4242, Operation: "user_create", Target: "x"}); err == nil {
			t.Error("BeginCall for a missing run: want an error")
		}
		if err := st.AddReject(ctx, journal.Reject{RunID: 4242, Message: "m"}); err == nil {
			t.Error("AddReject for a missing run: want an error")
		}
	})

	t.Run("ListRunsNewestFirst", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var ids []int64
		for i, off := range []int{0, 2, 1, 2} {
			ids = append(ids, startRun(t, st, journal.Run{Job: fmt.Sprint("job", i), CorpID: "c", StartedAt: base.Add(time.Duration(off) * time.Hour)}))
		}
		// Newest start first; equal starts newest id first.
		want := []int64{ids[3], ids[1], ids[2], ids[0]}
		runs, err := st.ListRuns(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, runIDs(runs)); diff != "" {
			t.Errorf("ListRuns(0) (-want +got):\n%s", diff)
		}
		runs, err = st.ListRuns(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[:2], runIDs(runs)); diff != "" {
			t.Errorf("ListRuns(2) (-want +got):\n%s", diff)
		}
	})

	t.Run("CallLifecycle", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		in := journal.Call{
			RunID: run, Seq: 2, Phase: "members", Operation: "user_create", API: "user/create",
			Target: "zhangsan", SourceRef: "hr.csv:3", Payload: json.RawMessage(`{"userid": "zhangsan", "name": "张三"}`),
			Attempt: 1, StartedAt: time.Date(2025, 3, 1, 0, 0, 0, 1500, time.UTC),
			Before: json.RawMessage(`{"userid": "zhangsan", "name": "张山"}`), After: json.RawMessage(`{"userid": "zhangsan", "name": "张三"}`),
			Reason: "feed_change",
		}
		id := beginCall(t, st, in)
		// Same seq, later attempt, and an earlier seq: listed by seq, then id.
		retry := in
		retry.Attempt, retry.StartedAt = 2, time.Time{}
		id2 := beginCall(t, st, retry)
		id0 := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "department_create", Target: "总部/研发"})

		calls, err := st.ListCalls(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int64{id0, id, id2}, callIDs(calls)); diff != "" {
			t.Fatalf("ListCalls order (-want +got):\n%s", diff)
		}
		want := in
		want.ID, want.Outcome = id, journal.CallPending
		want.StartedAt = in.StartedAt.Truncate(time.Microsecond)
		if diff := cmp.Diff(want, calls[1], jsonEqual); diff != "" {
			t.Errorf("pending call (-want +got):\n%s", diff)
		}
		if calls[0].Payload != nil {
			t.Errorf("call without payload came back with %q", calls[0].Payload)
		}

		if err := st.CompleteCall(ctx, id, journal.CallFailed, 60102, "userid existed", nil); err != nil {
			t.Fatal(err)
		}
		calls, _ = st.ListCalls(ctx, run)
		got := calls[1]
		if got.Outcome != journal.CallFailed || got.Errcode != 60102 || got.Errmsg != "userid existed" || got.FinishedAt.IsZero() {
			t.Errorf("completed call = %+v", got)
		}
		if calls[2].Outcome != journal.CallPending || !calls[2].FinishedAt.IsZero() {
			t.Errorf("another call changed: %+v", calls[2])
		}
		if got := count(t, st, `SELECT count(*) FROM call_failures WHERE run_id = $1`, run); got != 3 {
			t.Errorf("call_failures lists %d calls of the run, want 3 (1 failed, 2 pending)", got)
		}

		// EachCall streams what ListCalls lists, in its order, and stops
		// at the callback's first error.
		var each []journal.Call
		if err := st.EachCall(ctx, run, func(c journal.Call) error { each = append(each, c); return nil }); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(calls, each, jsonEqual); diff != "" {
			t.Errorf("EachCall (-ListCalls +EachCall):\n%s", diff)
		}
		stop := errors.New("enough")
		seen := 0
		if err := st.EachCall(ctx, run, func(journal.Call) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
			t.Errorf("EachCall after the callback's error: %v, %d calls seen; want %v after 1", err, seen, stop)
		}
		// The store is usable again once the read ended.
		if _, err := st.ListCalls(ctx, run); err != nil {
			t.Errorf("ListCalls after an EachCall that stopped: %v", err)
		}
	})

	t.Run("CompletedCallIsNotRewritten", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "lisi"})
		put := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "lisi", Payload: json.RawMessage(`{"v":1}`), Hash: "h1", Enabled: true}}
		if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", put); err != nil {
			t.Fatal(err)
		}
		before := loadState(t, st, "corp")

		second := &plan.StateChange{
			PutMember:     &plan.AppliedMember{UserID: "lisi", Payload: json.RawMessage(`{"v":2}`), Hash: "h2"},
			PutDepartment: &plan.AppliedDepartment{Key: "d", WeComID: 9, Name: "d"},
		}
		err := st.CompleteCall(ctx, id, journal.CallFailed, 1, "late answer", second)
		if !errors.Is(err, journal.ErrCompleted) {
			t.Fatalf("second CompleteCall: got %v, want ErrCompleted", err)
		}
		if diff := cmp.Diff(before, loadState(t, st, "corp")); diff != "" {
			t.Errorf("refused CompleteCall changed state (-before +after):\n%s", diff)
		}
		calls, _ := st.ListCalls(ctx, run)
		if calls[0].Outcome != journal.CallOK || calls[0].Errmsg != "ok" {
			t.Errorf("refused CompleteCall rewrote the call: %+v", calls[0])
		}
		if err := st.CompleteCall(ctx, id, journal.CallPending, 0, "", nil); err == nil || errors.Is(err, journal.ErrCompleted) {
			t.Errorf("CompleteCall with outcome pending: got %v, want a validation error", err)
		}
	})

	t.Run("ConcurrentCompletionsOneWins", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_update", Target: "u"})
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				r := member.Record{UserID: "u", Name: fmt.Sprint(i)}
				change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "u", Payload: r.JSON(), Hash: r.Hash()}}
				errs[i] = st.CompleteCall(ctx, id, journal.CallOK, 0, fmt.Sprint(i), change)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("completions %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, journal.ErrCompleted):
				t.Errorf("completion %d: %v", i, err)
			}
		}
		if winner < 0 {
			t.Fatal("no completion succeeded")
		}
		calls, _ := st.ListCalls(ctx, run)
		state := loadState(t, st, "corp")
		r := state.Records["u"]
		if calls[0].Errmsg != fmt.Sprint(winner) || r.Name != fmt.Sprint(winner) || state.Members["u"] != r.Digest() {
			t.Errorf("call errmsg %q and state record %+v, want both from completion %d", calls[0].Errmsg, r, winner)
		}
	})

	t.Run("ConcurrentBeginCalls", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		var wg sync.WaitGroup
		errs := make(chan error, 80)
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					c := journal.Call{RunID: run, Seq: w*10 + i, Operation: "user_update", Target: fmt.Sprint("u", w, i), Attempt: 1}
					id, err := st.BeginCall(ctx, c)
					if err == nil {
						err = st.CompleteCall(ctx, id, journal.CallOK, 0, "", &plan.StateChange{
							PutMember: &plan.AppliedMember{UserID: c.Target, Enabled: true},
						})
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		calls, err := st.ListCalls(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 80 || len(loadState(t, st, "corp").Members) != 80 {
			t.Errorf("got %d calls and %d members, want 80 of each", len(calls), len(loadState(t, st, "corp").Members))
		}
	})

	t.Run("StateChanges", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run1 := startRun(t, st, journal.Run{Job: "j", CorpID: "corpA"})
		run2 := startRun(t, st, journal.Run{Job: "j", CorpID: "corpA"})
		other := startRun(t, st, journal.Run{Job: "j", CorpID: "corpB"})

		apply := func(run int64, change plan.StateChange) {
			t.Helper()
			id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "op", Target: "t"})
			if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", &change); err != nil {
				t.Fatal(err)
			}
		}
		zhang := member.Record{UserID: "ZhangSan", Name: "张三", DeptKeys: []string{"总部"}, Enabled: true}
		left := zhang
		left.Enabled = false
		elsewhere := member.Record{UserID: "zhangsan", Name: "另一个"}
		put := func(r member.Record) *plan.AppliedMember {
			return &plan.AppliedMember{UserID: r.UserID, Payload: r.JSON(), Hash: r.Hash(), Enabled: r.Enabled}
		}
		apply(run1, plan.StateChange{PutDepartment: &plan.AppliedDepartment{Key: "总部", WeComID: 2, ParentID: 1, Name: "总部", Order: 4294967295, RunID: 999}})
		apply(run1, plan.StateChange{PutDepartment: &plan.AppliedDepartment{Key: "总部/研发", WeComID: 3, ParentID: 2, Name: "研发", Order: 10}})
		apply(run1, plan.StateChange{PutMember: put(zhang)})
		apply(run1, plan.StateChange{PutMember: &plan.AppliedMember{UserID: "lisi", Hash: "h2", Enabled: true}})
		apply(run1, plan.StateChange{PutMember: &plan.AppliedMember{UserID: "wangwu", Hash: "h3", Enabled: true}})
		apply(other, plan.StateChange{PutMember: put(elsewhere)})

		// Later run: same member under another spelling updates, not adds.
		apply(run2, plan.StateChange{PutMember: &plan.AppliedMember{UserID: "zhangsan",
			Payload: json.RawMessage(`{"userid":"ZhangSan",  "name":"张三", "dept_keys":["总部"]}`), Hash: left.Hash()}})
		apply(run2, plan.StateChange{DeleteMember: "LISI", DeleteDepartment: "总部/研发"})
		apply(run2, plan.StateChange{DeleteMember: "nobody", DeleteDepartment: "no such key"})
		// A delete and a put of the same key in one change: the put stands.
		apply(run2, plan.StateChange{DeleteMember: "wangwu", PutMember: &plan.AppliedMember{UserID: "WangWu", Hash: "h5", Enabled: true}})

		// The digest is the stored hash, not one of the payload's bytes,
		// which keep the spacing they were written with; a hash that is
		// no digest (wangwu's) matches no record.
		want := plan.State{
			Departments: map[string]plan.AppliedDepartment{
				"总部": {Key: "总部", WeComID: 2, ParentID: 1, Name: "总部", Order: 4294967295, RunID: run1},
			},
			Members: map[string]member.Digest{"zhangsan": left.Digest(), "wangwu": {}},
			Records: map[string]member.Record{"zhangsan": left},
		}
		got := loadState(t, st, "corpA")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LoadState(corpA) (-want +got):\n%s", diff)
		}
		if s := loadState(t, st, "corpB"); len(s.Members) != 1 || s.Members["zhangsan"] != elsewhere.Digest() || s.Records["zhangsan"].Name != elsewhere.Name {
			t.Errorf("LoadState(corpB) = %+v, want only corpB's zhangsan", s)
		}
		empty := loadState(t, st, "nobody")
		if empty.Departments == nil || empty.Members == nil || empty.Records == nil || len(empty.Departments)+len(empty.Members) != 0 {
			t.Errorf("LoadState of an unknown corp = %#v, want empty non-nil maps", empty)
		}
	})

	t.Run("LoadStateReadsOnlyTheRecordsNeedNames", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		var digests []member.Digest
		for i := range 3 {
			r := member.Record{UserID: fmt.Sprint("U", i), Name: fmt.Sprint(i)}
			digests = append(digests, r.Digest())
			id := beginCall(t, st, journal.Call{RunID: run, Seq: i, Operation: "user_create", Target: r.UserID})
			change := &plan.StateChange{PutMember: &plan.AppliedMember{UserID: r.UserID, Payload: r.JSON(), Hash: r.Hash()}}
			if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", change); err != nil {
				t.Fatal(err)
			}
		}
		var seen int
		s, err := st.LoadState(ctx, "corp", func(s plan.State) []string {
			seen = len(s.Members)
			return []string{"u1", "nobody"}
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen != 3 || len(s.Members) != 3 || s.Members["u2"] != digests[2] {
			t.Errorf("need saw %d digests and LoadState gave %v, want all 3", seen, s.Members)
		}
		if len(s.Records) != 1 || s.Records["u1"].Name != "1" {
			t.Errorf("records %+v, want u1's alone", s.Records)
		}
		if s, err := st.LoadState(ctx, "corp", nil); err != nil || len(s.Members) != 3 || len(s.Records) != 0 {
			t.Errorf("LoadState without need = %+v, %v; want 3 digests and no record", s, err)
		}
	})

	t.Run("InvalidInputLeavesNoTrace", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		if _, err := st.BeginCall(ctx, journal.Call{RunID: run, Operation: "op", Target: "x", Payload: json.RawMessage(`{"a":`)}); err == nil {
			t.Error("BeginCall with invalid JSON payload: want an error")
		}
		id := beginCall(t, st, journal.Call{RunID: run, Operation: "op", Target: "x"})
		bad := []*plan.StateChange{
			{PutMember: &plan.AppliedMember{UserID: "x", Payload: json.RawMessage(`not json`)}},
			{PutMember: &plan.AppliedMember{}},
			{PutDepartment: &plan.AppliedDepartment{}},
		}
		for _, change := range bad {
			if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", change); err == nil {
				t.Errorf("CompleteCall with %+v: want an error", change)
			}
		}
		if err := st.CompleteCall(ctx, id, "maybe", 0, "", nil); err == nil {
			t.Error("CompleteCall with unknown outcome: want an error")
		}
		calls, _ := st.ListCalls(ctx, run)
		if len(calls) != 1 || calls[0].Outcome != journal.CallPending {
			t.Errorf("after refused input, calls = %+v, want the one pending call", calls)
		}
		if s := loadState(t, st, "corp"); len(s.Members)+len(s.Departments) != 0 {
			t.Errorf("refused changes reached state: %+v", s)
		}
	})

	t.Run("Rejects", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		other := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		want := []journal.Reject{
			{RunID: run, SourceRef: "hr.csv:7", Column: "mobile", Rule: "mobile_format", Message: "手机号格式不正确", UserID: "ZhangSan"},
			{RunID: run, SourceRef: "hr.csv:9", Rule: "duplicate_userid", Message: "duplicate of hr.csv:3"},
		}
		for _, r := range want {
			if err := st.AddReject(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AddReject(ctx, journal.Reject{RunID: other, Message: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
		got, err := st.ListRejects(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(journal.Reject{}, "CreatedAt")); diff != "" {
			t.Errorf("ListRejects (-want +got):\n%s", diff)
		}
		for _, r := range got {
			if time.Since(r.CreatedAt) > time.Hour || r.CreatedAt.Location() != time.UTC {
				t.Errorf("reject %s created at %v, want about now, in UTC", r.SourceRef, r.CreatedAt)
			}
		}
		// A member's rows across runs, by userid, case-insensitively.
		if err := st.AddReject(ctx, journal.Reject{RunID: other, SourceRef: "hr.csv:7", Rule: "leader_kept", UserID: "zhangsan"}); err != nil {
			t.Fatal(err)
		}
		mine, err := st.MemberRejects(ctx, "ZHANGSAN")
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 2 || mine[0].RunID != run || mine[1].RunID != other || mine[1].Rule != "leader_kept" {
			t.Errorf("MemberRejects = %+v, want the mobile_format row, then the leader_kept one", mine)
		}
		if got, _ := st.ListRejects(ctx, 4242); len(got) != 0 {
			t.Errorf("ListRejects of a missing run = %v, want none", got)
		}
	})

	t.Run("HistoryIsAppendOnlyInTheDatabase", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		st := fresh(t)
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		done := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "op", Target: "a"})
		if err := st.CompleteCall(ctx, done, journal.CallOK, 0, "", nil); err != nil {
			t.Fatal(err)
		}
		pending := beginCall(t, st, journal.Call{RunID: run, Seq: 2, Operation: "op", Target: "b"})
		if err := st.AddReject(ctx, journal.Reject{RunID: run, Message: "m"}); err != nil {
			t.Fatal(err)
		}
		finished := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		if err := st.FinishRun(ctx, finished, journal.RunDone, nil); err != nil {
			t.Fatal(err)
		}
		refused := []struct {
			sql  string
			args []any
		}{
			{`UPDATE calls SET errcode = 1 WHERE id = $1`, []any{done}},
			{`UPDATE calls SET target = 'c' WHERE id = $1`, []any{pending}},
			{`UPDATE calls SET reason = 'x' WHERE id = $1`, []any{pending}},
			{`UPDATE calls SET before_record = '{}' WHERE id = $1`, []any{pending}},
			{`DELETE FROM calls WHERE id = $1`, []any{pending}},
			{`UPDATE rejects SET message = 'x'`, nil},
			{`DELETE FROM rejects`, nil},
			{`UPDATE runs SET status = 'failed' WHERE id = $1`, []any{finished}},
			{`UPDATE runs SET job = 'other' WHERE id = $1`, []any{run}},
			{`DELETE FROM runs WHERE id = $1`, []any{finished}},
		}
		for _, q := range refused {
			if err := rawExec(st, q.sql, q.args...); err == nil {
				t.Errorf("%s: the database allowed it", q.sql)
			}
		}
		// The one permitted change: recording a pending call's answer.
		if err := rawExec(st, `UPDATE calls SET outcome = 'failed', finished_at = started_at WHERE id = $1`, pending); err != nil {
			t.Errorf("completing a pending call by hand: %v", err)
		}
	})

	t.Run("SurvivesReopen", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		dsn := newDSN(t)
		st, err := journal.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		run := startRun(t, st, journal.Run{Job: "j", CorpID: "corp"})
		id := beginCall(t, st, journal.Call{RunID: run, Seq: 1, Operation: "user_create", Target: "a", Payload: json.RawMessage(`{"userid":"a"}`)})
		if err := st.CompleteCall(ctx, id, journal.CallOK, 0, "", &plan.StateChange{PutMember: &plan.AppliedMember{UserID: "A", Hash: "h"}}); err != nil {
			t.Fatal(err)
		}
		inflight := beginCall(t, st, journal.Call{RunID: run, Seq: 2, Operation: "user_create", Target: "b"})
		if err := st.AddReject(ctx, journal.Reject{RunID: run, SourceRef: "x:1", Message: "bad"}); err != nil {
			t.Fatal(err)
		}
		wantCalls, _ := st.ListCalls(ctx, run)
		wantState := loadState(t, st, "corp")
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}

		st = open(t, dsn)
		gotCalls, err := st.ListCalls(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wantCalls, gotCalls); diff != "" {
			t.Errorf("calls after reopen (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(wantState, loadState(t, st, "corp")); diff != "" {
			t.Errorf("state after reopen (-before +after):\n%s", diff)
		}
		if r, _ := st.ListRejects(ctx, run); len(r) != 1 {
			t.Errorf("rejects after reopen = %v", r)
		}
		// The call left in flight can still be completed after a restart.
		if err := st.CompleteCall(ctx, inflight, journal.CallOK, 0, "", nil); err != nil {
			t.Errorf("completing the in-flight call after reopen: %v", err)
		}
	})
}

// jsonEqual compares JSON by meaning: PostgreSQL's jsonb normalizes spacing
// and key order of call payloads.
var jsonEqual = cmp.Comparer(func(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return cmp.Equal(x, y)
})

func startRun(t *testing.T, st journal.Store, r journal.Run) int64 {
	t.Helper()
	id, err := st.StartRun(context.Background(), r)
	if err != nil {
		t.Fatalf("start run: %v", err)
	}
	return id
}

func beginCall(t *testing.T, st journal.Store, c journal.Call) int64 {
	t.Helper()
	id, err := st.BeginCall(context.Background(), c)
	if err != nil {
		t.Fatalf("begin call: %v", err)
	}
	return id
}

func loadState(t *testing.T, st journal.Store, corp string) plan.State {
	t.Helper()
	s, err := st.LoadState(context.Background(), corp, journal.EveryRecord)
	if err != nil {
		t.Fatalf("load state: %v", err)
	}
	return s
}

func runIDs(runs []journal.Run) []int64 {
	var ids []int64
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}

func callIDs(calls []journal.Call) []int64 {
	var ids []int64
	for _, c := range calls {
		ids = append(ids, c.ID)
	}
	return ids
}

// rawExec and count reach past the Store to the tables, as an auditor or an
// operator with a SQL shell would.
func rawExec(st journal.Store, query string, args ...any) error {
	ctx := context.Background()
	switch s := st.(type) {
	case *journal.Postgres:
		_, err := s.Pool().Exec(ctx, query, args...)
		return err
	case *journal.SQLite:
		_, err := s.DB().ExecContext(ctx, query, args...)
		return err
	}
	return fmt.Errorf("unknown store %T", st)
}

func count(t *testing.T, st journal.Store, query string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	var n int
	var err error
	switch s := st.(type) {
	case *journal.Postgres:
		err = s.Pool().QueryRow(ctx, query, args...).Scan(&n)
	case *journal.SQLite:
		err = s.DB().QueryRowContext(ctx, query, args...).Scan(&n)
	default:
		err = fmt.Errorf("unknown store %T", st)
	}
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
