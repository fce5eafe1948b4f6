package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const key = "3b9f-secret-robot-key"

func sampleRun() Run {
	return Run{
		RunID: 42, Job: "staff", Status: "partial", Trigger: "schedule", Host: "web-1",
		Started: time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC), DurationMS: 3200,
		Rows: 1200, Rejected: 1, Writes: 35, Failed: 1,
		Errcodes: map[string]int{"60104": 1},
		Failures: []Failure{{Operation: "user_create", Target: "E1001", Errcode: 60104, Message: "mobile existed"}},
		Show:     "importer journal show 42",
	}
}

func TestRobotPostsMarkdown(t *testing.T) {
	var got struct {
		Msgtype  string            `json:"msgtype"`
		Markdown map[string]string `json:"markdown"`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != key {
			t.Errorf("robot called at %s", r.URL.Path)
		}
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	n := New(Config{RobotURL: RobotURL(srv.URL, key)})
	if err := n.Notify(context.Background(), sampleRun()); err != nil {
		t.Fatal(err)
	}
	c := got.Markdown["content"]
	for _, want := range []string{"`staff`", "**42**", "partial", "E1001", "60104×1 手机号码已被其他成员使用", "`importer journal show 42`"} {
		if got.Msgtype != "markdown" || !strings.Contains(c, want) {
			t.Errorf("message lacks %q:\n%s", want, c)
		}
	}
}

func TestErrorsNeverCarryTheKey(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// WeCom echoes request details in errmsg; pretend it echoes the key.
		io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url, hint: key=`+key+`"}`)
	}))
	defer refusing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connection refused: an *url.Error that names the URL
	status := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusForbidden)
	}))
	defer status.Close()

	tests := []struct{ name, robot, webhook string }{
		{"robot errcode", RobotURL(refusing.URL, key), ""},
		{"robot unreachable", RobotURL(closed.URL, key), ""},
		{"robot URL in the variable", closed.URL + "/cgi-bin/webhook/send?key=" + key, ""},
		{"webhook unreachable", "", closed.URL + "/hooks/" + key},
		{"webhook status", "", status.URL + "/hooks/" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(Config{RobotURL: tt.robot, WebhookURL: tt.webhook}).Notify(context.Background(), sampleRun())
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestWebhookAndFilter(t *testing.T) {
	var got map[string]any
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	n := New(Config{WebhookURL: srv.URL, On: []string{"partial", "failed"}})
	done := sampleRun()
	done.Status = "done"
	if err := n.Notify(context.Background(), done); err != nil || calls != 0 {
		t.Fatalf("a done run was announced despite on: [partial, failed] (%v)", err)
	}
	if err := n.Notify(context.Background(), sampleRun()); err != nil || calls != 1 {
		t.Fatalf("partial run: %v, %d calls", err, calls)
	}
	if got["run_id"] != 42.0 || got["show"] != "importer journal show 42" || got["text"] == "" {
		t.Errorf("webhook body %v", got)
	}
}

func TestMarkdownStaysWithinTheLimit(t *testing.T) {
	r := sampleRun()
	for range 500 {
		r.Failures = append(r.Failures, Failure{Operation: "user_update", Target: "员工编号很长的用户", Errcode: 60104, Message: strings.Repeat("手机号码已存在", 5)})
	}
	for lang, more := range map[string]string{"en": "more", "zh": "另有"} {
		r.Lang = lang
		md := Markdown(r)
		if len(md) > robotMaxBytes || !strings.Contains(md, more) || !strings.HasSuffix(md, "`importer journal show 42`") {
			t.Errorf("%s: %d bytes; tail %q", lang, len(md), md[max(0, len(md)-80):])
		}
	}
}

// TestMarkdownGolden: the message a Chinese group chat reads by default,
// with the time in the job's zone, and the English one.
func TestMarkdownGolden(t *testing.T) {
	r := sampleRun()
	r.Zone = "Asia/Shanghai"
	zh := "**hrfeed** 任务 `staff` 第 **42** 次运行：<font color=\"warning\">部分失败 (partial)</font>\n" +
		"> 定时触发 (schedule)，主机 web-1，开始于 2026-11-26 10:00:00 CST，用时 3.2s\n" +
		"> 行 1200 · 拒绝 1 · 写入 35 · 失败 1\n" +
		"> 错误码：60104×1 手机号码已被其他成员使用\n" +
		"**失败**\n" +
		"- user_create E1001: 错误码 60104 mobile existed\n" +
		"详情：`importer journal show 42`"
	if got := Markdown(r); got != zh {
		t.Errorf("zh:\n%s\nwant:\n%s", got, zh)
	}
	r.Lang = "en"
	if got := Markdown(r); !strings.HasPrefix(got, "**hrfeed** job `staff` run **42**: <font color=\"warning\">partial</font>\n> schedule on web-1, 2026-11-26 10:00:00 CST") {
		t.Errorf("en:\n%s", got)
	}
}
