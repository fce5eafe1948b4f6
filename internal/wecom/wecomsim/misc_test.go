package wecomsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestHasUnicodeEscape(t *testing.T) {
	cases := map[string]bool{
		`{"a":"\u00e9"}`:        true,
		`{"a":"\\u00e9"}`:       false,
		`{"a":"\\\u00e9"}`:      true,
		`{"a":"plain é"}`:       false,
		`{"\u0061":1}`:          true,
		`{"a":"x\"\u0041"}`:     true,
		`{"a":"x\"", "u":"\\"}`: false,
	}
	for in, want := range cases {
		if got := hasUnicodeEscape([]byte(in)); got != want {
			t.Errorf("hasUnicodeEscape(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestDefaults(t *testing.T) {
	o := withDefaults(Options{ExpiredCode: 12345, FailRate: 2, DropRate: -1, CorpPerMinute: -1})
	if o.ExpiredCode != 42001 || o.FailRate != 1 || o.DropRate != 0 || o.CorpPerMinute != unlimited ||
		o.CorpPerHour != 150000 || o.IPPerMinute != 20000 || o.IPPerHour != 600000 || o.MaxDepth != 15 ||
		o.MaxDepartments != 30000 || o.MaxNodesPerDept != 30000 || o.DeptNameMax != 64 ||
		o.MaxUserDepartments != 100 || o.MaxDirectLeaders != 1 || o.TokenTTL.Seconds() != 7200 ||
		o.BadSecretBanThreshold != 2000 || len(o.FailCodes) != 1 || o.FailCodes[0] != -1 || o.CorpName != o.CorpID {
		t.Fatalf("defaults %+v", o)
	}
	for k, want := range map[SecretKind]string{SyncEdit: "sync-edit", SyncReadOnly: "sync-readonly", App: "app", 9: "unknown"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
}

func TestOutsideCGIBin(t *testing.T) {
	s := New(Options{})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/other", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"errcode":404`) {
		t.Fatalf("outside /cgi-bin/: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sim/state", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /sim/state: %d", rec.Code)
	}
	if s.Stats()["/other"] != 1 {
		t.Fatalf("stats %v", s.Stats())
	}
}

// TestConcurrentWrites is meant for -race: parallel creates of distinct and
// colliding userids must leave exactly one member per id.
func TestConcurrentWrites(t *testing.T) {
	e := newEnv(t, Options{})
	tok := e.token(editSecret)
	var wg sync.WaitGroup
	codes := make([]int, 40)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			body := fmt.Sprintf(`{"userid":"U%d","name":"n","department":[1],"email":"u%d@example.com"}`, i%20, i%20)
			resp, err := e.ts.Client().Post(e.ts.URL+"/cgi-bin/user/create?access_token="+tok, "application/json", strings.NewReader(body))
			if err != nil {
				codes[i] = -100
				return
			}
			defer resp.Body.Close()
			fmt.Sscan(resp.Header.Get("Error-Code"), &codes[i])
		}(i)
	}
	wg.Wait()
	ok, dup := 0, 0
	for _, c := range codes {
		switch c {
		case 0:
			ok++
		case 60102:
			dup++
		}
	}
	if ok != 20 || dup != 20 || len(e.sim.Snapshot().Users) != 20 {
		t.Fatalf("ok %d dup %d users %d (codes %v)", ok, dup, len(e.sim.Snapshot().Users), codes)
	}
}
