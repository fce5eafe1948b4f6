//go:build !unix

package pgtest

import "fmt"

// The cluster needs Unix sockets and a switch to the postgres OS user.
func startCluster() (*server, error) {
	return nil, fmt.Errorf("%w: pgtest starts PostgreSQL only on Unix", errUnavailable)
}
