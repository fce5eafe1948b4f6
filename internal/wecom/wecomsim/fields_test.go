package wecomsim

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The writable member fields of the create page (90195) and the update
// page (90197), which adds new_userid. The table must hold exactly these.
var documentedMemberFields = []string{
	"userid", "name", "alias", "mobile", "department", "order", "position", "gender", "email",
	"biz_mail", "telephone", "is_leader_in_dept", "direct_leader", "avatar_mediaid", "enable",
	"extattr", "to_invite", "external_position", "external_profile", "nickname", "address",
	"main_department", "new_userid",
}

// The writable fields of department/create (90205) and department/update.
var documentedDeptFields = []string{"name", "name_en", "parentid", "order", "id"}

// omit, as a value, removes the key from the body instead of sending it.
type omitKey struct{}

var omit = omitKey{}

// memberCase is how the tests below exercise one memberFields entry.
type memberCase struct {
	// good sets up what a valid value needs and returns it, any other
	// body keys it needs, and the user/get values it must produce, keyed
	// by the table's shown names.
	good func(e *env) (value any, over obj, want obj)
	// snap, if set, checks the stored member after a good create (for
	// write-only fields).
	snap func(t *testing.T, u SnapUser)
	bad  []badValue
}

// badValue is a value breaking one rule. prep may create what the value
// refers to and return the value; update sends it to user/update of an
// existing member rather than to user/create.
type badValue struct {
	why    string
	value  any
	prep   func(e *env) any
	code   int
	update bool
}

func goodValue(v any, want obj) func(*env) (any, obj, obj) {
	return func(*env) (any, obj, obj) { return v, nil, want }
}

func same(name string, v any) func(*env) (any, obj, obj) { return goodValue(v, obj{name: v}) }

func mkLeaders(n int) func(e *env) any {
	return func(e *env) any {
		var ids []string
		for i := range n {
			id := fmt.Sprint("lead", i)
			e.mkUser(id, []int{1}, nil)
			ids = append(ids, id)
		}
		return ids
	}
}

var emptyProfile = obj{"external_corp_name": "", "wechat_channels": obj{"nickname": "", "status": 0}, "external_attr": []any{}}

func memberCases() map[string]memberCase {
	long := func(n int) string { return strings.Repeat("字", n) }
	return map[string]memberCase{
		"userid": {good: same("userid", "Rt.User-1@x"), bad: []badValue{
			{why: "absent", value: omit, code: 41009},
			{why: "65 bytes", value: strings.Repeat("u", 65), code: 40058},
			{why: "a space", value: "bad id", code: 40003},
			{why: "taken in another case", prep: func(e *env) any { e.mkUser("dup", []int{1}, nil); return "DUP" }, code: 60102},
		}},
		"name": {good: same("name", "张三"), bad: []badValue{
			{why: "empty", value: "", code: 60112},
			{why: "65 characters", value: long(65), code: 60112},
		}},
		"alias": {good: same("alias", long(64)), bad: []badValue{{why: "65 characters", value: long(65), code: 40058}}},
		"mobile": {good: same("mobile", "+86 13800000000"), bad: []badValue{
			{why: "letters", value: "12ab", code: 60103},
			{why: "held by another member", prep: func(e *env) any {
				e.mkUser("m1", []int{1}, obj{"mobile": "+8613800000001"})
				return "+86 138-0000-0001"
			}, code: 60104},
		}},
		"department": {
			good: func(e *env) (any, obj, obj) {
				d := e.mkDept("D", 1, nil)
				return []int{d}, nil, obj{"department": []int{d}, "main_department": d}
			},
			bad: []badValue{
				{why: "a string", value: "1", code: 41019},
				{why: "an array of strings", value: []string{"1"}, code: 41019},
				{why: "empty", value: []int{}, code: 60127},
				{why: "absent", value: omit, code: 60127},
				{why: "unknown id", value: []int{999}, code: 60123},
				{why: "101 ids", value: seq(1000, 101), code: 60110},
				{why: "an id twice", value: []int{1, 1}, code: 40066},
			}},
		// order only counts together with department (90197).
		"order": {good: func(*env) (any, obj, obj) {
			return []int{4294967295}, obj{"department": []int{1}}, obj{"order": []int{4294967295}}
		}, bad: []badValue{
			{why: "two values for one department", value: []int{1, 2}, code: 40058},
			{why: "2^32", value: []int64{1 << 32}, code: 40058},
		}},
		"position": {good: same("position", long(128)), bad: []badValue{{why: "129 characters", value: long(129), code: 301012}}},
		"gender":   {good: same("gender", "2"), bad: []badValue{{why: `"3"`, value: "3", code: 40058}}},
		"email": {good: same("email", "rt@example.com"), bad: []badValue{
			{why: "no @", value: "not-an-email", code: 60105},
			{why: "5 bytes", value: "a@b.c", code: 60105},
			{why: "held by another member in another case", prep: func(e *env) any {
				e.mkUser("e1", []int{1}, nil)
				return "E1@EXAMPLE.COM"
			}, code: 60106},
			{why: "empty with no mobile", value: "", code: 60129},
		}},
		"biz_mail": {good: same("biz_mail", "rt@corp.example.com"), bad: []badValue{
			{why: "no @", value: "nope", code: 60143},
			{why: "held by another member", prep: func(e *env) any {
				e.mkUser("b1", []int{1}, obj{"biz_mail": "b1@corp.example.com"})
				return "B1@corp.example.com"
			}, code: 60145},
		}},
		"telephone": {good: same("telephone", "020-123456,+86"), bad: []badValue{
			{why: "33 bytes", value: strings.Repeat("1", 33), code: 301013},
			{why: "a space", value: "010 123", code: 301013},
		}},
		"is_leader_in_dept": {good: same("is_leader_in_dept", []int{1}), bad: []badValue{
			{why: "two flags for one department", value: []int{1, 0}, code: 60132},
			{why: "two flags on update without department", value: []int{1, 0}, code: 60132, update: true},
			{why: "flag 2", value: []int{2}, code: 40058},
		}},
		"direct_leader": {
			good: func(e *env) (any, obj, obj) {
				e.mkUser("Boss", []int{1}, nil)
				return []string{"BOSS"}, nil, obj{"direct_leader": []string{"Boss"}}
			},
			bad: []badValue{
				{why: "one more than MaxDirectLeaders", prep: func(e *env) any { return mkLeaders(e.sim.opts.MaxDirectLeaders + 1)(e) }, code: 60257},
				{why: "an unknown member", value: []string{"ghost"}, code: 60111},
			}},
		"avatar_mediaid": {
			good: func(e *env) (any, obj, obj) {
				id := e.mediaID("image", "face.png", pngBytes)
				url := "https://wework.qpic.cn/wwhead/" + shortDigest(id)
				return id, nil, obj{"avatar": url + "/0", "thumb_avatar": url + "/100"}
			},
			bad: []badValue{
				{why: "an id media/upload never issued", value: "3a8asd892asd8asd", code: 40007},
				{why: "a file, not an image", prep: func(e *env) any { return e.mediaID("file", "a.csv", []byte("123456")) }, code: 40007},
				{why: "an image id three days old", prep: func(e *env) any {
					id := e.mediaID("image", "face.png", pngBytes)
					e.clock.Advance(72 * time.Hour)
					delete(e.tokens, editSecret)
					return id
				}, code: 40007},
			}},
		"enable": {good: goodValue(0, obj{"enable": 0, "status": statusDisabled}), bad: []badValue{{why: "2", value: 2, code: 40058}}},
		"extattr": {
			good: func(*env) (any, obj, obj) {
				attrs := []any{
					obj{"type": 0, "name": "工号", "text": obj{"value": long(64)}, "web": obj{"url": "", "title": ""}},
					obj{"type": 1, "name": "主页", "web": obj{"url": "https://example.com/rt", "title": long(12)}},
					obj{"type": 2, "name": "小程序", "miniprogram": obj{"appid": "wx0123456789", "pagepath": "/index", "title": "入口"}},
				}
				want := []any{
					obj{"type": 0, "name": "工号", "text": obj{"value": long(64)}},
					obj{"type": 1, "name": "主页", "web": obj{"url": "https://example.com/rt", "title": long(12)}},
					obj{"type": 2, "name": "小程序", "miniprogram": obj{"appid": "wx0123456789", "pagepath": "/index", "title": "入口"}},
				}
				return obj{"attrs": attrs}, nil, obj{"extattr": obj{"attrs": want}}
			},
			bad: []badValue{
				{why: "not an object", value: "x", code: 40058},
				{why: "an attr without a name", value: obj{"attrs": []any{obj{"type": 0, "text": obj{"value": "v"}}}}, code: 40058},
				{why: "type 3", value: obj{"attrs": []any{obj{"type": 3, "name": "n"}}}, code: 40058},
				{why: "text of 65 characters", value: obj{"attrs": []any{obj{"type": 0, "name": "n", "text": obj{"value": long(65)}}}}, code: 40058},
				{why: "a url without http", value: obj{"attrs": []any{obj{"type": 1, "name": "n", "web": obj{"url": "example.com", "title": "t"}}}}, code: 40058},
				{why: "a url without a title", value: obj{"attrs": []any{obj{"type": 1, "name": "n", "web": obj{"url": "https://example.com"}}}}, code: 40058},
				{why: "a title of 13 characters", value: obj{"attrs": []any{obj{"type": 1, "name": "n", "web": obj{"url": "https://x.com", "title": long(13)}}}}, code: 40058},
			}},
		"to_invite": {good: goodValue(false, nil), snap: func(t *testing.T, u SnapUser) {
			if u.Invited {
				t.Error("to_invite false: the member was invited")
			}
		}, bad: []badValue{{why: "a string", value: "no", code: 40058}}},
		"external_position": {good: same("external_position", long(12)), bad: []badValue{{why: "13 characters", value: long(13), code: 40058}}},
		"external_profile": {
			good: func(*env) (any, obj, obj) {
				p := obj{"external_corp_name": "简称", "wechat_channels": obj{"nickname": "频道", "status": 1},
					"external_attr": []any{
						obj{"type": 0, "name": "职级", "text": obj{"value": long(32)}},
						obj{"type": 1, "name": "官网", "web": obj{"url": "http://example.com", "title": "官网"}},
					}}
				want := obj{"external_corp_name": "简称", "wechat_channels": obj{"nickname": "频道", "status": 0},
					"external_attr": []any{
						obj{"type": 0, "name": "职级", "text": obj{"value": long(32)}},
						obj{"type": 1, "name": "官网", "web": obj{"url": "http://example.com", "title": "官网"}},
					}}
				return p, nil, obj{"external_profile": want}
			},
			bad: []badValue{
				{why: "not an object", value: []int{1}, code: 40058},
				{why: "external_attr text of 33 characters", value: obj{"external_attr": []any{obj{"type": 0, "name": "n", "text": obj{"value": long(33)}}}}, code: 40058},
				{why: "a miniprogram title of 13 characters", value: obj{"external_attr": []any{obj{"type": 2, "name": "n", "miniprogram": obj{"appid": "wx1", "title": long(13)}}}}, code: 40058},
			}},
		"nickname": {
			good: goodValue("视频号", obj{"external_profile": obj{"external_corp_name": "",
				"wechat_channels": obj{"nickname": "视频号", "status": 0}, "external_attr": []any{}}}),
			bad: []badValue{{why: "a number", value: 5, code: 40058}},
		},
		"address": {good: same("address", long(128)), bad: []badValue{{why: "129 characters", value: long(129), code: 40058}}},
		"main_department": {
			good: func(e *env) (any, obj, obj) {
				a, b := e.mkDept("A", 1, nil), e.mkDept("B", 1, nil)
				return b, obj{"department": []int{a, b}}, obj{"main_department": b, "department": []int{a, b}}
			},
			bad: []badValue{{why: "not among department", prep: func(e *env) any { return e.mkDept("X", 1, nil) }, code: 40058}},
		},
		"new_userid": {good: goodValue("", obj{"userid": "rt"}), bad: []badValue{
			{why: "a userid that was not system-generated", value: "renamed", code: 301036, update: true},
		}},
	}
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func fieldNames[T any](list []T, name func(T) string) []string {
	var out []string
	for _, f := range list {
		out = append(out, name(f))
	}
	return out
}

// normal round-trips v through JSON so Go values compare with decoded ones.
func normal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMemberFieldTableIsComplete(t *testing.T) {
	names := fieldNames(memberFields, func(f memberField) string { return f.name })
	if !slices.Equal(names, documentedMemberFields) {
		t.Fatalf("memberFields = %v\nwant the documented fields %v", names, documentedMemberFields)
	}
	cases := memberCases()
	for _, f := range memberFields {
		c, ok := cases[f.name]
		switch {
		case !ok:
			t.Errorf("%s: no test case", f.name)
			continue
		case f.typ == "" || f.page == "" || len(f.rules) == 0 || f.parse == nil:
			t.Errorf("%s: incomplete table entry", f.name)
		case len(f.shown) == 0 && c.snap == nil:
			t.Errorf("%s: neither shown by user/get nor checked in the snapshot", f.name)
		}
		for _, r := range f.rules {
			if r.code == 0 || r.src == "" {
				continue
			}
			if !slices.ContainsFunc(c.bad, func(b badValue) bool { return b.code == r.code }) {
				t.Errorf("%s: rule %q (%d) has no bad value", f.name, r.rule, r.code)
			}
		}
		for _, b := range c.bad {
			if !slices.ContainsFunc(f.rules, func(r fieldRule) bool { return r.code == b.code }) {
				t.Errorf("%s: bad value %q answers %d, which no rule of the table names", f.name, b.why, b.code)
			}
		}
	}
	for name := range cases {
		if !slices.Contains(names, name) {
			t.Errorf("test case for %s, which the table does not have", name)
		}
	}
}

// rtBody is the body of the round-trip member "rt" with key set to value.
func rtBody(key string, value any, over obj) obj {
	b := userBody("rt", over)
	if value == omit {
		delete(b, key)
	} else {
		b[key] = value
	}
	return b
}

// checkShown compares the user/get (or user/list) object with want.
func checkShown(t *testing.T, what string, got map[string]any, want obj) {
	t.Helper()
	for k, v := range want {
		if g, w := got[k], normal(t, v); !reflect.DeepEqual(g, w) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			t.Errorf("%s %s = %s, want %s", what, k, gb, wb)
		}
	}
}

func listedUser(t *testing.T, e *env, id string) map[string]any {
	t.Helper()
	r := e.get("user/list", map[string]string{"department_id": "1", "fetch_child": "1"})
	must(t, r, 0, "user/list")
	for _, u := range r.body["userlist"].([]any) {
		if m := u.(map[string]any); strings.EqualFold(m["userid"].(string), id) {
			return m
		}
	}
	t.Fatalf("user/list does not list %s", id)
	return nil
}

// TestMemberFieldRoundTrip walks the table over HTTP: each field's good
// value goes in through user/create and, where the update page takes it,
// through user/update, and comes back from user/get and user/list in the
// documented shape; each bad value is refused with the rule's errcode.
func TestMemberFieldRoundTrip(t *testing.T) {
	cases := memberCases()
	for _, f := range memberFields {
		c := cases[f.name]
		t.Run(f.name, func(t *testing.T) {
			if f.use&onCreate != 0 {
				e := newEnv(t, Options{})
				value, over, want := c.good(e)
				id := "rt"
				if f.name == "userid" {
					id = value.(string)
				}
				must(t, e.post("user/create", rtBody(f.name, value, over)), 0, "create with "+f.name)
				r := e.get("user/get", map[string]string{"userid": id})
				must(t, r, 0, "get")
				checkShown(t, "user/get", r.body, want)
				checkShown(t, "user/list", listedUser(t, e, id), want)
				if c.snap != nil {
					c.snap(t, snapUser(e, id))
				}
			}
			if f.use&onUpdate != 0 && f.name != "userid" {
				e := newEnv(t, Options{})
				must(t, e.post("user/create", userBody("rt", nil)), 0, "create plain")
				value, over, want := c.good(e)
				body := obj{"userid": "rt", f.name: value}
				for k, v := range over {
					body[k] = v
				}
				must(t, e.post("user/update", body), 0, "update with "+f.name)
				r := e.get("user/get", map[string]string{"userid": "rt"})
				must(t, r, 0, "get after update")
				checkShown(t, "user/get after update", r.body, want)
			}
			for _, b := range c.bad {
				t.Run(b.why, func(t *testing.T) {
					e := newEnv(t, Options{})
					value := b.value
					if b.prep != nil {
						value = b.prep(e)
					}
					var r result
					if b.update || f.use&onCreate == 0 {
						must(t, e.post("user/create", userBody("rt", nil)), 0, "create plain")
						r = e.post("user/update", obj{"userid": "rt", f.name: value})
					} else {
						r = e.post("user/create", rtBody(f.name, value, nil))
					}
					must(t, r, b.code, b.why)
				})
			}
		})
	}
}

// A member created with nothing but the required fields still reads back
// with every documented key, extattr as {"attrs":[]} included.
func TestUserGetShapeOfABareMember(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkUser("bare", []int{1}, nil)
	r := e.get("user/get", map[string]string{"userid": "bare"})
	must(t, r, 0, "get")
	checkShown(t, "bare member", r.body, obj{
		"extattr": obj{"attrs": []any{}}, "external_profile": emptyProfile, "avatar": "", "thumb_avatar": "",
		"direct_leader": []any{}, "external_position": "", "biz_mail": "", "gender": "0", "enable": 1, "status": 4,
	})
	for _, k := range []string{"userid", "name", "alias", "mobile", "department", "order", "position", "email",
		"telephone", "is_leader_in_dept", "address", "main_department", "qr_code"} {
		if _, ok := r.body[k]; !ok {
			t.Errorf("user/get lacks %s: %s", k, r.raw)
		}
	}
	if qr, _ := r.body["qr_code"].(string); !strings.HasPrefix(qr, "https://open.work.weixin.qq.com/wwopen/userQRCode?vcode=") {
		t.Errorf("qr_code %q", qr)
	}
}

// deptCase exercises one deptFields entry: good is a create body's value
// and the department/get value it must produce.
type deptCase struct {
	good func(e *env) (value any, want any)
	bad  []deptBad
}

type deptBad struct {
	why    string
	prep   func(e *env) obj // the body (create) or the changes (update)
	code   int
	update bool
}

func deptCases() map[string]deptCase {
	long := func(n int) string { return strings.Repeat("部", n) }
	return map[string]deptCase{
		"name": {good: func(*env) (any, any) { return long(64), long(64) }, bad: []deptBad{
			{why: "absent", prep: func(*env) obj { return obj{"parentid": 1} }, code: 60001},
			{why: "empty", prep: func(*env) obj { return obj{"name": "", "parentid": 1} }, code: 60001},
			{why: "65 characters", prep: func(*env) obj { return obj{"name": long(65), "parentid": 1} }, code: 60001},
			{why: "a colon", prep: func(*env) obj { return obj{"name": "a:b", "parentid": 1} }, code: 60009},
			{why: "a sibling's name", prep: func(e *env) obj { e.mkDept("Twin", 1, nil); return obj{"name": "Twin", "parentid": 1} }, code: 60008},
		}},
		"name_en": {good: func(*env) (any, any) { return "R&D", "R&D" }, bad: []deptBad{
			{why: "65 characters", prep: func(*env) obj { return obj{"name": "X", "name_en": strings.Repeat("e", 65), "parentid": 1} }, code: 60001},
			{why: "a question mark", prep: func(*env) obj { return obj{"name": "X", "name_en": "a?b", "parentid": 1} }, code: 60009},
		}},
		"parentid": {good: func(e *env) (any, any) { p := e.mkDept("P", 1, nil); return p, p }, bad: []deptBad{
			{why: "unknown parent", prep: func(*env) obj { return obj{"name": "X", "parentid": 999} }, code: 60004},
			{why: "moved under itself", prep: func(e *env) obj { d := e.mkDept("M", 1, nil); return obj{"id": d, "parentid": d} }, code: 60010, update: true},
			{why: "level 16", prep: func(e *env) obj { return obj{"name": "L16", "parentid": chain(e, 14)} }, code: capExceeded},
		}},
		"order": {good: func(*env) (any, any) { return int64(1<<32 - 1), int64(1<<32 - 1) }, bad: []deptBad{
			{why: "2^32", prep: func(*env) obj { return obj{"name": "X", "parentid": 1, "order": int64(1) << 32} }, code: 40058},
		}},
		"id": {good: func(*env) (any, any) { return 4242, 4242 }, bad: []deptBad{
			{why: "2^31", prep: func(*env) obj { return obj{"name": "X", "parentid": 1, "id": int64(1) << 31} }, code: 40058},
			{why: "the root's", prep: func(*env) obj { return obj{"name": "X", "parentid": 1, "id": 1} }, code: 60008},
			{why: "absent on update", prep: func(*env) obj { return obj{"name": "X"} }, code: 40058, update: true},
			{why: "unknown on update", prep: func(*env) obj { return obj{"id": 999, "name": "X"} }, code: 60003, update: true},
		}},
	}
}

// TestDeptFieldRoundTrip is TestMemberFieldRoundTrip for departments.
func TestDeptFieldRoundTrip(t *testing.T) {
	names := fieldNames(deptFields, func(f deptField) string { return f.name })
	if !slices.Equal(names, documentedDeptFields) {
		t.Fatalf("deptFields = %v, want %v", names, documentedDeptFields)
	}
	cases := deptCases()
	for _, f := range deptFields {
		c, ok := cases[f.name]
		if !ok {
			t.Errorf("%s: no test case", f.name)
			continue
		}
		for _, r := range f.rules {
			if !slices.ContainsFunc(c.bad, func(b deptBad) bool { return b.code == r.code }) {
				t.Errorf("%s: rule %q (%d) has no bad value", f.name, r.rule, r.code)
			}
		}
		t.Run(f.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			value, want := c.good(e)
			body := obj{"name": "RT", "parentid": 1, f.name: value}
			r := e.post("department/create", body)
			must(t, r, 0, "create")
			id := int(r.body["id"].(float64))
			got := e.get("department/get", map[string]string{"id": fmt.Sprint(id)}).body["department"].(map[string]any)
			if g, w := got[f.name], normal(t, want); !reflect.DeepEqual(g, w) {
				t.Errorf("department/get %s = %v, want %v", f.name, g, w)
			}
			listed := e.get("department/list", map[string]string{"id": fmt.Sprint(id)}).body["department"].([]any)[0].(map[string]any)
			if g, w := listed[f.name], normal(t, want); !reflect.DeepEqual(g, w) {
				t.Errorf("department/list %s = %v, want %v", f.name, g, w)
			}
			if f.name != "id" {
				// Update: a second department takes the value through
				// department/update.
				e2 := newEnv(t, Options{})
				d := e2.mkDept("Other", 1, nil)
				value, want := c.good(e2)
				must(t, e2.post("department/update", obj{"id": d, f.name: value}), 0, "update")
				got := e2.get("department/get", map[string]string{"id": fmt.Sprint(d)}).body["department"].(map[string]any)
				if g, w := got[f.name], normal(t, want); !reflect.DeepEqual(g, w) {
					t.Errorf("after update %s = %v, want %v", f.name, g, w)
				}
			}
			for _, b := range c.bad {
				t.Run(b.why, func(t *testing.T) {
					e := newEnv(t, Options{})
					api := "department/create"
					if b.update {
						api = "department/update"
					}
					must(t, e.post(api, b.prep(e)), b.code, b.why)
				})
			}
		})
	}
}
