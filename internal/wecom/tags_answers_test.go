package wecom

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// The invalid entries of addtagusers and deltagusers, in every shape the
// pages and the SDKs give them (docs/wecom.md §2.4).
func TestTagMembersAnswerShapes(t *testing.T) {
	cases := []struct {
		name    string
		answer  map[string]any
		users   []string
		parties []int
	}{
		{"the pages' shapes", map[string]any{"invalidlist": "usr1|usr2|usr", "invalidparty": []int{2, 4}}, []string{"usr1", "usr2", "usr"}, []int{2, 4}},
		{"department ids as strings (WxJava)", map[string]any{"invalidparty": []string{"2", "4"}}, nil, []int{2, 4}},
		{"department ids joined (PowerWeChat)", map[string]any{"invalidparty": "2|4"}, nil, []int{2, 4}},
		{"userids as an array", map[string]any{"invalidlist": []string{"a", "b"}}, []string{"a", "b"}, nil},
		{"empty and null", map[string]any{"invalidlist": "", "invalidparty": nil}, nil, nil},
		{"empty array", map[string]any{"invalidparty": []int{}}, nil, nil},
		{"nothing invalid", map[string]any{}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.on("tag/addtagusers", c.answer)
			h := newHarness(t, f.URL)
			r, err := h.c.AddTagUsers(context.Background(), TagMembersChange{TagID: 1, UserIDs: []string{"a"}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.InvalidUsers, c.users) || !slices.Equal(r.InvalidParties, c.parties) {
				t.Fatalf("result %+v, want users %v parties %v", r, c.users, c.parties)
			}
		})
	}
}

// An invalidparty entry that is no department id cannot be reported: the
// answer is unreadable, which the client treats as it does any errcode-0
// answer it cannot decode (retried; the hook is told errcode 0, the call
// was applied).
func TestTagMembersUnreadableAnswer(t *testing.T) {
	f := newFake(t)
	bad := map[string]any{"invalidparty": []string{"x"}}
	f.on("tag/deltagusers", bad, bad, bad, bad)
	h := newHarness(t, f.URL)
	var finished []int
	ctx := WithAttemptHook(context.Background(), func(string, int) (func(int, error), error) {
		return func(code int, _ error) { finished = append(finished, code) }, nil
	})
	_, err := h.c.DelTagUsers(ctx, TagMembersChange{TagID: 1, PartyIDs: []int{2}})
	var te *TransportError
	if !errors.As(err, &te) || ClassOf(err) != ClassRetry {
		t.Fatalf("err = %v, want a retryable TransportError", err)
	}
	if !slices.Equal(finished, []int{0, 0, 0, 0}) {
		t.Fatalf("finish codes %v, want errcode 0 for each attempt", finished)
	}
}

func TestTagAPIsClassify(t *testing.T) {
	for _, c := range []struct {
		api  string
		code int
		want Class
	}{
		{APITagUpdate, CodeNoPrivilege, ClassRow},
		{APITagDelete, CodeNoPrivilege, ClassRow},
		{APITagAddUsers, CodeNoPrivilege, ClassRow},
		{APITagDelUsers, CodeNoPrivilege, ClassRow},
		{APITagGet, CodeNoPrivilege, ClassConfig},
		{"user/update", CodeNoPrivilege, ClassConfig},
		{APITagAddUsers, CodeTagNotOwned, ClassRow},
		{APITagCreate, CodeTagLimit, ClassConfig},
		{APITagAddUsers, CodeTagListTooLong, ClassConfig},
		{APITagAddUsers, CodeTagAllInvalid, ClassRow},
		{APITagDelUsers, CodeInvalidUserList, ClassRow},
		{APITagAddUsers, CodeTagFull, ClassRow},
		{APITagCreate, CodeTagNameTaken, ClassRow},
		{APITagAddUsers, CodeRateLimited, ClassRateLimited},
	} {
		if got := ClassifyCode(c.api, c.code); got != c.want {
			t.Errorf("ClassifyCode(%s, %d) = %v, want %v", c.api, c.code, got, c.want)
		}
	}
}
