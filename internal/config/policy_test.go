package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/samples"
)

// TestPolicyKeys: every policy key reaches its plan.Policy field, and a
// misspelt one is refused with its line.
func TestPolicyKeys(t *testing.T) {
	const sample = "    policy:\n      leavers: disable\n      scope: managed\n      max_delete_ratio: 0.2\n"
	base := string(samples.ImporterYAML)
	if !strings.HasSuffix(base, sample) {
		t.Fatal("the sample config's policy block changed; update TestPolicyKeys")
	}
	withPolicy := func(block string) string { return strings.TrimSuffix(base, sample) + "    policy:\n" + block }

	c, err := Parse([]byte(withPolicy(`      leavers: delete
      scope: authoritative
      protected_users: [admin, CEO]
      protected_departments: [HR001]
      max_delete_ratio: 0.5
      max_delete_count: 30
      max_reject_ratio: -1
      max_reject_count: 7
`)))
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Policy{
		Leavers: plan.LeaversDelete, Scope: plan.ScopeAuthoritative,
		ProtectedUsers: []string{"admin", "CEO"}, ProtectedDepartments: []string{"HR001"},
		MaxDeleteRatio: 0.5, MaxDeleteCount: 30, MaxRejectRatio: -1, MaxRejectCount: 7,
	}
	if diff := cmp.Diff(want, c.Jobs[0].Policy); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}

	_, err = Parse([]byte(withPolicy("      leaver: delete\n")))
	if err == nil || !strings.Contains(err.Error(), "line 37: field leaver not found") {
		t.Errorf("misspelt policy key: %v", err)
	}
}
