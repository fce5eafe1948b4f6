package wecom

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// TestCatalogAgreesWithTheDocs: every errcode the catalogue explains is in
// docs/wecom.md §4, and every code the importer decides on by name has an
// explanation, so a report never shows a bare number for them.
func TestCatalogAgreesWithTheDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/wecom.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (-?\d+)(?: / (\d+))*(?: / (\d+))? \|`).FindAllStringSubmatch(string(b), -1) {
		for _, g := range m[1:] {
			if n, err := strconv.Atoi(g); err == nil {
				documented[n] = true
			}
		}
	}
	for code := range catalog {
		if !documented[code] {
			t.Errorf("errcode %d is in the catalogue but not in docs/wecom.md §4", code)
		}
	}
	for _, code := range []int{CodeSystemBusy, CodeRateLimited, CodeAPIForbidden, CodeNewIPNoDetails, CodeUntrustedIP, CodeNoPrivilege,
		CodeDeptHasMembers, CodeDeptHasChildren, CodeDeptExists, CodeUserExists, CodeMobileTaken, CodeEmailTaken, CodeUserNotFound, CodeBizMailTaken,
		CodeInvalidUserList, CodeInvalidTagID, CodeTagAllInvalid, CodeTagNameTaken, CodeTagNameLength, CodeTagLimit, CodeTagIDMissing,
		CodeTagNameMissing, CodeTagFull, CodeTagNotOwned, CodeTagListTooLong} {
		if m, ok := Describe(code); !ok || m.ZH == "" || m.EN == "" || m.Do == "" {
			t.Errorf("errcode %d has no full explanation", code)
		}
	}
}
