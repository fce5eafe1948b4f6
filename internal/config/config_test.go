package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrfeed/importer/samples"
)

func TestSampleConfigLoads(t *testing.T) {
	c, err := Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job("")
	if err != nil {
		t.Fatal(err)
	}
	if j.Mapping.Fields["userid"].Column != "工号" || j.Mapping.Departments.PathColumn != "部门" {
		t.Errorf("mapping not decoded: %+v", j.Mapping)
	}
	if c.WeCom.SecretEnv != "WECOM_SECRET" || c.Journal.DSNEnv != "DATABASE_URL" || c.WeCom.Concurrency != 8 {
		t.Errorf("defaults: %+v %+v", c.WeCom, c.Journal)
	}
}

func TestParseErrors(t *testing.T) {
	base := string(samples.ImporterYAML)
	tests := []struct {
		name, yaml, want string
	}{
		{"misspelt key", strings.Replace(base, "concurrency:", "concurency:", 1), "concurency"},
		{"secret in the file", strings.Replace(base, "secret_env: WECOM_SECRET", "secret: hunter2", 1), "field secret not found"},
		{"no corp", strings.Replace(base, "corp_id: ww-demo", "corp_id: \"\"", 1), "wecom.corp_id is required"},
		{"bad url", strings.Replace(base, "http://127.0.0.1:8088", "127.0.0.1:8088", 1), "wecom.base_url"},
		{"bad policy", strings.Replace(base, "leavers: disable", "leavers: purge", 1), "policy.leavers"},
		{"bad source type", strings.Replace(base, "type: csv", "type: xls", 1), "source.type"},
		{"no jobs", base[:strings.Index(base, "jobs:")], "no jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}
}

func TestSecretAndJournalSources(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "importer.yaml")
	if err := os.WriteFile(path, samples.ImporterYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv("WECOM_SECRET", "")
	if _, err := c.Secret(); err == nil || !strings.Contains(err.Error(), "export WECOM_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
	t.Setenv("WECOM_SECRET", "from-env")
	if s, err := c.Secret(); err != nil || s != "from-env" {
		t.Errorf("env secret = %q, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.WeCom.SecretFile = "secret"
	if s, err := c.Secret(); err != nil || s != "from-file" {
		t.Errorf("file secret = %q, %v (relative to the config, trimmed)", s, err)
	}

	t.Setenv("DATABASE_URL", "")
	if got := c.JournalDSN(); got != filepath.Join(dir, "hrfeed-journal.db") {
		t.Errorf("embedded journal path = %q", got)
	}
	t.Setenv("DATABASE_URL", "postgres://u@h/db")
	if got := c.JournalDSN(); got != "postgres://u@h/db" {
		t.Errorf("dsn = %q", got)
	}
}

func TestJobSelection(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(string(samples.ImporterYAML), "jobs:\n", "jobs:\n  - name: other\n    source: {path: x.csv}\n    mapping:\n      fields: {userid: a, name: b, mobile: m}\n      departments: {path_column: c}\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Job(""); err == nil || !strings.Contains(err.Error(), "other, staff") {
		t.Errorf("two jobs and no --job: %v", err)
	}
	if j, err := c.Job("staff"); err != nil || j.Name != "staff" {
		t.Errorf("Job(staff) = %v, %v", j, err)
	}
	if _, err := c.Job("nope"); err == nil {
		t.Error("unknown job accepted")
	}
}
