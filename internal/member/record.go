package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
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

// Digest is the SHA-256 of a record's canonical encoding. The journal
// stores it in hex (Hash) next to the record, so a nightly run can tell
// an unchanged member from the digest alone, without reading the record.
type Digest [sha256.Size]byte

// Hash is the digest in hex, as the journal stores it.
func (r Record) Hash() string { return r.Digest().String() }

// Digest is the digest of the canonical encoding. It encodes into a
// pooled buffer: a nightly run digests every member of the feed, and a
// fresh encoding per member would be most of what planning allocates.
func (r *Record) Digest() Digest {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(r); err != nil {
		// What JSON gives for a record that does not encode (an extattr
		// that is not JSON): the digest of nothing.
		return sha256.Sum256(nil)
	}
	// Encode ends the value with a newline that Marshal does not write;
	// otherwise the two produce the same bytes.
	return sha256.Sum256(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}

// String is the digest in hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// ParseDigest reads a digest back from its hex form. ok is false for
// anything else (an empty or foreign hash), which then matches no record.
func ParseDigest[T ~string | ~[]byte](h T) (d Digest, ok bool) {
	if len(h) != 2*len(d) {
		return Digest{}, false
	}
	for i := range d {
		hi, lo := unhex(h[2*i]), unhex(h[2*i+1])
		if hi > 0xf || lo > 0xf {
			return Digest{}, false
		}
		d[i] = hi<<4 | lo
	}
	return d, true
}

// unhex is a hex digit's value, or 0xff for any other byte.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// ParseRecord reads a last-applied payload back.
func ParseRecord(b []byte) (Record, error) {
	var r Record
	err := json.Unmarshal(b, &r)
	return r, err
}

// Key is the case-insensitive identity of a userid, as WeCom compares them.
func Key(userid string) string { return strings.ToLower(userid) }
