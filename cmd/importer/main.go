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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
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

// readSecret reads the corp secret and logs what is wrong with how it is
// kept (a secret file others can read).
func readSecret(c *config.Config, log *slog.Logger) (string, error) {
	secret, warnings, err := c.ReadSecret()
	for _, w := range warnings {
		log.Warn(w)
	}
	return secret, err
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

// newClient is the WeCom client the config describes; onCall (may be nil)
// sees every round trip, for metrics.
func newClient(c *config.Config, secret string, log *slog.Logger, onCall func(wecom.CallInfo)) (*wecom.Client, error) {
	cl, err := wecom.New(wecom.Config{
		BaseURL:    c.WeCom.BaseURL,
		CorpID:     c.WeCom.CorpID,
		Secret:     secret,
		HTTPClient: &http.Client{Timeout: c.WeCom.Timeout},
		Limits:     wecom.Limits{PerMinute: c.WeCom.PerMinute, PerHour: c.WeCom.PerHour},
		Logger:     log,
		OnCall:     onCall,
	})
	if err != nil {
		return nil, fatal(err)
	}
	return cl, nil
}
