package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
)

func TestTextExposition(t *testing.T) {
	r := &Registry{}
	c := r.Counter("x_total", "Things.\nCounted.", "job")
	c.Add(2, `we"ird\job`)
	c.Add(1, "a")
	r.Gauge("g", "A gauge.").Set(1.5)
	h := r.Histogram("d_seconds", "Durations.", []float64{1, 5}, "job")
	h.Observe(0.5, "a")
	h.Observe(5, "a")
	h.Observe(7, "a")
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_total Things.\nCounted.
# TYPE x_total counter
x_total{job="a"} 1
x_total{job="we\"ird\\job"} 2
# HELP g A gauge.
# TYPE g gauge
g 1.5
# HELP d_seconds Durations.
# TYPE d_seconds histogram
d_seconds_bucket{job="a",le="1"} 1
d_seconds_bucket{job="a",le="5"} 2
d_seconds_bucket{job="a",le="+Inf"} 3
d_seconds_sum{job="a"} 12.5
d_seconds_count{job="a"} 3
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestObserveRun(t *testing.T) {
	m := NewImporter()
	m.ObserveRun(&runner.Report{
		Job: "staff", Status: "done", Rows: 30, Started: time.Unix(1000, 0), Duration: 2 * time.Second,
		Summary: executor.Summary{Counts: map[string]int{"user_create/ok": 29, "user_update/failed": 1}, Errcodes: map[int]int{60104: 1}},
	})
	m.ObserveCall("ww-a", wecom.CallInfo{API: "user/create", Errcode: 0, Duration: 30 * time.Millisecond, LimiterWait: 1500 * time.Millisecond})
	m.ObserveCall("ww-b", wecom.CallInfo{API: "user/create", Errcode: 0, Duration: 30 * time.Millisecond, LimiterWait: 500 * time.Millisecond})
	var b strings.Builder
	_ = m.Registry().WriteText(&b)
	for _, want := range []string{
		`hrfeed_runs_total{job="staff",status="done"} 1`,
		`hrfeed_operations_total{job="staff",kind="user_create",outcome="ok"} 29`,
		`hrfeed_operations_total{job="staff",kind="user_update",outcome="failed"} 1`,
		`hrfeed_run_errcodes_total{job="staff",errcode="60104"} 1`,
		`hrfeed_last_success_timestamp_seconds{job="staff"} 1002`,
		`hrfeed_run_duration_seconds_count{job="staff"} 1`,
		`hrfeed_wecom_calls_total{corp="ww-a",api="user/create",errcode="0"} 1`,
		`hrfeed_wecom_limiter_wait_seconds_total{corp="ww-a",api="user/create"} 1.5`,
		`hrfeed_wecom_calls_total{corp="ww-b",api="user/create",errcode="0"} 1`,
		`hrfeed_wecom_limiter_wait_seconds_total{corp="ww-b",api="user/create"} 0.5`,
		`hrfeed_wecom_call_duration_seconds_count{corp="ww-b",api="user/create"} 1`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %s", want)
		}
	}
	var nilM *Importer
	nilM.ObserveRun(&runner.Report{}) // callers without metrics need no checks
}

func TestBuildInfoAndNextRun(t *testing.T) {
	m := NewImporter()
	m.BuildInfo("v1.2.3")
	m.NextRun("staff", time.Unix(1800000000, 0))
	m.NextRun("staff", time.Unix(1800003600, 0))
	var b strings.Builder
	_ = m.Registry().WriteText(&b)
	for _, want := range []string{
		`hrfeed_build_info{version="v1.2.3"} 1`,
		`hrfeed_job_next_run_timestamp_seconds{job="staff"} 1.8000036e+09`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
