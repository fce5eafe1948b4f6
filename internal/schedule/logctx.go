package schedule

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// runLabel travels in a run's context so that log records made with that
// context (the WeCom client logs with LogAttrs(ctx, ...)) carry the job and
// run id even though the client is shared by every job. The run id is
// filled in when the run is recorded (leasedStore.StartRun).
type runLabel struct {
	job   string
	runID atomic.Int64
}

type labelKey struct{}

func withRunLabel(ctx context.Context, job string) context.Context {
	return context.WithValue(ctx, labelKey{}, &runLabel{job: job})
}

func labelFrom(ctx context.Context) *runLabel {
	l, _ := ctx.Value(labelKey{}).(*runLabel)
	return l
}

// LabelHandler adds job and run_id to records logged with the context of a
// run started by a Service. Loggers that already carry them (the runner's)
// log without that context, so nothing is labeled twice.
func LabelHandler(h slog.Handler) slog.Handler { return labelHandler{h} }

type labelHandler struct{ slog.Handler }

func (h labelHandler) Handle(ctx context.Context, r slog.Record) error {
	if l := labelFrom(ctx); l != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("job", l.job), slog.Int64("run_id", l.runID.Load()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h labelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return labelHandler{h.Handler.WithAttrs(as)}
}

func (h labelHandler) WithGroup(name string) slog.Handler {
	return labelHandler{h.Handler.WithGroup(name)}
}
