package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/mapper"
	"github.com/hrfeed/importer/internal/source"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestMappingGolden maps each testdata/mapping/<scenario>/: config.yaml
// (the mapping, as under a job's "mapping:" key), departments.csv when the
// scenario has a department table, and members.csv, and compares the
// mapper's Directory with directory.golden.json. Run with -update after an
// intended change and read the diff.
func TestMappingGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/mapping/*/config.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, cfgPath := range dirs {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := os.ReadFile(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := decodeStrict(string(src))
			if err != nil {
				t.Fatalf("config.yaml: %v", err)
			}
			m, err := mapper.New(cfg)
			if err != nil {
				t.Fatalf("mapper.New: %v", err)
			}
			if cfg.Departments.Table != nil {
				readCSV(t, filepath.Join(dir, "departments.csv"), cfg.CheckDepartmentColumns, func(r mapper.Row) {
					if err := m.AddDepartmentRow(r); err != nil {
						t.Fatal(err)
					}
				})
			}
			readCSV(t, filepath.Join(dir, "members.csv"), cfg.CheckColumns, m.Add)

			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(m.Directory()); err != nil {
				t.Fatal(err)
			}
			// A run takes the directory, releasing the rows as it goes: the
			// same directory.
			var taken bytes.Buffer
			enc = json.NewEncoder(&taken)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(m.TakeDirectory()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got.String(), taken.String()); diff != "" {
				t.Errorf("TakeDirectory differs from Directory (-Directory +TakeDirectory):\n%s", diff)
			}
			func() {
				defer func() {
					if recover() == nil {
						t.Error("Add after TakeDirectory did not panic")
					}
				}()
				m.Add(mapper.Row{Ref: "late"})
			}()
			golden := filepath.Join(dir, "directory.golden.json")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func readCSV(t *testing.T, path string, check func([]string) error, add func(mapper.Row)) {
	t.Helper()
	r, err := source.OpenCSV(path, source.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := check(r.Columns()); err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		add(mapper.Row(r.Row()))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}
