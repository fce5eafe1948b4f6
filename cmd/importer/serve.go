package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/health"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/metrics"
	"github.com/hrfeed/importer/internal/notify"
	"github.com/hrfeed/importer/internal/runlog"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/schedule"
)

func (a *app) serveCommand() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the jobs on their schedules until SIGTERM; serve /healthz, /readyz and /metrics",
		Long: `Runs every job that has a schedule, on its cron spec. Several replicas may
serve one PostgreSQL journal: each occurrence runs once, a job never
overlaps itself, and a run abandoned by a dead replica is resumed by
another. On SIGTERM scheduling stops and a running job may finish within
serve.grace; after that it is interrupted at a resumable point. Logs are
JSON lines on stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), configPath)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (YAML)")
	return cmd
}

// serveLogger logs JSON at Info (Debug with -v); records made with a run's
// context get its job and run id.
func (a *app) serveLogger() *slog.Logger {
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	return slog.New(runlog.Handler(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: level})))
}

func (a *app) serve(ctx context.Context, configPath string) error {
	c, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	log := a.serveLogger()
	m := metrics.NewImporter()
	m.BuildInfo(buildVersion())
	clients := newCorpClients(log, m.ObserveCall)
	if err := serveCorps(c, clients, log); err != nil {
		return err
	}
	store, err := openConfigJournal(ctx, c)
	if err != nil {
		return err
	}
	defer store.Close()
	if dsn, _ := c.JournalDSN(); !journal.IsPostgresDSN(dsn) {
		log.Warn("serve: the embedded journal allows a single replica; set " + c.Journal.DSNEnv + " to a PostgreSQL URL to run several")
	}

	svc, err := serveService(c, store, clients, m, log)
	if err != nil {
		return fatal(fmt.Errorf("config %s: %w", configPath, err))
	}

	ln, err := net.Listen("tcp", c.Serve.Listen)
	if err != nil {
		return fatal(fmt.Errorf("serve.listen: %w", err))
	}
	srv := &http.Server{
		Handler: health.Handler(func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return health.JournalReady(ctx, store)
		}, m.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
	}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	log.Info("serve: listening", "addr", ln.Addr().String())

	if err := svc.Serve(ctx); err != nil {
		return fatal(err)
	}
	// /healthz stays up through the grace period so an orchestrator does
	// not kill the process while it finishes a run.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-httpDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fatal(fmt.Errorf("http: %w", err))
	}
	return nil
}

// serveService is serve's scheduler of c's jobs on store: runs made by
// serveRunner with the corps' clients, counted in m and announced by the
// configured notifications.
func serveService(c *config.Config, store journal.Store, clients *corpClients, m *metrics.Importer, log *slog.Logger) (*schedule.Service, error) {
	notifier := newNotifier(c.Serve.Notify)
	notifier.OnSend = m.Notification
	host, _ := os.Hostname()
	jobs := make([]schedule.Job, len(c.Jobs))
	for i, j := range c.Jobs {
		jobs[i] = schedule.Job{Name: j.Name, Spec: j.Schedule}
	}
	return schedule.New(schedule.Options{
		Jobs:            jobs,
		Store:           store,
		Run:             serveRunner(c, clients.forRun),
		OnFinish:        notifyFinished(c, store, notifier, host, log),
		Logger:          log,
		Metrics:         m,
		Grace:           c.Serve.Grace,
		Heartbeat:       c.Serve.Heartbeat,
		StaleAfter:      c.Serve.StaleAfter,
		StaleCheck:      c.Serve.StaleCheck,
		ResumeStale:     *c.Serve.ResumeStale,
		KeepOccurrences: c.Serve.KeepOccurrences,
	})
}

// serveCorps makes the client of every corp a scheduled job syncs, so a
// missing secret stops serve at start rather than failing a run at night,
// and logs which jobs each corp has. Corps only unscheduled jobs sync need
// no secret on a host that only serves.
func serveCorps(c *config.Config, clients *corpClients, log *slog.Logger) error {
	var corps []config.Corp
	jobs := map[string][]string{}
	for i := range c.Jobs {
		job := &c.Jobs[i]
		if job.Schedule == "" {
			continue
		}
		corp, err := c.CorpOf(job)
		if err != nil {
			return fatal(fmt.Errorf("job %s: %w", job.Name, err))
		}
		if jobs[corp.CorpID] == nil {
			corps = append(corps, corp)
		}
		jobs[corp.CorpID] = append(jobs[corp.CorpID], job.Name)
	}
	for _, corp := range corps {
		if _, err := clients.client(corp); err != nil {
			return fatal(err)
		}
		log.Info("serve: corp", "corp", corp.Key(), "corp_id", corp.CorpID, "jobs", jobs[corp.CorpID])
	}
	return nil
}

// serveRunner makes the service's runs with the CLI's wiring: the same
// runner.Params as `importer run` and `importer resume`, with the
// service's store (which records the run in the job's lease) and logger.
func serveRunner(c *config.Config, clients runner.ClientFor) schedule.RunFunc {
	return func(ctx context.Context, req schedule.RunRequest) (*runner.Report, error) {
		trigger := "schedule"
		if req.ResumedFrom != 0 {
			trigger = "resume"
		}
		params, err := runner.ForJob(c, req.Job, runner.Options{
			Source: req.Source, ResumedFrom: req.ResumedFrom, Store: req.Store, Clients: clients, Logger: req.Logger,
			Trigger: trigger, Version: buildVersion(),
		})
		if err != nil {
			return nil, err
		}
		return runner.Run(ctx, params)
	}
}

func newNotifier(n config.Notify) *notify.Notifier {
	var robotURL, webhookURL string
	if n.WeComRobot.KeyEnv != "" {
		robotURL = notify.RobotURL(n.WeComRobot.BaseURL, os.Getenv(n.WeComRobot.KeyEnv))
	}
	if n.Webhook.URLEnv != "" {
		webhookURL = os.Getenv(n.Webhook.URLEnv)
	}
	return notify.New(notify.Config{
		RobotURL: robotURL, WebhookURL: webhookURL, On: n.On, Language: n.Language,
		HTTPClient: &http.Client{Timeout: n.Timeout},
	})
}

// notifyFinished announces each finished run, listing its failed calls
// from the journal.
func notifyFinished(c *config.Config, store journal.Store, n *notify.Notifier, host string, log *slog.Logger) func(context.Context, schedule.Finished) {
	return func(ctx context.Context, f schedule.Finished) {
		if !n.Enabled() {
			return
		}
		log := log.With("job", f.Job)
		var msg notify.Run
		if f.Report == nil {
			msg = notify.Run{Job: f.Job, Status: string(journal.RunFailed), Trigger: f.Trigger, Host: host,
				Started: time.Now(), ResumedFrom: f.ResumedFrom, Show: "importer journal runs"}
			if f.Err != nil {
				msg.Error = f.Err.Error()
			}
		} else {
			log = log.With("run_id", f.Report.RunID)
			var calls []journal.Call
			if f.Report.Summary.Failed > 0 {
				// The failed calls only: a first import's run has a call per
				// member, and serve keeps running after it.
				err := store.EachCall(ctx, f.Report.RunID, func(c journal.Call) error {
					if c.Outcome == journal.CallFailed {
						calls = append(calls, c)
					}
					return nil
				})
				if err != nil {
					log.Warn("notify: could not list the run's calls", "err", err)
				}
			}
			msg = notify.FromReport(f.Report, f.Trigger, host, f.ResumedFrom, calls)
		}
		if job, err := c.Job(f.Job); err == nil {
			msg.Zone = specZone(job.Schedule)
		}
		if err := n.Notify(ctx, msg); err != nil {
			log.Warn("notify: not delivered", "err", err)
		}
	}
}

// specZone is the time zone a schedule names with CRON_TZ= or TZ=, so a
// notification gives its times where the job's night is; "" without one.
func specZone(spec string) string {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, p); ok {
			zone, _, _ := strings.Cut(rest, " ")
			return zone
		}
	}
	return ""
}
