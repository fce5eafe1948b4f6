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
	"time"
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

// words are the message's words in each language.
type words struct {
	head, on, resumes, counts, errcodes, failures, errcode, more, details string
	status, trigger                                                       map[string]string
}

var languages = map[string]words{
	"en": {
		head: "**hrfeed** job `%s` run **%d**: <font color=\"%s\">%s</font>\n", on: "> %s on %s, %s, took %s\n",
		resumes: "> resumes run %d\n", counts: "> rows %d · rejected %d · writes %d · failed %d\n",
		errcodes: "> errcodes: %s\n", failures: "**failures**\n", errcode: "errcode", more: "- … and %d more\n",
		details: "details: `%s`",
	},
	"zh": {
		head: "**hrfeed** 任务 `%s` 第 **%d** 次运行：<font color=\"%s\">%s</font>\n", on: "> %s，主机 %s，开始于 %s，用时 %s\n",
		resumes: "> 续跑第 %d 次运行\n", counts: "> 行 %d · 拒绝 %d · 写入 %d · 失败 %d\n",
		errcodes: "> 错误码：%s\n", failures: "**失败**\n", errcode: "错误码", more: "- … 另有 %d 条\n",
		details: "详情：`%s`",
		status: map[string]string{"done": "完成", "done_with_rejects": "完成，有行被拒", "partial": "部分失败",
			"failed": "失败", "refused": "被安全规则拒绝", "canceled": "已中断", "dry_run": "预演"},
		trigger: map[string]string{"schedule": "定时触发", "resume": "续跑", "manual": "手动"},
	},
}

// say is a status or trigger word in the message's language, with the
// word the journal and the logs use beside it.
func say(m map[string]string, w string) string {
	if t, ok := m[w]; ok {
		return t + " (" + w + ")"
	}
	return w
}

// Markdown renders r for the robot, within WeCom's size limit: in Chinese
// unless r.Lang is "en", with times in r.Zone.
func Markdown(r Run) string {
	lw, ok := languages[r.Lang]
	if !ok {
		lw = languages["zh"]
	}
	started := r.Started
	if loc, err := time.LoadLocation(r.Zone); r.Zone != "" && err == nil {
		started = started.In(loc)
	} else {
		started = started.Local()
	}
	var b strings.Builder
	color := "info"
	if r.Status != "done" {
		color = "warning"
	}
	fmt.Fprintf(&b, lw.head, r.Job, r.RunID, color, say(lw.status, r.Status))
	fmt.Fprintf(&b, lw.on, say(lw.trigger, r.Trigger), r.Host, started.Format("2006-01-02 15:04:05 MST"), fmtMS(r.DurationMS))
	if r.ResumedFrom != 0 {
		fmt.Fprintf(&b, lw.resumes, r.ResumedFrom)
	}
	fmt.Fprintf(&b, lw.counts, r.Rows, r.Rejected, r.Writes, r.Failed)
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
		fmt.Fprintf(&b, lw.errcodes, strings.Join(codes, ", "))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "> <font color=\"warning\">%s</font>\n", r.Error)
	}
	tail := fmt.Sprintf(lw.details, r.Show)
	if len(r.Failures) > 0 {
		b.WriteString(lw.failures)
		shown := 0
		for _, f := range r.Failures {
			line := fmt.Sprintf("- %s %s: %s\n", f.Operation, f.Target, f.Message)
			if f.Errcode != 0 {
				line = fmt.Sprintf("- %s %s: %s %d %s\n", f.Operation, f.Target, lw.errcode, f.Errcode, f.Message)
			}
			// Leave room for the tail and a "more" line.
			if b.Len()+len(line)+len(tail)+40 > robotMaxBytes {
				break
			}
			b.WriteString(line)
			shown++
		}
		if more := len(r.Failures) - shown + r.MoreFailures; more > 0 {
			fmt.Fprintf(&b, lw.more, more)
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
