package wecomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of the emulator's own per-call cost. They measure; nothing
// asserts on wall time. Run with
//
//	go test ./internal/wecom/wecomsim/ -run '^$' -bench . -benchtime 2000x
//
// The clock is a counter that steps 25 ms per call: slow enough that no
// call of a long run reaches the default rate limits (2,400/min and
// 144,000/h per API against 10,000 and 150,000), fast enough that the
// limiter's windows fill and slide as they would in a real import.

// benchDepts is how many departments the pre-populated directory spreads
// its members over (each under the root).
const benchDepts = 100

// benchClock is a lock-free fake clock that advances on every read.
type benchClock struct{ ns atomic.Int64 }

func (c *benchClock) Now() time.Time {
	return time.Unix(0, c.ns.Add(int64(25*time.Millisecond)))
}

// writeBenchState writes a directory of n members spread over benchDepts
// departments, each member with a unique mobile and email, and a
// direct_leader on every tenth one. LoadFile is the only way to build a
// 100k directory quickly whatever the emulator's per-call cost.
func writeBenchState(b *testing.B, n int) string {
	b.Helper()
	st := stateFile{Version: stateVersion, NextDeptID: benchDepts + 2, NextSeq: int64(n) + 1}
	st.Departments = append(st.Departments, SnapDept{ID: 1, Name: "corp"})
	for d := 2; d < benchDepts+2; d++ {
		st.Departments = append(st.Departments, SnapDept{ID: d, Name: fmt.Sprint("D", d), ParentID: 1, Order: uint32(d)})
	}
	for i := range n {
		d := 2 + i%benchDepts
		u := SnapUser{
			UserID: fmt.Sprintf("pre%06d", i), Name: fmt.Sprint("P ", i),
			Mobile: fmt.Sprintf("+86 139-%08d", i), Email: fmt.Sprintf("Pre%06d@example.com", i),
			Gender: "0", Department: []int{d}, Order: []uint32{0}, IsLeaderInDept: []int{0},
			MainDepartment: d, Enable: 1, Status: statusInactive,
		}
		if i%10 == 9 {
			u.DirectLeader = []string{fmt.Sprintf("pre%06d", i-1)}
		}
		st.Users = append(st.Users, fileUser{SnapUser: u, Seq: int64(i) + 1})
	}
	data, err := json.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "state.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// benchSim is an emulator loaded with a pre-populated directory and a
// way to call it, either in-process (ServeHTTP on a recorder, which is the
// emulator's cost alone) or over loopback HTTP.
type benchSim struct {
	b     *testing.B
	sim   *Server
	token string
	call  func(method, api string, body []byte) []byte
}

func newBenchSim(b *testing.B, statePath string, overHTTP bool) *benchSim {
	b.Helper()
	clock := &benchClock{}
	clock.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	sim := New(Options{CorpID: testCorp, Secrets: []Secret{{Value: editSecret, Kind: SyncEdit}}, Now: clock.Now})
	if statePath != "" {
		if err := sim.LoadFile(statePath); err != nil {
			b.Fatal(err)
		}
	}
	bs := &benchSim{b: b, sim: sim}
	if overHTTP {
		ts := httptest.NewServer(sim)
		b.Cleanup(ts.Close)
		client := ts.Client()
		bs.call = func(method, path string, body []byte) []byte {
			req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				b.Fatal(err)
			}
			return raw
		}
	} else {
		bs.call = func(method, path string, body []byte) []byte {
			req := httptest.NewRequest(method, path, bytes.NewReader(body))
			rec := httptest.NewRecorder()
			sim.ServeHTTP(rec, req)
			return rec.Body.Bytes()
		}
	}
	q := url.Values{"corpid": {testCorp}, "corpsecret": {editSecret}}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(bs.call(http.MethodGet, "/cgi-bin/gettoken?"+q.Encode(), nil), &tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("gettoken: %v", err)
	}
	bs.token = tok.AccessToken
	return bs
}

// post sends a business call and fails the benchmark unless it succeeds.
func (bs *benchSim) post(api string, body []byte) []byte {
	raw := bs.call(http.MethodPost, "/cgi-bin/"+api+"?access_token="+bs.token, body)
	if !bytes.HasPrefix(raw, []byte(`{"errcode":0,`)) {
		bs.b.Fatalf("%s %s: %s", api, body, raw)
	}
	return raw
}

var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"10k", 10_000}, {"100k", 100_000}}

// BenchmarkCreateUsers replays a first import into a directory of the
// given size: the first half of the b.N calls are user/create of new
// members, the second half user/update setting each new member's
// direct_leader to the one created before it, as the importer does once
// every member exists. calls/s counts both kinds.
func BenchmarkCreateUsers(b *testing.B) {
	for _, size := range benchSizes {
		path := ""
		for _, transport := range []string{"inproc", "http"} {
			parent := b
			b.Run("users="+size.name+"/"+transport, func(b *testing.B) {
				if path == "" {
					// The parent's temp dir outlives every run of b.
					path = writeBenchState(parent, size.n)
				}
				bs := newBenchSim(b, path, transport == "http")
				creates := (b.N + 1) / 2
				bodies := make([][]byte, b.N)
				for i := range b.N {
					var m map[string]any
					if i < creates {
						d := 2 + i%benchDepts
						m = map[string]any{
							"userid": fmt.Sprintf("new%07d", i), "name": fmt.Sprint("New ", i),
							"mobile": fmt.Sprintf("+86 138%08d", i), "email": fmt.Sprintf("new%07d@example.com", i),
							"department": []int{d}, "main_department": d, "gender": 0, "enable": 1,
						}
					} else {
						j := i - creates
						leader := fmt.Sprintf("pre%06d", j%size.n)
						if j > 0 {
							leader = fmt.Sprintf("new%07d", j-1)
						}
						m = map[string]any{"userid": fmt.Sprintf("new%07d", j), "direct_leader": []string{leader}}
					}
					bodies[i], _ = json.Marshal(m)
				}
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					api := "user/create"
					if i >= creates {
						api = "user/update"
					}
					bs.post(api, bodies[i])
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
			})
		}
	}
}

// BenchmarkListID100k pages user/list_id (limit 10000) over a directory
// of 100,000 members, as the importer's nightly read does. One op is one
// page; passes restart from the first page. A user/update of a position
// after every pass models the nightly writes, which must not make the
// next pass pay for a full re-sort.
func BenchmarkListID100k(b *testing.B) {
	path := writeBenchState(b, 100_000)
	for _, transport := range []string{"inproc", "http"} {
		b.Run(transport, func(b *testing.B) {
			bs := newBenchSim(b, path, transport == "http")
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			cursor, rows := "", 0
			for i := range b.N {
				body, _ := json.Marshal(map[string]any{"cursor": cursor, "limit": listIDMaxLimit})
				// Rows are counted, not decoded, so the client side does not
				// dominate what is meant to measure the emulator.
				raw := bs.post("user/list_id", body)
				var page struct {
					NextCursor string `json:"next_cursor"`
				}
				if err := json.Unmarshal(raw, &page); err != nil {
					b.Fatal(err)
				}
				rows += bytes.Count(raw, []byte(`"userid":`))
				cursor = page.NextCursor
				if cursor == "" {
					bs.post("user/update", []byte(fmt.Sprintf(`{"userid":"pre%06d","position":"p%d"}`, i%100_000, i)))
				}
			}
			elapsed := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N)/elapsed, "pages/s")
			b.ReportMetric(float64(rows)/elapsed, "rows/s")
		})
	}
}
