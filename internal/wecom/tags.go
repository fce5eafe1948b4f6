package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The tag APIs (docs/wecom.md §2.4), as the per-API limiter, CallInfo and
// an AttemptHook name them. A journal that records calls by API uses
// these rather than spelling the paths again.
const (
	APITagCreate   = "tag/create"
	APITagUpdate   = "tag/update"
	APITagDelete   = "tag/delete"
	APITagGet      = "tag/get"
	APITagList     = "tag/list"
	APITagAddUsers = "tag/addtagusers"
	APITagDelUsers = "tag/deltagusers"
)

// Per-call caps of addtagusers and deltagusers (90214, 90215). A planner
// splits a tag's changes into batches within them; AddTagUsers and
// DelTagUsers refuse a bigger batch without sending it.
const (
	TagUserListMax  = 1000
	TagPartyListMax = 100
)

// Tag is a tag as tag/create takes it and tag/list returns it. ID 0 on
// create lets WeCom pick the largest id in use plus one.
type Tag struct {
	ID   int    `json:"tagid,omitempty"`
	Name string `json:"tagname"`
}

// TagUser is one member of tag/get's userlist.
type TagUser struct {
	UserID string `json:"userid"`
	Name   string `json:"name"`
}

// TagMembers is tag/get's answer: the tag's own entries. Departments in
// Parties are not expanded into Users, and an app secret sees only its
// visible range.
type TagMembers struct {
	Name    string    `json:"tagname"`
	Users   []TagUser `json:"userlist"`
	Parties []int     `json:"partylist"`
}

// TagMembersChange is the body of addtagusers and deltagusers: at most
// TagUserListMax userids and TagPartyListMax departments, not both empty.
type TagMembersChange struct {
	TagID    int      `json:"tagid"`
	UserIDs  []string `json:"userlist,omitempty"`
	PartyIDs []int    `json:"partylist,omitempty"`
}

// TagMembersResult is what a successful addtagusers or deltagusers did not
// apply: WeCom answers errcode 0, applies the valid entries, and names the
// userids and departments it found invalid (unknown, or outside the app's
// range). When every entry is invalid the call fails instead, with 40070
// (add) or 40031 (delete).
type TagMembersResult struct {
	InvalidUsers   []string
	InvalidParties []int
}

// CreateTag creates t (POST tag/create) and returns its id: t.ID when
// given, else the one WeCom assigned. The tag belongs to the secret's app
// (for the contacts-sync secret, the sync assistant): only it may change
// the tag later. A name in use answers 40071, a bad length 40072; a
// create retried after its answer was lost meets 40071 too, and the tag is
// then found by name in ListTags.
func (c *Client) CreateTag(ctx context.Context, t Tag) (int, error) {
	var resp struct {
		TagID int `json:"tagid"`
	}
	if err := c.post(ctx, APITagCreate, t, &resp); err != nil {
		return 0, fmt.Errorf("create tag %q: %w", t.Name, err)
	}
	if resp.TagID == 0 {
		return t.ID, nil
	}
	return resp.TagID, nil
}

// UpdateTag renames tag t.ID to t.Name (POST tag/update). A tag another
// app created answers 60011 or 81011 (docs/wecom.md §2.4), both a row
// error here.
func (c *Client) UpdateTag(ctx context.Context, t Tag) error {
	if t.ID == 0 {
		return errors.New("update tag: no tagid")
	}
	if err := c.post(ctx, APITagUpdate, t, nil); err != nil {
		return fmt.Errorf("update tag %d: %w", t.ID, err)
	}
	return nil
}

func tagQuery(id int) url.Values { return url.Values{"tagid": {strconv.Itoa(id)}} }

// DeleteTag deletes a tag (GET tag/delete), members and all. 40068 means
// it was not there; callers that want idempotent deletes test
// CodeOf(err) == CodeInvalidTagID.
func (c *Client) DeleteTag(ctx context.Context, id int) error {
	if err := c.get(ctx, APITagDelete, tagQuery(id), nil); err != nil {
		return fmt.Errorf("delete tag %d: %w", id, err)
	}
	return nil
}

// GetTag reads a tag's name and entries (GET tag/get).
func (c *Client) GetTag(ctx context.Context, id int) (*TagMembers, error) {
	var m TagMembers
	if err := c.get(ctx, APITagGet, tagQuery(id), &m); err != nil {
		return nil, fmt.Errorf("get tag %d: %w", id, err)
	}
	return &m, nil
}

// ListTags lists every tag of the corp (GET tag/list), whoever created it.
func (c *Client) ListTags(ctx context.Context) ([]Tag, error) {
	var resp struct {
		TagList []Tag `json:"taglist"`
	}
	if err := c.get(ctx, APITagList, nil, &resp); err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return resp.TagList, nil
}

// AddTagUsers adds members and departments to a tag (POST
// tag/addtagusers) in one call. Whether an entry already in the tag is
// accepted or answered as invalid is not documented (docs/wecom.md §2.4);
// either way it stays in the tag.
func (c *Client) AddTagUsers(ctx context.Context, ch TagMembersChange) (TagMembersResult, error) {
	r, err := c.changeTagMembers(ctx, APITagAddUsers, ch)
	if err != nil {
		return r, fmt.Errorf("add to tag %d: %w", ch.TagID, err)
	}
	return r, nil
}

// DelTagUsers removes members and departments from a tag (POST
// tag/deltagusers) in one call; like AddTagUsers, an entry not in the tag
// may come back as invalid.
func (c *Client) DelTagUsers(ctx context.Context, ch TagMembersChange) (TagMembersResult, error) {
	r, err := c.changeTagMembers(ctx, APITagDelUsers, ch)
	if err != nil {
		return r, fmt.Errorf("remove from tag %d: %w", ch.TagID, err)
	}
	return r, nil
}

// changeTagMembers refuses a batch WeCom would refuse for its size before
// it costs a rate slot, an attempt and a journal row.
func (c *Client) changeTagMembers(ctx context.Context, api string, ch TagMembersChange) (TagMembersResult, error) {
	switch {
	case ch.TagID == 0:
		return TagMembersResult{}, errors.New("no tagid")
	case len(ch.UserIDs) == 0 && len(ch.PartyIDs) == 0:
		return TagMembersResult{}, errors.New("no userid and no department")
	case len(ch.UserIDs) > TagUserListMax:
		return TagMembersResult{}, fmt.Errorf("%d userids, more than %d a call", len(ch.UserIDs), TagUserListMax)
	case len(ch.PartyIDs) > TagPartyListMax:
		return TagMembersResult{}, fmt.Errorf("%d departments, more than %d a call", len(ch.PartyIDs), TagPartyListMax)
	}
	var resp struct {
		InvalidList  userIDList  `json:"invalidlist"`
		InvalidParty partyIDList `json:"invalidparty"`
	}
	if err := c.post(ctx, api, ch, &resp); err != nil {
		return TagMembersResult{}, err
	}
	return TagMembersResult{InvalidUsers: resp.InvalidList, InvalidParties: resp.InvalidParty}, nil
}

// userIDList and partyIDList read the invalid entries of a tag member
// call in every shape they are documented or modelled in: the pages give
// invalidlist as one "|"-joined string and invalidparty as an array of
// numbers, WxJava reads invalidparty as an array of strings, PowerWeChat
// as a joined string. Anything else fails the decoding, which the client
// reports as it does any unreadable errcode-0 answer (see AttemptHook).
type (
	userIDList  []string
	partyIDList []int
)

func (l *userIDList) UnmarshalJSON(b []byte) error {
	ids, err := decodeIDs(b)
	*l = ids
	return err
}

func (l *partyIDList) UnmarshalJSON(b []byte) error {
	ids, err := decodeIDs(b)
	if err != nil || len(ids) == 0 {
		*l = nil
		return err
	}
	out := make(partyIDList, 0, len(ids))
	for _, s := range ids {
		id, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("invalidparty entry %q is not a department id", s)
		}
		out = append(out, id)
	}
	*l = out
	return nil
}

// decodeIDs reads a "|"-joined string, or an array of strings or numbers;
// null, "" and [] are no entries (nil).
func decodeIDs(b []byte) ([]string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		var out []string
		for _, p := range strings.Split(s, "|") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil || len(items) == 0 {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) != nil {
			var n json.Number
			if err := json.Unmarshal(it, &n); err != nil {
				return nil, fmt.Errorf("invalid entry %s is neither a string nor a number", it)
			}
			s = n.String()
		}
		out = append(out, s)
	}
	return out, nil
}
