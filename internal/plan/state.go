package plan

import (
	"encoding/json"

	"github.com/hrfeed/importer/internal/member"
)

// The planner's memory of what it pushed, by HR key. The journal stores
// and loads it, and changes it in the same transaction as the call that
// caused the change; the planner reads it to decide what to send.

// AppliedDepartment is what this importer last pushed for one HR department.
type AppliedDepartment struct {
	Key      string // stable HR key (the full path or the HR code)
	WeComID  int
	ParentID int // WeCom id of the parent
	Name     string
	Order    uint32
	RunID    int64 // run that last wrote it
}

// AppliedMember is what this importer last pushed for one member, as the
// journal records it.
type AppliedMember struct {
	UserID string // as sent; keys compare case-insensitively
	// Payload is the member.Record last pushed, in its canonical JSON.
	Payload json.RawMessage
	Hash    string // digest of Payload's canonical form (member.Record.Hash)
	Enabled bool
	RunID   int64
}

// State is the importer's memory of the directory for one corp, as the
// planner reads it. Of most members it holds only the digest of the
// record last pushed: on a usual night the feed's record has the same
// digest and that settles the member. The records themselves are read
// only for the members Needs names.
type State struct {
	Departments map[string]AppliedDepartment // by Key
	Members     map[string]member.Digest     // by lower-cased userid
	// Records are last-applied records by lower-cased userid: at least
	// those Needs names, where the journal holds one that decodes. A known
	// member without one is planned as one whose fields are unknown.
	Records map[string]member.Record
}

// StateChange is applied atomically with the completion of the call that
// caused it, so state never runs ahead of or behind the journal.
type StateChange struct {
	PutDepartment    *AppliedDepartment
	DeleteDepartment string // Key
	PutMember        *AppliedMember
	DeleteMember     string // UserID
}
