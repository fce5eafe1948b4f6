// Package config loads the importer's YAML configuration: the WeCom
// corps, the journal, and the jobs with their sources, mappings and
// policies. Decoding is strict, so a misspelt key is an error rather than
// a silently ignored setting. A job's mapping and policy are read into this
// package's own types and translated into mapper.Config and plan.Policy,
// so the mapper and the planner know nothing of YAML. Secrets are never in
// the file: it names the environment variable or file that holds them.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/source"
)

// Config is the whole file.
type Config struct {
	// WeCom is the corp of every job that names none, and what the corps
	// under Corps leave out (see Config.CorpOf).
	WeCom WeCom `yaml:"wecom"`
	// Corps are a group's corps by name, each with its own corp id and
	// secret; a job syncs one with corp: NAME.
	Corps   map[string]WeCom `yaml:"corps"`
	Journal Journal          `yaml:"journal"`
	// Jobs are decoded through file, which reads each job's mapping and
	// policy in this package's YAML types.
	Jobs []Job `yaml:"-"`
	// Serve configures `importer serve`; other commands ignore it.
	Serve Serve `yaml:"serve"`

	// Dir is the directory of the config file; relative paths in it are
	// resolved against Dir so cron can run the importer from anywhere.
	Dir string `yaml:"-"`
	// Digest is the sha256 of the config file as read, so a run records
	// which configuration it ran with.
	Digest string `yaml:"-"`
}

// WeCom is the connection to one corp's contacts API.
type WeCom struct {
	BaseURL string `yaml:"base_url"`
	CorpID  string `yaml:"corp_id"`
	// SecretEnv names the environment variable holding the contacts-sync
	// secret (in the top-level block, default WECOM_SECRET); SecretFile,
	// if set, is read instead. A secret file its group or other users may
	// read is reported as a warning (Corp.ReadSecret), or refused when
	// SecretFileStrict is set (secret_file_strict: true), for deployments
	// that would rather not start than run with a secret others can read.
	SecretEnv        string `yaml:"secret_env"`
	SecretFile       string `yaml:"secret_file"`
	SecretFileStrict bool   `yaml:"secret_file_strict"`

	Concurrency int           `yaml:"concurrency"`
	Timeout     time.Duration `yaml:"timeout"`
	PerMinute   int           `yaml:"per_minute"` // per API; 0 = WeCom's documented 10,000
	PerHour     int           `yaml:"per_hour"`   // per API; 0 = WeCom's documented 150,000
}

// Journal says where runs and calls are recorded.
type Journal struct {
	// DSNEnv names the environment variable holding a PostgreSQL URL
	// (default DATABASE_URL). When it is unset or empty the embedded
	// journal file at Path is used; when it holds anything but a
	// PostgreSQL connection string, the journal is not opened at all.
	DSNEnv string `yaml:"dsn_env"`
	Path   string `yaml:"path"`
	// RetryFor is how long each PostgreSQL journal write, and then the
	// recording of the run's end, keeps trying through a lost connection
	// or a restarting server (default 30s). Raise it to ride out a managed
	// failover that takes longer; nothing is sent to WeCom meanwhile.
	RetryFor time.Duration `yaml:"retry_for"`
	// Require "postgres" refuses to fall back to the embedded file when
	// DSNEnv is unset: on a server whose history lives in PostgreSQL, a
	// forgotten DATABASE_URL would otherwise start a second, empty history
	// in a file.
	Require string `yaml:"require"`
}

// Job is one import: a source, its mapping and its policy.
type Job struct {
	Name     string `yaml:"name"`
	Schedule string `yaml:"schedule"`
	// Corp names the corp under corps: that the job syncs; empty, the
	// top-level wecom block's.
	Corp   string `yaml:"corp"`
	Source Source `yaml:"source"`
	// DepartmentSource is the department table's own source, required when
	// mapping.departments.table is set (departments keyed by HR code).
	DepartmentSource *Source `yaml:"department_source"`
	// Mapping and Policy are the mapper's and the planner's own types,
	// which know nothing of YAML: the file's mapping and policy keys are
	// decoded into this package's mapping and policy and translated
	// (jobFile).
	Mapping mapper.Config `yaml:"-"`
	Policy  plan.Policy   `yaml:"-"`
}

// file is the config file as YAML spells it: Config, with its jobs in
// the shape jobFile decodes.
type file struct {
	Config `yaml:",inline"`
	Jobs   []jobFile `yaml:"jobs"`
}

// jobFile is a job as YAML spells it.
type jobFile struct {
	Job     `yaml:",inline"`
	Mapping mapping `yaml:"mapping"`
	Policy  policy  `yaml:"policy"`
}

// job translates f into the pure packages' types, its mapping on top of
// the preset it names.
func (f jobFile) job() (Job, error) {
	j := f.Job
	m, err := f.Mapping.withPreset()
	if err != nil {
		return j, fmt.Errorf("job %s: %w", j.Name, err)
	}
	j.Mapping = m.toMapper()
	j.Policy = plan.Policy(f.Policy)
	return j, nil
}

// Source is where a job's rows come from: a CSV file, an .xlsx workbook,
// or a PostgreSQL view. Keys of another type than the job's are refused
// rather than ignored.
type Source struct {
	Type      string `yaml:"type"` // csv (default), xlsx or postgres
	Path      string `yaml:"path"` // csv, xlsx; relative to the config file
	Encoding  string `yaml:"encoding"`
	Delimiter string `yaml:"delimiter"`
	// HeaderRow is the 1-based row of the header (csv, xlsx). 0 means the
	// first line for csv; for xlsx, the first row holding every mapped
	// column, so title rows above the header need no setting.
	HeaderRow int `yaml:"header_row"`
	// Sheet is the xlsx sheet: a name, "#N" for the N-th (hidden sheets
	// count), or empty for the first visible one.
	Sheet string `yaml:"sheet"`
	// View is the PostgreSQL view or table, optionally schema-qualified
	// (hr.staff_v). It is quoted as an identifier, so it is matched
	// exactly, case included.
	View string `yaml:"view"`
	// Key is the view's key column: rows are read in its order and
	// rejects name it.
	Key string `yaml:"key"`
	// DSNEnv names the environment variable holding the PostgreSQL URL of
	// the HR database (for example HR_DATABASE_URL). It is required, with
	// no default, so the HR database is never the journal's DATABASE_URL
	// by accident.
	DSNEnv string `yaml:"dsn_env"`
	// AllowNonRegular lets a csv source be a pipe or a device (an export
	// streamed in through a FIFO). Otherwise such a path is refused at
	// open: reading /dev/zero or a FIFO nobody writes to would never end.
	AllowNonRegular bool `yaml:"allow_non_regular"`
}

// envName is what an environment variable name looks like; a dsn_env that
// is anything else is most likely the connection string itself.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks the keys of the source's type.
func (s Source) validate() error {
	if s.HeaderRow < 0 {
		return fmt.Errorf("source.header_row %d: want 1 or more, or 0", s.HeaderRow)
	}
	notFor := func(key, value, typ string) error {
		if value != "" {
			return fmt.Errorf("source.%s does not apply to source.type %s", key, typ)
		}
		return nil
	}
	switch s.Type {
	case source.TypeCSV, source.TypeXLSX:
		if s.Path == "" {
			return errors.New("source.path is required")
		}
		if kind := fileKind(s.Path, s.Type); kind != s.Type {
			return fmt.Errorf("source.path %s is %s by its name but source.type is %s", s.Path, kind, s.Type)
		}
		if err := errors.Join(notFor("view", s.View, s.Type), notFor("key", s.Key, s.Type), notFor("dsn_env", s.DSNEnv, s.Type)); err != nil {
			return err
		}
		if s.Type == source.TypeXLSX {
			return errors.Join(notFor("encoding", s.Encoding, s.Type), notFor("delimiter", s.Delimiter, s.Type))
		}
		if len([]rune(s.Delimiter)) > 1 {
			return fmt.Errorf("source.delimiter %q: want one character", s.Delimiter)
		}
		return notFor("sheet", s.Sheet, s.Type)
	case source.TypePostgres:
		switch {
		case s.View == "":
			return errors.New("source.view is required for a postgres source")
		case s.Key == "":
			return errors.New("source.key is required for a postgres source: the view's key column")
		case s.DSNEnv == "":
			return errors.New("source.dsn_env is required for a postgres source: the environment variable holding its connection string, such as HR_DATABASE_URL")
		case !envName.MatchString(s.DSNEnv):
			// Not quoted back: it may be the connection string, password
			// and all.
			return errors.New("source.dsn_env must be the name of an environment variable (such as HR_DATABASE_URL), not the connection string itself")
		}
		if s.HeaderRow != 0 {
			return notFor("header_row", strconv.Itoa(s.HeaderRow), s.Type)
		}
		return errors.Join(notFor("path", s.Path, s.Type), notFor("encoding", s.Encoding, s.Type), notFor("delimiter", s.Delimiter, s.Type),
			notFor("sheet", s.Sheet, s.Type))
	case "xls":
		return errors.New("source.type xls: the old binary Excel format is not supported; save the workbook as .xlsx and use type xlsx")
	}
	return fmt.Errorf("source.type %q: supported: csv, xlsx, postgres", s.Type)
}

// fileKind is the source type a file name implies: its extension when
// it is a known one, otherwise fallback. A .xls name implies nothing:
// HR systems give that name to tab-separated text as often as to real
// old workbooks, and each reader says clearly which it got.
func fileKind(path, fallback string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return source.TypeXLSX
	case ".csv", ".tsv", ".txt":
		return source.TypeCSV
	}
	if fallback == source.TypePostgres || fallback == "" {
		return source.TypeCSV
	}
	return fallback
}

// SourceSpec is how to open job j's source, reading the file at path
// instead when path is not empty. path must already be resolved (see
// Config.SourceSpec and runner.SourcePath). A file given instead of the
// configured one (importer run --source) is read as the type its name
// says, .xlsx/.xlsm as xlsx and .csv/.tsv/.txt as csv, so a postgres job
// can also be fed a file; when that type differs from the job's, the
// job's encoding, delimiter, sheet and header row do not apply and the
// readers' defaults (sniffing, header search) are used.
func (j *Job) SourceSpec(path string) (source.Spec, error) {
	s := j.Source
	if path == "" {
		if s.Type != source.TypePostgres {
			return source.Spec{}, fmt.Errorf("job %s: no source file", j.Name)
		}
		dsn := os.Getenv(s.DSNEnv)
		if dsn == "" {
			return source.Spec{}, fmt.Errorf("job %s: the HR database connection string is not set: export %s (source.dsn_env)", j.Name, s.DSNEnv)
		}
		return source.Spec{Type: source.TypePostgres, DSN: dsn, View: s.View, Key: s.Key}, nil
	}
	spec := source.Spec{Type: fileKind(path, s.Type), Path: path, Columns: j.Mapping.Columns(), AllowNonRegular: s.AllowNonRegular}
	if spec.Type == s.Type {
		for _, r := range s.Delimiter {
			spec.Delimiter = r
		}
		spec.Encoding, spec.HeaderRow, spec.Sheet = s.Encoding, s.HeaderRow, s.Sheet
	}
	return spec, nil
}

// SourceSpec is how to open job j's source: the configured one resolved
// against the config's directory, or the file override names.
func (c *Config) SourceSpec(j *Job, override string) (source.Spec, error) {
	path := override
	switch {
	case path != "":
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	case j.Source.Type != source.TypePostgres:
		path = c.Resolve(j.Source.Path)
	}
	return j.SourceSpec(path)
}

// DepartmentSpec is how to open the job's department table, or nil when
// the job takes its departments from the member rows.
func (c *Config) DepartmentSpec(j *Job) (*source.Spec, error) {
	d := j.DepartmentSource
	if d == nil {
		return nil, nil
	}
	table := Job{Name: j.Name, Source: *d}
	path := ""
	if d.Type != source.TypePostgres {
		path = c.Resolve(d.Path)
	}
	spec, err := table.SourceSpec(path)
	if err != nil {
		return nil, fmt.Errorf("department_source: %w", err)
	}
	spec.Columns = j.Mapping.DepartmentColumns()
	return &spec, nil
}

// Serve is the scheduled service: its HTTP endpoints, shutdown grace,
// coordination between replicas and notifications.
type Serve struct {
	// Listen is the address of /healthz, /readyz and /metrics
	// (default 127.0.0.1:9464; use ":9464" in a container).
	Listen string `yaml:"listen"`
	// Grace is how long a running job may go on after SIGTERM before it
	// is interrupted at a resumable point (default 5m).
	Grace time.Duration `yaml:"grace"`
	// Heartbeat is how often the replica running a job proves it is alive
	// (default 10s); StaleAfter is how old that proof may get before
	// another replica treats the run as abandoned (default 1m, at least
	// three heartbeats); StaleCheck is how often idle replicas look for
	// abandoned runs (default 30s).
	Heartbeat  time.Duration `yaml:"heartbeat"`
	StaleAfter time.Duration `yaml:"stale_after"`
	StaleCheck time.Duration `yaml:"stale_check"`
	// ResumeStale resumes an abandoned run (or one interrupted by a
	// shutdown) on another replica; when false it is only marked failed
	// and notified. Default true.
	ResumeStale *bool `yaml:"resume_stale"`
	// KeepOccurrences is how long the journal keeps each scheduled
	// occurrence's claim (default 720h, 30 days); each job's latest is
	// kept however old.
	KeepOccurrences time.Duration `yaml:"keep_occurrences"`
	Notify          Notify        `yaml:"notify"`
}

// Notify says where finished runs are announced. Webhook addresses are
// secrets (the robot key lets anyone post to the group), so the file names
// only the environment variables that hold them.
type Notify struct {
	// On lists the run statuses that are announced; empty means all.
	On         []string      `yaml:"on"`
	Timeout    time.Duration `yaml:"timeout"` // per request, default 10s
	WeComRobot WeComRobot    `yaml:"wecom_robot"`
	Webhook    Webhook       `yaml:"webhook"`
	// Language of the robot's messages: zh (default) or en. Times are
	// given in the job's schedule time zone (CRON_TZ).
	Language string `yaml:"language"`
}

// WeComRobot is a WeCom group robot (群机器人).
type WeComRobot struct {
	// KeyEnv names the variable holding the robot's key, or its whole
	// webhook URL as WeCom shows it.
	KeyEnv  string `yaml:"key_env"`
	BaseURL string `yaml:"base_url"` // default https://qyapi.weixin.qq.com
}

// Webhook is a generic endpoint that receives the run summary as JSON.
type Webhook struct {
	URLEnv string `yaml:"url_env"`
}

// Load reads and validates a config file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Dir = abs
	sum := sha256.Sum256(b)
	c.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return c, nil
}

// Parse decodes and validates config text.
func Parse(b []byte) (*Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c := f.Config
	for _, jf := range f.Jobs {
		j, err := jf.job()
		if err != nil {
			return nil, err
		}
		c.Jobs = append(c.Jobs, j)
	}
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	if c.WeCom.SecretEnv == "" {
		c.WeCom.SecretEnv = "WECOM_SECRET"
	}
	if c.WeCom.BaseURL == "" {
		c.WeCom.BaseURL = "https://qyapi.weixin.qq.com"
	}
	if c.WeCom.Concurrency <= 0 {
		// The cap on calls in flight; the executor keeps as many in flight
		// as the rate limit and the measured latency call for, within it.
		c.WeCom.Concurrency = 64
	}
	if c.WeCom.Timeout <= 0 {
		c.WeCom.Timeout = 30 * time.Second
	}
	if c.Journal.DSNEnv == "" {
		c.Journal.DSNEnv = "DATABASE_URL"
	}
	if c.Journal.Path == "" {
		c.Journal.Path = "hrfeed-journal.db"
	}
	if c.Journal.RetryFor == 0 {
		c.Journal.RetryFor = journal.DefaultRetry
	}
	c.Serve.defaults()
	for i := range c.Jobs {
		if c.Jobs[i].Source.Type == "" {
			c.Jobs[i].Source.Type = "csv"
		}
		if d := c.Jobs[i].DepartmentSource; d != nil && d.Type == "" {
			d.Type = "csv"
		}
	}
}

func (s *Serve) defaults() {
	if s.Listen == "" {
		s.Listen = "127.0.0.1:9464"
	}
	if s.Grace <= 0 {
		s.Grace = 5 * time.Minute
	}
	if s.Heartbeat <= 0 {
		s.Heartbeat = 10 * time.Second
	}
	if s.StaleAfter <= 0 {
		s.StaleAfter = max(time.Minute, 3*s.Heartbeat)
	}
	if s.StaleCheck <= 0 {
		s.StaleCheck = 30 * time.Second
	}
	if s.ResumeStale == nil {
		yes := true
		s.ResumeStale = &yes
	}
	if s.KeepOccurrences <= 0 {
		s.KeepOccurrences = 30 * 24 * time.Hour
	}
	if s.Notify.Timeout <= 0 {
		s.Notify.Timeout = 10 * time.Second
	}
	if s.Notify.WeComRobot.BaseURL == "" {
		s.Notify.WeComRobot.BaseURL = "https://qyapi.weixin.qq.com"
	}
}

func (s *Serve) validate() error {
	// A heartbeat that can be late by less than one interval must not make
	// a live run look abandoned.
	if s.StaleAfter < 2*s.Heartbeat {
		return fmt.Errorf("serve.stale_after %s: want at least twice serve.heartbeat (%s)", s.StaleAfter, s.Heartbeat)
	}
	if u := s.Notify.WeComRobot.BaseURL; !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("serve.notify.wecom_robot.base_url %q: want an http:// or https:// URL", u)
	}
	if l := s.Notify.Language; l != "" && l != "zh" && l != "en" {
		return fmt.Errorf("serve.notify.language %q: want zh or en", l)
	}
	for _, st := range s.Notify.On {
		switch st {
		case "done", "done_with_rejects", "partial", "failed", "refused", "canceled":
		default:
			return fmt.Errorf("serve.notify.on: %q: want done, done_with_rejects, partial, failed, refused or canceled", st)
		}
	}
	return nil
}

func (c *Config) validate() error {
	if err := c.validateCorps(); err != nil {
		return err
	}
	if c.Journal.RetryFor < 0 {
		return fmt.Errorf("journal.retry_for %s: want a positive duration", c.Journal.RetryFor)
	}
	if c.Journal.Require != "" && c.Journal.Require != "postgres" {
		return fmt.Errorf("journal.require %q: want postgres, or leave it out", c.Journal.Require)
	}
	if err := c.Serve.validate(); err != nil {
		return err
	}
	if len(c.Jobs) == 0 {
		return errors.New("no jobs: the config needs at least one entry under the jobs key")
	}
	seen := map[string]bool{}
	for i, j := range c.Jobs {
		if j.Name == "" {
			return fmt.Errorf("jobs[%d]: name is required", i)
		}
		if seen[j.Name] {
			return fmt.Errorf("jobs[%d]: duplicate job name %q", i, j.Name)
		}
		seen[j.Name] = true
		if _, err := c.CorpOf(&j); err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
		if err := j.Source.validate(); err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
		if err := j.Mapping.Validate(); err != nil {
			return fmt.Errorf("job %s: mapping: %w", j.Name, err)
		}
		switch table := j.Mapping.Departments.Table != nil; {
		case table && j.DepartmentSource == nil:
			return fmt.Errorf("job %s: mapping.departments.table needs a department_source to read the table from", j.Name)
		case !table && j.DepartmentSource != nil:
			return fmt.Errorf("job %s: department_source is only read with mapping.departments.table", j.Name)
		case table:
			if err := j.DepartmentSource.validate(); err != nil {
				return fmt.Errorf("job %s: department_%w", j.Name, err)
			}
		}
		if err := j.Policy.Validate(); err != nil {
			return fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	return nil
}

// Job returns the named job, or the only job when name is empty.
func (c *Config) Job(name string) (*Job, error) {
	if name == "" {
		if len(c.Jobs) == 1 {
			return &c.Jobs[0], nil
		}
		names := make([]string, len(c.Jobs))
		for i, j := range c.Jobs {
			names[i] = j.Name
		}
		return nil, fmt.Errorf("the config has %d jobs (%s): choose one with --job", len(c.Jobs), strings.Join(names, ", "))
	}
	for i := range c.Jobs {
		if c.Jobs[i].Name == name {
			return &c.Jobs[i], nil
		}
	}
	return nil, fmt.Errorf("no job named %q in the config", name)
}

// Resolve makes a config-relative path absolute.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// JournalDSN returns the PostgreSQL URL from the environment, or the
// embedded journal's file path when the variable is unset or empty. A value
// from the environment is never taken as a file path: one that is not a
// PostgreSQL connection string that parses is an error, which does not
// repeat it (it may hold a password).
func (c *Config) JournalDSN() (string, error) {
	v := os.Getenv(c.Journal.DSNEnv)
	if strings.TrimSpace(v) == "" {
		if c.Journal.Require == "postgres" {
			return "", fmt.Errorf("%s is not set, and journal.require is postgres: export the PostgreSQL URL (the embedded file is not used)", c.Journal.DSNEnv)
		}
		return c.Resolve(c.Journal.Path), nil
	}
	if err := journal.CheckPostgresDSN(v); err != nil {
		return "", fmt.Errorf("%s is set but %w; unset it to use the embedded journal (journal.path)", c.Journal.DSNEnv, err)
	}
	return v, nil
}
