package wecom

import "context"

// AttemptHook is called before every HTTP attempt of a business call (never
// for gettoken), with the API path ("user/create") and the attempt number
// (1-based; counts retries and the retry after a token refresh).
//
// If it returns an error, that attempt is not sent and the call returns the
// error (wrapped once, by the method, with the operation and its key, so
// errors.Is finds it); its class is ClassNone unless the hook's own error
// wraps an *APIError or *TransportError. A refused attempt is final: it is
// neither retried nor followed by further hook calls.
//
// finish (may be nil) is called exactly once after that attempt, before any
// backoff or token refresh, with its errcode (0 on success; for transport
// failures the same pseudo code CallInfo.Errcode uses: the HTTP status of a
// non-200 answer, -1 for a network or decoding failure, and 0 when an
// errcode-0 answer could not be decoded, in which case WeCom did apply the
// call) and the attempt's error (nil on success). The error is the
// attempt's own *APIError, *TransportError or ctx error, not yet wrapped by
// the method.
//
// The hook lets a caller that journals writes record every send before it
// happens and its outcome after, which is what makes a crash between the
// two detectable. Both functions run on the calling goroutine and delay the
// call while they run.
type AttemptHook func(api string, attempt int) (finish func(errcode int, err error), err error)

type attemptHookKey struct{}

// WithAttemptHook returns a copy of ctx that carries h; pass it to a
// business call to have h called around each of that call's attempts. A
// nil h removes any hook ctx carried.
func WithAttemptHook(ctx context.Context, h AttemptHook) context.Context {
	return context.WithValue(ctx, attemptHookKey{}, h)
}

func attemptHookFrom(ctx context.Context) AttemptHook {
	h, _ := ctx.Value(attemptHookKey{}).(AttemptHook)
	return h
}

// hookError marks an error returned by an AttemptHook on its way from
// attempt to do, so do returns it as is instead of classifying it: a hook
// that refuses an attempt must not trigger a retry, whatever it wraps.
type hookError struct{ err error }

func (e hookError) Error() string { return e.err.Error() }
func (e hookError) Unwrap() error { return e.err }
