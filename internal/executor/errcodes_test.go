package executor_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
)

// The summary's errcodes are every answer WeCom gave, retried attempts
// included, each counted once: a system-busy that was retried, the 60102
// that turned a create into an adoption, a row error; and an operation's
// own errcode that no attempt answered, gettoken's, once too.
func TestErrcodesCountEveryAnswer(t *testing.T) {
	t.Run("attempts", func(t *testing.T) {
		f := newFixture(t, secret)
		ctx := context.Background()
		if err := f.client.CreateUser(ctx, &wecom.User{UserID: "U0001", Name: "old", Mobile: "13900000001", Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
		bad := rec("u0002", "")
		bad.Mobile = "not-a-mobile"
		f.sim.InjectFaults(-1) // the first create: system busy, retried
		sum, err := f.exec(t, f.store, nil,
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0001", After: rec("u0001", "")},
			plan.Op{Phase: plan.PhaseMembers, Kind: plan.UserCreate, Target: "u0002", After: bad},
		)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(sum.Errcodes), fmt.Sprint(map[int]int{-1: 1, 60102: 1, 60103: 1}); got != want {
			t.Errorf("errcodes %s, want %s (summary %+v)", got, want, sum)
		}
		if sum.Counts["user_create/adopted"] != 1 || sum.Counts["user_create/failed"] != 1 {
			t.Errorf("outcomes %+v", sum.Counts)
		}
	})
	t.Run("gettoken", func(t *testing.T) {
		f := newFixture(t, "wrong-secret")
		sum, err := f.exec(t, f.store, nil, deptCreate("A", "A", "", 1))
		if wecom.CodeOf(err) != 40001 {
			t.Fatalf("err = %v, want gettoken's 40001", err)
		}
		if got, want := fmt.Sprint(sum.Errcodes), fmt.Sprint(map[int]int{40001: 1}); got != want {
			t.Errorf("errcodes %s, want %s", got, want)
		}
	})
}
