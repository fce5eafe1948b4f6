package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// groupYAML is a group company: the holding's own corp in the top-level
// block, which also holds what the subsidiaries share, and two
// subsidiaries under corps.
const groupYAML = `
wecom:
  base_url: https://wecom.example
  corp_id: ww-holding
  timeout: 20s
  concurrency: 16
  per_minute: 6000
  secret_file_strict: true
  secret_file: holding.secret
corps:
  shanghai:
    corp_id: ww-shanghai
    secret_env: WECOM_SECRET_SHANGHAI
  shenzhen:
    corp_id: ww-shenzhen
    secret_file: shenzhen.secret
    per_minute: 3000
    base_url: https://proxy.example
jobs:
  - name: holding
    source: {path: holding.csv}
    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}
  - name: shanghai-staff
    corp: shanghai
    source: {path: shanghai.csv}
    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}
  - name: shanghai-contractors
    corp: shanghai
    source: {path: contractors.csv}
    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}
  - name: shenzhen-staff
    corp: shenzhen
    source: {path: shenzhen.csv}
    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}
`

// TestCorpOf: a job without corp: syncs the top-level block's corp; a
// named corp keeps its own id, secret and the keys it sets, and takes the
// rest from the top-level block.
func TestCorpOf(t *testing.T) {
	c, err := Parse([]byte(groupYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]WeCom{
		"holding": {BaseURL: "https://wecom.example", CorpID: "ww-holding", SecretEnv: "WECOM_SECRET", SecretFile: "holding.secret",
			SecretFileStrict: true, Concurrency: 16, Timeout: 20 * time.Second, PerMinute: 6000},
		"shanghai-staff": {BaseURL: "https://wecom.example", CorpID: "ww-shanghai", SecretEnv: "WECOM_SECRET_SHANGHAI",
			SecretFileStrict: true, Concurrency: 16, Timeout: 20 * time.Second, PerMinute: 6000},
		"shanghai-contractors": {BaseURL: "https://wecom.example", CorpID: "ww-shanghai", SecretEnv: "WECOM_SECRET_SHANGHAI",
			SecretFileStrict: true, Concurrency: 16, Timeout: 20 * time.Second, PerMinute: 6000},
		"shenzhen-staff": {BaseURL: "https://proxy.example", CorpID: "ww-shenzhen", SecretFile: "shenzhen.secret",
			SecretFileStrict: true, Concurrency: 16, Timeout: 20 * time.Second, PerMinute: 3000},
	}
	keys := map[string]string{"holding": "wecom", "shanghai-staff": "corps.shanghai", "shanghai-contractors": "corps.shanghai", "shenzhen-staff": "corps.shenzhen"}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		corp, err := c.CorpOf(j)
		if err != nil {
			t.Fatalf("job %s: %v", j.Name, err)
		}
		if diff := cmp.Diff(want[j.Name], corp.WeCom); diff != "" {
			t.Errorf("job %s: corp (-want +got):\n%s", j.Name, diff)
		}
		if corp.Key() != keys[j.Name] {
			t.Errorf("job %s: corp key %q, want %q", j.Name, corp.Key(), keys[j.Name])
		}
	}
}

// TestSingleCorpConfigUnchanged: a config without corps reads as before,
// its one corp being the top-level block with its defaults.
func TestSingleCorpConfigUnchanged(t *testing.T) {
	c, err := Parse([]byte("wecom: {corp_id: ww-one}\njobs:\n  - name: staff\n    source: {path: staff.csv}\n    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	corp, err := c.CorpOf(&c.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := WeCom{BaseURL: "https://qyapi.weixin.qq.com", CorpID: "ww-one", SecretEnv: "WECOM_SECRET", Concurrency: 64, Timeout: 30 * time.Second}
	if diff := cmp.Diff(want, corp.WeCom); diff != "" || corp.Name != "" || corp.Key() != "wecom" {
		t.Errorf("corp %q (-want +got):\n%s", corp.Name, diff)
	}
}

func TestCorpErrors(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"unknown key", "    per_minute: 3000\n", "    per_minit: 3000\n", "field per_minit not found"},
		{"secret in the file", "    secret_env: WECOM_SECRET_SHANGHAI\n", "    secret: hunter2\n", "field secret not found"},
		{"no corp id", "    corp_id: ww-shanghai\n", "", "corps.shanghai.corp_id is required"},
		{"no secret", "    secret_env: WECOM_SECRET_SHANGHAI\n", "", "corps.shanghai: set secret_env or secret_file"},
		{"two secrets", "    secret_env: WECOM_SECRET_SHANGHAI\n", "    secret_env: WECOM_SECRET_SHANGHAI\n    secret_file: sh.secret\n", "corps.shanghai: secret_env and secret_file are both set"},
		{"strict without a file", "    secret_env: WECOM_SECRET_SHANGHAI\n", "    secret_env: WECOM_SECRET_SHANGHAI\n    secret_file_strict: true\n", "corps.shanghai.secret_file_strict applies to corps.shanghai.secret_file"},
		{"one corp twice", "corp_id: ww-shenzhen", "corp_id: ww-shanghai", "corps.shenzhen.corp_id ww-shanghai is also corps.shanghai's"},
		{"a corp that is the top-level one", "corp_id: ww-shenzhen", "corp_id: ww-holding", "corps.shenzhen.corp_id ww-holding is also wecom's"},
		{"bad base url", "base_url: https://proxy.example", "base_url: proxy.example", `corps.shenzhen.base_url "proxy.example"`},
		{"unknown corp", "corp: shenzhen", "corp: shenzen", `job shenzhen-staff: corp "shenzen" is not under corps: (shanghai, shenzhen)`},
		{"a job of the top-level corp without its id", "  corp_id: ww-holding\n", "", "wecom.corp_id is required: job holding names no corp"},
		{"empty name", "  shanghai:\n", "  \"\":\n", "corps: a corp's name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(groupYAML, tt.old) {
				t.Fatalf("groupYAML has no %q", tt.old)
			}
			yaml := strings.Replace(groupYAML, tt.old, tt.new, 1)
			_, err := Parse([]byte(yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}

	// Every job naming a corp, the top-level block only holds what they
	// share and needs no corp id of its own.
	shared := strings.Replace(strings.Replace(groupYAML, "  corp_id: ww-holding\n", "", 1), "  - name: holding\n", "  - name: holding\n    corp: shanghai\n", 1)
	if _, err := Parse([]byte(shared)); err != nil {
		t.Errorf("every job naming a corp, no top-level corp_id: %v", err)
	}
	if _, err := Parse([]byte("wecom: {corp_id: ww-one}\njobs:\n  - name: staff\n    corp: sub\n    source: {path: staff.csv}\n    mapping: {fields: {userid: 工号, name: 姓名, mobile: 手机}, departments: {path_column: 部门}}\n")); err == nil ||
		!strings.Contains(err.Error(), `job staff: corp "sub": the config has no corps: block`) {
		t.Errorf("corp: without corps: %v", err)
	}
}

// TestCorpSecrets: each corp's secret comes from its own variable or
// file, and a missing one is reported with the corp it belongs to.
func TestCorpSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "importer.yaml")
	if err := os.WriteFile(path, []byte(groupYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"holding.secret": "holding-value\n", "shenzhen.secret": "shenzhen-value\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("WECOM_SECRET", "not-this-one")
	t.Setenv("WECOM_SECRET_SHANGHAI", "")
	secrets := map[string]string{}
	var problems []string
	for i := range c.Jobs {
		corp, err := c.CorpOf(&c.Jobs[i])
		if err != nil {
			t.Fatal(err)
		}
		s, warnings, err := corp.ReadSecret()
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if len(warnings) > 0 {
			t.Errorf("%s: warnings %q", corp.Key(), warnings)
		}
		secrets[corp.CorpID] = s
	}
	if diff := cmp.Diff(map[string]string{"ww-holding": "holding-value", "ww-shenzhen": "shenzhen-value"}, secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	want := "the secret of corp shanghai (ww-shanghai) is not set: export WECOM_SECRET_SHANGHAI (or set corps.shanghai.secret_file)"
	if diff := cmp.Diff([]string{want, want}, problems, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}

	// secret_file_strict set at the top applies to the corps' files too.
	if err := os.Chmod(filepath.Join(dir, "shenzhen.secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	corp, err := c.CorpOf(&c.Jobs[3])
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := corp.ReadSecret(); err == nil || s != "" || !strings.Contains(err.Error(), "corps.shenzhen.secret_file shenzhen.secret is readable by its group or other users (mode 0644) and secret_file_strict is set") {
		t.Errorf("a readable secret file of a corp under a strict top-level block: %q, %v", s, err)
	}
}
