package wecom

import (
	"io"
	"net/http"
	"net/http/httptest"
)

// InMemoryTransport is an http.RoundTripper that serves each request with
// Handler in the calling goroutine, with no socket. Tests that run inside
// a testing/synctest bubble need it: a goroutine blocked on network I/O is
// not "durably blocked", so over loopback the bubble's clock would never
// advance. It is exported (to package wecom_test only; this is a test
// file) so both test packages share it.
//
// A request whose context ends before the handler returns fails with the
// context's error, as over a socket.
//
// A handler that drops the connection (the emulator's -2/-3 faults panic
// with http.ErrAbortHandler on a writer that cannot be hijacked) comes back
// as a transport error, as a reset socket would.
type InMemoryTransport struct{ Handler http.Handler }

func (m InMemoryTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			resp, err = nil, io.ErrUnexpectedEOF
		}
	}()
	srvReq := req.Clone(req.Context())
	srvReq.RemoteAddr = "192.0.2.10:40000"
	srvReq.RequestURI = req.URL.RequestURI()
	if req.Body == nil {
		srvReq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	m.Handler.ServeHTTP(rec, srvReq)
	if err := req.Context().Err(); err != nil {
		// A real transport gives up when the request's context ends,
		// answer or not; the emulator's Latency stops short then.
		return nil, err
	}
	return rec.Result(), nil
}
