package member

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
)

// records exercises what the canonical encoding escapes or rewrites:
// HTML characters, the JavaScript line separators, invalid UTF-8, control
// characters, and an extattr with spacing that Marshal compacts.
var records = []Record{
	{},
	{UserID: "zhangsan", Name: "张三", Mobile: "+86 13800000000", DeptKeys: []string{"总部/研发中心"}, Enabled: true},
	{UserID: "a&b", Name: "<x>", Position: "R&D \u2028 \u2029", Address: "bad \xff utf-8", Telephone: "\t\n\x01",
		DeptKeys: []string{"A", "B"}, Order: []uint32{1, 2}, IsLeader: []int{0, 1}, DirectLeader: []string{"boss"},
		MainDept: "B", ExtAttr: json.RawMessage(`[ {"name": "工号", "value": "<1>"} ]`), Nickname: "n"},
	{UserID: "x", ExtAttr: json.RawMessage(`not json`)},
}

// marshal is the canonical encoding by definition.
func marshal(r Record) []byte {
	b, _ := json.Marshal(r)
	return b
}

func TestJSONAndDigestAreMarshals(t *testing.T) {
	for _, r := range records {
		if got, want := r.JSON(), marshal(r); !bytes.Equal(got, want) {
			t.Errorf("%+v: JSON %s, Marshal %s", r, got, want)
		}
		if got, want := r.Digest(), Digest(sha256.Sum256(marshal(r))); got != want {
			t.Errorf("%+v: Digest %s, sha256 of Marshal %s", r, got, want)
		}
	}
}

// TestHashOfAStoredRecord pins the digest of one record as the journal
// has stored it since RecordFormat 1: if the encoding moved, every member
// of every journal would look changed and be sent again.
func TestHashOfAStoredRecord(t *testing.T) {
	r := Record{UserID: "zhangsan", Name: "张三", Mobile: "13800000000", Email: "zs@example.com", Position: "工程师",
		DeptKeys: []string{"总部/研发中心"}, DirectLeader: []string{"boss"}, Enabled: true}
	const stored = `{"userid":"zhangsan","name":"张三","mobile":"13800000000","email":"zs@example.com","position":"工程师","dept_keys":["总部/研发中心"],"direct_leader":["boss"],"enabled":true}`
	if string(r.JSON()) != stored {
		t.Fatalf("JSON %s, stored %s", r.JSON(), stored)
	}
	if want := "de2654e98e3aaaf63f76b420234df3bf18ec008aad2df920b6f4eeb4b5506ce8"; r.Hash() != want {
		t.Fatalf("Hash %s, want %s (sha256 of the stored bytes)", r.Hash(), want)
	}
}

func TestParseDigest(t *testing.T) {
	r := records[1]
	for _, h := range []string{r.Hash(), "ABCDEF" + r.Hash()[6:]} {
		d, ok := ParseDigest(h)
		if !ok || d.String() != Key(h) {
			t.Errorf("ParseDigest(%q) = %s, %v", h, d, ok)
		}
		if db, ok := ParseDigest([]byte(h)); !ok || db != d {
			t.Errorf("ParseDigest of bytes %q = %s, %v", h, db, ok)
		}
	}
	for _, h := range []string{"", "h1", r.Hash()[1:], r.Hash()[:63] + "g"} {
		if _, ok := ParseDigest(h); ok {
			t.Errorf("ParseDigest(%q) accepted", h)
		}
	}
}

func FuzzDigest(f *testing.F) {
	f.Add("zhangsan", "张三", "<&>", "总部", `[{"name":"a","value":"b"}]`)
	f.Fuzz(func(t *testing.T, userid, name, position, dept, extattr string) {
		r := Record{UserID: userid, Name: name, Position: position, DeptKeys: []string{dept}, ExtAttr: json.RawMessage(extattr)}
		if extattr == "" {
			r.ExtAttr = nil
		}
		if got, want := r.Digest(), Digest(sha256.Sum256(marshal(r))); got != want || !bytes.Equal(r.JSON(), marshal(r)) {
			t.Errorf("%+v: Digest %s, sha256 of Marshal %s; JSON %s", r, got, want, r.JSON())
		}
	})
}

// textValuesAgree checks TextValue against decoding the whole record, for
// every text field.
func textValuesAgree(t *testing.T, r Record) {
	t.Helper()
	enc := r.JSON()
	if enc == nil {
		return
	}
	back, err := ParseRecord(enc)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range TextFields {
		if v, ok := TextValue(enc, f.Name); !ok || v != f.Get(&back) {
			t.Errorf("%s: TextValue %q, %v; decoded %q (encoding %s)", f.Name, v, ok, f.Get(&back), enc)
		}
	}
}

func TestTextValue(t *testing.T) {
	for _, r := range records {
		textValuesAgree(t, r)
	}
	// An attribute may use a text field's key; it is not the field.
	textValuesAgree(t, Record{UserID: "u", ExtAttr: json.RawMessage(`[{"mobile":"1","nickname":"n","x":[{"email":"e"}]}]`), Nickname: `a"b\c`})
	for _, bad := range []string{"", "{", `{"userid"`, `{"userid":`, `{"userid":"u`, `[]`, `{"userid":"u","dept_keys":["a"`} {
		if _, ok := TextValue([]byte(bad), "nickname"); ok {
			t.Errorf("TextValue(%q) parsed", bad)
		}
	}
}

func FuzzTextValue(f *testing.F) {
	f.Add("zhangsan", "张三", "a@b.c", `x"\`, `[{"type":0,"name":"工号","text":{"value":"E1"}}]`)
	f.Fuzz(func(t *testing.T, userid, mobile, email, nickname, extattr string) {
		r := Record{UserID: userid, Mobile: mobile, Email: email, Nickname: nickname, DeptKeys: []string{email, mobile}, ExtAttr: json.RawMessage(extattr)}
		if extattr == "" {
			r.ExtAttr = nil
		}
		textValuesAgree(t, r)
	})
}
