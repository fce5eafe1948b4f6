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

// JSON is the canonical encoding: fixed field order, so equal records hash
// equally. It is json.Marshal's, nil for a record that does not encode
// (an extattr that is not JSON).
func (r *Record) JSON() json.RawMessage {
	var out json.RawMessage
	r.encoded(func(b []byte) { out = bytes.Clone(b) })
	return out
}

// Digest is the SHA-256 of a record's canonical encoding. The journal
// stores it in hex (Hash) next to the record, so a nightly run can tell
// an unchanged member from the digest alone, without reading the record.
type Digest [sha256.Size]byte

// Hash is the digest in hex, as the journal stores it.
func (r Record) Hash() string { return r.Digest().String() }

// Digest is the digest of the canonical encoding.
func (r *Record) Digest() Digest {
	var d Digest
	r.encoded(func(b []byte) { d = sha256.Sum256(b) })
	return d
}

// encoded calls f with the canonical encoding, nil when the record does
// not encode, in a pooled buffer f must not keep: a run encodes every
// member of the feed, and a fresh buffer each time would be most of what
// mapping and planning allocate.
func (r *Record) encoded(f func([]byte)) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(r); err != nil {
		f(nil)
		return
	}
	// Encode ends the value with a newline that Marshal does not write;
	// otherwise the two produce the same bytes.
	f(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
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

// TextValue is the value of one text field (by its Name) in a record's
// canonical encoding, read without decoding the rest: a scan of a whole
// directory for a few values can afford it where decoding every record
// could not. A field the encoding omits is "", as it is in the Record;
// ok is false for an encoding that does not parse as one.
func TextValue(enc []byte, name string) (v string, ok bool) {
	if len(enc) < 2 || enc[0] != '{' {
		return "", false
	}
	for i := 1; i < len(enc) && enc[i] != '}'; {
		key, n := jsonString(enc[i:])
		if n == 0 || i+n >= len(enc) || enc[i+n] != ':' {
			return "", false
		}
		i += n + 1
		if string(key[1:len(key)-1]) == name {
			s, n := jsonString(enc[i:])
			if n == 0 {
				return "", false
			}
			if bytes.IndexByte(s, '\\') < 0 {
				return string(s[1 : len(s)-1]), true
			}
			err := json.Unmarshal(s, &v)
			return v, err == nil
		}
		n = jsonValue(enc[i:])
		if n == 0 {
			return "", false
		}
		if i += n; i < len(enc) && enc[i] == ',' {
			i++
		}
	}
	return "", true
}

// jsonString is the length of the JSON string that b starts with, quotes
// included, and those bytes; 0 when b does not start with one.
func jsonString(b []byte) ([]byte, int) {
	if len(b) == 0 || b[0] != '"' {
		return nil, 0
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return b[:i+1], i + 1
		}
	}
	return nil, 0
}

// jsonValue is the length of the compact JSON value b starts with; 0 when
// it does not end in b.
func jsonValue(b []byte) int {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			_, n := jsonString(b[i:])
			if n == 0 {
				return 0
			}
			i += n - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
		if depth == 0 && (b[i] == '"' || b[i] == ']' || b[i] == '}') {
			return i + 1
		}
	}
	return 0
}
