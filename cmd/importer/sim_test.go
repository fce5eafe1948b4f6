package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// parseSimFlags runs args through the sim flag set, as the command does.
func parseSimFlags(t *testing.T, args ...string) simFlags {
	t.Helper()
	var f simFlags
	cmd := &cobra.Command{}
	f.register(cmd.Flags())
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return f
}

// Each flag lands in the emulator option it names.
func TestSimFlagsOptions(t *testing.T) {
	cases := []struct {
		args  []string
		check func(o wecomsim.Options) bool
	}{
		{nil, func(o wecomsim.Options) bool {
			return o.CorpID == "ww-demo" && len(o.Secrets) == 1 && o.Secrets[0].Kind == wecomsim.SyncEdit &&
				o.TokenTTL == 2*time.Hour && o.ExpiredCode == 42001 && o.DeptNameMax == 64 &&
				o.MaxUserDepartments == 100 && o.MaxDirectLeaders == 1 && o.MaxDepth == 15 &&
				reflect.DeepEqual(o.FailCodes, []int{-1}) && o.Seed == 1
		}},
		{[]string{"--corp-id", "ww-x", "--secret", "s1"}, func(o wecomsim.Options) bool {
			return o.CorpID == "ww-x" && o.Secrets[0].Value == "s1"
		}},
		{[]string{"--readonly-secret", "ro", "--app-secret", "app"}, func(o wecomsim.Options) bool {
			return len(o.Secrets) == 3 && o.Secrets[1].Kind == wecomsim.SyncReadOnly && o.Secrets[1].Value == "ro" &&
				o.Secrets[2].Kind == wecomsim.App && o.Secrets[2].Value == "app"
		}},
		{[]string{"--new-ip"}, func(o wecomsim.Options) bool { return o.Secrets[0].NewIP }},
		{[]string{"--token-ttl", "90s"}, func(o wecomsim.Options) bool { return o.TokenTTL == 90*time.Second }},
		{[]string{"--expired-code", "40014"}, func(o wecomsim.Options) bool { return o.ExpiredCode == 40014 }},
		{[]string{"--latency", "50ms"}, func(o wecomsim.Options) bool { return o.Latency == 50*time.Millisecond }},
		{[]string{"--fail-rate", "0.25", "--fail-codes", "-1,45033,503,-2"}, func(o wecomsim.Options) bool {
			return o.FailRate == 0.25 && reflect.DeepEqual(o.FailCodes, []int{-1, 45033, 503, -2})
		}},
		{[]string{"--drop-rate", "0.1"}, func(o wecomsim.Options) bool { return o.DropRate == 0.1 }},
		{[]string{"--per-minute", "600", "--per-hour", "-1"}, func(o wecomsim.Options) bool {
			return o.CorpPerMinute == 600 && o.CorpPerHour == -1
		}},
		{[]string{"--ip-per-minute", "700", "--ip-per-hour", "8000"}, func(o wecomsim.Options) bool {
			return o.IPPerMinute == 700 && o.IPPerHour == 8000
		}},
		{[]string{"--seed", "42"}, func(o wecomsim.Options) bool { return o.Seed == 42 }},
		{[]string{"--call-log-limit", "500"}, func(o wecomsim.Options) bool { return o.CallLogLimit == 500 }},
		{[]string{"--new-token-each-fetch", "--expires-in-remaining"}, func(o wecomsim.Options) bool {
			return o.NewTokenEachFetch && o.ExpiresInRemaining
		}},
		{[]string{"--dept-name-max", "32", "--max-user-departments", "20", "--max-direct-leaders", "5", "--max-depth", "4"}, func(o wecomsim.Options) bool {
			return o.DeptNameMax == 32 && o.MaxUserDepartments == 20 && o.MaxDirectLeaders == 5 && o.MaxDepth == 4
		}},
		{[]string{"--max-departments", "50", "--max-nodes-per-dept", "-1"}, func(o wecomsim.Options) bool {
			return o.MaxDepartments == 50 && o.MaxNodesPerDept == -1
		}},
		{[]string{"--auto-create-department", "--reject-unicode-escapes"}, func(o wecomsim.Options) bool {
			return o.AutoCreateDepartment && o.RejectUnicodeEscapes
		}},
		{[]string{"--list-size-limit", "10", "--bad-secret-ban", "-1"}, func(o wecomsim.Options) bool {
			return o.ListSizeLimit == 10 && o.BadSecretBanThreshold == -1
		}},
		{nil, func(o wecomsim.Options) bool {
			return o.MaxImageBytes == 10<<20 && o.MaxVoiceBytes == 2<<20 && o.MaxVideoBytes == 10<<20 && o.MaxFileBytes == 20<<20
		}},
		{nil, func(o wecomsim.Options) bool {
			return o.BatchJobDuration == 10*time.Second && !o.ReplaceUserAbortAtSubmit
		}},
		{nil, func(o wecomsim.Options) bool { return o.ExtAttrNames == nil && !o.ExtAttrReplaceOnUpdate }},
		{[]string{"--ext-attr-names", "工号,主页", "--ext-attr-replace-on-update"}, func(o wecomsim.Options) bool {
			return reflect.DeepEqual(o.ExtAttrNames, []string{"工号", "主页"}) && o.ExtAttrReplaceOnUpdate
		}},
		{[]string{"--batch-job-duration", "2m", "--replaceuser-abort-at-submit"}, func(o wecomsim.Options) bool {
			return o.BatchJobDuration == 2*time.Minute && o.ReplaceUserAbortAtSubmit
		}},
		{[]string{"--batch-job-duration", "0"}, func(o wecomsim.Options) bool { return o.BatchJobDuration < 0 }},
		{nil, func(o wecomsim.Options) bool {
			return o.MaxTags == 3000 && o.MaxTagNodes == 30000 && o.TagOwnerCode == 60011 && !o.TagNoOpMembersInvalid && !o.NewIPRefusesTagGet
		}},
		{[]string{"--max-tags", "5", "--max-tag-nodes", "-1", "--tag-owner-code", "81011", "--tag-noop-members-invalid", "--new-ip-refuses-tag-get"}, func(o wecomsim.Options) bool {
			return o.MaxTags == 5 && o.MaxTagNodes == -1 && o.TagOwnerCode == 81011 && o.TagNoOpMembersInvalid && o.NewIPRefusesTagGet
		}},
		{[]string{"--max-image-bytes", "5242880", "--max-voice-bytes", "5242880", "--max-video-bytes", "7", "--max-file-bytes", "8"}, func(o wecomsim.Options) bool {
			return o.MaxImageBytes == 5<<20 && o.MaxVoiceBytes == 5<<20 && o.MaxVideoBytes == 7 && o.MaxFileBytes == 8
		}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f := parseSimFlags(t, tc.args...)
			if err := f.validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if o := f.options(); !tc.check(o) {
				t.Errorf("options = %+v", o)
			}
		})
	}
}

func TestSimFlagsRejected(t *testing.T) {
	for _, args := range [][]string{
		{"--secret", ""},
		{"--expired-code", "40001"},
		{"--fail-rate", "1.5"},
		{"--drop-rate", "-0.1"},
		{"--fail-codes", "-1,x"},
		{"--token-ttl", "0s"},
		{"--dept-name-max", "0"},
		{"--max-file-bytes", "0"},
		{"--batch-job-duration", "-1s"},
		{"--tag-owner-code", "48002"},
		{"--max-tags", "0"},
	} {
		code, _, _ := runCLI(t, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (usage)", args, code, exitUsage)
		}
	}
}

var listeningRe = regexp.MustCompile(`listening on (http://[^ ]+)`)

// startSim runs `importer sim args...` until the returned stop is called,
// and returns the emulator's base URL and stop, which reports the exit code.
func startSim(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var base string
	var seen []string
	deadline := time.After(20 * time.Second)
	for base == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				cancel()
				t.Fatalf("sim exited before listening: exit %d\n%s", <-exit, strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if m := listeningRe.FindStringSubmatch(line); m != nil {
				base = m[1]
			}
		case <-deadline:
			cancel()
			go func() {
				for range lines {
				}
			}()
			t.Fatalf("sim did not start listening within 20 s (exit %d)\n%s", <-exit, strings.Join(seen, "\n"))
		}
	}
	// Keep draining so the command's final message never blocks it.
	go func() {
		for range lines {
		}
	}()
	return base, func() int {
		cancel()
		return <-exit
	}
}

func simGet(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// The command serves on an ephemeral port, honours its flags over HTTP,
// saves the directory on exit and loads it again on the next start.
func TestSimCommandServesAndKeepsState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim-state.json")
	base, stop := startSim(t, "--corp-id", "ww-cli", "--secret", testSecret, "--state", state, "--dept-name-max", "32")

	var tok struct {
		Errcode     int    `json:"errcode"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	simGet(t, base+"/cgi-bin/gettoken?"+url.Values{"corpid": {"ww-cli"}, "corpsecret": {testSecret}}.Encode(), &tok)
	if tok.Errcode != 0 || tok.AccessToken == "" || tok.ExpiresIn != 7200 {
		t.Fatalf("gettoken = %+v", tok)
	}
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(base+"/cgi-bin/department/create?access_token="+tok.AccessToken, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct{ Errcode int }
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		return env.Errcode
	}
	if code := post(`{"name":"Rehearsal","parentid":1,"id":7}`); code != 0 {
		t.Fatalf("department/create = %d", code)
	}
	// --dept-name-max 32 is in force: 33 characters is 60001.
	if code := post(`{"name":"` + strings.Repeat("名", 33) + `","parentid":1}`); code != 60001 {
		t.Fatalf("33-character name = %d, want 60001", code)
	}
	if code := stop(); code != 0 {
		t.Fatalf("sim exit %d", code)
	}
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("state not saved: %v", err)
	}

	base, stop = startSim(t, "--corp-id", "ww-cli", "--secret", testSecret, "--state", state)
	defer stop()
	var snap wecomsim.Snapshot
	simGet(t, base+"/sim/state", &snap)
	if len(snap.Departments) != 2 || snap.Departments[1].ID != 7 || snap.Departments[1].Name != "Rehearsal" {
		t.Fatalf("reloaded state = %+v", snap.Departments)
	}
}
