// Command importer keeps a WeCom contacts directory in step with an HR
// feed. See README.md for the commands and their exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom"
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func fatal(err error) error { return &exitError{code: exitFatal, err: err} }

// app is what every subcommand shares.
type app struct {
	stdout, stderr io.Writer
	verbose        bool
	logJSON        bool
	// story is set by commands whose output is the story itself (demo):
	// info logs would only interleave with it.
	story bool
}

// logger logs for the reader at hand: on a terminal a person watches the
// progress lines and the summary, so only warnings are logged, as text;
// under cron or systemd (stderr not a terminal) every run start and end is
// logged as JSON lines a log collector can parse.
func (a *app) logger() *slog.Logger {
	level := slog.LevelInfo
	if isTerminal(a.stderr) || a.story {
		level = slog.LevelWarn
	}
	if a.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if a.jsonStream() {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// jsonStream tells whether stderr carries JSON lines: asked for, or read by
// a log collector rather than a person. Everything written to it then is
// JSON, fatal errors included, so one parser reads the whole stream.
func (a *app) jsonStream() bool {
	return a.logJSON || !isTerminal(a.stderr)
}

// fail reports the error that ends the command, in the stream's format.
func (a *app) fail(err error, code int) {
	if a.jsonStream() {
		a.logger().Error("importer: "+err.Error(), "exit_code", code)
		return
	}
	fmt.Fprintln(a.stderr, "importer:", err)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			a.fail(ee.err, ee.code)
		}
		return ee.code
	}
	// Anything cobra itself rejects (unknown flag, missing argument) is a usage error.
	a.fail(err, exitUsage)
	return exitUsage
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "importer",
		Short:         "Keep a WeCom contacts directory in step with an HR feed",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVarP(&a.verbose, "verbose", "v", false, "log every operation (to stderr)")
	root.PersistentFlags().BoolVar(&a.logJSON, "log-json", false, "log as JSON lines instead of text")
	root.AddCommand(a.runCommand(), a.planCommand(), a.resumeCommand(), a.journalCommand(),
		a.migrateCommand(), a.simCommand(), a.demoCommand(), a.serveCommand(), a.benchCommand(), a.versionCommand(), a.checkCommand(),
		a.initCommand(), a.applyCommand())
	root.Version = buildVersion()
	root.SetVersionTemplate("importer {{.Version}}\n")
	return root
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, &exitError{code: exitUsage, err: errors.New("--config FILE is required")}
	}
	c, err := config.Load(path)
	if err != nil {
		return nil, fatal(err)
	}
	return c, nil
}

// openConfigJournal opens the journal c names: DATABASE_URL (or
// journal.dsn_env) if set, which must then be PostgreSQL, else journal.path.
func openConfigJournal(ctx context.Context, c *config.Config) (journal.Store, error) {
	dsn, err := c.JournalDSN()
	if err != nil {
		return nil, fatal(err)
	}
	return openJournal(ctx, dsn, journal.WithRetry(journal.Retry{Writes: c.Journal.RetryFor, Finish: c.Journal.RetryFor}))
}

func openJournal(ctx context.Context, dsn string, opts ...journal.Option) (journal.Store, error) {
	st, err := journal.Open(ctx, dsn, opts...)
	if err != nil {
		return nil, fatal(err)
	}
	return st, nil
}

// corpClients makes the WeCom client of each corp on first use and keeps
// it: WeCom issues tokens and counts its rate limits per corp and per API,
// so the jobs of one corp share one client, its token cache and its
// limiters, and no two corps share either.
type corpClients struct {
	log *slog.Logger
	// onCall, if set, sees every round trip with its corp's id (metrics).
	onCall func(corpID string, ci wecom.CallInfo)
	// secret reads a corp's secret; readCorpSecret unless the caller holds
	// the secret itself (demo).
	secret func(config.Corp, *slog.Logger) (string, error)
	// transport carries the clients' requests; nil is the wecom package's
	// pooled one. Tests hand requests to emulators in memory with it, so
	// runs can go inside a testing/synctest bubble.
	transport http.RoundTripper

	mu   sync.Mutex
	made map[string]*wecom.Client // by corp id
}

func newCorpClients(log *slog.Logger, onCall func(string, wecom.CallInfo)) *corpClients {
	return &corpClients{log: log, onCall: onCall, secret: readCorpSecret, made: map[string]*wecom.Client{}}
}

// readCorpSecret reads a corp's secret and logs what is wrong with how it
// is kept (a secret file others can read).
func readCorpSecret(corp config.Corp, log *slog.Logger) (string, error) {
	secret, warnings, err := corp.ReadSecret()
	for _, w := range warnings {
		log.Warn(w)
	}
	return secret, err
}

// client is corp's client, made with its secret the first time.
func (p *corpClients) client(corp config.Corp) (*wecom.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cl := p.made[corp.CorpID]; cl != nil {
		return cl, nil
	}
	secret, err := p.secret(corp, p.log)
	if err != nil {
		return nil, err
	}
	var onCall func(wecom.CallInfo)
	if p.onCall != nil {
		id := corp.CorpID
		onCall = func(ci wecom.CallInfo) { p.onCall(id, ci) }
	}
	cl, err := wecom.New(wecom.Config{
		BaseURL:    corp.BaseURL,
		CorpID:     corp.CorpID,
		Secret:     secret,
		HTTPClient: &http.Client{Timeout: corp.Timeout, Transport: p.transport},
		Limits:     wecom.Limits{PerMinute: corp.PerMinute, PerHour: corp.PerHour},
		Logger:     p.log,
		OnCall:     onCall,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", corp.Key(), err)
	}
	p.made[corp.CorpID] = cl
	return cl, nil
}

// forRun is client as runner.Options.Clients takes it.
func (p *corpClients) forRun(corp config.Corp) (runner.Client, error) {
	cl, err := p.client(corp)
	if err != nil {
		return nil, err
	}
	return cl, nil
}
