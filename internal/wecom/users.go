package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

const (
	// batchDeleteMax is user/batchdelete's documented cap; more → 40032.
	batchDeleteMax = 200
	// listIDMaxLimit is user/list_id's largest page (§2.1).
	listIDMaxLimit = 10000
)

// CreateUser creates u (POST user/create). WeCom requires userid, name,
// department and one of mobile or email; it validates them and answers
// row-class errcodes such as 60102 (userid existed) or 60104 (mobile used).
func (c *Client) CreateUser(ctx context.Context, u *User) error {
	if u == nil {
		return errors.New("create user: nil user")
	}
	if err := c.post(ctx, "user/create", u, nil); err != nil {
		return fmt.Errorf("create user %s: %w", u.UserID, err)
	}
	return nil
}

// CreateUserBody creates a member from a body built as a map (POST
// user/create), for callers that assemble it from a field table rather
// than a User. It must hold "userid".
func (c *Client) CreateUserBody(ctx context.Context, body UserPatch) error {
	id, _ := body["userid"].(string)
	if id == "" {
		return errors.New("create user: body has no userid")
	}
	if err := c.post(ctx, "user/create", body, nil); err != nil {
		return fmt.Errorf("create user %s: %w", id, err)
	}
	return nil
}

// GetUser reads one member (GET user/get). The lookup is case-insensitive
// on the server; an unknown userid is errcode 60111.
func (c *Client) GetUser(ctx context.Context, userid string) (*User, error) {
	var u User
	if err := c.get(ctx, "user/get", url.Values{"userid": {userid}}, &u); err != nil {
		return nil, fmt.Errorf("get user %s: %w", userid, err)
	}
	return &u, nil
}

// UpdateUser applies a partial update (POST user/update): keys absent from
// p are left unchanged on the server. p must hold a non-empty "userid".
func (c *Client) UpdateUser(ctx context.Context, p UserPatch) error {
	id, _ := p["userid"].(string)
	if id == "" {
		return errors.New("update user: patch has no userid")
	}
	if err := c.post(ctx, "user/update", p, nil); err != nil {
		return fmt.Errorf("update user %s: %w", id, err)
	}
	return nil
}

// DeleteUser deletes one member (GET user/delete). 60111 means it was not
// there; callers that want idempotent deletes test CodeOf(err) == 60111.
func (c *Client) DeleteUser(ctx context.Context, userid string) error {
	if err := c.get(ctx, "user/delete", url.Values{"userid": {userid}}, nil); err != nil {
		return fmt.Errorf("delete user %s: %w", userid, err)
	}
	return nil
}

type batchDeleteBody struct {
	UserIDList []string `json:"useridlist"`
}

// BatchDeleteUsers deletes userids with user/batchdelete, 200 per call.
// WeCom fails a whole call if any id in it is invalid, so on error the
// chunks before the failing one are deleted and the rest are untouched;
// the error names the failing range.
func (c *Client) BatchDeleteUsers(ctx context.Context, userids []string) error {
	for start := 0; start < len(userids); start += batchDeleteMax {
		end := min(start+batchDeleteMax, len(userids))
		body := batchDeleteBody{UserIDList: userids[start:end]}
		if err := c.post(ctx, "user/batchdelete", body, nil); err != nil {
			return fmt.Errorf("batch delete users [%d:%d] of %d: %w", start, end, len(userids), err)
		}
	}
	return nil
}

func deptQuery(deptID int, fetchChild bool) url.Values {
	q := url.Values{"department_id": {strconv.Itoa(deptID)}}
	// fetch_child is gone from the 2023 docs but still honoured and sent
	// by every SDK (§2.1); sending 0 explicitly keeps the meaning fixed.
	if fetchChild {
		q.Set("fetch_child", "1")
	} else {
		q.Set("fetch_child", "0")
	}
	return q
}

// SimpleListUsers lists userid, name and departments of the members of
// deptID (GET user/simplelist), recursively when fetchChild is set.
func (c *Client) SimpleListUsers(ctx context.Context, deptID int, fetchChild bool) ([]SimpleUser, error) {
	var resp struct {
		UserList []SimpleUser `json:"userlist"`
	}
	if err := c.get(ctx, "user/simplelist", deptQuery(deptID, fetchChild), &resp); err != nil {
		return nil, fmt.Errorf("simplelist users of department %d: %w", deptID, err)
	}
	return resp.UserList, nil
}

// ListUsers lists full member records of deptID (GET user/list). Large
// trees with fetchChild answer 45029; split by department then.
func (c *Client) ListUsers(ctx context.Context, deptID int, fetchChild bool) ([]User, error) {
	var resp struct {
		UserList []User `json:"userlist"`
	}
	if err := c.get(ctx, "user/list", deptQuery(deptID, fetchChild), &resp); err != nil {
		return nil, fmt.Errorf("list users of department %d: %w", deptID, err)
	}
	return resp.UserList, nil
}

type listIDBody struct {
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit"`
}

// ListUserIDs fetches one page of (userid, department) pairs (POST
// user/list_id); cursor is "" for the first page, limit is 1..10000. The
// returned cursor is "" after the last page. Works only with the sync
// secret, and from IPs that user/list refuses with 48009.
func (c *Client) ListUserIDs(ctx context.Context, cursor string, limit int) ([]DeptUser, string, error) {
	if limit < 1 || limit > listIDMaxLimit {
		return nil, "", fmt.Errorf("list user ids: limit %d outside 1..%d", limit, listIDMaxLimit)
	}
	var resp struct {
		NextCursor string     `json:"next_cursor"`
		DeptUser   []DeptUser `json:"dept_user"`
	}
	if err := c.post(ctx, "user/list_id", listIDBody{Cursor: cursor, Limit: limit}, &resp); err != nil {
		return nil, "", fmt.Errorf("list user ids at cursor %q: %w", cursor, err)
	}
	return resp.DeptUser, resp.NextCursor, nil
}

// AllUserIDs pages through user/list_id with the largest page size and
// returns every (userid, department) pair: a user in three departments
// appears three times. A 50100 (stale cursor) is returned, not retried:
// restarting is the caller's decision, since pages already read may be
// inconsistent with a fresh listing.
func (c *Client) AllUserIDs(ctx context.Context) ([]DeptUser, error) {
	var all []DeptUser
	cursor := ""
	for {
		page, next, err := c.ListUserIDs(ctx, cursor, listIDMaxLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		if next == cursor {
			// A server that repeats its cursor would loop us forever.
			return nil, fmt.Errorf("list user ids: cursor %q did not advance", cursor)
		}
		cursor = next
	}
}
