package wecomsim

import (
	"fmt"
	"reflect"
	"testing"
)

// writeCalls exercises every write API once with a body that would
// otherwise succeed or fail on its own merits.
var writeCalls = []struct {
	api    string
	post   bool
	body   obj
	params map[string]string
}{
	{"user/create", true, obj{"userid": "w", "name": "W", "department": []int{1}, "mobile": "13800000000"}, nil},
	{"user/update", true, obj{"userid": "v", "name": "W"}, nil},
	{"user/delete", false, nil, map[string]string{"userid": "v"}},
	{"user/batchdelete", true, obj{"useridlist": []string{"v"}}, nil},
	{"department/create", true, obj{"name": "N", "parentid": 1}, nil},
	{"department/update", true, obj{"id": 2, "name": "N2"}, nil},
	{"department/delete", false, nil, map[string]string{"id": "2"}},
}

func TestWritePermissions(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkDept("Visible", 1, nil) // id 2
	e.mkUser("v", []int{2}, nil)
	for _, secret := range []string{roSecret, appSecret} {
		for _, c := range writeCalls {
			var r result
			if c.post {
				r = e.postAs(secret, c.api, c.body)
			} else {
				r = e.getAs(secret, c.api, c.params)
			}
			must(t, r, 48002, fmt.Sprintf("%s with %.5s", c.api, secret))
		}
	}
	must(t, e.postAs(appSecret, "user/list_id", obj{"limit": 10}), 48002, "list_id with app secret")
	must(t, e.postAs(roSecret, "user/list_id", obj{"limit": 10}), 0, "list_id with read-only sync secret")
	if n := len(e.sim.Snapshot().Users); n != 1 {
		t.Fatalf("refused writes had an effect: %d users", n)
	}
}

func TestNewIPDetailReads(t *testing.T) {
	e := newEnv(t, Options{})
	e.mkUser("u", []int{1}, nil)
	reads := []struct {
		api    string
		params map[string]string
		want   int
	}{
		{"user/get", map[string]string{"userid": "u"}, 48009},
		{"user/simplelist", map[string]string{"department_id": "1"}, 48009},
		{"user/list", map[string]string{"department_id": "1"}, 48009},
		{"department/list", nil, 48009},
		{"department/get", map[string]string{"id": "1"}, 48009},
		{"department/simplelist", nil, 0},
	}
	for _, c := range reads {
		must(t, e.getAs(newIPSec, c.api, c.params), c.want, "new IP "+c.api)
	}
	must(t, e.postAs(newIPSec, "user/list_id", obj{}), 0, "list_id from new IP")
	must(t, e.postAs(newIPSec, "user/create", obj{"userid": "w", "name": "W", "department": []int{1}, "mobile": "13800000009"}), 0, "writes are not detail reads")
}

func TestAppVisibility(t *testing.T) {
	e := newEnv(t, Options{})
	vis := e.mkDept("Visible", 1, nil) // id 2, the app's range
	sub := e.mkDept("Sub", vis, nil)
	hidden := e.mkDept("Hidden", 1, nil)
	e.mkUser("in", []int{sub, hidden}, obj{"mobile": "13800000001", "gender": "2", "address": "addr", "order": []int{4, 5}})
	e.mkUser("out", []int{hidden}, nil)

	cases := []struct {
		api    string
		params map[string]string
		want   int
	}{
		{"user/get", map[string]string{"userid": "in"}, 0},
		{"user/get", map[string]string{"userid": "out"}, 60011},
		{"user/simplelist", map[string]string{"department_id": fmt.Sprint(hidden)}, 60011},
		{"user/list", map[string]string{"department_id": fmt.Sprint(vis), "fetch_child": "1"}, 0},
		{"department/get", map[string]string{"id": fmt.Sprint(hidden)}, 60011},
		{"department/get", map[string]string{"id": fmt.Sprint(sub)}, 0},
		{"department/list", map[string]string{"id": "1"}, 60011},
		{"department/simplelist", map[string]string{"id": fmt.Sprint(hidden)}, 60011},
	}
	for _, c := range cases {
		must(t, e.getAs(appSecret, c.api, c.params), c.want, "app "+c.api+fmt.Sprint(c.params))
	}

	r := e.getAs(appSecret, "department/list", nil)
	if got := deptIDs(r.body["department"]); !reflect.DeepEqual(got, []int{vis, sub}) {
		t.Fatalf("app sees departments %v", got)
	}
	r = e.getAs(appSecret, "user/get", map[string]string{"userid": "in"})
	if fmt.Sprint(r.body["department"], r.body["order"]) != fmt.Sprint([]any{float64(sub)}, []any{float64(4)}) {
		t.Fatalf("app must see only visible departments: %s", r.raw)
	}
	if r.body["mobile"] != "13800000001" {
		t.Fatalf("unrestricted app sees mobile: %s", r.raw)
	}
	r = e.getAs(restrSec, "user/get", map[string]string{"userid": "in"})
	must(t, r, 0, "restricted app get")
	if r.body["mobile"] != "" || r.body["email"] != "" || r.body["gender"] != "0" || r.body["address"] != "" {
		t.Fatalf("restricted app must not see sensitive fields: %s", r.raw)
	}
}

func TestAllowedIPs(t *testing.T) {
	e := newEnv(t, Options{AllowedIPs: []string{"203.0.113.9"}})
	// gettoken itself is not IP-checked; the first business call is.
	must(t, e.get("department/get", map[string]string{"id": "1"}), 60020, "untrusted IP")
	e2 := newEnv(t, Options{AllowedIPs: []string{"127.0.0.1", "::1"}})
	must(t, e2.get("department/get", map[string]string{"id": "1"}), 0, "trusted IP")
}
