package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// mapFeed reads a feed through the job's mapping, as a run does.
func mapFeed(ctx context.Context, cfgPath, feedPath string) (mapper.Directory, error) {
	c, err := config.Load(cfgPath)
	if err != nil {
		return mapper.Directory{}, err
	}
	params, err := runner.ForJob(c, "", runner.Options{Source: feedPath})
	if err != nil {
		return mapper.Directory{}, err
	}
	dir, err := runner.ReadDirectory(ctx, params)
	if err != nil {
		return mapper.Directory{}, err
	}
	if len(dir.Rejects) > 0 {
		return dir, fmt.Errorf("the generated feed has %d rejected rows, e.g. %v", len(dir.Rejects), dir.Rejects[0])
	}
	return dir, nil
}

// applied is a directory as if a first import had applied it: the
// journal's state and WeCom's live listing, with department ids assigned
// parents first from 2 (1 is WeCom's root), as the emulator would.
type applied struct {
	State plan.State
	Live  plan.Live
	ids   map[string]int
}

func applyDirectory(dir mapper.Directory) applied {
	a := applied{
		State: plan.State{Departments: map[string]plan.AppliedDepartment{}, Members: map[string]member.Digest{}, Records: map[string]member.Record{}},
		Live:  plan.Live{Users: map[string]string{}, Departments: map[int]plan.LiveDept{1: {ID: 1}}},
		ids:   map[string]int{"": 1},
	}
	for i, d := range dir.Departments {
		id, parent := i+2, a.ids[d.ParentKey]
		a.ids[d.Key] = id
		a.State.Departments[d.Key] = plan.AppliedDepartment{Key: d.Key, WeComID: id, ParentID: parent, Name: d.Name, Order: d.Order}
		a.Live.Departments[id] = plan.LiveDept{ID: id, ParentID: parent}
	}
	for _, m := range dir.Members {
		r := m.Record()
		a.State.Members[strings.ToLower(r.UserID)], a.State.Records[strings.ToLower(r.UserID)] = r.Digest(), *r
		a.Live.Users[strings.ToLower(r.UserID)] = r.UserID
	}
	return a
}

// simState is the emulator's state file (wecomsim.SaveFile / LoadFile,
// also `importer sim --state`): the only public way to give it a large
// directory without sending every create through its HTTP API.
type simState struct {
	Version     int                 `json:"version"`
	Users       []simUser           `json:"users"`
	Departments []wecomsim.SnapDept `json:"departments"`
	NextDeptID  int                 `json:"next_dept_id"`
	NextSeq     int64               `json:"next_seq"`
}

type simUser struct {
	wecomsim.SnapUser
	Seq int64 `json:"seq"`
}

// seedEmulator loads dir into the emulator as applied, with the fields a
// first import would have sent.
func seedEmulator(sim *wecomsim.Server, dir mapper.Directory, a applied, path string) error {
	st := simState{Version: 1, Departments: []wecomsim.SnapDept{{ID: 1, Name: corpID}}}
	for _, d := range dir.Departments {
		ad := a.State.Departments[d.Key]
		st.Departments = append(st.Departments, wecomsim.SnapDept{ID: ad.WeComID, Name: d.Name, ParentID: ad.ParentID, Order: d.Order})
	}
	for i, m := range dir.Members {
		r := m.Record()
		u := wecomsim.SnapUser{UserID: r.UserID, Name: r.Name, Mobile: r.Mobile, Email: r.Email, Position: r.Position,
			Gender: r.Gender, DirectLeader: r.DirectLeader, Enable: 1, Status: 4}
		for _, k := range r.DeptKeys {
			u.Department = append(u.Department, a.ids[k])
		}
		if len(u.Department) > 0 {
			u.MainDepartment = u.Department[0]
		}
		st.Users = append(st.Users, simUser{SnapUser: u, Seq: int64(i + 1)})
	}
	st.NextDeptID = len(dir.Departments) + 2
	st.NextSeq = int64(len(dir.Members) + 1)
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return err
	}
	return sim.LoadFile(path)
}

// seedJournal records dir as applied through the journal's own API: one
// run with one completed call per department and member, carrying the
// state change a first import's executor would have recorded. Members go
// through 64 concurrent writers, as many as the embedded journal's group
// commit puts in one transaction, so seeding pays one fsync per batch.
func seedJournal(ctx context.Context, st journal.Store, dir mapper.Directory, a applied, source string) error {
	host, _ := os.Hostname()
	runID, err := st.StartRun(ctx, journal.Run{Job: "staff", CorpID: corpID, Source: source, Mode: "run",
		Status: journal.RunRunning, Host: host, StartedAt: time.Now()})
	if err != nil {
		return err
	}
	record := func(c journal.Call, change *plan.StateChange) error {
		c.RunID, c.Attempt, c.StartedAt = runID, 1, time.Now()
		id, err := st.BeginCall(ctx, c)
		if err != nil {
			return err
		}
		return st.CompleteCall(ctx, id, journal.CallOK, 0, "ok", change)
	}
	seq := 0
	for _, d := range dir.Departments {
		ad := a.State.Departments[d.Key]
		ad.RunID = runID
		seq++
		payload, _ := json.Marshal(wecom.Department{Name: d.Name, ParentID: ad.ParentID, Order: d.Order})
		if err := record(journal.Call{Seq: seq, Phase: "departments", Operation: "department_create", API: "department/create",
			Target: d.Key, SourceRef: d.Ref, Payload: payload}, &plan.StateChange{PutDepartment: &ad}); err != nil {
			return err
		}
	}
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	base := seq
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(dir.Members) {
					return
				}
				m := dir.Members[i]
				r := m.Record()
				am := plan.AppliedMember{UserID: r.UserID, Payload: r.JSON(), Hash: r.Hash(), Enabled: r.Enabled, RunID: runID}
				err := record(journal.Call{Seq: base + i + 1, Phase: "members", Operation: "user_create", API: "user/create",
					Target: r.UserID, SourceRef: m.Ref, Payload: r.JSON()}, &plan.StateChange{PutMember: &am})
				if err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return st.FinishRun(ctx, runID, journal.RunDone, map[string]int{
		"department_create/ok": len(dir.Departments), "user_create/ok": len(dir.Members), "rows": dir.Rows})
}
