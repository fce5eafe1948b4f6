package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hrfeed/importer/internal/source"
)

// ReadArgs name the source the read-source child reads; Type "none" reads
// nothing, which measures the process itself.
type ReadArgs struct {
	Type, Path, View, Key string
}

type readResult struct {
	Rows   int   `json:"rows"`
	Values int   `json:"values"`
	MS     int64 `json:"ms"`
	// PeakRSS is the child's own VmHWM at the end of the read, exact
	// where the parent's sampling could miss the last moments.
	PeakRSS int64 `json:"peak_rss"`
}

// ReadSource is the child side of the source-read scenario, behind the
// hidden `importer bench read-source`: it reads every row through
// source.Open, as a run does, and writes one JSON line with the count and
// the read time. It runs in a process of its own so the parent can take
// that process's peak RSS without counting the generated inputs or a
// previous case. The PostgreSQL URL comes from SourceDSNEnv.
func ReadSource(ctx context.Context, a ReadArgs, w io.Writer) error {
	start := time.Now()
	var res readResult
	if a.Type != "none" {
		spec := source.Spec{Type: a.Type, Path: a.Path, View: a.View, Key: a.Key, Columns: wideColumns}
		if a.Type == source.TypePostgres {
			spec.DSN = os.Getenv(SourceDSNEnv)
		}
		r, err := source.Open(ctx, spec)
		if err != nil {
			return err
		}
		for r.Next() {
			row := r.Row()
			if row.Problem != "" {
				r.Close()
				return fmt.Errorf("%s: %s", row.Ref, row.Problem)
			}
			res.Rows++
			res.Values += len(row.Values)
		}
		if err := r.Err(); err != nil {
			r.Close()
			return err
		}
		if err := r.Close(); err != nil {
			return err
		}
	}
	res.MS = time.Since(start).Milliseconds()
	res.PeakRSS = selfPeakRSS()
	return json.NewEncoder(w).Encode(res)
}
