package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

// Corp is one WeCom corp as its runs use it: the top-level wecom block, or
// a corp under corps: with what it leaves out taken from that block.
//
// A group names its corps once, under corps:, and each job names its corp,
// rather than each job carrying a wecom block of its own: WeCom issues
// tokens and counts its rate limits per corp, so everything that talks to
// one corp must share one client, and a corp defined in one place cannot
// be given two different limits by two of its jobs.
type Corp struct {
	// Name is the corp's key under corps:, "" for the top-level wecom block.
	Name string
	WeCom
	secretPath string // secret_file resolved against the config's directory
}

// Key is where the corp is set in the file (wecom, corps.NAME), for
// messages that send the reader there.
func (k Corp) Key() string {
	if k.Name == "" {
		return "wecom"
	}
	return "corps." + k.Name
}

// CorpOf is the corp job j syncs. A corp under corps: takes base_url,
// timeout, concurrency, per_minute and per_hour from the top-level wecom
// block when it leaves them out (or sets them to 0), and
// secret_file_strict when the top-level block sets it; its corp id and
// secret are its own, never inherited, since a secret belongs to one corp.
func (c *Config) CorpOf(j *Job) (Corp, error) {
	if j.Corp == "" {
		return Corp{WeCom: c.WeCom, secretPath: c.Resolve(c.WeCom.SecretFile)}, nil
	}
	own, ok := c.Corps[j.Corp]
	if !ok {
		if len(c.Corps) == 0 {
			return Corp{}, fmt.Errorf("corp %q: the config has no corps: block naming it", j.Corp)
		}
		return Corp{}, fmt.Errorf("corp %q is not under corps: (%s)", j.Corp, strings.Join(slices.Sorted(maps.Keys(c.Corps)), ", "))
	}
	k := Corp{Name: j.Corp, WeCom: own, secretPath: c.Resolve(own.SecretFile)}
	if k.BaseURL == "" {
		k.BaseURL = c.WeCom.BaseURL
	}
	if k.Timeout <= 0 {
		k.Timeout = c.WeCom.Timeout
	}
	if k.Concurrency <= 0 {
		k.Concurrency = c.WeCom.Concurrency
	}
	if k.PerMinute == 0 {
		k.PerMinute = c.WeCom.PerMinute
	}
	if k.PerHour == 0 {
		k.PerHour = c.WeCom.PerHour
	}
	k.SecretFileStrict = k.SecretFileStrict || c.WeCom.SecretFileStrict
	return k, nil
}

// validateCorps checks the top-level wecom block and every corp under
// corps:. Which job names which corp is checked with the jobs.
func (c *Config) validateCorps() error {
	names := slices.Sorted(maps.Keys(c.Corps))
	if c.WeCom.CorpID == "" {
		for _, j := range c.Jobs {
			if j.Corp != "" {
				continue
			}
			if len(c.Corps) == 0 {
				return errors.New("wecom.corp_id is required")
			}
			return fmt.Errorf("wecom.corp_id is required: job %s names no corp, so it syncs the top-level wecom block's (or give it corp: one of %s)", j.Name, strings.Join(names, ", "))
		}
	}
	if err := checkBaseURL("wecom", c.WeCom.BaseURL); err != nil {
		return err
	}
	if c.WeCom.SecretFileStrict && c.WeCom.SecretFile == "" &&
		!slices.ContainsFunc(names, func(n string) bool { return c.Corps[n].SecretFile != "" }) {
		return errors.New("wecom.secret_file_strict applies to wecom.secret_file, which is not set")
	}
	// One entry per corp: two would mean two tokens and two sets of
	// limiters for one corp, each allowing the whole of WeCom's rate.
	defined := map[string]string{}
	if c.WeCom.CorpID != "" {
		defined[c.WeCom.CorpID] = "wecom"
	}
	for _, name := range names {
		k := c.Corps[name]
		key := "corps." + name
		switch {
		case strings.TrimSpace(name) == "":
			return errors.New("corps: a corp's name is empty")
		case k.CorpID == "":
			return fmt.Errorf("%s.corp_id is required", key)
		case k.SecretEnv == "" && k.SecretFile == "":
			return fmt.Errorf("%s: set secret_env or secret_file to where this corp's own secret is (it is not taken from the wecom block: a secret belongs to one corp)", key)
		case k.SecretEnv != "" && k.SecretFile != "":
			return fmt.Errorf("%s: secret_env and secret_file are both set: name one", key)
		case k.SecretFileStrict && k.SecretFile == "":
			return fmt.Errorf("%s.secret_file_strict applies to %s.secret_file, which is not set", key, key)
		}
		if other, dup := defined[k.CorpID]; dup {
			return fmt.Errorf("%s.corp_id %s is also %s's: define each corp once, so its jobs share its token and its rate limits", key, k.CorpID, other)
		}
		defined[k.CorpID] = key
		if k.BaseURL != "" {
			if err := checkBaseURL(key, k.BaseURL); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkBaseURL(key, u string) error {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("%s.base_url %q: want an http:// or https:// URL", key, u)
	}
	return nil
}

// ReadSecret reads the corp's secret from the file or environment variable
// the config names, with warnings about how it is kept that do not stop a
// run, for the caller to log: a secret file its group or other users may
// read (which secret_file_strict refuses instead). The value is never
// logged or put in an error. The config package has no logger of its own;
// the caller's knows where and how its warnings are read.
func (k Corp) ReadSecret() (secret string, warnings []string, err error) {
	key := k.Key()
	if k.SecretFile != "" {
		// Stat follows symlinks, as ReadFile does: the mode that matters is
		// the file's (Kubernetes mounts secrets as symlinks to 0644 files by
		// default).
		fi, err := os.Stat(k.secretPath)
		if err != nil {
			return "", nil, fmt.Errorf("%s.secret_file: %w", key, err)
		}
		if perm := fi.Mode().Perm(); perm&0o044 != 0 {
			problem := fmt.Sprintf("%s.secret_file %s is readable by its group or other users (mode %04o)", key, k.SecretFile, perm)
			if k.SecretFileStrict {
				return "", nil, fmt.Errorf("%s and secret_file_strict is set: chmod 600 it", problem)
			}
			warnings = append(warnings, fmt.Sprintf("%s: chmod 600 it, or set %s.secret_file_strict: true to refuse such a file", problem, key))
		}
		b, err := os.ReadFile(k.secretPath)
		if err != nil {
			return "", nil, fmt.Errorf("%s.secret_file: %w", key, err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", nil, fmt.Errorf("%s.secret_file %s is empty", key, k.SecretFile)
		}
		return s, warnings, nil
	}
	s := os.Getenv(k.SecretEnv)
	if s == "" {
		what := "the corp secret"
		if k.Name != "" {
			what = fmt.Sprintf("the secret of corp %s (%s)", k.Name, k.CorpID)
		}
		return "", nil, fmt.Errorf("%s is not set: export %s (or set %s.secret_file)", what, k.SecretEnv, key)
	}
	return s, nil, nil
}
