// Package notify announces finished runs to a WeCom group robot (群机器人)
// and/or a generic JSON webhook.
//
// Webhook addresses are credentials: a robot's key lets anyone post to the
// group, and a generic webhook URL often carries a token. They come from
// environment variables, are never logged, and are scrubbed from every
// error this package returns (an *url.Error prints the whole URL).
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Run is what a notification says about one finished run.
type Run struct {
	RunID       int64          `json:"run_id"`
	Job         string         `json:"job"`
	Status      string         `json:"status"`
	Trigger     string         `json:"trigger"` // schedule or resume
	ResumedFrom int64          `json:"resumed_from,omitempty"`
	Host        string         `json:"host"`
	Started     time.Time      `json:"started_at"`
	DurationMS  int64          `json:"duration_ms"`
	Rows        int            `json:"rows"`
	Rejected    int            `json:"rejected"`
	Writes      int            `json:"writes"`
	Failed      int            `json:"failed"`
	Counts      map[string]int `json:"counts"`
	Errcodes    map[string]int `json:"errcodes"`
	Failures    []Failure      `json:"failures,omitempty"`
	// MoreFailures counts failures left out of Failures.
	MoreFailures int    `json:"more_failures,omitempty"`
	Error        string `json:"error,omitempty"`
	// Show is the command that shows the run in full.
	Show string `json:"show"`
	// Zone is the IANA time zone the message gives times in (the job's
	// CRON_TZ); "" means the host's.
	Zone string `json:"-"`
	// Lang is "zh" (the default: the group chats these go to read
	// Chinese) or "en"; the notifier sets it from its Config.
	Lang string `json:"-"`
}

// Failure is one failed call or rejected row.
type Failure struct {
	Operation string `json:"operation"` // user_create, ..., or "reject"
	Target    string `json:"target"`    // userid, department key, or source row
	Errcode   int    `json:"errcode,omitempty"`
	Message   string `json:"message"`
}

// Target is one place notifications go.
type target interface {
	name() string
	send(ctx context.Context, r Run) error
}

// Config selects the targets. Empty URLs leave a target out.
type Config struct {
	// RobotURL is the robot's webhook URL (.../cgi-bin/webhook/send?key=KEY).
	RobotURL string
	// WebhookURL receives the Run as JSON.
	WebhookURL string
	// On lists the statuses that are announced; empty means all.
	On         []string
	HTTPClient *http.Client
	// Language of the robot's messages: "zh" (default) or "en".
	Language string
}

// Notifier sends to every configured target.
type Notifier struct {
	targets []target
	on      []string
	lang    string
	// OnSend, if set, is told the outcome of every send (for metrics).
	OnSend func(target string, err error)
}

// New returns a notifier; with no URL it has no targets and Notify does
// nothing.
func New(c Config) *Notifier {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	// A redirect would carry the key to another URL.
	noRedirect := *hc
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n := &Notifier{on: c.On, lang: c.Language}
	if c.RobotURL != "" {
		n.targets = append(n.targets, &robot{url: c.RobotURL, hc: &noRedirect})
	}
	if c.WebhookURL != "" {
		n.targets = append(n.targets, &webhook{url: c.WebhookURL, hc: &noRedirect})
	}
	return n
}

// RobotURL turns the value of the robot's environment variable into its
// webhook URL: the variable may hold the key alone or the whole URL WeCom
// shows when the robot is added.
func RobotURL(base, keyOrURL string) string {
	v := strings.TrimSpace(keyOrURL)
	if v == "" || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		return v
	}
	return strings.TrimRight(base, "/") + "/cgi-bin/webhook/send?key=" + v
}

// Enabled reports whether any target is configured.
func (n *Notifier) Enabled() bool { return n != nil && len(n.targets) > 0 }

// Notify sends r to every target whose filter admits its status. Errors
// are joined; none of them contains a webhook URL or key.
func (n *Notifier) Notify(ctx context.Context, r Run) error {
	if !n.Enabled() || (len(n.on) > 0 && !slices.Contains(n.on, r.Status)) {
		return nil
	}
	if r.Lang == "" {
		r.Lang = n.lang
	}
	var errs []error
	for _, t := range n.targets {
		err := t.send(ctx, r)
		if n.OnSend != nil {
			n.OnSend(t.name(), err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notify %s: %w", t.name(), err))
		}
	}
	return errors.Join(errs...)
}
