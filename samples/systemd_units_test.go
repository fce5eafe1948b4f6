package samples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The systemd units are what an admin copies into /etc/systemd/system;
// systemd-analyze verify catches an unknown key or a bad value (which
// systemd only warns about and ignores) before they do. The binary path
// is pointed at a stand-in because verify insists it exists.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed on this machine")
	}
	dir := t.TempDir()
	stand := filepath.Join(dir, "importer")
	if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	units, err := filepath.Glob("deploy/systemd/*")
	if err != nil || len(units) < 3 {
		t.Fatalf("units: %v %v", units, err)
	}
	var args []string
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "ExecStart=/usr/local/bin/importer ") && strings.HasSuffix(u, ".service") {
			t.Errorf("%s: ExecStart does not run /usr/local/bin/importer", u)
		}
		out := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/importer", stand)), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, out)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, args...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
