// Package metrics exposes postbox serve's figures in the Prometheus text
// format: every queue's depth, age and message counts, every SQS action's
// requests, errors by code and latency, long polls waiting, and a durable
// engine's fsyncs. It uses github.com/prometheus/client_golang with a
// registry of its own; docs/metrics.md lists the metrics.
//
//	m, err := metrics.New(metrics.Config{Engine: eng})
//	srv, err := server.New(server.Config{Service: eng, Observe: m.Observe})
//	mux.Handle("GET /metrics", m.Handler())
//
// Queue figures are read from the engine (Engine.Stats, which takes each
// queue's lock briefly in turn) when Prometheus scrapes; request figures
// are counted as requests end (Observe). Nothing runs in the background.
package metrics

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// DefaultBuckets are the request latency histogram's bounds in seconds:
// from the engine's sub-millisecond calls to 20-second long polls.
var DefaultBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20}

// Config configures Metrics. Engine is required; the zero value of every
// other field means its documented default.
type Config struct {
	Engine *native.Engine
	// Buckets are the request latency histogram's bounds (default
	// DefaultBuckets).
	Buckets []float64
	// Version is reported as postbox_build_info{version}; "" leaves the
	// metric out.
	Version string
	// Started is when the server started (default: when New is called).
	Started time.Time
	// GoCollector adds the Go runtime's and the process's metrics (go_*,
	// process_*).
	GoCollector bool
}

// Metrics counts requests and serves /metrics. It is safe for concurrent
// use.
type Metrics struct {
	eng     *native.Engine
	reg     *prometheus.Registry
	known   map[string]bool
	started time.Time

	requests *prometheus.CounterVec
	errs     *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	actions sync.Map // action -> *actionStats
}

// actionStats caches one action's metric handles and counts its requests
// and errors for Counts.
type actionStats struct {
	req prometheus.Counter
	lat prometheus.Observer
	n   atomic.Int64

	mu   sync.Mutex
	errs map[string]int64
}

// New returns Metrics for cfg.Engine.
func New(cfg Config) (*Metrics, error) {
	if cfg.Engine == nil {
		return nil, errors.New("metrics: Config.Engine is required")
	}
	if cfg.Buckets == nil {
		cfg.Buckets = DefaultBuckets
	}
	if cfg.Started.IsZero() {
		cfg.Started = time.Now()
	}
	m := &Metrics{eng: cfg.Engine, reg: prometheus.NewRegistry(), known: map[string]bool{}, started: cfg.Started}
	for _, a := range server.Actions() {
		m.known[a] = true
	}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "postbox_sqs_requests_total", Help: "SQS API requests served, by action (failed ones included).",
	}, []string{"action"})
	m.errs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "postbox_sqs_request_errors_total", Help: "SQS API requests that failed as a whole, by action and SQS error code (the query protocol's code).",
	}, []string{"action", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "postbox_sqs_request_duration_seconds", Help: "SQS API request latency, by action (long polls included).",
		Buckets: cfg.Buckets,
	}, []string{"action"})
	cs := []prometheus.Collector{m.requests, m.errs, m.latency, &engineCollector{m: m}}
	if cfg.Version != "" {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "postbox_build_info", Help: "postbox's version; the value is 1.", ConstLabels: prometheus.Labels{"version": cfg.Version},
		}, func() float64 { return 1 }))
	}
	if cfg.GoCollector {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Registry returns the registry the metrics are in, to add others or to
// gather them without HTTP.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (or what the
// scraper negotiates).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Observe counts one request: server.Config.Observe. An action the server
// does not implement is counted as "other", a request without one as
// "none", so that labels stay few.
func (m *Metrics) Observe(action, code string, status int, took time.Duration) {
	switch {
	case action == "":
		action = "none"
	case !m.known[action]:
		action = "other"
	}
	v, ok := m.actions.Load(action)
	if !ok {
		v, _ = m.actions.LoadOrStore(action, &actionStats{
			req: m.requests.WithLabelValues(action), lat: m.latency.WithLabelValues(action), errs: map[string]int64{},
		})
	}
	a := v.(*actionStats)
	a.n.Add(1)
	a.req.Inc()
	a.lat.Observe(took.Seconds())
	if code != "" || status >= 400 {
		if code == "" {
			code = http.StatusText(status)
		}
		m.errs.WithLabelValues(action, code).Inc()
		a.mu.Lock()
		a.errs[code]++
		a.mu.Unlock()
	}
}

// ActionCount is one action's requests and errors since the start.
type ActionCount struct {
	Action   string
	Requests int64
	Errors   map[string]int64 // by SQS error code
}

// Counts returns every action's counts so far, sorted by action.
func (m *Metrics) Counts() []ActionCount {
	var out []ActionCount
	m.actions.Range(func(k, v any) bool {
		a := v.(*actionStats)
		c := ActionCount{Action: k.(string), Requests: a.n.Load(), Errors: map[string]int64{}}
		a.mu.Lock()
		for code, n := range a.errs {
			c.Errors[code] = n
		}
		a.mu.Unlock()
		out = append(out, c)
		return true
	})
	slices.SortFunc(out, func(a, b ActionCount) int { return strings.Compare(a.Action, b.Action) })
	return out
}

// engineCollector reads the engine's figures at scrape time.
type engineCollector struct{ m *Metrics }

var (
	labels       = []string{"queue", "account"}
	descMessages = prometheus.NewDesc("postbox_queue_messages", "Messages in the queue by state: visible, inflight, delayed (SQS's ApproximateNumberOfMessages...).",
		[]string{"queue", "account", "state"}, nil)
	descOldest = prometheus.NewDesc("postbox_queue_oldest_message_age_seconds", "Age of the queue's oldest message (0 for an empty queue).", labels, nil)
	descSent   = prometheus.NewDesc("postbox_queue_sent_messages_total", "Messages sent to the queue since the server started.", labels, nil)
	descRecv   = prometheus.NewDesc("postbox_queue_received_messages_total", "Messages returned by receives since the server started (each receive counts).", labels, nil)
	descDel    = prometheus.NewDesc("postbox_queue_deleted_messages_total", "Messages deleted by receipt handle since the server started.", labels, nil)
	descDLQ    = prometheus.NewDesc("postbox_queue_dead_lettered_messages_total", "Messages moved to the queue's dead-letter queue since the server started.", labels, nil)
	descQueues = prometheus.NewDesc("postbox_queues", "Queues of the engine.", nil, nil)
	descPolls  = prometheus.NewDesc("postbox_long_polls_waiting", "ReceiveMessage calls waiting for messages now.", nil, nil)
	descStart  = prometheus.NewDesc("postbox_start_time_seconds", "When the server started, in Unix seconds.", nil, nil)
	descSyncs  = prometheus.NewDesc("postbox_storage_fsyncs_total", "fsyncs of the write-ahead log (durable engines only).", nil, nil)
	descSyncE  = prometheus.NewDesc("postbox_storage_fsync_errors_total", "fsyncs of the write-ahead log that failed.", nil, nil)
	descSyncD  = prometheus.NewDesc("postbox_storage_fsync_duration_seconds", "Latency of the write-ahead log's fsyncs.", nil, nil)
)

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMessages, descOldest, descSent, descRecv, descDel, descDLQ, descQueues, descPolls, descStart, descSyncs, descSyncE, descSyncD} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	eng := c.m.eng
	now := eng.Clock().Now()
	stats := eng.Stats()
	for i := range stats {
		s := &stats[i]
		name, account := s.Name, accountOf(s.ARN)
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(s.Visible), name, account, "visible")
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(s.InFlight), name, account, "inflight")
		ch <- prometheus.MustNewConstMetric(descMessages, prometheus.GaugeValue, float64(s.Delayed), name, account, "delayed")
		age := 0.0
		if !s.OldestSentAt.IsZero() {
			age = max(now.Sub(s.OldestSentAt).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, age, name, account)
		ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(s.Sent), name, account)
		ch <- prometheus.MustNewConstMetric(descRecv, prometheus.CounterValue, float64(s.Received), name, account)
		ch <- prometheus.MustNewConstMetric(descDel, prometheus.CounterValue, float64(s.Deleted), name, account)
		ch <- prometheus.MustNewConstMetric(descDLQ, prometheus.CounterValue, float64(s.DeadLettered), name, account)
	}
	ch <- prometheus.MustNewConstMetric(descQueues, prometheus.GaugeValue, float64(len(stats)))
	ch <- prometheus.MustNewConstMetric(descPolls, prometheus.GaugeValue, float64(eng.WaitingReceives()))
	ch <- prometheus.MustNewConstMetric(descStart, prometheus.GaugeValue, float64(c.m.started.UnixNano())/1e9)
	st := eng.Storage()
	if st.DataDir == "" {
		return
	}
	ch <- prometheus.MustNewConstMetric(descSyncs, prometheus.CounterValue, float64(st.Syncs))
	ch <- prometheus.MustNewConstMetric(descSyncE, prometheus.CounterValue, float64(st.SyncErrors))
	buckets := make(map[float64]uint64, len(native.SyncBuckets))
	var cum uint64
	for i, ub := range native.SyncBuckets {
		cum += uint64(st.SyncBuckets[i])
		buckets[ub] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descSyncD, uint64(st.Syncs), st.SyncSeconds, buckets)
}

// accountOf returns the account of a queue ARN.
func accountOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) != 6 {
		return ""
	}
	return p[4]
}
