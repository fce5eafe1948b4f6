package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/schedule"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// TestServeRunsDepartmentTableJob: a scheduled run of a job whose
// departments come from their own table reads that table, as `importer
// run` does, so it ends done with nothing rejected. serve once built its
// runs by hand and left the department source out: every row was rejected
// as department_unknown.
func TestServeRunsDepartmentTableJob(t *testing.T) {
	sim := wecomsim.New(wecomsim.Options{CorpID: "ww-demo", Secrets: []wecomsim.Secret{{Value: testSecret, Kind: wecomsim.SyncEdit}}})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("importer.yaml", fmt.Sprintf(`
wecom: {base_url: %q, corp_id: ww-demo}
jobs:
  - name: table
    schedule: "@every 1s"
    source: {path: members.csv}
    department_source: {path: departments.csv}
    mapping:
      fields: {userid: 工号, name: 姓名, mobile: 手机}
      departments:
        table: {id_column: 部门编码, parent_column: 上级部门编码, name_column: 部门名称}
        department_code_column: 部门编码
`, srv.URL))
	write("departments.csv", "部门编码,部门名称,上级部门编码\nD1,总部,\nD2,研发中心,D1\nD3,后端组,D2\n")
	write("members.csv", "工号,姓名,手机,部门编码\nE1,张三,13800000001,D3\nE2,李四,13800000002,D2\n")
	c, err := config.Load(filepath.Join(dir, "importer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	store, err := journal.Open(ctx, filepath.Join(dir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	client, err := wecom.New(wecom.Config{BaseURL: srv.URL, CorpID: "ww-demo", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	finished := make(chan schedule.Finished, 1)
	svc, err := schedule.New(schedule.Options{
		Jobs:  []schedule.Job{{Name: "table", Spec: c.Jobs[0].Schedule}},
		Store: store,
		Run:   serveRunner(c, func(config.Corp) (runner.Client, error) { return client, nil }),
		OnFinish: func(_ context.Context, f schedule.Finished) {
			select {
			case finished <- f:
			default:
			}
			cancel()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Serve(ctx); err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	var f schedule.Finished
	select {
	case f = <-finished:
	default:
		t.Fatal("no scheduled run finished within a minute")
	}
	if f.Report == nil || f.Report.Status != journal.RunDone || len(f.Report.Rejects) != 0 {
		t.Fatalf("scheduled run: %+v", f)
	}
	if n := len(sim.Snapshot().Users); n != 2 {
		t.Errorf("WeCom holds %d members, want 2", n)
	}
}

func TestSpecZone(t *testing.T) {
	for spec, want := range map[string]string{"CRON_TZ=Asia/Shanghai 0 2 * * *": "Asia/Shanghai", "TZ=UTC @daily": "UTC", "@every 1s": ""} {
		if got := specZone(spec); got != want {
			t.Errorf("specZone(%q) = %q, want %q", spec, got, want)
		}
	}
}
