package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/runner"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

type simFlags struct {
	listen, corpID, secret, stateFile string
	readOnlySecret, appSecret         string
	newIP                             bool
	tokenTTL, latency                 time.Duration
	failRate, dropRate                float64
	perMinute, perHour                int
	expiredCode                       int
	seed                              int64
}

func (a *app) simCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim [--listen ADDR] [--corp-id ID] [--secret S] [--latency D] [--fail-rate P] ...",
		Short: "Serve the WeCom contacts emulator (for rehearsals and tests; never a real WeCom)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serveSim(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8088", "address to listen on")
	fl.StringVar(&f.corpID, "corp-id", "ww-demo", "corp id the emulator answers to")
	fl.StringVar(&f.secret, "secret", "demo-sync-secret", "contacts-sync secret with edit rights (emulator only: a real secret never goes on a command line)")
	fl.StringVar(&f.readOnlySecret, "readonly-secret", "", "an extra contacts-sync secret in read-only mode (writes get 48002)")
	fl.StringVar(&f.appSecret, "app-secret", "", "an extra self-built app secret (read-only, writes get 48002)")
	fl.BoolVar(&f.newIP, "new-ip", false, "treat the sync secret as calling from a newly added IP (48009 on detail reads)")
	fl.StringVar(&f.stateFile, "state", "", "load the directory from this JSON file at start and save it on exit")
	fl.DurationVar(&f.tokenTTL, "token-ttl", 2*time.Hour, "access_token lifetime")
	fl.IntVar(&f.expiredCode, "expired-code", 42001, "errcode for an expired token (42001, or 40014 as seen in production)")
	fl.DurationVar(&f.latency, "latency", 0, "added latency per call")
	fl.Float64Var(&f.failRate, "fail-rate", 0, "share of business calls answered with errcode -1 (system busy)")
	fl.Float64Var(&f.dropRate, "drop-rate", 0, "share of business calls whose connection is dropped")
	fl.IntVar(&f.perMinute, "per-minute", 0, "calls per minute per corp and API (0 = WeCom's 10,000; -1 = unlimited)")
	fl.IntVar(&f.perHour, "per-hour", 0, "calls per hour per corp and API (0 = WeCom's 150,000; -1 = unlimited)")
	fl.Int64Var(&f.seed, "seed", 1, "seed for injected faults")
	return cmd
}

func (f simFlags) options() wecomsim.Options {
	secrets := []wecomsim.Secret{{Value: f.secret, Kind: wecomsim.SyncEdit, NewIP: f.newIP}}
	if f.readOnlySecret != "" {
		secrets = append(secrets, wecomsim.Secret{Value: f.readOnlySecret, Kind: wecomsim.SyncReadOnly})
	}
	if f.appSecret != "" {
		secrets = append(secrets, wecomsim.Secret{Value: f.appSecret, Kind: wecomsim.App, Visible: []int{1}})
	}
	return wecomsim.Options{
		CorpID: f.corpID, Secrets: secrets, TokenTTL: f.tokenTTL, ExpiredCode: f.expiredCode,
		Latency: f.latency, FailRate: f.failRate, DropRate: f.dropRate, Seed: f.seed,
		CorpPerMinute: f.perMinute, CorpPerHour: f.perHour,
	}
}

func (a *app) serveSim(ctx context.Context, f simFlags) error {
	if f.secret == "" || f.corpID == "" {
		return &exitError{code: runner.ExitUsage, err: errors.New("--corp-id and --secret must not be empty")}
	}
	sim := wecomsim.New(f.options())
	if f.stateFile != "" {
		// A missing file is a fresh rehearsal directory, created on exit.
		if _, err := os.Stat(f.stateFile); err == nil {
			if err := sim.LoadFile(f.stateFile); err != nil {
				return fatal(fmt.Errorf("sim state: %w", err))
			}
		}
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fatal(err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(a.stdout, "WeCom emulator for corp %s listening on http://%s (state dump: /sim/state); Ctrl-C to stop\n", f.corpID, ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fatal(err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if f.stateFile != "" {
		if err := sim.SaveFile(f.stateFile); err != nil {
			return fatal(fmt.Errorf("sim state: %w", err))
		}
		fmt.Fprintf(a.stdout, "directory saved to %s\n", f.stateFile)
	}
	return nil
}
