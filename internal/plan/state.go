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

// AppliedTag is a tag this importer manages, by name: one it created, or
// one it adopted under tags_scope authoritative.
type AppliedTag struct {
	Name    string
	WeComID int
	// Created is set for a tag this importer created; only those are
	// deleted once no row needs them.
	Created bool
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
	// Tags (by name) and MemberTags are nil when the journal records no
	// tag for the corp. MemberTags are the managed tags the journal says
	// each member holds, by lower-cased userid, names sorted.
	Tags       map[string]AppliedTag
	MemberTags map[string][]string
}

// TagMembers are members added to or removed from one tag.
type TagMembers struct {
	Tag     string   // name
	UserIDs []string // as sent; keys compare case-insensitively
}

// StateChange is applied atomically with the completion of the call that
// caused it, so state never runs ahead of or behind the journal.
type StateChange struct {
	PutDepartment    *AppliedDepartment
	DeleteDepartment string // Key
	PutMember        *AppliedMember
	// DeleteMember also drops the member from every tag: WeCom does so
	// when it deletes a member.
	DeleteMember string // UserID
	// UntagMember drops the member from every tag: a member WeCom has just
	// created holds none, whatever the journal remembers of one deleted
	// by hand before.
	UntagMember string // UserID
	// DeleteTag drops a tag and every membership of it; with PutTag of
	// the same name it starts the tag afresh (created again, or adopted
	// with AddTagMembers listing what it holds).
	DeleteTag        string // name
	PutTag           *AppliedTag
	AddTagMembers    *TagMembers
	RemoveTagMembers *TagMembers
}
