// Package metrics keeps the importer's counters and writes them in the
// Prometheus text exposition format (version 0.0.4).
//
// It is a few hundred lines instead of prometheus/client_golang: the
// importer needs counters, gauges and histograms with labels and one
// /metrics page, not collectors, push, protobuf or process metrics, and
// client_golang would bring a dozen modules (protobuf, procfs, common...)
// into a binary whose dependencies are chosen one by one.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Registry holds metric families and writes them.
type Registry struct {
	mu       sync.Mutex
	families []*family
}

type kind string

const (
	counterKind   kind = "counter"
	gaugeKind     kind = "gauge"
	histogramKind kind = "histogram"
)

type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64 // histograms only, ascending, without +Inf
	series     map[string]*series
}

type series struct {
	values []string // label values, in family.labels order
	value  float64  // counter or gauge
	counts []uint64 // histogram: per bucket, not cumulative
	sum    float64
	count  uint64
}

func (r *Registry) add(f *family) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	f.series = map[string]*series{}
	r.families = append(r.families, f)
	return f
}

// get returns the series for values, creating it. Caller holds r.mu.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		// A programming error in this module, not bad input.
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{values: slices.Clone(values)}
		if f.kind == histogramKind {
			s.counts = make([]uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

// Counter only goes up.
type Counter struct {
	r *Registry
	f *family
}

// Counter registers a counter family. By convention name ends in _total.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	return &Counter{r, r.add(&family{name: name, help: help, kind: counterKind, labels: labels})}
}

// Add adds v (>= 0) to the series with these label values.
func (c *Counter) Add(v float64, values ...string) {
	if v < 0 {
		return
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	c.f.get(values).value += v
}

// Gauge goes up and down.
type Gauge struct {
	r *Registry
	f *family
}

// Gauge registers a gauge family.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	return &Gauge{r, r.add(&family{name: name, help: help, kind: gaugeKind, labels: labels})}
}

// Set sets the series with these label values.
func (g *Gauge) Set(v float64, values ...string) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	g.f.get(values).value = v
}

// Add adds v (may be negative).
func (g *Gauge) Add(v float64, values ...string) {
	g.r.mu.Lock()
	defer g.r.mu.Unlock()
	g.f.get(values).value += v
}

// Histogram counts observations into buckets.
type Histogram struct {
	r *Registry
	f *family
}

// Histogram registers a histogram family with these upper bounds
// (ascending; +Inf is implied).
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *Histogram {
	return &Histogram{r, r.add(&family{name: name, help: help, kind: histogramKind, labels: labels, buckets: buckets})}
}

// Observe records v.
func (h *Histogram) Observe(v float64, values ...string) {
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	s := h.f.get(values)
	if i, _ := slices.BinarySearch(h.f.buckets, v); i < len(s.counts) {
		s.counts[i]++
	}
	s.sum += v
	s.count++
}

// WriteText writes every family in the text exposition format, families in
// registration order and series sorted by label values, so the page is
// stable from scrape to scrape.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range r.families {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			s := f.series[k]
			if f.kind != histogramKind {
				fmt.Fprintf(bw, "%s%s %s\n", f.name, labelText(f.labels, s.values, "", ""), formatFloat(s.value))
				continue
			}
			var cum uint64
			for i, le := range f.buckets {
				cum += s.counts[i]
				fmt.Fprintf(bw, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", formatFloat(le)), cum)
			}
			fmt.Fprintf(bw, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", "+Inf"), s.count)
			fmt.Fprintf(bw, "%s_sum%s %s\n", f.name, labelText(f.labels, s.values, "", ""), formatFloat(s.sum))
			fmt.Fprintf(bw, "%s_count%s %d\n", f.name, labelText(f.labels, s.values, "", ""), s.count)
		}
	}
	return bw.Flush()
}

// ServeHTTP serves the page for Prometheus.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = r.WriteText(w)
}

func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", n, escapeLabel(values[i]))
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", extraName, extraValue)
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
