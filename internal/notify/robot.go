package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hrfeed/importer/internal/wecom"
)

// robotMaxBytes is WeCom's limit on a markdown message's content.
const robotMaxBytes = 4096

// robot posts markdown to a WeCom group robot.
type robot struct {
	url string
	hc  *http.Client
}

func (*robot) name() string { return "wecom_robot" }

func (b *robot) send(ctx context.Context, r Run) error {
	body, _ := json.Marshal(map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"content": Markdown(r)},
	})
	raw, err := post(ctx, b.hc, b.url, body)
	if err != nil {
		return err
	}
	// The robot answers HTTP 200 with an errcode, like the rest of WeCom.
	var ans struct {
		Errcode int    `json:"errcode"`
		Errmsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return fmt.Errorf("robot answer is not JSON: %w", err)
	}
	if ans.Errcode != 0 {
		// errmsg can quote the request's URL ("...hint: [xxx], from ip: ...,
		// more info at https://open.work.weixin.qq.com/devtool/query?e=93000");
		// scrub it all the same.
		return scrub(fmt.Errorf("robot refused the message: errcode %d: %s", ans.Errcode, ans.Errmsg), b.url)
	}
	return nil
}

// Markdown renders r for the robot, within WeCom's size limit.
func Markdown(r Run) string {
	var b strings.Builder
	color := "info"
	if r.Status != "done" {
		color = "warning"
	}
	fmt.Fprintf(&b, "**hrfeed** job `%s` run **%d**: <font color=\"%s\">%s</font>\n", r.Job, r.RunID, color, r.Status)
	fmt.Fprintf(&b, "> %s on %s, %s, took %s\n", r.Trigger, r.Host, r.Started.Format("2006-01-02 15:04:05 MST"),
		fmtMS(r.DurationMS))
	if r.ResumedFrom != 0 {
		fmt.Fprintf(&b, "> resumes run %d\n", r.ResumedFrom)
	}
	fmt.Fprintf(&b, "> rows %d · rejected %d · writes %d · failed %d\n", r.Rows, r.Rejected, r.Writes, r.Failed)
	if len(r.Errcodes) > 0 {
		codes := make([]string, 0, len(r.Errcodes))
		for c, n := range r.Errcodes {
			code := fmt.Sprintf("%s×%d", c, n)
			if k, err := strconv.Atoi(c); err == nil {
				if m, ok := wecom.Describe(k); ok {
					code += " " + m.ZH
				}
			}
			codes = append(codes, code)
		}
		slices.Sort(codes)
		fmt.Fprintf(&b, "> errcodes: %s\n", strings.Join(codes, ", "))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "> <font color=\"warning\">%s</font>\n", r.Error)
	}
	tail := fmt.Sprintf("details: `%s`", r.Show)
	if len(r.Failures) > 0 {
		b.WriteString("**failures**\n")
		shown := 0
		for _, f := range r.Failures {
			line := fmt.Sprintf("- %s %s: %s\n", f.Operation, f.Target, f.Message)
			if f.Errcode != 0 {
				line = fmt.Sprintf("- %s %s: errcode %d %s\n", f.Operation, f.Target, f.Errcode, f.Message)
			}
			// Leave room for the tail and a "more" line.
			if b.Len()+len(line)+len(tail)+40 > robotMaxBytes {
				break
			}
			b.WriteString(line)
			shown++
		}
		if more := len(r.Failures) - shown + r.MoreFailures; more > 0 {
			fmt.Fprintf(&b, "- … and %d more\n", more)
		}
	}
	b.WriteString(tail)
	return truncateUTF8(b.String(), robotMaxBytes)
}

func fmtMS(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%dms", ms)
	}
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut before the rune that straddles the limit.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// post sends body as JSON and returns the answer's body; any error is
// scrubbed of url.
func post(ctx context.Context, hc *http.Client, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, scrub(err, url)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, scrub(err, url)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, scrub(err, url)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return raw, nil
}
