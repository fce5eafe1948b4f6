// Package wecom is a typed client for the WeCom (企业微信) server-side
// contacts API (通讯录管理): users, departments and tags, as described in
// docs/wecom.md §1, §2.1, §2.2 and §2.4.
//
// A Client is safe for concurrent use and owns three pieces of shared
// state:
//
//   - One access token per client (one corpid/secret pair). Concurrent
//     callers share a single in-flight gettoken. The token is refreshed
//     proactively five minutes before expires_in runs out, and reactively
//     when a business call answers 40001, 40014 or 42001, in which case
//     that call is retried exactly once with the new token.
//   - One pair of rate limiters per API path (per minute and per hour),
//     sized so that no sliding window ever carries more calls than WeCom
//     allows; see limiter.go for the arithmetic. A 45009 answer pauses the
//     API for 60 s instead of hammering a server that has already banned
//     us for the rest of the window, and the API then runs at 90% of its
//     minute budget for a minute, so it does not meet the ban again at
//     once.
//   - Retry of transient failures (-1, 6000, 45033, HTTP non-200, network
//     errors) with capped, jittered exponential backoff. Row and config
//     errors are returned at once; see ClassOf.
//
// Success is decided on errcode alone. Non-zero errcodes come back as
// *APIError, failures below the WeCom envelope as *TransportError; both are
// wrapped once by the method with the operation and its key, so callers
// use errors.As, ClassOf and CodeOf rather than matching strings.
//
// The secret and the access token only ever travel in the request query
// string. They never appear in an error, a log line or a CallInfo: a
// *url.Error (which quotes the full URL) is unwrapped before it is kept,
// and every message the client keeps is scrubbed of both values as a
// second line of defence.
//
// A caller that must know about every request it causes (a journal that
// records each send before it leaves and its outcome after) puts an
// AttemptHook on the call's context with WithAttemptHook; it is told about
// each attempt, retries included, and can veto one before it is sent.
// Every request that leaves is such an attempt: the client does not let
// net/http resend a request on its own after a keep-alive connection
// dropped (see noReplay), which it would otherwise do for the GETs that
// delete users and departments. Such a caller makes its calls with
// Detach, so that an interruption or a deadline cuts off waiting but never
// a request that has been announced, and the rate limits' waits do not
// use up its time.
//
// Writes are not idempotent on the server: a user/create retried after a
// network failure whose request did reach WeCom answers 60102 (userid
// existed). Callers that retry creates across runs should treat that as
// "already done" and reconcile with GetUser.
package wecom
