package wecom

import (
	"errors"
	"fmt"
)

// Class tells a caller what to do about a failed call.
type Class int

const (
	// ClassNone is a success or an error that is not a WeCom answer.
	ClassNone Class = iota
	// ClassRetry is transient (-1, 6000, 45033, HTTP 5xx, network): back off and retry.
	ClassRetry
	// ClassRefresh means the token is no longer valid: refetch it and retry once.
	ClassRefresh
	// ClassRateLimited is 45009: wait for the limit window to pass.
	ClassRateLimited
	// ClassRow is a data error about this one record: record it, do not retry.
	ClassRow
	// ClassConfig is a deployment or permission problem: stop and alert.
	ClassConfig
)

func (c Class) String() string {
	switch c {
	case ClassRetry:
		return "retry"
	case ClassRefresh:
		return "refresh"
	case ClassRateLimited:
		return "rate_limited"
	case ClassRow:
		return "row"
	case ClassConfig:
		return "config"
	default:
		return "none"
	}
}

// APIError is a non-zero errcode answered by WeCom (or HTTP-level failure
// mapped to a pseudo code). Msg is WeCom's errmsg, which never carries the
// token or the secret.
type APIError struct {
	API  string // e.g. "user/create"
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.API, e.Code, e.Msg)
}

// Class classifies the errcode per docs/wecom.md §4's action table.
func (e *APIError) Class() Class { return ClassifyCode(e.API, e.Code) }

// ClassifyCode maps an errcode to its class. 40001 is a config error on
// gettoken (wrong secret) but a refresh on business calls. 60011 on a tag
// write means the tag belongs to another app: that tag is out of reach,
// the rest of a run is not, so it is a row error there (81011 says the
// same and is one everywhere).
func ClassifyCode(api string, code int) Class {
	switch code {
	case 0:
		return ClassNone
	case CodeNoPrivilege:
		if isTagWrite(api) {
			return ClassRow
		}
		return ClassConfig
	case CodeSystemBusy, CodeVersionConflict, CodeConcurrency:
		return ClassRetry
	case CodeInvalidToken, CodeTokenExpired:
		return ClassRefresh
	case CodeInvalidCredential:
		if api == "gettoken" {
			return ClassConfig
		}
		return ClassRefresh
	case CodeRateLimited:
		return ClassRateLimited
	case CodeInvalidCorpID, CodeCorpIDMissing, CodeSecretMissing, CodeAPIForbidden, CodeGrantForbidden, CodeNewIPNoDetails,
		CodeUntrustedIP, CodeNotVisible, CodeOutOfRange, CodeSeatLimit, CodeTokenMissing,
		CodeIllegalChars, CodeListTooLong, CodeInvalidParameter, CodeTagLimit, CodeTagListTooLong:
		return ClassConfig
	}
	if code >= 500 && code < 600 {
		// HTTP 5xx mapped as pseudo errcode by the client.
		return ClassRetry
	}
	return ClassRow
}

// isTagWrite reports whether api changes an existing tag, which only the
// tag's creator may.
func isTagWrite(api string) bool {
	switch api {
	case APITagUpdate, APITagDelete, APITagAddUsers, APITagDelUsers:
		return true
	}
	return false
}

// ClassOf returns the class of err if it wraps an *APIError, ClassRetry
// for network-level errors flagged as temporary by the client, and
// ClassNone otherwise.
func ClassOf(err error) Class {
	if err == nil {
		return ClassNone
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Class()
	}
	var te *TransportError
	if errors.As(err, &te) {
		return ClassRetry
	}
	return ClassNone
}

// CodeOf returns the errcode carried by err, 0 if none.
func CodeOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}

// TransportError is a failure below the WeCom envelope: connection refused
// or reset, timeout, HTTP 5xx, unreadable body. Its message is redacted:
// it never holds the request URL's query.
type TransportError struct {
	API    string
	Status int // HTTP status when one was received, else 0
	Err    error
}

func (e *TransportError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("wecom %s: http status %d", e.API, e.Status)
	}
	return fmt.Sprintf("wecom %s: transport: %v", e.API, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// NotSentError is an attempt that was given up while it waited for its
// turn under the rate limits (the caller's context ended): it had been
// announced to the attempt hook, but no request left.
type NotSentError struct {
	API string
	Err error
}

func (e *NotSentError) Error() string {
	return fmt.Sprintf("wecom %s: not sent: %v", e.API, e.Err)
}

func (e *NotSentError) Unwrap() error { return e.Err }
