package wecom

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
)

// A request the server has read but not answered when the connection
// closes must not be sent again by net/http behind the attempt hook's back:
// the hook is where a journal writes its row, one per request that leaves.
// The transport replays only on a reused connection, so the call goes out
// on the keep-alive connection gettoken used (one connection per host
// forces that), and the server closes it after reading the call.
func TestNoTransportReplayBehindTheHook(t *testing.T) {
	for _, tc := range []struct {
		name string
		api  string
		call func(context.Context, *Client) error
	}{
		{"GET user/delete", "user/delete", func(ctx context.Context, c *Client) error { return c.DeleteUser(ctx, "bob") }},
		{"GET department/delete", "department/delete", func(ctx context.Context, c *Client) error { return c.DeleteDepartment(ctx, 7) }},
		{"POST user/update", "user/update", func(ctx context.Context, c *Client) error {
			return c.UpdateUser(ctx, UserPatch{"userid": "bob", "position": "Lead"})
		}},
	} {
		for _, retries := range []int{-1, 0} {
			name := tc.name + "/no client retry"
			if retries == 0 {
				name = tc.name + "/client retries"
			}
			t.Run(name, func(t *testing.T) {
				f := newFake(t)
				f.on(tc.api, hijack{}, 60111)
				tr := &http.Transport{MaxConnsPerHost: 1}
				t.Cleanup(tr.CloseIdleConnections)
				h := newHarness(t, f.URL, func(c *Config) {
					c.MaxRetries = retries
					c.HTTPClient = &http.Client{Transport: tr}
				})
				if _, err := h.c.Token(context.Background()); err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				var hooks int
				var reused []bool
				ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
					GotConn: func(info httptrace.GotConnInfo) {
						mu.Lock()
						reused = append(reused, info.Reused)
						mu.Unlock()
					},
				})
				ctx = WithAttemptHook(ctx, func(string, int) (func(int, error), error) {
					mu.Lock()
					hooks++
					mu.Unlock()
					return nil, nil
				})
				err := tc.call(ctx, h.c)
				if len(reused) == 0 || !reused[0] {
					t.Fatalf("connections %v: the first attempt did not reuse gettoken's connection, so this test proves nothing", reused)
				}
				if sent := f.count(tc.api); sent != hooks {
					t.Errorf("the server received %d %s requests, the attempt hook saw %d attempts", sent, tc.api, hooks)
				}
				if retries < 0 {
					// The only attempt's connection dropped after sending:
					// the outcome is unknown, and the caller is told so.
					if ClassOf(err) != ClassRetry || hooks != 1 {
						t.Errorf("err = %v (class %v) after %d attempts; want one attempt and a transport error", err, ClassOf(err), hooks)
					}
				} else if CodeOf(err) != 60111 || hooks != 2 {
					// The client's own retry went through the hook again.
					t.Errorf("err = %v after %d attempts; want the retry's 60111 on attempt 2", err, hooks)
				}
			})
		}
	}
}
