package wecomsim

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestGetTokenErrors(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		name, corp, secret string
		want               int
	}{
		{"missing corpid", "", editSecret, 41002},
		{"missing secret", testCorp, "", 41004},
		{"bad corpid", "wwother", editSecret, 40013},
		{"bad secret", testCorp, "nope-" + editSecret, 40001},
		{"ok", testCorp, editSecret, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.getToken(c.corp, c.secret)
			must(t, r, c.want, c.name)
			if c.want == 0 {
				if r.msg != "ok" || r.body["expires_in"].(float64) != 7200 || len(r.body["access_token"].(string)) == 0 {
					t.Fatalf("bad success body %s", r.raw)
				}
			} else if !errmsgShape.MatchString(r.msg) {
				t.Fatalf("errmsg shape: %q", r.msg)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/cgi-bin/gettoken?corpid="+testCorp+"&corpsecret="+url.QueryEscape(editSecret), nil)
	must(t, e.do(req), 40058, "POST gettoken")
}

func TestTokenReuseWithinWindow(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.getToken(testCorp, editSecret)
	e.clock.Advance(time.Hour)
	b := e.getToken(testCorp, editSecret)
	if a.body["access_token"] != b.body["access_token"] {
		t.Fatal("repeat fetch inside the window must return the same token")
	}
	if b.body["expires_in"].(float64) != 7200 {
		t.Fatalf("expires_in %v, want 7200 by default", b.body["expires_in"])
	}
	c := e.getToken(testCorp, roSecret)
	if c.body["access_token"] == a.body["access_token"] {
		t.Fatal("tokens are per secret")
	}
	e.clock.Advance(time.Hour)
	d := e.getToken(testCorp, editSecret)
	if d.body["access_token"] == a.body["access_token"] {
		t.Fatal("fetch after expiry must return a new token")
	}
}

func TestTokenSwitches(t *testing.T) {
	e := newEnv(t, Options{NewTokenEachFetch: true, ExpiresInRemaining: true})
	a := e.getToken(testCorp, editSecret)
	e.clock.Advance(1000 * time.Second)
	b := e.getToken(testCorp, editSecret)
	if a.body["access_token"] == b.body["access_token"] {
		t.Fatal("NewTokenEachFetch must issue a fresh token")
	}
	// The older token stays usable until it expires.
	e.tokens[editSecret] = a.body["access_token"].(string)
	must(t, e.get("department/get", map[string]string{"id": "1"}), 0, "old token")

	e2 := newEnv(t, Options{ExpiresInRemaining: true})
	e2.getToken(testCorp, editSecret)
	e2.clock.Advance(1000 * time.Second)
	if got := e2.getToken(testCorp, editSecret).body["expires_in"].(float64); got != 6200 {
		t.Fatalf("expires_in %v, want remaining 6200", got)
	}
}

func TestTokenExpiry(t *testing.T) {
	for _, code := range []int{0, 42001, 40014} {
		want := code
		if want == 0 {
			want = 42001
		}
		e := newEnv(t, Options{ExpiredCode: code})
		must(t, e.get("department/get", map[string]string{"id": "1"}), 0, "fresh token")
		e.clock.Advance(7199 * time.Second)
		must(t, e.get("department/get", map[string]string{"id": "1"}), 0, "token at 7199 s")
		e.clock.Advance(time.Second)
		must(t, e.get("department/get", map[string]string{"id": "1"}), want, "expired token")
		delete(e.tokens, editSecret)
		must(t, e.get("department/get", map[string]string{"id": "1"}), 0, "refetched token")
	}
}

func TestInvalidateTokens(t *testing.T) {
	e := newEnv(t, Options{})
	old := e.token(editSecret)
	e.sim.InvalidateTokens()
	must(t, e.get("department/get", map[string]string{"id": "1"}), 40014, "revoked token")
	delete(e.tokens, editSecret)
	if e.token(editSecret) == old {
		t.Fatal("token after invalidation must be new")
	}
	must(t, e.get("department/get", map[string]string{"id": "1"}), 0, "new token")
}

func TestBadSecretBan(t *testing.T) {
	e := newEnv(t, Options{BadSecretBanThreshold: 3})
	for i := 0; i < 3; i++ {
		must(t, e.getToken(testCorp, "wrong"), 40001, "wrong secret")
	}
	must(t, e.getToken(testCorp, editSecret), 45009, "banned IP, right secret")
	e.clock.Advance(59 * time.Minute)
	must(t, e.getToken(testCorp, editSecret), 45009, "still banned")
	e.clock.Advance(time.Minute)
	must(t, e.getToken(testCorp, editSecret), 0, "ban over")

	// Failures older than an hour do not add up.
	e2 := newEnv(t, Options{BadSecretBanThreshold: 2})
	must(t, e2.getToken(testCorp, "wrong"), 40001, "first")
	e2.clock.Advance(61 * time.Minute)
	must(t, e2.getToken(testCorp, "wrong"), 40001, "second, an hour later")
	must(t, e2.getToken(testCorp, editSecret), 0, "not banned")
}
