//go:build !unix

package pgcluster

import "fmt"

// Cluster needs Unix sockets and a switch to the postgres OS user.
type Cluster struct{}

// Start reports that this platform cannot run a cluster.
func Start(prefix string, durable bool) (*Cluster, error) {
	return nil, fmt.Errorf("%w: PostgreSQL clusters are started only on Unix", ErrUnavailable)
}

func (c *Cluster) URL(db string) string { return "" }
func (c *Cluster) Serve() error         { return ErrUnavailable }
func (c *Cluster) Halt() error          { return ErrUnavailable }
func (c *Cluster) Remove() error        { return nil }
