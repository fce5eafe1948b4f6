package wecom

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// CreateDepartment creates d (POST department/create) and returns its id:
// d.ID when given (it must be > 1), else the one WeCom assigned. Parents
// must exist first (60004 otherwise).
func (c *Client) CreateDepartment(ctx context.Context, d Department) (int, error) {
	var resp struct {
		ID int `json:"id"`
	}
	if err := c.post(ctx, "department/create", d, &resp); err != nil {
		return 0, fmt.Errorf("create department %q under %d: %w", d.Name, d.ParentID, err)
	}
	if resp.ID == 0 {
		return d.ID, nil
	}
	return resp.ID, nil
}

// UpdateDepartment applies a partial update (POST department/update):
// keys absent from p are unchanged. p must hold "id".
func (c *Client) UpdateDepartment(ctx context.Context, p DepartmentPatch) error {
	id, ok := p["id"]
	if !ok || id == nil {
		return errors.New("update department: patch has no id")
	}
	if err := c.post(ctx, "department/update", p, nil); err != nil {
		return fmt.Errorf("update department %v: %w", id, err)
	}
	return nil
}

// DeleteDepartment deletes an empty department (GET department/delete):
// 60005 if it still has members, 60006 if it has sub-departments.
func (c *Client) DeleteDepartment(ctx context.Context, id int) error {
	if err := c.get(ctx, "department/delete", url.Values{"id": {strconv.Itoa(id)}}, nil); err != nil {
		return fmt.Errorf("delete department %d: %w", id, err)
	}
	return nil
}

// subtreeQuery selects the subtree rooted at id, or the whole tree for 0.
func subtreeQuery(id int) url.Values {
	if id == 0 {
		return nil
	}
	return url.Values{"id": {strconv.Itoa(id)}}
}

// subtreeKey names the subtree in error messages.
func subtreeKey(id int) string {
	if id == 0 {
		return "whole tree"
	}
	return "subtree " + strconv.Itoa(id)
}

// ListDepartments returns department id and all its descendants with full
// details (GET department/list); id 0 means the whole tree. WeCom calls
// this slow and refuses it to sync secrets on new IPs (48009); prefer
// SimpleListDepartments plus GetDepartment there.
func (c *Client) ListDepartments(ctx context.Context, id int) ([]Department, error) {
	var resp struct {
		Department []Department `json:"department"`
	}
	if err := c.get(ctx, "department/list", subtreeQuery(id), &resp); err != nil {
		return nil, fmt.Errorf("list departments (%s): %w", subtreeKey(id), err)
	}
	return resp.Department, nil
}

// SimpleListDepartments returns id, parent and order of department id and
// its descendants (GET department/simplelist); id 0 means the whole tree.
func (c *Client) SimpleListDepartments(ctx context.Context, id int) ([]DepartmentRef, error) {
	var resp struct {
		DepartmentID []DepartmentRef `json:"department_id"`
	}
	if err := c.get(ctx, "department/simplelist", subtreeQuery(id), &resp); err != nil {
		return nil, fmt.Errorf("simplelist departments (%s): %w", subtreeKey(id), err)
	}
	return resp.DepartmentID, nil
}

// GetDepartment reads one department (GET department/get).
func (c *Client) GetDepartment(ctx context.Context, id int) (*Department, error) {
	var resp struct {
		Department Department `json:"department"`
	}
	if err := c.get(ctx, "department/get", url.Values{"id": {strconv.Itoa(id)}}, &resp); err != nil {
		return nil, fmt.Errorf("get department %d: %w", id, err)
	}
	return &resp.Department, nil
}
