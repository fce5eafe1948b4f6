package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/source"
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
	if c.WeCom.SecretEnv != "WECOM_SECRET" || c.Journal.DSNEnv != "DATABASE_URL" || c.WeCom.Concurrency != 64 {
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

// readSecretOf reads the secret of c's first job's corp.
func readSecretOf(t *testing.T, c *Config) (string, []string, error) {
	t.Helper()
	corp, err := c.CorpOf(&c.Jobs[0])
	if err != nil {
		t.Fatal(err)
	}
	return corp.ReadSecret()
}

func secretOf(t *testing.T, c *Config) (string, error) {
	t.Helper()
	s, _, err := readSecretOf(t, c)
	return s, err
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
	if _, err := secretOf(t, c); err == nil || !strings.Contains(err.Error(), "export WECOM_SECRET") {
		t.Errorf("missing secret: %v", err)
	}
	t.Setenv("WECOM_SECRET", "from-env")
	if s, err := secretOf(t, c); err != nil || s != "from-env" {
		t.Errorf("env secret = %q, %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.WeCom.SecretFile = "secret"
	if s, err := secretOf(t, c); err != nil || s != "from-file" {
		t.Errorf("file secret = %q, %v (relative to the config, trimmed)", s, err)
	}

	t.Setenv("DATABASE_URL", "")
	if got, err := c.JournalDSN(); err != nil || got != filepath.Join(dir, "hrfeed-journal.db") {
		t.Errorf("embedded journal path = %q, %v", got, err)
	}
	t.Setenv("DATABASE_URL", "postgres://u@h/db")
	if got, err := c.JournalDSN(); err != nil || got != "postgres://u@h/db" {
		t.Errorf("dsn = %q, %v", got, err)
	}
}

// TestJournalDSNFromTheEnvironmentIsNeverAPath: whatever the variable
// holds, if it is set it names a PostgreSQL database or nothing.
func TestJournalDSNFromTheEnvironmentIsNeverAPath(t *testing.T) {
	c, err := Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{
		"postgres//hrfeed:hunter2@db/hrfeed",
		"/var/lib/hrfeed/journal.db",
		"journal.db",
		"hunter2",
		"postgres://hrfeed:hunter2@db:notaport/hrfeed",
		"dbname=hrfeed,password=hunter2",
	} {
		t.Setenv("DATABASE_URL", v)
		dsn, err := c.JournalDSN()
		if err == nil {
			t.Errorf("DATABASE_URL=%q: journal %q, want an error", strings.ReplaceAll(v, "hunter2", "***"), dsn)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "DATABASE_URL is set but ") || strings.Contains(msg, "hunter2") || strings.Contains(msg, "journal.db") {
			t.Errorf("DATABASE_URL=%q: %q", strings.ReplaceAll(v, "hunter2", "***"), strings.ReplaceAll(msg, "hunter2", "***"))
		}
	}
	t.Setenv("DATABASE_URL", "/var/lib/hrfeed/journal.db")
	if _, err := c.JournalDSN(); err == nil || !strings.Contains(err.Error(), "is not a PostgreSQL URL") {
		t.Errorf("a path in DATABASE_URL: %v", err)
	}
	for _, v := range []string{"host=db dbname=hrfeed user=importer", "postgresql://importer@db:5433/hrfeed?sslmode=disable"} {
		t.Setenv("DATABASE_URL", v)
		if dsn, err := c.JournalDSN(); err != nil || dsn != v {
			t.Errorf("DATABASE_URL=%q: %q, %v", v, dsn, err)
		}
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

// withSource replaces the sample job's source block.
func withSource(t *testing.T, block string) string {
	t.Helper()
	const sample = "    source:\n      type: csv\n      path: staff.csv\n"
	base := string(samples.ImporterYAML)
	if !strings.Contains(base, sample) {
		t.Fatal("the sample config's source block changed; update withSource")
	}
	return strings.Replace(base, sample, "    source:\n"+block, 1)
}

func TestSourceValidation(t *testing.T) {
	tests := []struct {
		name, block, want string // want "" = valid
	}{
		{"csv", "      path: staff.csv\n      encoding: gbk\n      delimiter: \";\"\n      header_row: 2\n", ""},
		{"xlsx", "      type: xlsx\n      path: staff.xlsx\n      sheet: \"#2\"\n      header_row: 3\n", ""},
		{"xlsx with an unknown extension", "      type: xlsx\n      path: export.dat\n", ""},
		{"csv named .xls", "      type: csv\n      path: export.xls\n", ""},
		{"postgres", "      type: postgres\n      view: hr.staff_v\n      key: 工号\n      dsn_env: HR_DATABASE_URL\n", ""},
		{"no path", "      type: xlsx\n", "job staff: source.path is required"},
		{"workbook as csv", "      type: csv\n      path: staff.xlsx\n", "source.path staff.xlsx is xlsx by its name but source.type is csv"},
		{"csv as workbook", "      type: xlsx\n      path: staff.csv\n", "source.path staff.csv is csv by its name but source.type is xlsx"},
		{"sheet on csv", "      path: staff.csv\n      sheet: Sheet1\n", "source.sheet does not apply to source.type csv"},
		{"encoding on xlsx", "      type: xlsx\n      path: staff.xlsx\n      encoding: gbk\n", "source.encoding does not apply to source.type xlsx"},
		{"view on csv", "      path: staff.csv\n      view: hr.staff_v\n", "source.view does not apply to source.type csv"},
		{"two-character delimiter", "      path: staff.csv\n      delimiter: \"||\"\n", `source.delimiter "||": want one character`},
		{"negative header row", "      path: staff.csv\n      header_row: -1\n", "source.header_row -1"},
		{"postgres without view", "      type: postgres\n      key: id\n      dsn_env: HR_DATABASE_URL\n", "source.view is required"},
		{"postgres without key", "      type: postgres\n      view: hr.staff_v\n      dsn_env: HR_DATABASE_URL\n", "source.key is required"},
		{"postgres without dsn_env", "      type: postgres\n      view: hr.staff_v\n      key: id\n", "source.dsn_env is required"},
		{"postgres with path", "      type: postgres\n      view: v\n      key: id\n      dsn_env: HR_DATABASE_URL\n      path: staff.csv\n", "source.path does not apply to source.type postgres"},
		{"postgres with header row", "      type: postgres\n      view: v\n      key: id\n      dsn_env: HR_DATABASE_URL\n      header_row: 2\n", "source.header_row does not apply to source.type postgres"},
		{"xls", "      type: xls\n      path: staff.xls\n", "save the workbook as .xlsx"},
		{"unknown type", "      type: mysql\n", `source.type "mysql": supported: csv, xlsx, postgres`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(withSource(t, tt.block)))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// A connection string pasted where the variable's name belongs must not
// be echoed in the error.
func TestDSNEnvIsNotEchoed(t *testing.T) {
	const dsn = "postgres://hr:hunter2@db.example/hr"
	_, err := Parse([]byte(withSource(t, "      type: postgres\n      view: v\n      key: id\n      dsn_env: "+dsn+"\n")))
	if err == nil || !strings.Contains(err.Error(), "source.dsn_env must be the name of an environment variable") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error echoes the connection string: %v", err)
	}
}

func TestSourceSpec(t *testing.T) {
	dir := t.TempDir()
	load := func(block string) (*Config, *Job) {
		t.Helper()
		path := filepath.Join(dir, "importer.yaml")
		if err := os.WriteFile(path, []byte(withSource(t, block)), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		j, err := c.Job("")
		if err != nil {
			t.Fatal(err)
		}
		return c, j
	}
	elsewhere, err := filepath.Abs("elsewhere")
	if err != nil {
		t.Fatal(err)
	}

	c, j := load("      path: feeds/staff.csv\n      encoding: gbk\n      delimiter: \";\"\n      header_row: 2\n")
	columns := j.Mapping.Columns()
	tests := []struct {
		name     string
		override string
		want     source.Spec
	}{
		{"configured csv", "", source.Spec{Type: "csv", Path: filepath.Join(dir, "feeds", "staff.csv"), Encoding: "gbk", Delimiter: ';', HeaderRow: 2, Columns: columns}},
		{"csv override keeps the csv settings", "elsewhere/x.csv", source.Spec{Type: "csv", Path: filepath.Join(elsewhere, "x.csv"), Encoding: "gbk", Delimiter: ';', HeaderRow: 2, Columns: columns}},
		{"xlsx override drops them", "elsewhere/x.xlsx", source.Spec{Type: "xlsx", Path: filepath.Join(elsewhere, "x.xlsx"), Columns: columns}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.SourceSpec(j, tt.override)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}

	c, j = load("      type: xlsx\n      path: staff.xlsx\n      sheet: 花名册\n")
	if got, err := c.SourceSpec(j, ""); err != nil || got.Type != "xlsx" || got.Sheet != "花名册" || got.Path != filepath.Join(dir, "staff.xlsx") {
		t.Errorf("xlsx spec = %+v, %v", got, err)
	}

	c, j = load("      type: postgres\n      view: hr.staff_v\n      key: 工号\n      dsn_env: HR_TEST_DSN\n")
	t.Setenv("HR_TEST_DSN", "")
	if _, err := c.SourceSpec(j, ""); err == nil || !strings.Contains(err.Error(), "export HR_TEST_DSN") {
		t.Errorf("unset DSN: %v", err)
	}
	t.Setenv("HR_TEST_DSN", "postgres://hr:pw@db/hr")
	want := source.Spec{Type: "postgres", DSN: "postgres://hr:pw@db/hr", View: "hr.staff_v", Key: "工号"}
	if got, err := c.SourceSpec(j, ""); err != nil || !cmp.Equal(want, got) {
		t.Errorf("postgres spec = %+v, %v", got, err)
	}
	// --source on a postgres job reads the file instead.
	if got, err := c.SourceSpec(j, "elsewhere/x.xlsx"); err != nil || got.Type != "xlsx" || got.DSN != "" {
		t.Errorf("postgres job with a file = %+v, %v", got, err)
	}
}

func TestPostgresSampleLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "samples", "importer-postgres.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job("")
	if err != nil {
		t.Fatal(err)
	}
	if s := j.Source; s.Type != "postgres" || s.View != "hr.staff_v" || s.Key != "工号" || s.DSNEnv != "HR_DATABASE_URL" {
		t.Errorf("source = %+v", s)
	}
}

func TestDepartmentSourceGoesWithTheTable(t *testing.T) {
	base := `
wecom: {base_url: "http://127.0.0.1:1", corp_id: ww}
jobs:
  - name: j
    source: {path: m.csv}
%s    mapping:
      fields: {userid: 工号, name: 姓名, mobile: 手机}
      departments:
%s`
	table := "        table: {id_column: 编码, parent_column: 上级, name_column: 名称}\n        department_code_column: 部门编码\n"
	path := "        path_column: 部门\n"
	src := "    department_source: {path: d.csv}\n"
	tests := []struct {
		name, src, depts, want string
	}{
		{"table without source", "", table, "needs a department_source"},
		{"source without table", src, path, "only read with mapping.departments.table"},
		{"bad source", "    department_source: {type: postgres, view: v}\n", table, "department_source"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(fmt.Sprintf(base, tt.src, tt.depts)))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.want)
		}
	}
	c, err := Parse([]byte(fmt.Sprintf(base, src, table)))
	if err != nil {
		t.Fatal(err)
	}
	c.Dir = "/hr"
	spec, err := c.DepartmentSpec(&c.Jobs[0])
	if err != nil || spec == nil || spec.Path != "/hr/d.csv" || len(spec.Columns) == 0 {
		t.Errorf("spec %+v, %v", spec, err)
	}
}

// TestSecretFileOthersCanRead: a secret file its group or others may read
// is a warning by default and a refusal with secret_file_strict; neither
// repeats the secret.
func TestSecretFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "importer.yaml")
	strict := strings.Replace(string(samples.ImporterYAML), "secret_env: WECOM_SECRET",
		"secret_file: wecom-secret\n  secret_file_strict: true", 1)
	if err := os.WriteFile(path, []byte(strict), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !c.WeCom.SecretFileStrict || c.WeCom.SecretFile != "wecom-secret" {
		t.Fatalf("wecom = %+v", c.WeCom)
	}
	secretPath := filepath.Join(dir, "wecom-secret")
	if err := os.WriteFile(secretPath, []byte("s3cr3t-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noSecret := func(what string) {
		t.Helper()
		if strings.Contains(what, "s3cr3t") {
			t.Errorf("the secret is repeated: %s", what)
		}
	}

	for _, strictMode := range []bool{false, true} {
		c.WeCom.SecretFileStrict = strictMode
		if err := os.Chmod(secretPath, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, warnings, err := readSecretOf(t, c); err != nil || s != "s3cr3t-value" || len(warnings) != 0 {
			t.Errorf("strict=%v, mode 0600: %q, %q, %v; want the secret and no warning", strictMode, s, warnings, err)
		}
		for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
			if err := os.Chmod(secretPath, mode); err != nil {
				t.Fatal(err)
			}
			s, warnings, err := readSecretOf(t, c)
			want := fmt.Sprintf("wecom.secret_file wecom-secret is readable by its group or other users (mode %04o)", mode)
			switch {
			case strictMode && (err == nil || s != "" || !strings.Contains(err.Error(), want)):
				t.Errorf("strict, mode %04o: %q, %v; want a refusal saying %q", mode, s, err, want)
			case !strictMode && (err != nil || s != "s3cr3t-value" || len(warnings) != 1 || !strings.Contains(warnings[0], want)):
				t.Errorf("mode %04o: %q, %q, %v; want the secret and a warning saying %q", mode, s, warnings, err, want)
			}
			if err != nil {
				noSecret(err.Error())
			}
			for _, w := range warnings {
				noSecret(w)
			}
		}
	}
	c.WeCom.SecretFileStrict = true
	if _, err := secretOf(t, c); err == nil {
		t.Error("Secret with strict set and a readable file: want the refusal too")
	}

	if _, err := Parse([]byte(strings.Replace(string(samples.ImporterYAML), "secret_env: WECOM_SECRET",
		"secret_env: WECOM_SECRET\n  secret_file_strict: true", 1))); err == nil || !strings.Contains(err.Error(), "secret_file_strict") {
		t.Errorf("secret_file_strict without secret_file: %v", err)
	}
}

func TestJournalRetryFor(t *testing.T) {
	c, err := Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	if c.Journal.RetryFor != 30*time.Second {
		t.Errorf("default journal.retry_for = %s, want 30s", c.Journal.RetryFor)
	}
	c, err = Parse([]byte(strings.Replace(string(samples.ImporterYAML), "journal:\n", "journal:\n  retry_for: 2m\n", 1)))
	if err != nil || c.Journal.RetryFor != 2*time.Minute {
		t.Errorf("retry_for: 2m: %v, %v", c, err)
	}
	if _, err := Parse([]byte(strings.Replace(string(samples.ImporterYAML), "journal:\n", "journal:\n  retry_for: -1s\n", 1))); err == nil {
		t.Error("a negative journal.retry_for was accepted")
	}
}

// TestJournalRequirePostgres: with journal.require postgres a forgotten
// DATABASE_URL is an error, never the embedded file.
func TestJournalRequirePostgres(t *testing.T) {
	c, err := Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	c.Journal.Require = "postgres"
	t.Setenv("DATABASE_URL", "")
	if dsn, err := c.JournalDSN(); err == nil || !strings.Contains(err.Error(), "journal.require is postgres") {
		t.Errorf("no DATABASE_URL with require postgres: %q, %v", dsn, err)
	}
	t.Setenv("DATABASE_URL", "postgres://importer@db/hrfeed")
	if dsn, err := c.JournalDSN(); err != nil || dsn != "postgres://importer@db/hrfeed" {
		t.Errorf("with DATABASE_URL: %q, %v", dsn, err)
	}
	if _, err := Parse([]byte(strings.Replace(string(samples.ImporterYAML), "journal:\n", "journal:\n  require: mysql\n", 1))); err == nil {
		t.Error("journal.require mysql accepted")
	}
}
