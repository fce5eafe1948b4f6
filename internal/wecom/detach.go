package wecom

import (
	"context"
	"time"
)

// Detach returns a context for calls made on behalf of ctx whose requests,
// once sent, must be answered even if ctx ends: a journal that has written
// a request's row (see AttemptHook) wants its outcome, not a request in
// doubt. It splits what a call does in two:
//
//   - A request on the wire is not cut off when ctx is canceled or its
//     deadline passes. Instead each call (one method call with all its
//     attempts) may have requests on the wire for timeout in all. When
//     that runs out during an attempt, the attempt ends with
//     context.DeadlineExceeded, as on a ctx deadline; once it has run out,
//     no further attempt is sent. timeout <= 0 leaves only the HTTP
//     client's own timeout per request.
//   - Waiting ends when ctx ends (the call returns context.Canceled) and
//     does not count against timeout: the wait for the API's turn under
//     the rate limits or a 45009 pause, the backoff between attempts, and
//     fetching a token, which no hook sees. No hook has announced an
//     attempt then, so nothing is left in doubt, and a call the rate
//     limits hold back does not spend its timeout standing in line.
//
// No attempt is announced once ctx has ended. The returned context
// carries ctx's values and is never done itself.
//
// The waits are bounded by the client's retry budget instead. With the
// default configuration a call sits out at most MaxRetries (3) 45009
// pauses of a minute each, or backoffs of under a second each, so one
// that WeCom keeps refusing returns its 45009 after about three minutes,
// plus its time on the wire (at most timeout) and its turns under the rate
// limiters (seconds at the minute limit; up to an hour per attempt once
// the hour's budget is spent).
func Detach(ctx context.Context, timeout time.Duration) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), detachedKey{}, &detached{from: ctx, timeout: timeout})
}

type detachedKey struct{}

type detached struct {
	from    context.Context
	timeout time.Duration
}

// waitContext returns what bounds a call's waits: ctx, and for a detached
// ctx also the context it was detached from.
func waitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d, _ := ctx.Value(detachedKey{}).(*detached)
	if d == nil {
		return ctx, func() {}
	}
	wait, cancel := context.WithCancel(ctx)
	if d.from.Err() != nil {
		// AfterFunc would cancel from another goroutine, a moment late
		// for a call that has nothing to wait for.
		cancel()
		return wait, cancel
	}
	stop := context.AfterFunc(d.from, cancel)
	return wait, func() { stop(); cancel() }
}

// sendBudget returns how long a call made with ctx may have requests on
// the wire, and whether that is bounded at all.
func sendBudget(ctx context.Context) (time.Duration, bool) {
	d, _ := ctx.Value(detachedKey{}).(*detached)
	if d == nil || d.timeout <= 0 {
		return 0, false
	}
	return d.timeout, true
}
