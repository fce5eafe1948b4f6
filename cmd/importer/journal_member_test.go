package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hrfeed/importer/internal/pgtest"
	"github.com/hrfeed/importer/samples"
)

// TestJournalMemberFiveRuns: one member's history over five runs — created,
// moved, held (their row rejected, so nothing was sent), disabled as a
// leaver and enabled again — on both journals.
func TestJournalMemberFiveRuns(t *testing.T) {
	for _, journalKind := range []string{"sqlite", "postgres"} {
		t.Run(journalKind, func(t *testing.T) {
			e := newCLIEnv(t, "")
			if journalKind == "postgres" {
				t.Setenv("DATABASE_URL", pgtest.DSN(t))
			}
			const row = "E1010,吴敏,13800138010,wumin@example.com,总部/研发中心/后端组,高级工程师,女,在职,E1009,杭州"
			feed := string(samples.StaffCSV)
			if !strings.Contains(feed, row) {
				t.Fatalf("the sample feed no longer has E1010's row %q", row)
			}
			moved := strings.Replace(row, "后端组", "前端组", 1)
			steps := []struct {
				row  string
				exit int
			}{
				{row, exitOK},
				{moved, exitOK},
				{strings.Replace(moved, "13800138010", "1380013801x", 1), exitRejects},
				{strings.Replace(moved, "在职", "离职", 1), exitOK},
				{moved, exitOK},
			}
			for i, s := range steps {
				if err := os.WriteFile(e.feed, []byte(strings.Replace(feed, row, s.row, 1)), 0o644); err != nil {
					t.Fatal(err)
				}
				if code, _, errOut := runCLI(t, "run", "--config", e.config); code != s.exit {
					t.Fatalf("run %d: exit %d, want %d\n%s", i+1, code, s.exit, errOut)
				}
			}
			code, out, errOut := runCLI(t, "journal", "member", "e1010", "--config", e.config, "--json")
			if inFile := strings.Contains(errOut, "hrfeed-journal.db"); inFile != (journalKind == "sqlite") {
				t.Fatalf("the %s run read the journal named in:\n%s", journalKind, errOut)
			}
			var history []struct {
				RunID     int64  `json:"run_id"`
				Operation string `json:"operation"`
				Rule      string `json:"rule"`
				Fields    []struct{ Field, Before, After string }
			}
			if err := json.Unmarshal([]byte(out), &history); code != 0 || err != nil {
				t.Fatalf("journal member: exit %d %v\n%s", code, err, out)
			}
			var got []string
			for _, h := range history {
				line := fmt.Sprintf("%d %s", h.RunID, h.Operation)
				if h.Rule != "" {
					line += " " + h.Rule
				}
				for _, f := range h.Fields {
					if f.Field == "enable" || f.Field == "department" {
						line += fmt.Sprintf(" %s", f.Field)
					}
				}
				got = append(got, line)
			}
			want := []string{"1 user_create department enable", "2 user_update department", "3 not_applied mobile_format",
				"4 user_disable enable", "5 user_update enable"}
			if !slices.Equal(got, want) {
				t.Errorf("E1010's history:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
			}
		})
	}
}
