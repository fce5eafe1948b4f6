package wecomsim

// Fault pseudo-codes accepted by InjectFaults and Options.FailCodes, besides
// ordinary errcodes and HTTP statuses 500..599.
const (
	// faultDrop closes the connection before the call has any effect.
	faultDrop = -2
	// faultDropAfter applies the call, then closes the connection: the
	// effect happened but the client never learns it, which is the case an
	// idempotent sync must survive.
	faultDropAfter = -3
)

// InjectFaults scripts the answers of the next len(codes) business calls
// (every /cgi-bin/ API but gettoken), in order, before any other check:
// an errcode is answered in the normal envelope with no effect; 500..599
// answers that HTTP status with an empty body; -2 drops the connection
// with no effect; -3 applies the call and then drops the connection; 0
// lets that call through untouched.
// Scripted faults are consumed before FailRate and DropRate are drawn.
//
// Dropping hijacks the connection; on a writer that cannot be hijacked
// (HTTP/2, httptest.ResponseRecorder) it panics with http.ErrAbortHandler,
// which net/http's server recovers silently. Note that Go's HTTP client
// transparently retries an idempotent request (GET) once when a reused
// keep-alive connection closes before any answer, so a dropped GET may
// reach the emulator a second time (package wecom's client prevents that,
// so its requests are each counted once).
func (s *Server) InjectFaults(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, codes...)
}

// drawFault picks the fault for the current business call, if any.
// Both random numbers are drawn on every unscripted call, so the fault
// sequence depends only on Seed and the number of calls. Callers hold s.mu.
func (s *Server) drawFault() (int, bool) {
	if len(s.script) > 0 {
		f := s.script[0]
		s.script = s.script[1:]
		return f, true
	}
	drop, fail := s.rng.Float64(), s.rng.Float64()
	pick := s.rng.Intn(len(s.opts.FailCodes))
	if drop < s.opts.DropRate {
		return faultDrop, true
	}
	if fail < s.opts.FailRate {
		return s.opts.FailCodes[pick], true
	}
	return 0, false
}

// faultResp turns a pre-effect fault into its answer. faultDropAfter is
// handled by the caller because the call must run first.
func (s *Server) faultResp(f int, c *call) response {
	switch {
	case f == faultDrop:
		return response{code: f, drop: true}
	case f >= 500 && f <= 599:
		return response{code: f, status: f}
	default:
		return s.errResp(f, "", c.ip, c.now)
	}
}
