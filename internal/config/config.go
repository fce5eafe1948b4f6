// Package config loads the importer's YAML configuration: the WeCom
// connection, the journal, and the jobs with their sources, mappings and
// policies. Decoding is strict, so a misspelt key is an error rather than
// a silently ignored setting. Secrets are never in the file: it names the
// environment variable or file that holds them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/plan"
)

// Config is the whole file.
type Config struct {
	WeCom   WeCom   `yaml:"wecom"`
	Journal Journal `yaml:"journal"`
	Jobs    []Job   `yaml:"jobs"`

	// Dir is the directory of the config file; relative paths in it are
	// resolved against Dir so cron can run the importer from anywhere.
	Dir string `yaml:"-"`
}

// WeCom is the connection to the contacts API.
type WeCom struct {
	BaseURL string `yaml:"base_url"`
	CorpID  string `yaml:"corp_id"`
	// SecretEnv names the environment variable holding the contacts-sync
	// secret (default WECOM_SECRET); SecretFile, if set, is read instead.
	SecretEnv   string        `yaml:"secret_env"`
	SecretFile  string        `yaml:"secret_file"`
	Concurrency int           `yaml:"concurrency"`
	Timeout     time.Duration `yaml:"timeout"`
	PerMinute   int           `yaml:"per_minute"` // per API; 0 = WeCom's documented 10,000
	PerHour     int           `yaml:"per_hour"`   // per API; 0 = WeCom's documented 150,000
}

// Journal says where runs and calls are recorded.
type Journal struct {
	// DSNEnv names the environment variable holding a PostgreSQL URL
	// (default DATABASE_URL). When it is unset or empty the embedded
	// journal file at Path is used.
	DSNEnv string `yaml:"dsn_env"`
	Path   string `yaml:"path"`
}

// Job is one import: a source, its mapping and its policy.
type Job struct {
	Name     string        `yaml:"name"`
	Schedule string        `yaml:"schedule"`
	Source   Source        `yaml:"source"`
	Mapping  mapper.Config `yaml:"mapping"`
	Policy   plan.Policy   `yaml:"policy"`
}

// Source is where a job's rows come from.
type Source struct {
	Type      string `yaml:"type"` // csv
	Path      string `yaml:"path"`
	Encoding  string `yaml:"encoding"`
	Delimiter string `yaml:"delimiter"`
	HeaderRow int    `yaml:"header_row"`
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
	return c, nil
}

// Parse decodes and validates config text.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
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
		c.WeCom.Concurrency = 8
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
	for i := range c.Jobs {
		if c.Jobs[i].Source.Type == "" {
			c.Jobs[i].Source.Type = "csv"
		}
	}
}

func (c *Config) validate() error {
	if c.WeCom.CorpID == "" {
		return errors.New("wecom.corp_id is required")
	}
	if !strings.HasPrefix(c.WeCom.BaseURL, "http://") && !strings.HasPrefix(c.WeCom.BaseURL, "https://") {
		return fmt.Errorf("wecom.base_url %q: want an http:// or https:// URL", c.WeCom.BaseURL)
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
		if j.Source.Type != "csv" {
			return fmt.Errorf("job %s: source.type %q: supported: csv", j.Name, j.Source.Type)
		}
		if j.Source.Path == "" {
			return fmt.Errorf("job %s: source.path is required", j.Name)
		}
		if len([]rune(j.Source.Delimiter)) > 1 {
			return fmt.Errorf("job %s: source.delimiter %q: want one character", j.Name, j.Source.Delimiter)
		}
		if err := j.Mapping.Validate(); err != nil {
			return fmt.Errorf("job %s: mapping: %w", j.Name, err)
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

// Secret reads the corp secret from the file or environment variable the
// config names. The value is never logged or put in an error.
func (c *Config) Secret() (string, error) {
	if c.WeCom.SecretFile != "" {
		b, err := os.ReadFile(c.Resolve(c.WeCom.SecretFile))
		if err != nil {
			return "", fmt.Errorf("wecom.secret_file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("wecom.secret_file %s is empty", c.WeCom.SecretFile)
		}
		return s, nil
	}
	s := os.Getenv(c.WeCom.SecretEnv)
	if s == "" {
		return "", fmt.Errorf("the corp secret is not set: export %s (or set wecom.secret_file)", c.WeCom.SecretEnv)
	}
	return s, nil
}

// JournalDSN returns the PostgreSQL URL from the environment, or the
// embedded journal's file path when none is set.
func (c *Config) JournalDSN() string {
	if v := os.Getenv(c.Journal.DSNEnv); v != "" {
		return v
	}
	return c.Resolve(c.Journal.Path)
}
