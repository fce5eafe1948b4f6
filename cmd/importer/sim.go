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
	"github.com/spf13/pflag"

	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

type simFlags struct {
	listen, corpID, secret, stateFile string
	readOnlySecret, appSecret         string
	newIP                             bool
	tokenTTL, latency                 time.Duration
	failRate, dropRate                float64
	failCodes                         []int
	perMinute, perHour                int
	ipPerMinute, ipPerHour            int
	expiredCode                       int
	seed                              int64
	callLogLimit                      int

	// Switches for the facts docs/wecom.md §8 calls open; see wecomsim's doc.go.
	newTokenEachFetch, expiresInRemaining bool
	deptNameMax, maxUserDepartments       int
	maxDirectLeaders, maxDepth            int
	maxDepartments, maxNodesPerDept       int
	autoCreateDepartment                  bool
	rejectUnicodeEscapes                  bool
	listSizeLimit, badSecretBan           int
	maxImage, maxVoice, maxVideo, maxFile int64
	batchJobDuration                      time.Duration
	replaceUserAbortAtSubmit              bool
	extAttrNames                          []string
	extAttrReplaceOnUpdate                bool
	maxTags, maxTagNodes, tagOwnerCode    int
	tagNoOpMembersInvalid                 bool
	newIPRefusesTagGet                    bool
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
	f.register(cmd.Flags())
	return cmd
}

// register defines the sim flags on fl, bound to f.
func (f *simFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8088", "address to listen on")
	fl.StringVar(&f.corpID, "corp-id", "ww-demo", "corp id the emulator answers to")
	fl.StringVar(&f.secret, "secret", "demo-sync-secret", "contacts-sync secret with edit rights (emulator only: a real secret never goes on a command line)")
	fl.StringVar(&f.readOnlySecret, "readonly-secret", "", "an extra contacts-sync secret in read-only mode (writes get 48002)")
	fl.StringVar(&f.appSecret, "app-secret", "", "an extra self-built app secret: reads the whole corp, writes get 48002 but on tags, which it may create and then change (only it)")
	fl.BoolVar(&f.newIP, "new-ip", false, "treat the sync secret as calling from a newly added IP (48009 on detail reads)")
	fl.StringVar(&f.stateFile, "state", "", "load the directory from this JSON file at start and save it on exit")
	fl.DurationVar(&f.tokenTTL, "token-ttl", 2*time.Hour, "access_token lifetime")
	fl.IntVar(&f.expiredCode, "expired-code", 42001, "errcode for an expired token (42001, or 40014 as seen in production)")
	fl.DurationVar(&f.latency, "latency", 0, "added latency per call")
	fl.Float64Var(&f.failRate, "fail-rate", 0, "share (0..1) of business calls answered with a fault from --fail-codes, with no effect")
	fl.IntSliceVar(&f.failCodes, "fail-codes", []int{-1}, "comma list of faults drawn for --fail-rate: an errcode (-1, 6000, 45033, 42001, ...), an HTTP status 500..599, -2 (drop the connection), -3 (apply, then drop)")
	fl.Float64Var(&f.dropRate, "drop-rate", 0, "share (0..1) of business calls whose connection is dropped before any effect")
	fl.IntVar(&f.perMinute, "per-minute", 0, "calls per minute per corp and API (0 = WeCom's 10,000; -1 = unlimited)")
	fl.IntVar(&f.perHour, "per-hour", 0, "calls per hour per corp and API (0 = WeCom's 150,000; -1 = unlimited)")
	fl.IntVar(&f.ipPerMinute, "ip-per-minute", 0, "calls per minute per caller IP and API (0 = WeCom's 20,000; -1 = unlimited)")
	fl.IntVar(&f.ipPerHour, "ip-per-hour", 0, "calls per hour per caller IP and API (0 = WeCom's 600,000; -1 = unlimited)")
	fl.Int64Var(&f.seed, "seed", 1, "seed for injected faults")
	fl.IntVar(&f.callLogLimit, "call-log-limit", 100000, "calls the emulator remembers for its call log (0 = all; a long rehearsal would otherwise grow without bound)")

	// [?] switches: defaults are the emulator's documented choices.
	fl.BoolVar(&f.newTokenEachFetch, "new-token-each-fetch", false, "issue a new token on every gettoken (default: the same token inside its lifetime)")
	fl.BoolVar(&f.expiresInRemaining, "expires-in-remaining", false, "answer expires_in with the token's remaining life (default: always the full TTL)")
	fl.IntVar(&f.deptNameMax, "dept-name-max", 64, "department name limit in characters (64, or 32 per the Jan-2023 YAML)")
	fl.IntVar(&f.maxUserDepartments, "max-user-departments", 100, "departments per member before 60110 (100, or the older 20)")
	fl.IntVar(&f.maxDirectLeaders, "max-direct-leaders", 1, "direct_leader entries per member before 60257 (1 per today's create/update/get pages, or 5 per older pages and 60257's text)")
	fl.IntVar(&f.maxDepth, "max-depth", 15, "deepest department level, root = 1 (-1 = unlimited)")
	fl.IntVar(&f.maxDepartments, "max-departments", 30000, "departments in the corp, root included (-1 = unlimited)")
	fl.IntVar(&f.maxNodesPerDept, "max-nodes-per-dept", 30000, "direct sub-departments plus members of one department (-1 = unlimited)")
	fl.BoolVar(&f.autoCreateDepartment, "auto-create-department", false, "2025 behaviour: members without a known department go to an auto-created 其他（待设置部门） (default: strict 60127/60123)")
	fl.BoolVar(&f.rejectUnicodeEscapes, "reject-unicode-escapes", false, "answer 40033 to a JSON body holding a \\uXXXX escape (default: stored verbatim)")
	fl.IntVar(&f.listSizeLimit, "list-size-limit", 0, "answer 45029 to user/list with fetch_child=1 returning more members than this (0 = off)")
	fl.IntVar(&f.badSecretBan, "bad-secret-ban", 0, "wrong-secret gettokens per IP per hour before a 1 h ban (0 = 2,000; -1 = never)")
	fl.Int64Var(&f.maxImage, "max-image-bytes", 10<<20, "media/upload image cap before 45001 (10 MB per the upload page; 45001's help text says 5 MB)")
	fl.Int64Var(&f.maxVoice, "max-voice-bytes", 2<<20, "media/upload voice cap before 45001 (2 MB per the upload page; 45001's help text says 5 MB)")
	fl.Int64Var(&f.maxVideo, "max-video-bytes", 10<<20, "media/upload video cap before 45001 (10 MB)")
	fl.Int64Var(&f.maxFile, "max-file-bytes", 20<<20, "media/upload file cap before 45001 (20 MB)")
	fl.DurationVar(&f.batchJobDuration, "batch-job-duration", 10*time.Second, "how long each batch/syncuser, replaceuser or replaceparty job runs (0 = done at submission; WeCom publishes no figure)")
	fl.StringSliceVar(&f.extAttrNames, "ext-attr-names", nil, "comma list of the custom attributes the emulated admin console defines; others are dropped silently (default: every name is defined)")
	fl.BoolVar(&f.extAttrReplaceOnUpdate, "ext-attr-replace-on-update", false, "extattr on user/update replaces the stored list (default: merge by name, an empty value clears one)")
	fl.BoolVar(&f.replaceUserAbortAtSubmit, "replaceuser-abort-at-submit", false, "answer replaceuser's deletion guard (45026) at submission (default: the job stops and getresult answers 45026)")
	fl.IntVar(&f.maxTags, "max-tags", 3000, "tags in the corp before 40126 (-1 = unlimited)")
	fl.IntVar(&f.maxTagNodes, "max-tag-nodes", 30000, "direct members plus departments of one tag before 81003 (-1 = unlimited)")
	fl.IntVar(&f.tagOwnerCode, "tag-owner-code", 60011, "errcode for a change to a tag another app created: 60011 or 81011 (both codes' help texts state the rule)")
	fl.BoolVar(&f.tagNoOpMembersInvalid, "tag-noop-members-invalid", false, "answer addtagusers of a member already tagged, and deltagusers of one not tagged, in invalidlist (default: done)")
	fl.BoolVar(&f.newIPRefusesTagGet, "new-ip-refuses-tag-get", false, "also answer tag/get with 48009 for the sync secret on a new IP (default: only the member and department reads)")
}

// validate refuses flag values the emulator would otherwise silently
// replace, so a rehearsal never runs with a setting nobody asked for.
func (f simFlags) validate() error {
	switch {
	case f.secret == "" || f.corpID == "":
		return errors.New("--corp-id and --secret must not be empty")
	case f.expiredCode != 42001 && f.expiredCode != 40014:
		return fmt.Errorf("--expired-code %d: want 42001 or 40014", f.expiredCode)
	case f.failRate < 0 || f.failRate > 1 || f.dropRate < 0 || f.dropRate > 1:
		return errors.New("--fail-rate and --drop-rate must be between 0 and 1")
	case f.tokenTTL <= 0:
		return errors.New("--token-ttl must be positive")
	case f.latency < 0:
		return errors.New("--latency must not be negative")
	case f.deptNameMax <= 0 || f.maxUserDepartments <= 0 || f.maxDirectLeaders <= 0:
		return errors.New("--dept-name-max, --max-user-departments and --max-direct-leaders must be positive")
	case f.listSizeLimit < 0:
		return errors.New("--list-size-limit must not be negative")
	case f.batchJobDuration < 0:
		return errors.New("--batch-job-duration must not be negative")
	case f.maxImage <= 0 || f.maxVoice <= 0 || f.maxVideo <= 0 || f.maxFile <= 0:
		return errors.New("--max-image-bytes, --max-voice-bytes, --max-video-bytes and --max-file-bytes must be positive")
	case f.tagOwnerCode != 60011 && f.tagOwnerCode != 81011:
		return fmt.Errorf("--tag-owner-code %d: want 60011 or 81011", f.tagOwnerCode)
	case f.maxTags == 0 || f.maxTagNodes == 0:
		return errors.New("--max-tags and --max-tag-nodes must be positive, or -1 for unlimited")
	}
	return nil
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
		Latency: f.latency, FailRate: f.failRate, FailCodes: f.failCodes, DropRate: f.dropRate, Seed: f.seed,
		CallLogLimit:  f.callLogLimit,
		CorpPerMinute: f.perMinute, CorpPerHour: f.perHour,
		IPPerMinute: f.ipPerMinute, IPPerHour: f.ipPerHour,
		NewTokenEachFetch: f.newTokenEachFetch, ExpiresInRemaining: f.expiresInRemaining,
		DeptNameMax: f.deptNameMax, MaxUserDepartments: f.maxUserDepartments,
		MaxDirectLeaders: f.maxDirectLeaders, MaxDepth: f.maxDepth,
		MaxDepartments: f.maxDepartments, MaxNodesPerDept: f.maxNodesPerDept,
		AutoCreateDepartment: f.autoCreateDepartment, RejectUnicodeEscapes: f.rejectUnicodeEscapes,
		ListSizeLimit: f.listSizeLimit, BadSecretBanThreshold: f.badSecretBan,
		MaxImageBytes: f.maxImage, MaxVoiceBytes: f.maxVoice, MaxVideoBytes: f.maxVideo, MaxFileBytes: f.maxFile,
		BatchJobDuration: batchJobDuration(f.batchJobDuration), ReplaceUserAbortAtSubmit: f.replaceUserAbortAtSubmit,
		ExtAttrNames: f.extAttrNames, ExtAttrReplaceOnUpdate: f.extAttrReplaceOnUpdate,
		MaxTags: f.maxTags, MaxTagNodes: f.maxTagNodes, TagOwnerCode: f.tagOwnerCode,
		TagNoOpMembersInvalid: f.tagNoOpMembersInvalid, NewIPRefusesTagGet: f.newIPRefusesTagGet,
	}
}

// batchJobDuration maps the flag's 0 ("done at submission") onto the
// option, where 0 means the default and a negative value an instant job.
func batchJobDuration(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func (a *app) serveSim(ctx context.Context, f simFlags) error {
	if err := f.validate(); err != nil {
		return &exitError{code: exitUsage, err: err}
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
