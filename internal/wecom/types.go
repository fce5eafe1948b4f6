package wecom

import "encoding/json"

// User is a member as user/create accepts it and user/get returns it.
// Field names and JSON types follow the wire format: gender is a string,
// order values are unsigned 32-bit, ids are numbers.
type User struct {
	UserID         string   `json:"userid"`
	Name           string   `json:"name,omitempty"`
	Alias          string   `json:"alias,omitempty"`
	Mobile         string   `json:"mobile,omitempty"`
	Email          string   `json:"email,omitempty"`
	Position       string   `json:"position,omitempty"`
	Gender         string   `json:"gender,omitempty"`
	Telephone      string   `json:"telephone,omitempty"`
	Address        string   `json:"address,omitempty"`
	Department     []int    `json:"department,omitempty"`
	Order          []uint32 `json:"order,omitempty"`
	IsLeaderInDept []int    `json:"is_leader_in_dept,omitempty"`
	DirectLeader   []string `json:"direct_leader,omitempty"`
	MainDepartment int      `json:"main_department,omitempty"`
	// BizMail is only accepted by corps with WeCom enterprise mail.
	BizMail          string `json:"biz_mail,omitempty"`
	ExternalPosition string `json:"external_position,omitempty"`
	// ExtAttr is the {"attrs":[...]} object; kept raw because its entries
	// are a tagged union (text, web, miniprogram) the importer only passes on.
	ExtAttr json.RawMessage `json:"extattr,omitempty"`
	// Enable is a pointer because 0 (disabled) is meaningful and must be sent.
	Enable *int `json:"enable,omitempty"`
	// ToInvite defaults to true on the server; a pointer so false can be sent.
	ToInvite *bool `json:"to_invite,omitempty"`
	// Status is read-only: 1 active, 2 disabled, 4 not activated, 5 left.
	Status int `json:"status,omitempty"`
}

// UserPatch is a partial user/update body: only the keys present are
// changed on the server, so a field can be cleared by sending "". It must
// hold "userid".
type UserPatch map[string]any

// SimpleUser is one entry of user/simplelist.
type SimpleUser struct {
	UserID     string `json:"userid"`
	Name       string `json:"name"`
	Department []int  `json:"department"`
}

// DeptUser is one (user, department) pair from user/list_id.
type DeptUser struct {
	UserID     string `json:"userid"`
	Department int    `json:"department"`
}

// Department is a department as department/create accepts it and
// department/list returns it.
type Department struct {
	ID               int      `json:"id,omitempty"`
	Name             string   `json:"name"`
	NameEn           string   `json:"name_en,omitempty"`
	ParentID         int      `json:"parentid"`
	Order            uint32   `json:"order,omitempty"`
	DepartmentLeader []string `json:"department_leader,omitempty"`
}

// DepartmentPatch is a partial department/update body; it must hold "id".
type DepartmentPatch map[string]any

// DepartmentRef is one entry of department/simplelist.
type DepartmentRef struct {
	ID       int    `json:"id"`
	ParentID int    `json:"parentid"`
	Order    uint32 `json:"order"`
}
