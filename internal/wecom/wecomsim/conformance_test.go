package wecomsim

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// This file is the one place where a reader sees each rule of
// docs/wecom.md §3–§7 next to the errcode the emulator answers for it;
// [?] after a section marks a fact that page calls open, answered as
// doc.go's switch or choice says. Every row runs over HTTP against a fresh emulator. Rules whose
// answer is a success (partial update, list order, stripping) are listed
// with errcode 0 and check their effect. fields_test.go walks the field
// tables of fields.go rule by rule; batch_test.go and media_test.go go
// further into the jobs and uploads than the rows here.
//
// Not emulated: §5's monthly account-creation cap and the debug=1 limit
// (no documented errcode), and the batch_job_result callback.

// conformanceRule is one rule and the answer it must produce.
type conformanceRule struct {
	ref  string // where docs/wecom.md states the rule
	rule string
	want int // errcode; for a bare HTTP answer, the status (see status)
	// status is the HTTP status the rule answers with; 0 means 200 with
	// the envelope, the only status a business result may have (§6).
	status int
	opts   Options // switches the rule needs; zero means defaults
	// run sets up what the rule needs and returns the answer to check. It
	// may check effects itself with e.t.
	run func(e *env) result
}

// userBody is a valid user/create body for id, with over applied (a nil
// value deletes the key).
func userBody(id string, over obj) obj {
	b := obj{"userid": id, "name": "N " + id, "department": []int{1}, "email": strings.ToLower(id) + "@example.com"}
	for k, v := range over {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func createUser(id string, over obj) func(e *env) result {
	return func(e *env) result { return e.post("user/create", userBody(id, over)) }
}

// withUser creates "u1" (and whatever prep does), then runs call.
func withUser(over obj, call func(e *env) result) func(e *env) result {
	return func(e *env) result {
		e.mkUser("u1", []int{1}, over)
		return call(e)
	}
}

func snapUser(e *env, id string) SnapUser {
	e.t.Helper()
	for _, u := range e.sim.Snapshot().Users {
		if strings.EqualFold(u.UserID, id) {
			return u
		}
	}
	e.t.Fatalf("no user %q", id)
	return SnapUser{}
}

// chain creates n nested departments under the root and returns the
// deepest id.
func chain(e *env, n int) int {
	parent := 1
	for i := range n {
		parent = e.mkDept(fmt.Sprintf("L%d", i+2), parent, nil)
	}
	return parent
}

// rawCall sends one request and reports a dropped connection as the -2
// pseudo code instead of failing, for the fault rows.
func rawCall(e *env, method, api, query, body string) result {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.ts.URL+"/cgi-bin/"+api+"?"+query, strings.NewReader(body))
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		return result{code: faultDrop}
	}
	resp.Body.Close()
	return result{status: resp.StatusCode}
}

func conformanceRules() []conformanceRule {
	dq := func(id int) map[string]string { return map[string]string{"id": fmt.Sprint(id)} }
	uq := func(id string) map[string]string { return map[string]string{"userid": id} }
	rules := []conformanceRule{
		// §1.1, §7.1: gettoken.
		{ref: "§7.1", rule: "gettoken without corpid", want: 41002, run: func(e *env) result { return e.getToken("", editSecret) }},
		{ref: "§7.1", rule: "gettoken without corpsecret", want: 41004, run: func(e *env) result { return e.getToken(testCorp, "") }},
		{ref: "§7.1", rule: "gettoken with an unknown corpid", want: 40013, run: func(e *env) result { return e.getToken("wwother", editSecret) }},
		{ref: "§7.1", rule: "gettoken with a wrong secret", want: 40001, run: func(e *env) result { return e.getToken(testCorp, "wrong") }},
		{ref: "§7.1", rule: "gettoken answers expires_in 7200", want: 0, run: func(e *env) result {
			r := e.getToken(testCorp, editSecret)
			if r.body["expires_in"] != float64(7200) || len(r.body["access_token"].(string)) > 512 {
				e.t.Errorf("token answer %s", r.raw)
			}
			return r
		}},
		{ref: "§7.1 [?]", rule: "repeat fetch inside the window returns the same token (default)", want: 0, run: func(e *env) result {
			a, b := e.getToken(testCorp, editSecret), e.getToken(testCorp, editSecret)
			if a.body["access_token"] != b.body["access_token"] {
				e.t.Error("repeat fetch changed the token")
			}
			return b
		}},
		{ref: "§7.1 [?]", rule: "NewTokenEachFetch: every fetch issues a new token, old ones stay valid", want: 0, opts: Options{NewTokenEachFetch: true}, run: func(e *env) result {
			old := e.token(editSecret)
			fresh := e.getToken(testCorp, editSecret)
			if fresh.body["access_token"] == old {
				e.t.Error("same token with NewTokenEachFetch")
			}
			return e.get("department/get", dq(1)) // with the old token
		}},
		{ref: "§1.1 [?]", rule: "ExpiresInRemaining: a repeat fetch answers the remaining life", want: 0, opts: Options{ExpiresInRemaining: true}, run: func(e *env) result {
			e.getToken(testCorp, editSecret)
			e.clock.Advance(100 * time.Second)
			r := e.getToken(testCorp, editSecret)
			if r.body["expires_in"] != float64(7100) {
				e.t.Errorf("expires_in %v, want 7100", r.body["expires_in"])
			}
			return r
		}},

		// §1.2, §7.2: token expiry and invalidation.
		{ref: "§7.2", rule: "an expired token answers 42001 (default)", want: 42001, run: func(e *env) result {
			e.token(editSecret)
			e.clock.Advance(7200 * time.Second)
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.2 [?]", rule: "ExpiredCode 40014: an expired token answers 40014", want: 40014, opts: Options{ExpiredCode: 40014}, run: func(e *env) result {
			e.token(editSecret)
			e.clock.Advance(7200 * time.Second)
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.2", rule: "a token invalidated early answers 40014", want: 40014, run: func(e *env) result {
			e.token(editSecret)
			e.sim.InvalidateTokens()
			return e.get("department/get", dq(1))
		}},
		{ref: "§1.2", rule: "an unknown token answers 40014", want: 40014, run: func(e *env) result {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/department/get?id=1&access_token=nosuchtoken", nil)
			return e.do(req)
		}},

		// §1.3, §7.3: per-secret capabilities.
		{ref: "§7.3", rule: "a read-only sync secret may not write", want: 48002, run: func(e *env) result {
			return e.postAs(roSecret, "department/create", obj{"name": "X", "parentid": 1})
		}},
		{ref: "§7.3", rule: "a read-only sync secret may read", want: 0, run: func(e *env) result { return e.getAs(roSecret, "department/list", nil) }},
		{ref: "§7.3", rule: "an app secret may not write", want: 48002, run: func(e *env) result {
			return e.postAs(appSecret, "user/create", userBody("x", nil))
		}},
		{ref: "§7.3", rule: "an app secret may not call user/list_id", want: 48002, run: func(e *env) result {
			return e.postAs(appSecret, "user/list_id", obj{"limit": 10})
		}},
		{ref: "§7.3", rule: "an app reading a member outside its visible range", want: 60011, run: withUser(nil, func(e *env) result {
			e.mkDept("Visible", 1, nil) // id 2, the app's range
			return e.getAs(appSecret, "user/get", uq("u1"))
		})},
		{ref: "§7.3", rule: "an app reading a department outside its visible range", want: 60011, run: func(e *env) result {
			e.mkDept("Visible", 1, nil)
			return e.getAs(appSecret, "department/get", dq(1))
		}},
		{ref: "§7.3", rule: "an app's lists are filtered to its visible range", want: 0, run: func(e *env) result {
			v := e.mkDept("Visible", 1, nil)
			e.mkDept("Hidden", 1, nil)
			r := e.getAs(appSecret, "department/list", nil)
			if got := deptIDs(r.body["department"]); !reflect.DeepEqual(got, []int{v}) {
				e.t.Errorf("app sees %v, want [%d]", got, v)
			}
			return r
		}},
		{ref: "§7.3", rule: "a caller IP outside AllowedIPs", want: 60020, opts: Options{AllowedIPs: []string{"203.0.113.9"}}, run: func(e *env) result {
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.3", rule: "the new-IP sync secret may use department/simplelist", want: 0, run: func(e *env) result {
			return e.getAs(newIPSec, "department/simplelist", nil)
		}},
		{ref: "§7.3", rule: "the new-IP sync secret may use user/list_id", want: 0, run: func(e *env) result {
			return e.postAs(newIPSec, "user/list_id", obj{"limit": 10})
		}},
		{ref: "§7.3", rule: "the new-IP sync secret may still write", want: 0, run: func(e *env) result {
			return e.postAs(newIPSec, "department/create", obj{"name": "X", "parentid": 1})
		}},

		// §0, §6, §7.4–§7.6: transport and envelope.
		{ref: "§7.4", rule: "no access_token in the query", want: 41001, run: func(e *env) result {
			return e.postRaw("department/create", "", mustJSON(e.t, obj{"name": "X", "parentid": 1}))
		}},
		{ref: "§7.4", rule: "access_token in the body instead of the query", want: 41001, run: func(e *env) result {
			return e.postRaw("department/create", "", mustJSON(e.t, obj{"name": "X", "parentid": 1, "access_token": e.token(editSecret)}))
		}},
		{ref: "§6", rule: "a body that is not JSON", want: 40058, run: func(e *env) result {
			return e.postRaw("department/create", "access_token="+url.QueryEscape(e.token(editSecret)), []byte(`{"name":`))
		}},
		{ref: "§6", rule: "a JSON body that is not an object", want: 40058, run: func(e *env) result {
			return e.post("department/create", `[1,2]`)
		}},
		{ref: "§6", rule: "GET on a POST endpoint", want: 40058, run: func(e *env) result { return e.get("user/create", uq("x")) }},
		{ref: "§6", rule: "POST on a GET endpoint", want: 40058, run: func(e *env) result { return e.post("user/get", obj{"userid": "x"}) }},
		{ref: "§6 [?]", rule: "unknown path under /cgi-bin/ (emulator-specific)", status: http.StatusNotFound, want: 404, run: func(e *env) result {
			return e.get("user/nosuchapi", nil)
		}},
		{ref: "§6 [?]", rule: "\\uXXXX escapes are stored verbatim (default)", want: 0, run: func(e *env) result {
			return e.post("department/create", `{"name":"R\u0026D","parentid":1}`)
		}},
		{ref: "§6 [?]", rule: "RejectUnicodeEscapes: \\uXXXX escapes", want: 40033, opts: Options{RejectUnicodeEscapes: true}, run: func(e *env) result {
			return e.post("department/create", `{"name":"R\u0026D","parentid":1}`)
		}},
		{ref: "§7.6", rule: "user/create without userid", want: 41009, run: createUser("x", obj{"userid": nil})},
		{ref: "§7.6", rule: "department/create without name", want: 60001, run: func(e *env) result {
			return e.post("department/create", obj{"parentid": 1})
		}},
		{ref: "§7.6", rule: "department/create without parentid", want: 60004, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X"})
		}},
		{ref: "§7.6", rule: "a field of the wrong JSON type", want: 40058, run: createUser("x", obj{"name": 5})},

		// §3, §7.7: userid.
		{ref: "§7.7", rule: "userid of 64 bytes", want: 0, run: createUser(strings.Repeat("b", 64), obj{"name": "N", "email": "b64@example.com"})},
		{ref: "§7.7", rule: "userid over 64 bytes", want: 40058, run: createUser(strings.Repeat("b", 65), obj{"name": "N", "email": "b65@example.com"})},
		{ref: "§7.7", rule: "userid with a character outside [0-9A-Za-z_-@.]", want: 40003, run: createUser("bad id", obj{"email": "bad@example.com"})},
		{ref: "§7.7", rule: "userid starting with a non-alphanumeric", want: 40003, run: createUser("_x", obj{"email": "x@example.com"})},
		{ref: "§7.7", rule: "userid uniqueness ignores case", want: 60102, run: withUser(nil, createUser("U1", obj{"email": "other@example.com"}))},
		{ref: "§7.7", rule: "user/get is case-insensitive", want: 0, run: withUser(nil, func(e *env) result { return e.get("user/get", uq("U1")) })},
		{ref: "§7.7", rule: "user/update is case-insensitive", want: 0, run: withUser(nil, func(e *env) result {
			return e.post("user/update", obj{"userid": "U1", "position": "P"})
		})},
		{ref: "§7.7", rule: "user/delete is case-insensitive", want: 0, run: withUser(nil, func(e *env) result { return e.get("user/delete", uq("U1")) })},
		{ref: "§7.7", rule: "user/get of an unknown userid", want: 60111, run: func(e *env) result { return e.get("user/get", uq("ghost")) }},
		{ref: "§7.7", rule: "user/update of an unknown userid", want: 60111, run: func(e *env) result {
			return e.post("user/update", obj{"userid": "ghost", "name": "G"})
		}},
		{ref: "§7.7", rule: "user/delete of an unknown userid", want: 60111, run: func(e *env) result { return e.get("user/delete", uq("ghost")) }},

		// §3, §7.8: member fields.
		{ref: "§7.8", rule: "name empty", want: 60112, run: createUser("x", obj{"name": ""})},
		{ref: "§7.8", rule: "name of 64 characters", want: 0, run: createUser("x", obj{"name": strings.Repeat("名", 64)})},
		{ref: "§7.8", rule: "name over 64 characters", want: 60112, run: createUser("x", obj{"name": strings.Repeat("名", 65)})},
		{ref: "§3", rule: "alias over 64 characters (emulator code)", want: 40058, run: createUser("x", obj{"alias": strings.Repeat("a", 65)})},
		{ref: "§7.8", rule: "mobile format", want: 60103, run: createUser("x", obj{"mobile": "12ab"})},
		{ref: "§3", rule: "mobile with country code and a space (official sample)", want: 0, run: createUser("x", obj{"mobile": "+86 13800000000"})},
		{ref: "§7.8", rule: "mobile already used (spaces and dashes ignored)", want: 60104, run: withUser(obj{"mobile": "+86 13800000000"}, createUser("x", obj{"mobile": "+86 138-0000-0000"}))},
		{ref: "§7.8", rule: "email format", want: 60105, run: createUser("x", obj{"email": "not-an-email"})},
		{ref: "§3", rule: "email under 6 bytes", want: 60105, run: createUser("x", obj{"email": "a@b.c"})},
		{ref: "§7.8", rule: "email already used (any case)", want: 60106, run: withUser(nil, createUser("x", obj{"email": "U1@EXAMPLE.COM"}))},
		{ref: "§7.8", rule: "mobile and email both empty", want: 60129, run: createUser("x", obj{"email": nil})},
		{ref: "§7.8", rule: "department missing (strict, default)", want: 60127, run: createUser("x", obj{"department": nil})},
		{ref: "§7.8", rule: "department empty (strict, default)", want: 60127, run: createUser("x", obj{"department": []int{}})},
		{ref: "§7.8", rule: "department unknown (strict, default)", want: 60123, run: createUser("x", obj{"department": []int{999}})},
		{ref: "§2.1 [?]", rule: "AutoCreateDepartment: a member without department goes to 待设置部门", want: 0, opts: Options{AutoCreateDepartment: true}, run: createUser("x", obj{"department": nil})},
		{ref: "§2.1 [?]", rule: "AutoCreateDepartment: an unknown department id is created", want: 0, opts: Options{AutoCreateDepartment: true}, run: createUser("x", obj{"department": []int{77}})},
		{ref: "§7.8", rule: "the same department twice in department[] (emulator code)", want: 40066, run: createUser("x", obj{"department": []int{1, 1}})},
		{ref: "§7.8 [?]", rule: "more than MaxUserDepartments departments (default 100)", want: 60110, run: func(e *env) result {
			ids := make([]int, 101)
			for i := range ids {
				ids[i] = 1000 + i
			}
			return e.post("user/create", userBody("x", obj{"department": ids}))
		}},
		{ref: "§7.8 [?]", rule: "MaxUserDepartments 20: 21 departments", want: 60110, opts: Options{MaxUserDepartments: 20}, run: func(e *env) result {
			ids := []int{1}
			for i := range 20 {
				ids = append(ids, e.mkDept(fmt.Sprint("D", i), 1, nil))
			}
			return e.post("user/create", userBody("x", obj{"department": ids}))
		}},
		{ref: "§7.8", rule: "is_leader_in_dept count differs from department", want: 60132, run: createUser("x", obj{"is_leader_in_dept": []int{1, 0}})},
		{ref: "§3 [?]", rule: "order count differs from department (emulator code)", want: 40058, run: createUser("x", obj{"order": []int{1, 2}})},
		{ref: "§3", rule: "order of 2^32-1", want: 0, run: createUser("x", obj{"order": []int64{1<<32 - 1}})},
		{ref: "§3", rule: "order outside [0, 2^32)", want: 40058, run: createUser("x", obj{"order": []int64{1 << 32}})},
		{ref: "§7.8 [?]", rule: "two direct leaders exceed MaxDirectLeaders (default 1, today's pages)", want: 60257, run: func(e *env) result {
			e.mkUser("b1", []int{1}, nil)
			e.mkUser("b2", []int{1}, nil)
			return e.post("user/create", userBody("x", obj{"direct_leader": []string{"b1", "b2"}}))
		}},
		{ref: "§7.8 [?]", rule: "one direct leader is within the default cap", want: 0, run: func(e *env) result {
			e.mkUser("b1", []int{1}, nil)
			return e.post("user/create", userBody("x", obj{"direct_leader": []string{"b1"}}))
		}},
		{ref: "§7.8 [?]", rule: "MaxDirectLeaders 5 (60257's text): five direct leaders are accepted", want: 0, opts: Options{MaxDirectLeaders: 5}, run: func(e *env) result {
			return e.post("user/create", userBody("x", obj{"direct_leader": mkLeaders(5)(e)}))
		}},
		{ref: "§7.8 [?]", rule: "MaxDirectLeaders 5: six direct leaders", want: 60257, opts: Options{MaxDirectLeaders: 5}, run: func(e *env) result {
			return e.post("user/create", userBody("x", obj{"direct_leader": mkLeaders(6)(e)}))
		}},
		{ref: "§7.8", rule: "a direct leader that does not exist (emulator code)", want: 60111, run: createUser("x", obj{"direct_leader": []string{"ghost"}})},
		{ref: "§7.8", rule: "extattr names that are not registered are dropped silently", want: 0, opts: Options{ExtAttrNames: []string{"工号"}}, run: func(e *env) result {
			r := e.post("user/create", userBody("x", obj{"extattr": obj{"attrs": []obj{
				{"type": 0, "name": "unregistered", "text": obj{"value": "v"}},
				{"type": 0, "name": "工号", "text": obj{"value": "E1"}},
			}}}))
			if got := snapUser(e, "x").ExtAttr; len(got) != 1 || got[0].Name != "工号" {
				e.t.Errorf("stored extattr %+v, want only 工号", got)
			}
			return r
		}},
		{ref: "§7.8", rule: "user/get shows extattr as {\"attrs\":[]} for a member without attributes", want: 0, run: withUser(nil, func(e *env) result {
			r := e.get("user/get", uq("u1"))
			if ext, ok := r.body["extattr"].(map[string]any); !ok || fmt.Sprint(ext["attrs"]) != "[]" {
				e.t.Errorf("extattr %v", r.body["extattr"])
			}
			return r
		})},
		{ref: "§3 [?]", rule: "extattr on update merges by name; an empty value clears one (default)", want: 0, run: withUser(obj{"extattr": obj{"attrs": []obj{
			{"type": 0, "name": "a", "text": obj{"value": "1"}}, {"type": 0, "name": "b", "text": obj{"value": "2"}},
		}}}, func(e *env) result {
			r := e.post("user/update", obj{"userid": "u1", "extattr": obj{"attrs": []obj{
				{"type": 0, "name": "a", "text": obj{"value": ""}}, {"type": 0, "name": "c", "text": obj{"value": "3"}},
			}}})
			if got := fmt.Sprint(fieldNames(snapUser(e, "u1").ExtAttr, func(a ExtAttr) string { return a.Name })); got != "[b c]" {
				e.t.Errorf("attrs after merge %s, want [b c]", got)
			}
			return r
		})},
		{ref: "§3 [?]", rule: "ExtAttrReplaceOnUpdate: the update's list replaces the stored one", want: 0, opts: Options{ExtAttrReplaceOnUpdate: true}, run: withUser(obj{"extattr": obj{"attrs": []obj{
			{"type": 0, "name": "a", "text": obj{"value": "1"}}, {"type": 0, "name": "b", "text": obj{"value": "2"}},
		}}}, func(e *env) result {
			r := e.post("user/update", obj{"userid": "u1", "extattr": obj{"attrs": []obj{{"type": 0, "name": "c", "text": obj{"value": "3"}}}}})
			if got := fmt.Sprint(fieldNames(snapUser(e, "u1").ExtAttr, func(a ExtAttr) string { return a.Name })); got != "[c]" {
				e.t.Errorf("attrs after replace %s, want [c]", got)
			}
			return r
		})},
		{ref: "§4", rule: "department sent as a string (41019's help, item 2)", want: 41019, run: createUser("x", obj{"department": "1"})},
		{ref: "§3", rule: "an avatar_mediaid media/upload never issued", want: 40007, run: createUser("x", obj{"avatar_mediaid": "2-G6nrLmr5EC3MNb_-zL1dDdzkd0p7cNliYu9V5w7o8K0"})},
		{ref: "§2.1 [?]", rule: "AutoCreateDepartment: user/create answers created_department_list", want: 0, opts: Options{AutoCreateDepartment: true}, run: func(e *env) result {
			r := e.post("user/create", userBody("x", obj{"department": []int{77}}))
			info, _ := r.body["created_department_list"].(map[string]any)["department_info"].([]any)
			if len(info) != 2 || fmt.Sprint(info[1].(map[string]any)["id"]) != "77" {
				e.t.Errorf("created_department_list %s", r.raw)
			}
			return r
		}},
		{ref: "§2.1", rule: "user/create answers no created_department_list when it created none", want: 0, run: func(e *env) result {
			r := e.post("user/create", userBody("x", nil))
			if _, ok := r.body["created_department_list"]; ok {
				e.t.Errorf("created_department_list without auto-creation: %s", r.raw)
			}
			return r
		}},
		{ref: "§3", rule: "gender other than 1/2 (or 0 = unset)", want: 40058, run: createUser("x", obj{"gender": "3"})},
		{ref: "§3", rule: "gender as a JSON number, as SDKs send it", want: 0, run: createUser("x", obj{"gender": 2})},
		{ref: "§3", rule: "enable other than 0/1", want: 40058, run: createUser("x", obj{"enable": 2})},
		{ref: "§3", rule: "main_department not among department[] (emulator code)", want: 40058, run: func(e *env) result {
			d := e.mkDept("D", 1, nil)
			return e.post("user/create", userBody("x", obj{"main_department": d}))
		}},
		{ref: "§3", rule: "position over 128 characters", want: 301012, run: createUser("x", obj{"position": strings.Repeat("p", 129)})},
		{ref: "§3", rule: "telephone over 32 bytes", want: 301013, run: createUser("x", obj{"telephone": strings.Repeat("1", 33)})},
		{ref: "§3", rule: "telephone with characters other than digits + - ,", want: 301013, run: createUser("x", obj{"telephone": "010 123"})},
		{ref: "§3", rule: "address over 128 characters (emulator code)", want: 40058, run: createUser("x", obj{"address": strings.Repeat("a", 129)})},

		// §2.1, §7.9: partial update.
		{ref: "§7.9", rule: "update leaves omitted fields untouched", want: 0, run: withUser(obj{"position": "Dev", "mobile": "13800000001"}, func(e *env) result {
			r := e.post("user/update", obj{"userid": "u1", "alias": "Al"})
			if u := snapUser(e, "u1"); u.Position != "Dev" || u.Mobile != "13800000001" || u.Alias != "Al" || u.Name != "N u1" {
				e.t.Errorf("after partial update %+v", u)
			}
			return r
		})},
		{ref: "§7.9", rule: "order without department is ignored", want: 0, run: withUser(obj{"order": []int{5}}, func(e *env) result {
			r := e.post("user/update", obj{"userid": "u1", "order": []int{9}})
			if u := snapUser(e, "u1"); !reflect.DeepEqual(u.Order, []uint32{5}) {
				e.t.Errorf("order %v, want [5]", u.Order)
			}
			return r
		})},
		{ref: "§7.9", rule: "mobile is silently ignored once the member is activated", want: 0, run: withUser(obj{"mobile": "13800000001"}, func(e *env) result {
			if err := e.sim.SetActivated("u1"); err != nil {
				e.t.Fatal(err)
			}
			r := e.post("user/update", obj{"userid": "u1", "mobile": "13800000002"})
			if u := snapUser(e, "u1"); u.Mobile != "13800000001" {
				e.t.Errorf("mobile %q changed on an activated member", u.Mobile)
			}
			return r
		})},
		{ref: "§7.9", rule: "new_userid on a userid that was not system-generated", want: 301036, run: withUser(nil, func(e *env) result {
			return e.post("user/update", obj{"userid": "u1", "new_userid": "u2"})
		})},
		{ref: "§7.9", rule: "update breaking the rules answers like create", want: 60129, run: withUser(nil, func(e *env) result {
			return e.post("user/update", obj{"userid": "u1", "email": ""})
		})},

		// §7.10: deletes.
		{ref: "§7.10", rule: "deleting the corp creator", want: 301005, opts: Options{CreatorUserID: "u1"}, run: withUser(nil, func(e *env) result {
			return e.get("user/delete", uq("u1"))
		})},
		{ref: "§7.10", rule: "batchdelete of more than 200 userids", want: 40032, run: func(e *env) result {
			ids := make([]string, 201)
			for i := range ids {
				ids[i] = fmt.Sprint("u", i)
			}
			return e.post("user/batchdelete", obj{"useridlist": ids})
		}},
		{ref: "§7.10 [?]", rule: "batchdelete with an unknown userid fails whole, deletes nothing", want: 60111, run: withUser(nil, func(e *env) result {
			r := e.post("user/batchdelete", obj{"useridlist": []string{"u1", "ghost"}})
			if n := len(e.sim.Snapshot().Users); n != 1 {
				e.t.Errorf("partial batchdelete: %d users left", n)
			}
			return r
		})},
		{ref: "§7.10", rule: "batchdelete with an empty list (emulator code)", want: 40058, run: func(e *env) result {
			return e.post("user/batchdelete", obj{"useridlist": []string{}})
		}},

		// §7.11: listing.
		{ref: "§7.11", rule: "members sort by order descending, then creation", want: 0, run: func(e *env) result {
			e.mkUser("a", []int{1}, obj{"order": []int{1}})
			e.mkUser("b", []int{1}, obj{"order": []int{9}})
			e.mkUser("c", []int{1}, obj{"order": []int{1}})
			r := e.get("user/simplelist", map[string]string{"department_id": "1"})
			if got := userIDs(r.body["userlist"]); !reflect.DeepEqual(got, []string{"b", "a", "c"}) {
				e.t.Errorf("order %v, want [b a c]", got)
			}
			return r
		}},
		{ref: "§7.11", rule: "fetch_child=1 recurses into sub-departments", want: 0, run: func(e *env) result {
			d := e.mkDept("D", 1, nil)
			e.mkUser("deep", []int{d}, nil)
			r := e.get("user/list", map[string]string{"department_id": "1", "fetch_child": "1"})
			if got := userIDs(r.body["userlist"]); !reflect.DeepEqual(got, []string{"deep"}) {
				e.t.Errorf("recursive list %v", got)
			}
			return r
		}},
		{ref: "§7.11", rule: "user/list of an unknown department", want: 60123, run: func(e *env) result {
			return e.get("user/list", map[string]string{"department_id": "999"})
		}},
		{ref: "§7.11 [?]", rule: "ListSizeLimit: user/list with fetch_child=1 over the limit", want: 45029, opts: Options{ListSizeLimit: 1}, run: func(e *env) result {
			e.mkUser("a", []int{1}, nil)
			e.mkUser("b", []int{1}, nil)
			return e.get("user/list", map[string]string{"department_id": "1", "fetch_child": "1"})
		}},
		{ref: "§7.11 [?]", rule: "ListSizeLimit spares user/list without fetch_child", want: 0, opts: Options{ListSizeLimit: 1}, run: func(e *env) result {
			e.mkUser("a", []int{1}, nil)
			e.mkUser("b", []int{1}, nil)
			return e.get("user/list", map[string]string{"department_id": "1"})
		}},
		{ref: "§7.11", rule: "list_id: one row per (user, department), empty next_cursor at the end", want: 0, run: func(e *env) result {
			d := e.mkDept("D", 1, nil)
			e.mkUser("a", []int{1, d}, nil)
			r := e.post("user/list_id", obj{"limit": 10})
			if rows := r.body["dept_user"].([]any); len(rows) != 2 || r.body["next_cursor"] != "" {
				e.t.Errorf("list_id %s", r.raw)
			}
			return r
		}},
		{ref: "§7.11", rule: "list_id limit below 1", want: 40058, run: func(e *env) result { return e.post("user/list_id", obj{"limit": 0}) }},
		{ref: "§7.11", rule: "list_id limit above 10000", want: 40058, run: func(e *env) result { return e.post("user/list_id", obj{"limit": 10001}) }},
		{ref: "§7.11", rule: "list_id with a bad cursor", want: 50100, run: func(e *env) result {
			return e.post("user/list_id", obj{"cursor": "garbage!", "limit": 10})
		}},

		// §7.12, §7.13: stripping and status.
		{ref: "§7.12", rule: "a restricted (new) app sees sensitive fields blank", want: 0, run: func(e *env) result {
			d := e.mkDept("Visible", 1, nil)
			e.mkUser("u1", []int{d}, obj{"mobile": "13800000001", "gender": "2", "address": "addr"})
			r := e.getAs(restrSec, "user/get", uq("u1"))
			if r.body["mobile"] != "" || r.body["email"] != "" || r.body["gender"] != "0" || r.body["address"] != "" {
				e.t.Errorf("restricted app sees %s", r.raw)
			}
			return r
		}},
		{ref: "§7.13", rule: "a new member is status 4; enable=0 makes it 2", want: 0, run: withUser(nil, func(e *env) result {
			if s := snapUser(e, "u1").Status; s != 4 {
				e.t.Errorf("new member status %d", s)
			}
			r := e.post("user/update", obj{"userid": "u1", "enable": 0})
			if s := snapUser(e, "u1").Status; s != 2 {
				e.t.Errorf("disabled member status %d", s)
			}
			return r
		})},

		// §3, §7.14–§7.19: departments.
		{ref: "§7.14", rule: "the root cannot be deleted", want: 60007, run: func(e *env) result { return e.get("department/delete", dq(1)) }},
		{ref: "§7.14", rule: "a user-supplied id of 1 (the root)", want: 60008, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "parentid": 1, "id": 1})
		}},
		{ref: "§7.14", rule: "a user-supplied id outside 32 bits (emulator code)", want: 40058, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "parentid": 1, "id": int64(1) << 31})
		}},
		{ref: "§7.14", rule: "a negative id (emulator code)", want: 40058, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "parentid": 1, "id": -5})
		}},
		{ref: "§7.14", rule: "no id: one is assigned", want: 0, run: func(e *env) result {
			r := e.post("department/create", obj{"name": "X", "parentid": 1})
			if id, _ := r.body["id"].(float64); id <= 1 {
				e.t.Errorf("assigned id %v", r.body["id"])
			}
			return r
		}},
		{ref: "§7.15", rule: "department name empty", want: 60001, run: func(e *env) result {
			return e.post("department/create", obj{"name": "", "parentid": 1})
		}},
		{ref: "§7.15 [?]", rule: "department name of 64 characters (default DeptNameMax)", want: 0, run: func(e *env) result {
			return e.post("department/create", obj{"name": strings.Repeat("部", 64), "parentid": 1})
		}},
		{ref: "§7.15 [?]", rule: "department name over 64 characters", want: 60001, run: func(e *env) result {
			return e.post("department/create", obj{"name": strings.Repeat("部", 65), "parentid": 1})
		}},
		{ref: "§7.15 [?]", rule: "DeptNameMax 32: a name of 33 characters", want: 60001, opts: Options{DeptNameMax: 32}, run: func(e *env) result {
			return e.post("department/create", obj{"name": strings.Repeat("部", 33), "parentid": 1})
		}},
		{ref: "§7.15", rule: "a name used by a sibling", want: 60008, run: func(e *env) result {
			e.mkDept("X", 1, nil)
			return e.post("department/create", obj{"name": "X", "parentid": 1})
		}},
		{ref: "§7.15", rule: "the same name under another parent", want: 0, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			return e.post("department/create", obj{"name": "X", "parentid": d})
		}},
		{ref: "§7.15", rule: "a renamed department colliding with a sibling", want: 60008, run: func(e *env) result {
			e.mkDept("X", 1, nil)
			y := e.mkDept("Y", 1, nil)
			return e.post("department/update", obj{"id": y, "name": "X"})
		}},
		{ref: "§7.15", rule: "a user-supplied id already used", want: 60008, run: func(e *env) result {
			e.mkDept("X", 1, obj{"id": 5})
			return e.post("department/create", obj{"name": "Y", "parentid": 1, "id": 5})
		}},
		{ref: "§7.15", rule: "a forbidden character in name_en", want: 60009, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "name_en": "a:b", "parentid": 1})
		}},
		{ref: "§7.16", rule: "create under a parent that does not exist", want: 60004, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "parentid": 999})
		}},
		{ref: "§7.16", rule: "move under a parent that does not exist", want: 60004, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			return e.post("department/update", obj{"id": d, "parentid": 999})
		}},
		{ref: "§7.16", rule: "move a department under itself", want: 60010, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			return e.post("department/update", obj{"id": d, "parentid": d})
		}},
		{ref: "§7.16", rule: "move a department under its descendant", want: 60010, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			c := e.mkDept("Y", d, nil)
			return e.post("department/update", obj{"id": d, "parentid": c})
		}},
		{ref: "§7.16", rule: "update of a department that does not exist", want: 60003, run: func(e *env) result {
			return e.post("department/update", obj{"id": 999, "name": "X"})
		}},
		{ref: "§7.16 [?]", rule: "level 15 (root = 1) is allowed", want: 0, run: func(e *env) result {
			return e.post("department/create", obj{"name": "L15", "parentid": chain(e, 13)})
		}},
		{ref: "§7.16 [?]", rule: "level 16 exceeds MaxDepth 15 (emulator code)", want: 40058, run: func(e *env) result {
			return e.post("department/create", obj{"name": "L16", "parentid": chain(e, 14)})
		}},
		{ref: "§7.16 [?]", rule: "a move that would exceed MaxDepth (emulator code)", want: 40058, opts: Options{MaxDepth: 3}, run: func(e *env) result {
			a := chain(e, 1)
			b := e.mkDept("B", 1, nil)
			e.mkDept("B2", b, nil)
			return e.post("department/update", obj{"id": b, "parentid": a})
		}},
		{ref: "§7.16 [?]", rule: "MaxDepartments reached (emulator code)", want: 40058, opts: Options{MaxDepartments: 2}, run: func(e *env) result {
			e.mkDept("X", 1, nil)
			return e.post("department/create", obj{"name": "Y", "parentid": 1})
		}},
		{ref: "§7.16 [?]", rule: "MaxNodesPerDept reached by a member (emulator code)", want: 40058, opts: Options{MaxNodesPerDept: 1}, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			e.mkUser("a", []int{d}, nil)
			return e.post("user/create", userBody("b", obj{"department": []int{d}}))
		}},
		{ref: "§3", rule: "department order outside [0, 2^32)", want: 40058, run: func(e *env) result {
			return e.post("department/create", obj{"name": "X", "parentid": 1, "order": int64(1) << 32})
		}},
		{ref: "§7.17", rule: "delete a department that has members", want: 60005, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			e.mkUser("a", []int{d}, nil)
			return e.get("department/delete", dq(d))
		}},
		{ref: "§7.17", rule: "delete a department that has sub-departments", want: 60006, run: func(e *env) result {
			d := e.mkDept("X", 1, nil)
			e.mkDept("Y", d, nil)
			return e.get("department/delete", dq(d))
		}},
		{ref: "§7.17", rule: "delete a department that does not exist", want: 60003, run: func(e *env) result { return e.get("department/delete", dq(999)) }},
		{ref: "§7.17", rule: "get a department that does not exist", want: 60003, run: func(e *env) result { return e.get("department/get", dq(999)) }},
		{ref: "§7.18", rule: "list: parent before child, siblings by order descending then id", want: 0, run: func(e *env) result {
			a := e.mkDept("A", 1, obj{"order": 1})
			b := e.mkDept("B", 1, obj{"order": 9})
			a1 := e.mkDept("A1", a, nil)
			r := e.get("department/list", nil)
			if got, want := deptIDs(r.body["department"]), []int{1, b, a, a1}; !reflect.DeepEqual(got, want) {
				e.t.Errorf("list order %v, want %v", got, want)
			}
			return r
		}},
		{ref: "§7.18", rule: "simplelist with id returns that subtree, inclusive", want: 0, run: func(e *env) result {
			a := e.mkDept("A", 1, nil)
			a1 := e.mkDept("A1", a, nil)
			e.mkDept("B", 1, nil)
			r := e.get("department/simplelist", dq(a))
			if got := deptIDs(r.body["department_id"]); !reflect.DeepEqual(got, []int{a, a1}) {
				e.t.Errorf("subtree %v", got)
			}
			return r
		}},
		{ref: "§7.19", rule: "department_leader comes from is_leader_in_dept", want: 0, run: func(e *env) result {
			d := e.mkDept("A", 1, nil)
			e.mkUser("boss", []int{d}, obj{"is_leader_in_dept": []int{1}})
			e.mkUser("staff", []int{d}, obj{"is_leader_in_dept": []int{0}})
			r := e.get("department/get", dq(d))
			if got := fmt.Sprint(r.body["department"].(map[string]any)["department_leader"]); got != "[boss]" {
				e.t.Errorf("leaders %s", got)
			}
			return r
		}},

		// §2.3, §7.20: media/upload.
		{ref: "§7.20", rule: "media/upload of a file", want: 0, run: func(e *env) result { return e.upload("file", "a.csv", []byte("123456")) }},
		{ref: "§7.20", rule: "media/upload with an unknown type", want: 40005, run: func(e *env) result { return e.upload("doc", "a.csv", []byte("123456")) }},
		{ref: "§7.20", rule: "media/upload of 5 bytes", want: 40006, run: func(e *env) result { return e.upload("file", "a.csv", []byte("12345")) }},
		{ref: "§7.20", rule: "media/upload of an empty file", want: 44001, run: func(e *env) result { return e.upload("file", "a.csv", nil) }},
		{ref: "§7.20", rule: "media/upload of an image that is not jpg or png (emulator: by name)", want: 40004, run: func(e *env) result { return e.upload("image", "a.gif", pngBytes) }},
		{ref: "§7.20 [?]", rule: "media/upload over the type's cap (MaxFileBytes)", want: 45001, opts: Options{MaxFileBytes: 10}, run: func(e *env) result {
			return e.upload("file", "a.csv", []byte("12345678901"))
		}},
		{ref: "§7.20", rule: "a media_id three days old", want: 40007, run: func(e *env) result {
			id := e.mediaID("image", "a.png", pngBytes)
			e.clock.Advance(72 * time.Hour)
			delete(e.tokens, editSecret)
			return e.post("user/create", userBody("x", obj{"avatar_mediaid": id}))
		}},

		// §2.3, §7.21: batch jobs.
		{ref: "§7.21", rule: "syncuser: status 1 at submission, 2 while running, 3 with result[] at the end", want: 0, run: func(e *env) result {
			rows := []userRow{{name: "a", userid: "a", email: "a@example.com", dept: "1"}, {name: "b", userid: "b", email: "b@example.com", dept: "1"}}
			id := e.jobID("batch/syncuser", userCSV(rows))
			var got []string
			for range 3 {
				r := e.jobResult(id)
				_, hasResult := r.body["result"]
				got = append(got, fmt.Sprint(r.body["status"], "/", r.body["percentage"], "/", hasResult))
				e.advance(e.sim.opts.BatchJobDuration / 2)
			}
			if want := []string{"1/0/false", "2/50/false", "3/100/true"}; !reflect.DeepEqual(got, want) {
				e.t.Errorf("status/percentage/result %v, want %v", got, want)
			}
			return e.jobResult(id)
		}},
		{ref: "§7.21", rule: "a row breaking a user/create rule carries that rule's errcode", want: 0, run: func(e *env) result {
			r := e.finish(e.jobID("batch/syncuser", userCSV([]userRow{{name: "a", userid: "a", mobile: "12ab", dept: "1"}})))
			if c := rowCodes(e.t, r)["a"]; c != 60103 {
				e.t.Errorf("row errcode %d, want 60103", c)
			}
			return r
		}},
		{ref: "§7.21", rule: "an import file without data rows", want: 40092, run: func(e *env) result {
			return e.submit("batch/syncuser", userHeader+"\n", nil)
		}},
		{ref: "§7.21", rule: "a user file missing a required column (帐号)", want: 40092, run: func(e *env) result {
			return e.submit("batch/replaceuser", "姓名,手机号,所在部门\nn,13800000001,1\n", nil)
		}},
		{ref: "§7.21", rule: "a department file missing a required column (父部门ID)", want: 40092, run: func(e *env) result {
			return e.submit("batch/replaceparty", "部门名称,部门ID\nA,2\n", nil)
		}},
		{ref: "§7.21", rule: "getresult for a jobid never issued", want: 40088, run: func(e *env) result { return e.jobResult("wsjobnosuch") }},
		{ref: "§7.21", rule: "getresult for the sixth-newest job (only the last 5 are kept)", want: 40089, run: func(e *env) result {
			var first string
			for i := range 6 {
				id := e.jobID("batch/syncuser", userCSV([]userRow{{name: "n", userid: fmt.Sprint("u", i), email: fmt.Sprintf("u%d@example.com", i), dept: "1"}}))
				if i == 0 {
					first = id
				}
			}
			return e.jobResult(first)
		}},
		{ref: "§7.21 [?]", rule: "replaceuser deleting 51 of 200 members: getresult answers 45026 (default)", want: 45026, run: func(e *env) result {
			ids := seed(e, 200)
			var rows []userRow
			for _, id := range ids[51:] {
				rows = append(rows, userRow{name: id, userid: id, email: id + "@example.com", dept: "1"})
			}
			return e.jobResult(e.jobID("batch/replaceuser", userCSV(rows)))
		}},
		{ref: "§7.21 [?]", rule: "ReplaceUserAbortAtSubmit: replaceuser deleting 33 of 40 members is refused at submission", want: 45026, opts: Options{ReplaceUserAbortAtSubmit: true}, run: func(e *env) result {
			ids := seed(e, 40)
			var rows []userRow
			for _, id := range ids[33:] {
				rows = append(rows, userRow{name: id, userid: id, email: id + "@example.com", dept: "1"})
			}
			return e.submit("batch/replaceuser", userCSV(rows), nil)
		}},
		{ref: "§7.21", rule: "replaceparty reports the action bits and keeps a non-empty department the file omits", want: 0, run: func(e *env) result {
			d := e.mkDept("Full", 1, nil)
			e.mkUser("u", []int{d}, nil)
			r := e.finish(e.jobID("batch/replaceparty", partyHeader+"\n研发,10,1,5\n"))
			if got := fmt.Sprint(r.body["result"]); got != "[map[action:1 errcode:0 errmsg:ok partyid:10]]" {
				e.t.Errorf("result %s", got)
			}
			if n := len(e.sim.Snapshot().Departments); n != 3 {
				e.t.Errorf("%d departments, want root, Full and 研发", n)
			}
			return r
		}},

		// §2.4, §7.24–§7.28: tags.
		{ref: "§7.24", rule: "tag/create answers created and the new tagid", want: 0, run: func(e *env) result {
			r := e.post("tag/create", obj{"tagname": "UI"})
			if r.msg != "created" || r.body["tagid"] != float64(1) {
				e.t.Errorf("tag/create answered %s", r.raw)
			}
			return r
		}},
		{ref: "§7.24", rule: "tag/create without tagname", want: 41018, run: func(e *env) result { return e.post("tag/create", obj{"tagid": 2}) }},
		{ref: "§7.24", rule: "tagname of 32 characters", want: 0, run: func(e *env) result {
			return e.post("tag/create", obj{"tagname": strings.Repeat("标", 32)})
		}},
		{ref: "§7.24", rule: "tagname over 32 characters", want: 40072, run: func(e *env) result {
			return e.post("tag/create", obj{"tagname": strings.Repeat("标", 33)})
		}},
		{ref: "§7.24", rule: "tagname empty", want: 40072, run: func(e *env) result { return e.post("tag/create", obj{"tagname": ""}) }},
		{ref: "§7.24", rule: "tagname unique in the corp, whoever created the other", want: 40071, run: func(e *env) result {
			e.mkTag(appSecret, "UI")
			return e.post("tag/create", obj{"tagname": "UI"})
		}},
		{ref: "§7.24", rule: "a chosen tagid is kept; without one the largest id plus one", want: 0, run: func(e *env) result {
			must(e.t, e.post("tag/create", obj{"tagname": "A", "tagid": 12}), 0, "tagid 12")
			r := e.post("tag/create", obj{"tagname": "B"})
			if r.body["tagid"] != float64(13) {
				e.t.Errorf("next tagid %v, want 13", r.body["tagid"])
			}
			return r
		}},
		{ref: "§7.24 [?]", rule: "a tagid in use (emulator code)", want: 40068, run: func(e *env) result {
			return e.post("tag/create", obj{"tagname": "B", "tagid": e.mkTag(editSecret, "A")})
		}},
		{ref: "§7.24 [?]", rule: "a negative tagid (emulator code)", want: 40068, run: func(e *env) result {
			return e.post("tag/create", obj{"tagname": "A", "tagid": -5})
		}},
		{ref: "§7.24", rule: "more than MaxTags tags (default 3000)", want: 40126, opts: Options{MaxTags: 1}, run: func(e *env) result {
			e.mkTag(editSecret, "A")
			return e.post("tag/create", obj{"tagname": "B"})
		}},
		{ref: "§7.25", rule: "tag/update renames, answering updated", want: 0, run: func(e *env) result {
			r := e.post("tag/update", obj{"tagid": e.mkTag(editSecret, "A"), "tagname": "B"})
			if r.msg != "updated" || e.sim.Snapshot().Tags[0].Name != "B" {
				e.t.Errorf("update answered %s, tags %+v", r.raw, e.sim.Snapshot().Tags)
			}
			return r
		}},
		{ref: "§7.25", rule: "tag/update of an unknown tag", want: 40068, run: func(e *env) result {
			return e.post("tag/update", obj{"tagid": 9, "tagname": "B"})
		}},
		{ref: "§7.25", rule: "tag/update to another tag's name", want: 40071, run: func(e *env) result {
			e.mkTag(editSecret, "B")
			return e.post("tag/update", obj{"tagid": e.mkTag(editSecret, "A"), "tagname": "B"})
		}},
		{ref: "§7.25", rule: "tag/delete of a tag that still has members", want: 0, run: func(e *env) result {
			id := e.mkTag(editSecret, "A")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "partylist": []int{1}}), 0, "fill")
			return e.get("tag/delete", map[string]string{"tagid": fmt.Sprint(id)})
		}},
		{ref: "§7.25", rule: "tag/delete of an unknown tag", want: 40068, run: func(e *env) result {
			return e.get("tag/delete", map[string]string{"tagid": "9"})
		}},
		{ref: "§7.25", rule: "tag/get answers tagname, userlist {userid, name} and partylist", want: 0, run: func(e *env) result {
			e.mkUser("zhangsan", []int{1}, obj{"name": "李四"})
			id := e.mkTag(editSecret, "乒乓球协会")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"zhangsan"}, "partylist": []int{1}}), 0, "fill")
			r := e.get("tag/get", map[string]string{"tagid": fmt.Sprint(id)})
			if got := fmt.Sprint(r.body["tagname"], r.body["userlist"], r.body["partylist"]); got != "乒乓球协会[map[name:李四 userid:zhangsan]] [1]" {
				e.t.Errorf("tag/get %s", got)
			}
			return r
		}},
		{ref: "§7.25", rule: "tag/get of an unknown tag", want: 40068, run: func(e *env) result { return e.get("tag/get", map[string]string{"tagid": "9"}) }},
		{ref: "§7.25", rule: "tag/list answers taglist {tagid, tagname} by id", want: 0, run: func(e *env) result {
			must(e.t, e.post("tag/create", obj{"tagname": "b", "tagid": 2}), 0, "b")
			must(e.t, e.post("tag/create", obj{"tagname": "a", "tagid": 1}), 0, "a")
			r := e.get("tag/list", nil)
			if got := fmt.Sprint(r.body["taglist"]); got != "[map[tagid:1 tagname:a] map[tagid:2 tagname:b]]" {
				e.t.Errorf("tag/list %s", got)
			}
			return r
		}},
		{ref: "§7.26", rule: "addtagusers with some unknown members and departments: errcode 0, invalidlist a|b, invalidparty [ids]", want: 0, run: withUser(nil, func(e *env) result {
			r := e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": []string{"usr1", "u1", "usr2"}, "partylist": []int{1, 4, 2}})
			if r.msg != "ok" || r.body["invalidlist"] != "usr1|usr2" || fmt.Sprint(r.body["invalidparty"]) != "[4 2]" {
				e.t.Errorf("partial answer %s", r.raw)
			}
			return r
		})},
		{ref: "§7.26", rule: "addtagusers with every entry unknown", want: 40070, run: func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": []string{"usr1"}, "partylist": []int{4}})
		}},
		{ref: "§7.26", rule: "deltagusers with some unknown entries answers deleted and the invalid ones", want: 0, run: withUser(nil, func(e *env) result {
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 0, "fill")
			r := e.post("tag/deltagusers", obj{"tagid": id, "userlist": []string{"u1", "usr1"}, "partylist": []int{2, 4}})
			if r.msg != "deleted" || r.body["invalidlist"] != "usr1" || fmt.Sprint(r.body["invalidparty"]) != "[2 4]" {
				e.t.Errorf("partial delete %s", r.raw)
			}
			return r
		})},
		{ref: "§7.26", rule: "deltagusers with every entry unknown", want: 40031, run: func(e *env) result {
			return e.post("tag/deltagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": []string{"usr1"}})
		}},
		{ref: "§7.26 [?]", rule: "userlist and partylist both empty (emulator: all invalid)", want: 40070, run: func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T")})
		}},
		{ref: "§7.26", rule: "1000 userids in one call", want: 0, run: withUser(nil, func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": append(ids(0, 999), "u1")})
		})},
		{ref: "§7.26", rule: "more than 1000 userids in one call", want: 81014, run: func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": ids(0, 1001)})
		}},
		{ref: "§7.26 [?]", rule: "more than 100 departments in one deltagusers", want: 81014, run: func(e *env) result {
			return e.post("tag/deltagusers", obj{"tagid": e.mkTag(editSecret, "T"), "partylist": make([]int, 101)})
		}},
		{ref: "§7.26", rule: "more than MaxTagNodes entries in one tag (default 30000)", want: 81003, opts: Options{MaxTagNodes: 1}, run: withUser(nil, func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": []string{"u1"}, "partylist": []int{1}})
		})},
		{ref: "§7.26 [?]", rule: "re-adding a tagged member is accepted as done (default)", want: 0, run: withUser(nil, func(e *env) result {
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 0, "add")
			return e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}})
		})},
		{ref: "§7.26 [?]", rule: "TagNoOpMembersInvalid: removing an untagged member is invalid", want: 40031, opts: Options{TagNoOpMembersInvalid: true}, run: withUser(nil, func(e *env) result {
			return e.post("tag/deltagusers", obj{"tagid": e.mkTag(editSecret, "T"), "userlist": []string{"u1"}})
		})},
		{ref: "§7.27", rule: "an app may create tags", want: 0, run: func(e *env) result { return e.postAs(appSecret, "tag/create", obj{"tagname": "A"}) }},
		{ref: "§7.27", rule: "a read-only sync secret may not create tags", want: 48002, run: func(e *env) result {
			return e.postAs(roSecret, "tag/create", obj{"tagname": "A"})
		}},
		{ref: "§7.27 [?]", rule: "the sync secret changing an app's tag (default TagOwnerCode)", want: 60011, run: func(e *env) result {
			return e.post("tag/addtagusers", obj{"tagid": e.mkTag(appSecret, "A"), "partylist": []int{1}})
		}},
		{ref: "§7.27 [?]", rule: "TagOwnerCode 81011: an app changing the sync secret's tag", want: 81011, opts: Options{TagOwnerCode: 81011}, run: func(e *env) result {
			return e.postAs(appSecret, "tag/update", obj{"tagid": e.mkTag(editSecret, "S"), "tagname": "X"})
		}},
		{ref: "§7.27", rule: "the sync secret may change a tag made in the admin console", want: 0, run: func(e *env) result {
			id, err := e.sim.CreateAdminTag("管理员")
			if err != nil {
				e.t.Fatal(err)
			}
			return e.get("tag/delete", map[string]string{"tagid": fmt.Sprint(id)})
		}},
		{ref: "§7.27", rule: "an app reading a tag sees only members in its range", want: 0, run: func(e *env) result {
			vis := e.mkDept("Visible", 1, nil)
			e.mkUser("in", []int{vis}, nil)
			e.mkUser("out", []int{1}, nil)
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"out", "in"}}), 0, "fill")
			r := e.getAs(appSecret, "tag/get", map[string]string{"tagid": fmt.Sprint(id)})
			if got := userIDs(r.body["userlist"]); !reflect.DeepEqual(got, []string{"in"}) {
				e.t.Errorf("the app sees %v", got)
			}
			return r
		}},
		{ref: "§7.28", rule: "deleting a member removes it from its tags", want: 0, run: withUser(nil, func(e *env) result {
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "userlist": []string{"u1"}}), 0, "fill")
			must(e.t, e.get("user/delete", uq("u1")), 0, "delete u1")
			r := e.get("tag/get", map[string]string{"tagid": fmt.Sprint(id)})
			if got := fmt.Sprint(r.body["userlist"]); got != "[]" {
				e.t.Errorf("userlist %s", got)
			}
			return r
		})},
		{ref: "§7.28", rule: "deleting a department removes it from tags' partylists", want: 0, run: func(e *env) result {
			d := e.mkDept("D", 1, nil)
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "partylist": []int{d}}), 0, "fill")
			must(e.t, e.get("department/delete", dq(d)), 0, "delete D")
			r := e.get("tag/get", map[string]string{"tagid": fmt.Sprint(id)})
			if got := fmt.Sprint(r.body["partylist"]); got != "[]" {
				e.t.Errorf("partylist %s", got)
			}
			return r
		}},
		{ref: "§7.28 [?]", rule: "NewIPRefusesTagGet: the new-IP sync secret reading tag/get", want: 48009, opts: Options{NewIPRefusesTagGet: true}, run: func(e *env) result {
			return e.getAs(newIPSec, "tag/get", map[string]string{"tagid": fmt.Sprint(e.mkTag(editSecret, "T"))})
		}},
		{ref: "§7.22", rule: "tag APIs have per-API minute limits too", want: 45009, opts: Options{CorpPerMinute: 1, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			id := e.mkTag(editSecret, "T")
			must(e.t, e.post("tag/addtagusers", obj{"tagid": id, "partylist": []int{1}}), 0, "first")
			return e.post("tag/addtagusers", obj{"tagid": id, "partylist": []int{1}})
		}},
		{ref: "§7.23", rule: "fault on a tag write: errcode -1 in the envelope, no effect", want: -1, run: func(e *env) result {
			id := e.mkTag(editSecret, "T")
			e.sim.InjectFaults(-1)
			r := e.post("tag/addtagusers", obj{"tagid": id, "partylist": []int{1}})
			if p := e.sim.Snapshot().Tags[0].Parties; len(p) != 0 {
				e.t.Errorf("faulted addtagusers had an effect: %v", p)
			}
			return r
		}},

		// §5, §7.22: rate limits.
		{ref: "§7.22", rule: "per (corp, API) minute limit exceeded", want: 45009, opts: Options{CorpPerMinute: 2, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			e.get("department/get", dq(1))
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.22", rule: "limits are per API", want: 0, opts: Options{CorpPerMinute: 1, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			return e.get("department/simplelist", nil)
		}},
		{ref: "§5", rule: "a minute ban holds for the whole 60 s", want: 45009, opts: Options{CorpPerMinute: 1, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			e.get("department/get", dq(1)) // banned here
			e.clock.Advance(59 * time.Second)
			return e.get("department/get", dq(1))
		}},
		// The minute is exact, not whole seconds: 2 calls at 0.6 s and 1.2 s
		// still fill (0.5 s, 60.5 s], where one-second buckets would have
		// let the third through.
		{ref: "§7.22", rule: "R+1 calls inside any 60 s, across second boundaries", want: 45009, opts: Options{CorpPerMinute: 2, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.clock.Advance(600 * time.Millisecond)
			e.get("department/get", dq(1))
			e.clock.Advance(600 * time.Millisecond)
			e.get("department/get", dq(1))
			e.clock.Advance(59300 * time.Millisecond)
			return e.get("department/get", dq(1))
		}},
		{ref: "§5", rule: "a minute ban ends after 60 s", want: 0, opts: Options{CorpPerMinute: 1, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			e.get("department/get", dq(1))
			e.clock.Advance(60 * time.Second)
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.22", rule: "per (corp, API) hour limit exceeded; the ban holds for the hour", want: 45009, opts: Options{CorpPerMinute: -1, CorpPerHour: 2, IPPerMinute: -1, IPPerHour: -1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			e.get("department/get", dq(1))
			e.get("department/get", dq(1)) // banned here
			e.clock.Advance(59 * time.Minute)
			delete(e.tokens, editSecret) // the token would expire first
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.22", rule: "per (IP, API) minute limit exceeded", want: 45009, opts: Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: 1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.22", rule: "per (IP, API) hour limit exceeded", want: 45009, opts: Options{CorpPerMinute: -1, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: 1}, run: func(e *env) result {
			e.get("department/get", dq(1))
			return e.get("department/get", dq(1))
		}},
		{ref: "§7.22", rule: "repeated wrong secrets ban the IP from gettoken for an hour", want: 45009, opts: Options{BadSecretBanThreshold: 3}, run: func(e *env) result {
			for range 3 {
				e.getToken(testCorp, "wrong")
			}
			e.clock.Advance(59 * time.Minute)
			return e.getToken(testCorp, editSecret)
		}},

		// §7.23: fault injection (each with no effect on the directory).
		{ref: "§7.23", rule: "fault: HTTP 503 with an empty body", status: http.StatusServiceUnavailable, want: 503, run: func(e *env) result {
			e.sim.InjectFaults(503)
			return rawCall(e, http.MethodGet, "department/get", "id=1&access_token="+e.token(editSecret), "")
		}},
		{ref: "§7.23", rule: "fault: dropped connection (pseudo code -2)", want: faultDrop, run: func(e *env) result {
			e.sim.InjectFaults(faultDrop)
			return rawCall(e, http.MethodPost, "department/create", "access_token="+e.token(editSecret), `{"name":"X","parentid":1}`)
		}},
		{ref: "§7.23", rule: "FailRate 1 draws from FailCodes", want: 45033, opts: Options{FailRate: 1, FailCodes: []int{45033}}, run: func(e *env) result {
			return e.get("department/get", dq(1))
		}},
	}
	for _, code := range []int{-1, 6000, 45033, 42001, 40014} {
		rules = append(rules, conformanceRule{
			ref: "§7.23", rule: fmt.Sprintf("fault: errcode %d in the envelope, no effect", code), want: code,
			run: func(e *env) result {
				e.sim.InjectFaults(code)
				r := e.post("department/create", obj{"name": "X", "parentid": 1})
				if n := len(e.sim.Snapshot().Departments); n != 1 {
					e.t.Errorf("faulted create had an effect: %d departments", n)
				}
				return r
			},
		})
	}
	// §3: every forbidden character of a department name.
	for _, ch := range strings.Split(`\ : * ? " < > | ｜`, " ") {
		rules = append(rules, conformanceRule{
			ref: "§7.15", rule: fmt.Sprintf("department name with %q", ch), want: 60009,
			run: func(e *env) result { return e.post("department/create", obj{"name": "a" + ch + "b", "parentid": 1}) },
		})
	}
	// §1.3, §7.3: the five detail reads refused to a sync secret on a new IP.
	for _, api := range []struct {
		name   string
		params map[string]string
	}{
		{"user/get", uq("u1")},
		{"user/simplelist", map[string]string{"department_id": "1"}},
		{"user/list", map[string]string{"department_id": "1"}},
		{"department/list", nil},
		{"department/get", dq(1)},
	} {
		rules = append(rules, conformanceRule{
			ref: "§7.3", rule: "the new-IP sync secret reading " + api.name, want: 48009,
			run: withUser(nil, func(e *env) result { return e.getAs(newIPSec, api.name, api.params) }),
		})
	}
	return rules
}

func TestConformance(t *testing.T) {
	for _, r := range conformanceRules() {
		t.Run(r.ref+" "+r.rule, func(t *testing.T) {
			e := newEnv(t, r.opts)
			got := r.run(e)
			status := r.status
			if status == 0 {
				status = http.StatusOK
			}
			if r.want == faultDrop {
				if got.code != faultDrop {
					t.Fatalf("want a dropped connection, got HTTP %d errcode %d", got.status, got.code)
				}
				return
			}
			if got.status != status {
				t.Fatalf("HTTP status %d, want %d (body %s)", got.status, status, got.raw)
			}
			if status != http.StatusOK && status != http.StatusNotFound {
				return // a bare fault status has no envelope
			}
			if got.code != r.want {
				t.Fatalf("errcode %d (%s), want %d", got.code, got.msg, r.want)
			}
			if r.want != 0 && !errmsgShape.MatchString(got.msg) {
				t.Errorf("errmsg %q is not in production's shape", got.msg)
			}
		})
	}
}
