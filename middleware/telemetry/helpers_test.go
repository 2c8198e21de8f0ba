package telemetry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rig is a Telemetry on an in-memory span exporter and a manual metric
// reader.
type rig struct {
	tel    *telemetry.Telemetry
	tp     *sdktrace.TracerProvider
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

func newRig(t testing.TB, cfg telemetry.Config) *rig {
	t.Helper()
	r := &rig{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() {
		r.tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	cfg.TracerProvider, cfg.MeterProvider = r.tp, mp
	tel, err := telemetry.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.tel = tel
	return r
}

// metrics collects the metrics recorded so far, by name.
func (r *rig) metrics(t testing.TB) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point is a data point's value: the sum of a counter, the count and sum
// of a histogram.
type point struct {
	attrs attribute.Set
	value float64 // counter value, or histogram sum
	count uint64  // histogram count
}

func points(m metricdata.Metrics) []point {
	var out []point
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, point{attrs: p.Attributes, value: float64(p.Value)})
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out = append(out, point{attrs: p.Attributes, value: p.Value})
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, point{attrs: p.Attributes, value: float64(p.Sum), count: p.Count})
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, point{attrs: p.Attributes, value: p.Sum, count: p.Count})
		}
	}
	return out
}

// find returns the data point of m whose attributes include every one of
// want; ok is false when none does.
func find(m metricdata.Metrics, want ...attribute.KeyValue) (point, bool) {
	for _, p := range points(m) {
		all := true
		for _, kv := range want {
			if v, ok := p.attrs.Value(kv.Key); !ok || v != kv.Value {
				all = false
				break
			}
		}
		if all {
			return p, true
		}
	}
	return point{}, false
}

// hasKey reports whether a point has the attribute key.
func hasKey(p point, k attribute.Key) bool {
	_, ok := p.attrs.Value(k)
	return ok
}

// attr returns a span's attribute by key.
func attr(s tracetest.SpanStub, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// byName returns the ended spans of that name.
func byName(spans tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func linksTo(s tracetest.SpanStub, sc trace.SpanContext) bool {
	for _, l := range s.Links {
		if l.SpanContext.TraceID() == sc.TraceID() && l.SpanContext.SpanID() == sc.SpanID() {
			return true
		}
	}
	return false
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newEngine returns an in-process engine, closed when the test ends.
func newEngine(t testing.TB) *native.Engine {
	t.Helper()
	eng, err := native.New(native.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// backendEnv is a service and how to reach the engine behind it.
type backendEnv struct {
	svc backend.Service
	eng *native.Engine
	// host and port are those of the queue URLs (server.address/port).
	host string
	port int
	// requestIDs has the request ids the wire server sent; nil in process.
	requestIDs *idRecorder
}

// inProcess is the native engine in process.
func inProcess(t testing.TB) backendEnv {
	eng := newEngine(t)
	return backendEnv{svc: eng, eng: eng, host: "localhost", port: 9324}
}

// overServe is the AWS adapter talking to postbox serve's wire server, in
// front of a native engine, on a loopback HTTP server.
func overServe(t testing.TB) backendEnv {
	t.Helper()
	eng := newEngine(t)
	srv, err := server.New(server.Config{Service: eng, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rec := &idRecorder{next: srv, ids: map[string]string{}}
	hs := httptest.NewServer(rec)
	svc, err := awssqs.OpenEndpoint(context.Background(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		eng.Close() // answers parked long polls, so the HTTP server can close
		hs.Close()
	})
	addr := hs.Listener.Addr().(interface{ String() string }).String()
	host, port := splitHostPort(t, addr)
	return backendEnv{svc: svc, eng: eng, host: host, port: port, requestIDs: rec}
}

// idRecorder is an http.Handler in front of the wire server that notes the
// x-amzn-RequestId of each answer, by action, as the answer's header goes
// out (before the client can see it).
type idRecorder struct {
	next http.Handler
	mu   sync.Mutex
	ids  map[string]string // X-Amz-Target -> the last answer's request id
}

func (rec *idRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.next.ServeHTTP(&idWriter{ResponseWriter: w, rec: rec, action: r.Header.Get("X-Amz-Target")}, r)
}

// last returns the request id of the last answer to action
// ("AmazonSQS.SendMessageBatch", ...).
func (rec *idRecorder) last(action string) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.ids[action]
}

type idWriter struct {
	http.ResponseWriter
	rec    *idRecorder
	action string
	noted  bool
}

func (w *idWriter) note() {
	if !w.noted {
		w.noted = true
		w.rec.mu.Lock()
		w.rec.ids[w.action] = w.Header().Get("X-Amzn-Requestid")
		w.rec.mu.Unlock()
	}
}

func (w *idWriter) WriteHeader(code int) { w.note(); w.ResponseWriter.WriteHeader(code) }

func (w *idWriter) Write(b []byte) (int, error) { w.note(); return w.ResponseWriter.Write(b) }

func (w *idWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (e backendEnv) queue(t testing.TB, name string, attrs backend.Attributes) backend.Queue {
	t.Helper()
	url, err := e.svc.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.svc.Queue(url)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func baggageValue(ctx context.Context, key string) string {
	return baggage.FromContext(ctx).Member(key).Value()
}
