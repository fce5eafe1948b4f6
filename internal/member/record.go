package member

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// RecordFormat is the version of Record's encoding the journal stores.
// Adding an optional field keeps it: omitted when empty, the field leaves
// every existing record's encoding, and so its digest, as it was.
const RecordFormat = 1

// Record is the canonical form of a member as this importer pushed it. It
// names departments by HR key rather than WeCom id, so comparing the feed
// with the journal needs no call to WeCom, and it is what the journal keeps
// as a member's last-applied payload.
type Record struct {
	UserID       string   `json:"userid"`
	Name         string   `json:"name"`
	Alias        string   `json:"alias,omitempty"`
	Mobile       string   `json:"mobile,omitempty"`
	Email        string   `json:"email,omitempty"`
	Position     string   `json:"position,omitempty"`
	Gender       string   `json:"gender,omitempty"`
	Telephone    string   `json:"telephone,omitempty"`
	Address      string   `json:"address,omitempty"`
	DeptKeys     []string `json:"dept_keys"`
	Order        []uint32 `json:"order,omitempty"`
	IsLeader     []int    `json:"is_leader_in_dept,omitempty"`
	DirectLeader []string `json:"direct_leader,omitempty"`
	Enabled      bool     `json:"enabled"`
	// MainDept is the main department's HR key; "" leaves WeCom's default.
	MainDept         string          `json:"main_dept,omitempty"`
	BizMail          string          `json:"biz_mail,omitempty"`
	ExternalPosition string          `json:"external_position,omitempty"`
	ExtAttr          json.RawMessage `json:"extattr,omitempty"` // the attrs array, sorted by name
	Nickname         string          `json:"nickname,omitempty"`
	// ToInvite matters only when the member is created, so it is not part
	// of the record's identity or of what the journal keeps.
	ToInvite *bool `json:"-"`
}

// JSON is the canonical encoding: fixed field order, so equal records hash equally.
func (r Record) JSON() json.RawMessage {
	b, _ := json.Marshal(r) // a struct of strings, slices and bools always encodes
	return b
}

// Hash is a digest of the canonical encoding.
func (r Record) Hash() string {
	sum := sha256.Sum256(r.JSON())
	return hex.EncodeToString(sum[:])
}

// ParseRecord reads a last-applied payload back.
func ParseRecord(b []byte) (Record, error) {
	var r Record
	err := json.Unmarshal(b, &r)
	return r, err
}

// Key is the case-insensitive identity of a userid, as WeCom compares them.
func Key(userid string) string { return strings.ToLower(userid) }
