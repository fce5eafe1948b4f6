package config

import (
	"strings"
	"testing"
	"time"

	"github.com/hrfeed/importer/samples"
)

func TestServeDefaultsAndValidation(t *testing.T) {
	c, err := Parse(samples.ImporterYAML)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Serve
	if s.Grace != 5*time.Minute || s.Heartbeat != 10*time.Second || s.StaleAfter != time.Minute ||
		s.StaleCheck != 30*time.Second || !*s.ResumeStale || s.KeepOccurrences != 30*24*time.Hour || s.Listen == "" {
		t.Errorf("defaults: %+v", s)
	}
	base := string(samples.ImporterYAML)
	good := base + "serve:\n  grace: 30s\n  resume_stale: false\n  keep_occurrences: 168h\n  notify:\n    on: [failed]\n    wecom_robot: {key_env: ROBOT_KEY}\n"
	c, err = Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Serve.Grace != 30*time.Second || *c.Serve.ResumeStale || c.Serve.KeepOccurrences != 7*24*time.Hour || c.Serve.Notify.WeComRobot.KeyEnv != "ROBOT_KEY" {
		t.Errorf("decoded: %+v", c.Serve)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"serve:\n  heartbeat: 1m\n  stale_after: 90s\n", "serve.stale_after"},
		{"serve:\n  notify: {on: [finished]}\n", "serve.notify.on"},
		{"serve:\n  notify: {wecom_robot: {key: abc}}\n", "field key not found"},
	} {
		if _, err := Parse([]byte(base + tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestDeploySampleConfigLoads(t *testing.T) {
	c, err := Load("../../samples/deploy/importer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Serve.Listen != ":9464" || c.Serve.Notify.WeComRobot.KeyEnv != "HRFEED_ROBOT_KEY" || c.Jobs[0].Schedule == "" {
		t.Errorf("serve section: %+v", c.Serve)
	}
}
