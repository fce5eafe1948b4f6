// Package runlog labels log records with the job and run they are about.
// A corp's WeCom client is shared by every job of that corp a process
// runs and logs with the context it is given (LogAttrs(ctx, ...)), so the
// label travels in the run's context rather than in a logger.
package runlog

import (
	"context"
	"log/slog"
	"sync/atomic"
)

type label struct {
	job   string
	runID atomic.Int64 // 0 until the run is recorded
}

type key struct{}

// WithJob labels ctx with job, for the run about to be made with it.
func WithJob(ctx context.Context, job string) context.Context {
	return context.WithValue(ctx, key{}, &label{job: job})
}

// SetRunID completes ctx's label with the run's id once the run is
// recorded; records logged with ctx, or with a context derived from it
// before, carry it from then on. Without a label it does nothing.
func SetRunID(ctx context.Context, id int64) {
	if l, _ := ctx.Value(key{}).(*label); l != nil {
		l.runID.Store(id)
	}
}

// Handler adds job and run_id to records logged with a labeled context.
// Loggers that already carry them (the runner's) log without that context,
// so nothing is labeled twice.
func Handler(h slog.Handler) slog.Handler { return handler{h} }

type handler struct{ slog.Handler }

func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if l, _ := ctx.Value(key{}).(*label); l != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("job", l.job), slog.Int64("run_id", l.runID.Load()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h handler) WithAttrs(as []slog.Attr) slog.Handler {
	return handler{h.Handler.WithAttrs(as)}
}

func (h handler) WithGroup(name string) slog.Handler {
	return handler{h.Handler.WithGroup(name)}
}
