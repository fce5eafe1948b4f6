package config

import (
	"fmt"
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
      tags_scope: authoritative
      protected_tags: [全员]
`)))
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Policy{
		Leavers: plan.LeaversDelete, Scope: plan.ScopeAuthoritative,
		ProtectedUsers: []string{"admin", "CEO"}, ProtectedDepartments: []string{"HR001"},
		MaxDeleteRatio: 0.5, MaxDeleteCount: 30, MaxRejectRatio: -1, MaxRejectCount: 7,
		TagsScope: plan.ScopeAuthoritative, ProtectedTags: []string{"全员"},
	}
	if diff := cmp.Diff(want, c.Jobs[0].Policy); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}

	_, err = Parse([]byte(withPolicy("      leaver: delete\n")))
	line := strings.Count(strings.TrimSuffix(base, sample), "\n") + 2 // the key after "policy:"
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("line %d: field leaver not found", line)) {
		t.Errorf("misspelt policy key: %v", err)
	}
}
