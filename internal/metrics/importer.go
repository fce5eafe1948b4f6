package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
)

// Importer is the set of metrics `importer serve` exposes. Every method is
// safe on a nil *Importer, so callers without metrics need no checks.
type Importer struct {
	reg *Registry

	runs          *Counter
	runDuration   *Histogram
	lastSuccess   *Gauge
	lastRun       *Gauge
	rows          *Counter
	rejected      *Counter
	operations    *Counter
	runErrcodes   *Counter
	calls         *Counter
	callDuration  *Histogram
	limiterWait   *Counter
	running       *Gauge
	occurrences   *Counter
	staleRuns     *Counter
	notifications *Counter
	buildInfo     *Gauge
	nextRun       *Gauge
}

// NewImporter registers the importer's metric families.
func NewImporter() *Importer {
	r := &Registry{}
	return &Importer{
		reg: r,
		runs: r.Counter("hrfeed_runs_total",
			"Finished runs by job and status (done, partial, failed, refused, canceled).", "job", "status"),
		runDuration: r.Histogram("hrfeed_run_duration_seconds", "Wall time of finished runs.",
			[]float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}, "job"),
		lastSuccess: r.Gauge("hrfeed_last_success_timestamp_seconds",
			"Unix time at which the job's last run with status done finished.", "job"),
		lastRun: r.Gauge("hrfeed_last_run_timestamp_seconds",
			"Unix time at which the job's last run finished, whatever its status.", "job"),
		rows: r.Counter("hrfeed_rows_read_total", "Source rows read by runs.", "job"),
		rejected: r.Counter("hrfeed_rows_rejected_total",
			"Source rows refused before any WeCom call (bad field, duplicate, feed rule).", "job"),
		operations: r.Counter("hrfeed_operations_total",
			"Planned operations by kind (user_create, ...) and outcome (ok, adopted, failed, ...).", "job", "kind", "outcome"),
		runErrcodes: r.Counter("hrfeed_run_errcodes_total",
			"WeCom errcodes answered to the runs' calls, each attempt counted (retried ones too), by job.", "job", "errcode"),
		// WeCom's limits and tokens are per corp, so its figures are too.
		calls: r.Counter("hrfeed_wecom_calls_total",
			"WeCom HTTP round trips by corp id, API path and errcode (HTTP status or -1 for transport failures), retries and gettoken included.", "corp", "api", "errcode"),
		callDuration: r.Histogram("hrfeed_wecom_call_duration_seconds", "Duration of WeCom HTTP round trips, by corp id and API path.",
			[]float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}, "corp", "api"),
		limiterWait: r.Counter("hrfeed_wecom_limiter_wait_seconds_total",
			"Time WeCom calls waited for their turn under the corp's per-API rate limits, by corp id and API path.", "corp", "api"),
		buildInfo: r.Gauge("hrfeed_build_info", "1, labelled with the importer's version.", "version"),
		nextRun: r.Gauge("hrfeed_job_next_run_timestamp_seconds",
			"Unix time of the job's next scheduled occurrence.", "job"),
		running: r.Gauge("hrfeed_job_running",
			"1 while this replica is running the job, else 0.", "job"),
		occurrences: r.Counter("hrfeed_schedule_occurrences_total",
			"Scheduled occurrences seen by this replica, by outcome: ran, claimed_elsewhere, busy, error.", "job", "outcome"),
		staleRuns: r.Counter("hrfeed_stale_runs_total",
			"Runs abandoned by another process (stale heartbeat) or handed off on shutdown, by what this replica did: resumed, marked_failed.", "job", "action"),
		notifications: r.Counter("hrfeed_notifications_total",
			"Run notifications sent, by target (wecom_robot, webhook) and result (ok, error).", "target", "result"),
	}
}

// Handler serves the /metrics page.
func (m *Importer) Handler() http.Handler { return m.reg }

// Registry exposes the underlying registry (for tests and extra families).
func (m *Importer) Registry() *Registry { return m.reg }

// ObserveRun records a finished run from its report.
func (m *Importer) ObserveRun(rep *runner.Report) {
	if m == nil || rep == nil {
		return
	}
	job := rep.Job
	m.runs.Add(1, job, string(rep.Status))
	m.runDuration.Observe(rep.Duration.Seconds(), job)
	end := float64(rep.Started.Add(rep.Duration).UnixNano()) / 1e9
	m.lastRun.Set(end, job)
	if rep.Status == journal.RunDone {
		m.lastSuccess.Set(end, job)
	}
	m.rows.Add(float64(rep.Rows), job)
	m.rejected.Add(float64(len(rep.Rejects)), job)
	for k, n := range rep.Summary.Counts {
		kind, outcome, _ := strings.Cut(k, "/")
		m.operations.Add(float64(n), job, kind, outcome)
	}
	for code, n := range rep.Summary.Errcodes {
		m.runErrcodes.Add(float64(n), job, strconv.Itoa(code))
	}
}

// ObserveCall records one WeCom round trip to corp corpID; call it from
// the corp's client's wecom.Config.OnCall.
func (m *Importer) ObserveCall(corpID string, c wecom.CallInfo) {
	if m == nil {
		return
	}
	m.calls.Add(1, corpID, c.API, strconv.Itoa(c.Errcode))
	m.callDuration.Observe(c.Duration.Seconds(), corpID, c.API)
	m.limiterWait.Add(c.LimiterWait.Seconds(), corpID, c.API)
}

// Running marks the job as running (or not) on this replica.
func (m *Importer) Running(job string, on bool) {
	if m == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	m.running.Set(v, job)
}

// Occurrence counts what became of a scheduled occurrence here.
func (m *Importer) Occurrence(job, outcome string) {
	if m != nil {
		m.occurrences.Add(1, job, outcome)
	}
}

// BuildInfo records which importer this is.
func (m *Importer) BuildInfo(version string) {
	if m != nil {
		m.buildInfo.Set(1, version)
	}
}

// NextRun records when the job's next occurrence is due.
func (m *Importer) NextRun(job string, at time.Time) {
	if m != nil {
		m.nextRun.Set(float64(at.Unix()), job)
	}
}

// StaleRun counts an abandoned or handed-off run this replica dealt with.
func (m *Importer) StaleRun(job, action string) {
	if m != nil {
		m.staleRuns.Add(1, job, action)
	}
}

// Notification counts a notification attempt.
func (m *Importer) Notification(target string, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.notifications.Add(1, target, result)
}

// Touch makes job's series appear at zero before its first run, so a
// dashboard or alert sees the job from the moment serve starts.
func (m *Importer) Touch(job string) {
	if m == nil {
		return
	}
	m.running.Set(0, job)
	m.rows.Add(0, job)
	m.rejected.Add(0, job)
}
