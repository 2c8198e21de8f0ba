package metrics_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/backend/native/server/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs an engine, the SQS server and /metrics on one loopback port.
func serve(t *testing.T, cfg native.Config) (base string, eng *native.Engine) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	cfg.BaseURL = base
	eng, err = native.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New(metrics.Config{Engine: eng, Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng, Observe: m.Observe})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("/", srv)
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	t.Cleanup(func() {
		hs.Shutdown(context.Background())
		eng.Close()
	})
	return base, eng
}

// scrape GETs /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value returns the value of the family's metric with these labels, and
// whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for k, v := range labels {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestScrape(t *testing.T) {
	base, _ := serve(t, native.Config{DataDir: t.TempDir()})
	ctx := context.Background()
	svc, err := awssqs.OpenEndpoint(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	u, err := svc.CreateQueue(ctx, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := svc.Queue(u)
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "a"}, {ID: "2", Body: "b"}, {ID: "3", Body: "c"}}); err != nil {
		t.Fatal(err)
	}
	ms, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)})
	if err != nil || len(ms) != 1 {
		t.Fatalf("receive: %v %v", ms, err)
	}
	if _, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "1", ReceiptHandle: ms[0].ReceiptHandle}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.QueueURL(ctx, "nope", ""); err == nil {
		t.Fatal("QueueURL of a missing queue succeeded")
	}

	fams := scrape(t, base)
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"postbox_queue_messages", map[string]string{"queue": "jobs", "state": "visible"}, 2},
		{"postbox_queue_messages", map[string]string{"queue": "jobs", "state": "inflight"}, 0},
		{"postbox_queue_messages", map[string]string{"queue": "jobs", "state": "delayed"}, 0},
		{"postbox_queue_sent_messages_total", map[string]string{"queue": "jobs", "account": "000000000000"}, 3},
		{"postbox_queue_received_messages_total", map[string]string{"queue": "jobs"}, 1},
		{"postbox_queue_deleted_messages_total", map[string]string{"queue": "jobs"}, 1},
		{"postbox_queue_dead_lettered_messages_total", map[string]string{"queue": "jobs"}, 0},
		{"postbox_queues", nil, 1},
		{"postbox_long_polls_waiting", nil, 0},
		{"postbox_sqs_requests_total", map[string]string{"action": "SendMessageBatch"}, 1},
		{"postbox_sqs_requests_total", map[string]string{"action": "GetQueueUrl"}, 1},
		{"postbox_sqs_request_errors_total", map[string]string{"action": "GetQueueUrl", "code": "AWS.SimpleQueueService.NonExistentQueue"}, 1},
		{"postbox_sqs_request_duration_seconds", map[string]string{"action": "ReceiveMessage"}, 1},
		{"postbox_build_info", map[string]string{"version": "v0.0.0-test"}, 1},
	} {
		got, ok := value(fams, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if v, ok := value(fams, "postbox_queue_oldest_message_age_seconds", map[string]string{"queue": "jobs"}); !ok || v < 0 {
		t.Errorf("oldest age %v %v", v, ok)
	}
	// A durable engine: its fsyncs (every acknowledged change synced).
	if n, ok := value(fams, "postbox_storage_fsyncs_total", nil); !ok || n < 1 {
		t.Errorf("fsyncs %v %v", n, ok)
	}
	if n, ok := value(fams, "postbox_storage_fsync_duration_seconds", nil); !ok || n < 1 {
		t.Errorf("fsync histogram count %v %v", n, ok)
	}
	if f := fams["postbox_sqs_request_duration_seconds"]; f.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("latency type %v", f.GetType())
	}
}

func TestMemoryEngineHasNoFsyncs(t *testing.T) {
	base, eng := serve(t, native.Config{})
	if _, err := eng.CreateQueue(context.Background(), "q", nil, nil); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, base)
	if _, ok := fams["postbox_storage_fsyncs_total"]; ok {
		t.Error("a memory engine reports fsyncs")
	}
	if _, ok := value(fams, "postbox_queue_messages", map[string]string{"queue": "q", "state": "visible"}); !ok {
		t.Error("no depth for q")
	}
}

func TestObserveLabelsStayFew(t *testing.T) {
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	m, err := metrics.New(metrics.Config{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	m.Observe("SendMessage", "", 200, 0)
	m.Observe("NoSuchAction123", "InvalidAction", 400, 0)
	m.Observe("", "MissingAction", 400, 0)
	got := m.Counts()
	if len(got) != 3 || got[0].Action != "SendMessage" || got[1].Action != "none" || got[2].Action != "other" || got[2].Errors["InvalidAction"] != 1 {
		t.Fatalf("counts %+v", got)
	}
}

// BenchmarkObserve is what counting costs each SQS request of postbox
// serve (docs/BENCHMARKS.md §9).
func BenchmarkObserve(b *testing.B) {
	eng, err := native.New(native.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	m, err := metrics.New(metrics.Config{Engine: eng})
	if err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe("ReceiveMessage", "", 200, 1234567)
		}
	})
}
