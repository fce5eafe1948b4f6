package executor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hrfeed/importer/internal/executor"
	"github.com/hrfeed/importer/internal/journal"
	"github.com/hrfeed/importer/internal/plan"
	"github.com/hrfeed/importer/internal/wecom"
	"github.com/hrfeed/importer/internal/wecom/wecomsim"
)

// memTransport hands each request straight to the emulator, as wecom's
// InMemoryTransport does for its own synctest tests: inside a bubble a
// socket would keep the fake clock from ever moving.
type memTransport struct{ h http.Handler }

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// net/http's Transport tells a trace when it asks for a connection:
	// the executor's latency starts there.
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.GetConn != nil {
		trace.GetConn(req.URL.Host)
	}
	srvReq := req.Clone(req.Context())
	srvReq.RemoteAddr = "192.0.2.10:40000"
	srvReq.RequestURI = req.URL.RequestURI()
	if srvReq.Body == nil {
		srvReq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, srvReq)
	return rec.Result(), nil
}

// bubble is an emulator, clients of it and a journal, for use inside a
// synctest bubble; everything runs on the bubble's clock.
type bubble struct {
	sim   *wecomsim.Server
	store journal.Store
	runID int64
}

func newBubble(t *testing.T, o wecomsim.Options) *bubble {
	t.Helper()
	o.CorpID = corp
	o.Secrets = []wecomsim.Secret{{Value: secret, Kind: wecomsim.SyncEdit}}
	b := &bubble{sim: wecomsim.New(o)}
	store, err := journal.Open(context.Background(), filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	b.store = store
	if b.runID, err = store.StartRun(context.Background(), journal.Run{Job: "t", CorpID: corp, Mode: "run", Status: journal.RunRunning}); err != nil {
		t.Fatal(err)
	}
	return b
}

// client is a client of the emulator with the given minute limit and its
// default sleeper and clock.
func (b *bubble) client(t *testing.T, perMinute int) *wecom.Client {
	t.Helper()
	return b.clientVia(t, b.sim, perMinute)
}

// clientVia is client with its requests handed to h, which passes them on
// to the emulator.
func (b *bubble) clientVia(t *testing.T, h http.Handler, perMinute int) *wecom.Client {
	t.Helper()
	c, err := wecom.New(wecom.Config{BaseURL: "http://wecom.invalid", CorpID: corp, Secret: secret,
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: memTransport{h}},
		Limits:     wecom.Limits{PerMinute: perMinute, PerHour: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seedUpdates creates n members (through a client at perMinute, which
// should not overrun the emulator) and returns an update of each.
func (b *bubble) seedUpdates(t *testing.T, perMinute, n int) []plan.Op {
	t.Helper()
	seed := b.client(t, perMinute)
	var ops []plan.Op
	for i := range n {
		id := fmt.Sprintf("u%04d", i)
		if err := seed.CreateUser(context.Background(), &wecom.User{UserID: id, Name: id, Email: id + "@example.com", Department: []int{1}}); err != nil {
			t.Fatal(err)
		}
		r := rec(id, "")
		r.Position = "Lead"
		ops = append(ops, plan.Op{Seq: i + 1, Phase: plan.PhaseMembers, Kind: plan.UserUpdate, Target: id, After: r, Fields: []string{"position"}})
	}
	return ops
}

// WeCom grants less than the client was told (another app spends part of
// the corp's budget, or the real limit is below the documented one), so a
// burst of updates meets 45009 and a minute's ban, more than once: far
// below, where even the client's slower pace after a ban overruns WeCom,
// and just below, where that pace fits. Every operation still ends ok
// within one Execute at the default CallTimeout, and every 45009 WeCom
// answered is in the summary. Inside a synctest bubble the bans pass in no
// real time and the durations are exact.
func TestRateLimitBurstWaitsOutTheBan(t *testing.T) {
	for _, tc := range []struct {
		name                             string
		wecomLimit, clientLimit, members int
	}{
		{"far below", 27, 40, 120},
		{"just below", 54, 60, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBubble(t, wecomsim.Options{CorpPerMinute: tc.wecomLimit, CorpPerHour: -1, IPPerMinute: -1, IPPerHour: -1})
				ops := b.seedUpdates(t, tc.wecomLimit, tc.members)
				start := time.Now()
				ex := executor.New(executor.Config{Client: b.client(t, tc.clientLimit), Store: b.store, RunID: b.runID, Concurrency: 4})
				sum, err := ex.Execute(context.Background(), &plan.Plan{Ops: ops})
				took := time.Since(start)
				if err != nil {
					t.Fatal(err)
				}
				refused := 0
				for _, c := range b.sim.CallLog() {
					if c.API == "user/update" && c.Errcode == 45009 {
						refused++
					}
				}
				t.Logf("%d updates at %d/min against WeCom's %d/min: %d × 45009, done in %v", tc.members, tc.clientLimit, tc.wecomLimit, refused, took)
				if sum.Counts["user_update/ok"] != tc.members || sum.Failed != 0 {
					t.Fatalf("summary %+v: want all %d updates ok", sum, tc.members)
				}
				if refused == 0 {
					t.Fatal("the emulator never answered 45009: the test proves nothing")
				}
				if sum.Errcodes[45009] != refused {
					t.Errorf("summary counts %d × 45009, WeCom answered %d", sum.Errcodes[45009], refused)
				}
				calls, err := b.store.ListCalls(context.Background(), b.runID)
				if err != nil {
					t.Fatal(err)
				}
				if sent := b.sim.Stats()["user/update"]; len(calls) != sent {
					t.Errorf("%d user/update requests, %d journal rows", sent, len(calls))
				}
			})
		})
	}
}

// An interrupted run does not sit out a 45009 pause: the operation waiting
// in it stops at once, canceled, with its one request recorded as failed
// and nothing left pending.
func TestInterruptCutsOffTheRateLimitPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBubble(t, wecomsim.Options{})
		ops := b.seedUpdates(t, 0, 1)
		b.sim.InjectFaults(45009)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Second, cancel)
		start := time.Now()
		ex := executor.New(executor.Config{Client: b.client(t, 0), Store: b.store, RunID: b.runID})
		sum, err := ex.Execute(ctx, &plan.Plan{Ops: ops})
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("Execute returned after %v, want at the interruption, 10 s into the pause", d)
		}
		if sum.Counts["user_update/canceled"] != 1 || sum.Errcodes[45009] != 1 {
			t.Errorf("summary %+v: want the update canceled after one 45009", sum)
		}
		calls, _ := b.store.ListCalls(context.Background(), b.runID)
		if len(calls) != 2 || calls[0].Outcome != journal.CallFailed || calls[0].Errcode != 45009 ||
			calls[1].Outcome != journal.CallFailed || !strings.HasPrefix(calls[1].Errmsg, "not sent") || b.sim.Stats()["user/update"] != 1 {
			t.Errorf("journal %+v: want the 45009 row, then the retry's row closed as not sent, and one request", calls)
		}
	})
}
