package wecomsim

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

func TestInjectFaults(t *testing.T) {
	e := newEnv(t, Options{})
	tok := url.QueryEscape(e.token(editSecret))
	create := func(id string) (*http.Response, error) {
		body := fmt.Sprintf(`{"userid":%q,"name":"n","department":[1],"email":"%s@example.com"}`, id, id)
		return e.ts.Client().Post(e.ts.URL+"/cgi-bin/user/create?access_token="+tok, "application/json", bytes.NewReader([]byte(body)))
	}
	e.sim.InjectFaults(-1, 6000, 42001, 503, -2, -3, 0)

	for _, want := range []int{-1, 6000, 42001} {
		r := e.post("user/create", obj{"userid": "a", "name": "n", "department": []int{1}, "email": "a@example.com"})
		must(t, r, want, "scripted errcode")
		if !errmsgShape.MatchString(r.msg) {
			t.Fatalf("fault errmsg shape %q", r.msg)
		}
	}
	resp, err := create("a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.ContentLength > 0 {
		t.Fatalf("scripted 503: status %d length %d", resp.StatusCode, resp.ContentLength)
	}
	if _, err := create("a"); err == nil {
		t.Fatal("scripted -2: want a dropped connection")
	}
	if n := len(e.sim.Snapshot().Users); n != 0 {
		t.Fatalf("pre-effect faults had an effect: %d users", n)
	}
	if _, err := create("a"); err == nil {
		t.Fatal("scripted -3: want a dropped connection")
	}
	if n := len(e.sim.Snapshot().Users); n != 1 {
		t.Fatalf("-3 must apply the call before dropping: %d users", n)
	}
	// 0 lets the call through: the retry of the lost create sees 60102.
	must(t, e.post("user/create", obj{"userid": "a", "name": "n", "department": []int{1}, "email": "a@example.com"}), 60102, "retry after lost answer")
	must(t, e.post("user/create", obj{"userid": "b", "name": "n", "department": []int{1}, "email": "b@example.com"}), 0, "script exhausted")

	var got []string
	for _, c := range e.sim.CallLog() {
		got = append(got, fmt.Sprintf("%d/%s/%v", c.Errcode, c.Target, c.Dropped))
	}
	want := []string{"-1/a/false", "6000/a/false", "42001/a/false", "503/a/false", "-2/a/true", "0/a/true", "60102/a/false", "0/b/false"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("call log %v, want %v", got, want)
	}
}

func TestFailRateDeterministic(t *testing.T) {
	run := func(seed int64) []int {
		e := newEnv(t, Options{Seed: seed, FailRate: 0.5, FailCodes: []int{-1, 45033, 502}, DropRate: 0.1})
		e.token(editSecret) // gettoken is never faulted
		var codes []int
		for i := 0; i < 40; i++ {
			req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/cgi-bin/department/get?id=1&access_token="+url.QueryEscape(e.token(editSecret)), nil)
			resp, err := e.ts.Client().Do(req)
			switch {
			case err != nil:
				codes = append(codes, -2)
			case resp.StatusCode != 200:
				codes = append(codes, resp.StatusCode)
				resp.Body.Close()
			default:
				resp.Body.Close()
				codes = append(codes, atoiHeader(resp.Header.Get("Error-Code")))
			}
		}
		return codes
	}
	a, b := run(42), run(42)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	seen := map[int]int{}
	for _, c := range a {
		seen[c]++
	}
	if seen[0] == 0 || seen[0] == len(a) || len(seen) < 3 {
		t.Fatalf("fault mix looks wrong: %v", seen)
	}
	if reflect.DeepEqual(a, run(7)) {
		t.Fatal("different seeds gave identical fault sequences")
	}
}

func atoiHeader(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}
