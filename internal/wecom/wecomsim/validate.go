package wecomsim

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	useridRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_\-@.]*$`)
	// mobileRe is docs/wecom.md §3's rule: the official sample has a
	// space after the country code, 60103 allows digits, + and -.
	mobileRe = regexp.MustCompile(`^\+?[0-9][0-9 \-]{4,31}$`)
	// emailRe is deliberately loose (one @, a dot in the domain, no
	// spaces): WeCom's exact grammar is unknown and a stricter rule would
	// reject addresses the real service takes.
	emailRe     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s.]+$`)
	telephoneRe = regexp.MustCompile(`^[0-9+\-,]*$`)
)

// deptNameForbidden holds the characters 60009 names; the docs print a
// full-width ｜ while the errcode text escapes the ASCII one, so both go.
const deptNameForbidden = "\\:*?\"<>|｜"

// checkUserID validates a userid's shape: over 64 bytes is 40058 (the
// example in 40058's help text), bad characters 40003, empty 41009.
func checkUserID(id string) int {
	switch {
	case id == "":
		return 41009
	case len(id) > 64:
		return 40058
	case !useridRe.MatchString(id):
		return 40003
	}
	return 0
}

func userKey(id string) string { return strings.ToLower(id) }

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// mobileKey makes "+86 138-0000-0000" and "+8613800000000" collide for the
// uniqueness check, since they are the same phone. A byte loop rather than
// a strings.Replacer, which would be rebuilt on every call.
func mobileKey(m string) string {
	if !strings.ContainsAny(m, " -") {
		return m
	}
	b := make([]byte, 0, len(m))
	for i := 0; i < len(m); i++ {
		if c := m[i]; c != ' ' && c != '-' {
			b = append(b, c)
		}
	}
	return string(b)
}

// checkDeptName applies docs/wecom.md §3's department-name rules with the given cap.
func checkDeptName(name string, max int) int {
	switch {
	case name == "":
		return 60001
	case strings.ContainsAny(name, deptNameForbidden):
		return 60009
	case runeLen(name) > max || !utf8.ValidString(name):
		return 60001
	}
	return 0
}

// getField decodes body[key] into dst. A missing key or JSON null counts
// as absent, because Go clients with pointer fields send null for "unset".
// present reports whether a value was there; ok is false on a type error.
func getField[T any](body map[string]json.RawMessage, key string, dst *T) (present, ok bool) {
	raw, found := body[key]
	if !found || isNull(raw) {
		return false, true
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return true, false
	}
	return true, true
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// toUint32s range-checks order values, which the docs put in [0, 2^32).
func toUint32s(in []int64) ([]uint32, bool) {
	out := make([]uint32, len(in))
	for i, v := range in {
		if v < 0 || v > math.MaxUint32 {
			return nil, false
		}
		out[i] = uint32(v)
	}
	return out, true
}

// queryInt parses a numeric query parameter; present is false when the
// parameter is absent or empty.
func queryInt(v string) (n int, present, ok bool) {
	if v == "" {
		return 0, false, true
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, true, false
	}
	return n, true, true
}

// hasUnicodeEscape reports whether a JSON text holds a \uXXXX escape inside
// a string, skipping escaped backslashes so `"\\u"` does not count.
func hasUnicodeEscape(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		ch := raw[i]
		switch {
		case !inString:
			if ch == '"' {
				inString = true
			}
		case ch == '\\':
			if i+1 < len(raw) && raw[i+1] == 'u' {
				return true
			}
			i++ // skip the escaped character
		case ch == '"':
			inString = false
		}
	}
	return false
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
