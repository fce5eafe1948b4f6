//go:build unix

package pgcluster

import "testing"

func TestVersionOrder(t *testing.T) {
	if !versionLess([]int{9, 6}, []int{15}) || !versionLess([]int{15}, []int{16}) || versionLess([]int{16}, []int{15}) {
		t.Error("versionLess does not order PostgreSQL versions numerically")
	}
}
