package runner_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/config"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/member"
)

// TestEveryTextFieldReachesWeCom walks the member table through every
// layer: a job maps each text field from a column of its own; a first run
// creates the member with each field's first example, a second run
// changes every field to its second, and a third empties every field WeCom
// lets an update clear. After each run WeCom must hold exactly what the
// feed says under the field's own key, and a further run must plan
// nothing. A field left out of the mapper, the planner's diff, the
// executor's payloads or the emulator fails here.
func TestEveryTextFieldReachesWeCom(t *testing.T) {
	e := newEnv(t, sqliteStore(t))
	dir := t.TempDir()
	var fields, header []string
	for _, f := range member.TextFields {
		fields = append(fields, fmt.Sprintf("%s: c_%s", f.Name, f.Name))
		header = append(header, "c_"+f.Name)
	}
	cfgText := fmt.Sprintf(`
wecom: {base_url: "http://127.0.0.1:1", corp_id: %s}
jobs:
  - name: fields
    source: {path: members.csv}
    mapping:
      fields: {userid: 工号, 部门: x, %s}
      departments: {path_column: 部门}
`, corpID, strings.Join(fields, ", "))
	cfgText = strings.Replace(cfgText, "部门: x, ", "", 1)
	if err := os.WriteFile(filepath.Join(dir, "importer.yaml"), []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "importer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	e.feed = filepath.Join(dir, "members.csv")

	write := func(value func(member.Text) string) {
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.Write(append([]string{"工号", "部门"}, header...))
		row := []string{"F001", "总部"}
		for _, f := range member.TextFields {
			row = append(row, value(f))
		}
		w.Write(row)
		w.Flush()
		if err := os.WriteFile(e.feed, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string, want func(member.Text) string) {
		t.Helper()
		if rep := e.run(nil); rep.Status != journal.RunDone {
			t.Fatalf("%s: %s %v %v", stage, rep.Status, rep.Fatal, rep.Rejects)
		}
		// Read back as WeCom answers user/get, each field where the table
		// says it shows.
		tok, err := e.client.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		e.sim.ServeHTTP(rec, httptest.NewRequest("GET", "/cgi-bin/user/get?userid=F001&access_token="+url.QueryEscape(tok), nil))
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["errcode"] != float64(0) {
			t.Fatalf("user/get: %v %s", err, rec.Body)
		}
		for _, f := range member.TextFields {
			path := f.Shown
			if path == nil {
				path = []string{f.Name}
			}
			var v any = got
			for _, k := range path {
				obj, _ := v.(map[string]any)
				v = obj[k]
			}
			if s, _ := v.(string); s != want(f) {
				t.Errorf("%s: user/get shows %s = %q, want %q", stage, strings.Join(path, "."), s, want(f))
			}
		}
		if again := e.run(nil); len(again.Plan.Ops) != 0 {
			t.Errorf("%s: a second run plans %v", stage, again.Plan.Counts())
		}
	}
	normalized := func(f member.Text, v string) string {
		if f.Name == "mobile" {
			return strings.ReplaceAll(v, " ", " ") // WeCom keeps the number as sent
		}
		return v
	}
	write(func(f member.Text) string { return f.Examples[0] })
	check("create", func(f member.Text) string { return normalized(f, f.Examples[0]) })
	write(func(f member.Text) string { return f.Examples[1] })
	check("update", func(f member.Text) string { return normalized(f, f.Examples[1]) })
	write(func(f member.Text) string {
		if f.NoClear || f.Name == "name" || f.Name == "mobile" {
			return f.Examples[1] // required, or WeCom will not clear it; mobile keeps 60129 away
		}
		return ""
	})
	check("clear", func(f member.Text) string {
		if f.NoClear || f.Name == "name" || f.Name == "mobile" {
			return normalized(f, f.Examples[1])
		}
		return ""
	})
}
