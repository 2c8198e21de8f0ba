package native_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

// openURL opens u with backend.Open and closes the service when the test
// ends.
func openURL(t *testing.T, u string) (backend.Queue, backend.Service) {
	t.Helper()
	q, svc, err := backend.Open(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return q, svc
}

// TestOpenedQueuesReportTheirOwnURLs checks that a queue opened with a
// mem:// or file:// URL reports that URL (canonical: without attributes
// and settings), not an http://localhost:9324 URL of a server that is not
// there, and that the service takes it, and the URL as given, back.
func TestOpenedQueuesReportTheirOwnURLs(t *testing.T) {
	dir := t.TempDir()
	fileURL := (&url.URL{Scheme: "file", Path: dir, RawQuery: "queue=url-jobs"}).String()
	cases := []struct{ open, want, name string }{
		{"mem://url-jobs?VisibilityTimeout=45", "mem://url-jobs", "url-jobs"},
		{"mem://url-orders.fifo", "mem://url-orders.fifo", "url-orders.fifo"},
		{fileURL + "&sync=interval&VisibilityTimeout=45", fileURL, "url-jobs"},
	}
	for _, c := range cases {
		t.Run(c.open, func(t *testing.T) {
			ctx := t.Context()
			q, svc := openURL(t, c.open)
			if q.URL() != c.want {
				t.Errorf("Queue.URL() = %q, want %q", q.URL(), c.want)
			}
			if got, err := svc.QueueURL(ctx, c.name, ""); err != nil || got != c.want {
				t.Errorf("QueueURL(%q) = %q, %v; want %q", c.name, got, err, c.want)
			}
			page, err := svc.ListQueues(ctx, backend.ListQueuesRequest{Prefix: c.name})
			if err != nil || !slices.Contains(page.QueueURLs, c.want) {
				t.Errorf("ListQueues = %v, %v; want it to hold %q", page.QueueURLs, err, c.want)
			}
			// The canonical URL and the one given both reach the queue.
			for _, u := range []string{c.want, c.open} {
				a, err := svc.GetAttributes(ctx, u, []string{"QueueArn"})
				if err != nil || a["QueueArn"] == "" {
					t.Errorf("GetAttributes(%q) = %v, %v", u, a, err)
				}
				h, err := svc.Queue(u)
				if err != nil {
					t.Fatalf("Queue(%q): %v", u, err)
				}
				e := backend.SendEntry{ID: "1", Body: "hi"}
				if backend.IsFIFOName(c.name) {
					e.MessageGroupID, e.MessageDeduplicationID = "g", u
				}
				if res, err := h.Send(ctx, []backend.SendEntry{e}); err != nil || res[0].Err != nil {
					t.Errorf("Send through Queue(%q): %v, %v", u, res, err)
				}
			}
		})
	}

	// A file:// URL of another directory names no queue of this engine.
	_, svc := openURL(t, fileURL)
	other := (&url.URL{Scheme: "file", Path: t.TempDir(), RawQuery: "queue=url-jobs"}).String()
	if _, err := svc.GetAttributes(t.Context(), other, []string{"All"}); backend.Code(err) != backend.CodeQueueDoesNotExist {
		t.Errorf("GetAttributes of another directory's queue: %v, want QueueDoesNotExist", err)
	}
}

// TestOpenEndpointSharesBackendOpensEngines checks that OpenEndpoint's
// services are the engines backend.Open uses: a queue created through one
// is the queue the other opens.
func TestOpenEndpointSharesBackendOpensEngines(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for _, c := range []struct{ endpoint, queueURL string }{
		{"mem://", "mem://ep-jobs"},
		{"file://" + dir, (&url.URL{Scheme: "file", Path: dir, RawQuery: "queue=ep-jobs"}).String()},
	} {
		svc, err := native.OpenEndpoint(ctx, c.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		u, err := svc.CreateQueue(ctx, "ep-jobs", backend.Attributes{"VisibilityTimeout": "77"}, nil)
		if err != nil || u != c.queueURL {
			t.Fatalf("CreateQueue at %s = %q, %v; want %q", c.endpoint, u, err, c.queueURL)
		}
		q, svc2 := openURL(t, c.queueURL)
		if a, err := svc2.GetAttributes(ctx, q.URL(), []string{"VisibilityTimeout"}); err != nil || a["VisibilityTimeout"] != "77" {
			t.Errorf("%s: backend.Open found attributes %v, %v; want the queue OpenEndpoint created", c.endpoint, a, err)
		}
		if err := svc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := native.OpenEndpoint(ctx, "http://127.0.0.1:9324"); err == nil {
		t.Error("OpenEndpoint took an http:// endpoint")
	}
}

// TestLocalQueueSpansHaveNoServer checks that telemetry's spans of a
// mem:// queue name no server (server.address, server.port): there is
// none, and the localhost:9324 they used to carry was postbox serve's
// default address, a different place.
func TestLocalQueueSpansHaveNoServer(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel, err := telemetry.New(telemetry.Config{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := openURL(t, "mem://span-jobs")
	if _, err := tel.Queue(q).Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "x"}}); err != nil {
		t.Fatal(err)
	}
	got := spans.GetSpans()
	if len(got) == 0 {
		t.Fatal("no span")
	}
	for _, s := range got {
		attrs := map[attribute.Key]attribute.Value{}
		for _, a := range s.Attributes {
			attrs[a.Key] = a.Value
		}
		if v, ok := attrs["server.address"]; ok {
			t.Errorf("span %q has server.address %v", s.Name, v.Emit())
		}
		if v, ok := attrs["server.port"]; ok {
			t.Errorf("span %q has server.port %v", s.Name, v.Emit())
		}
		if v := attrs["aws.sqs.queue.url"]; v.AsString() != "mem://span-jobs" {
			t.Errorf("span %q has aws.sqs.queue.url %q", s.Name, v.Emit())
		}
	}
}
