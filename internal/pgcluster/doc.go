// Package pgcluster starts throwaway PostgreSQL servers from the machine's
// own initdb and pg_ctl, in a temporary directory and on a Unix socket
// only, running them as the postgres OS user when the caller is root
// (PostgreSQL refuses to run as root). Tests use it through pgtest; the
// scenario runner uses it directly, because its fault campaign stops and
// restarts the server under a running import.
package pgcluster

import "errors"

// ErrUnavailable marks "this machine cannot run PostgreSQL" (no binaries,
// no postgres OS user, not Unix) as opposed to "PostgreSQL is here but
// broke": only the former may be skipped.
var ErrUnavailable = errors.New("postgresql unavailable")
