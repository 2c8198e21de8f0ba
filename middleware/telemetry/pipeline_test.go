package telemetry_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

func splitHostPort(t testing.TB, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, port
}

// handled is what a handler saw of one message.
type handled struct {
	body string
	span trace.SpanContext // the span in the handler's context
}

// consume runs a consumer over q with the telemetry middleware until n
// messages were handled, then shuts it down (flushing deletes).
func consume(t *testing.T, tel *telemetry.Telemetry, q backend.Queue, n int, h consumer.HandlerFunc) []handled {
	t.Helper()
	got := make(chan handled, n)
	handler := consumer.HandlerFunc(func(ctx context.Context, m *consumer.Message) error {
		var err error
		if h != nil {
			err = h(ctx, m)
		}
		got <- handled{body: m.Body, span: trace.SpanContextFromContext(ctx)}
		return err
	})
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(handler, tel.Middleware()),
			Concurrency: 4,
			WaitTime:    time.Second,
			AckMaxDelay: -1,
		}},
		OnError: func(error) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	var out []handled
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case h := <-got:
			out = append(out, h)
		case <-timeout:
			cancel()
			<-ran
			t.Fatalf("handled %d of %d messages", len(out), n)
		}
	}
	cancel()
	if err := <-ran; err != nil && !errors.Is(err, consumer.ErrServerClosed) {
		t.Fatalf("Run: %v", err)
	}
	return out
}

// TestTraceAcrossProducerAndConsumer produces messages inside a request
// span in one goroutine and consumes them in another, in process and
// across postbox serve through the AWS adapter, in both parent modes, and
// checks the spans' parents, links, kinds and attributes.
func TestTraceAcrossProducerAndConsumer(t *testing.T) {
	for _, env := range []struct {
		name string
		open func(testing.TB) backendEnv
	}{{"in-process", inProcess}, {"postbox-serve", overServe}} {
		for _, mode := range []struct {
			name string
			mode telemetry.ParentMode
		}{{"link", telemetry.LinkToProducer}, {"parent", telemetry.ChildOfProducer}} {
			t.Run(env.name+"/"+mode.name, func(t *testing.T) {
				be := env.open(t)
				r := newRig(t, telemetry.Config{ParentMode: mode.mode})
				q := be.queue(t, "jobs", nil)
				tq := r.tel.Queue(q)

				// The producer: one request sends two messages through the
				// auto-batching producer, from its own goroutine.
				var request trace.SpanContext
				var wg sync.WaitGroup
				wg.Go(func() {
					ctx, span := r.tp.Tracer("app").Start(context.Background(), "request")
					defer span.End()
					request = span.SpanContext()
					p := producer.New(tq, producer.Config{Prepare: r.tel.PrepareMessage})
					defer p.Close()
					var sends sync.WaitGroup
					for i := range 2 {
						sends.Go(func() {
							if _, err := p.Send(ctx, producer.Message{Body: "job-" + strconv.Itoa(i)}); err != nil {
								t.Error(err)
							}
						})
					}
					sends.Wait()
				})
				wg.Wait()

				got := consume(t, r.tel, tq, 2, nil)
				spans := r.spans.GetSpans()

				creates := byName(spans, "create jobs")
				if len(creates) != 2 {
					t.Fatalf("%d create spans, want 2: %v", len(creates), names(spans))
				}
				for _, c := range creates {
					if c.SpanKind != trace.SpanKindProducer || c.Parent.SpanID() != request.SpanID() || c.SpanContext.TraceID() != request.TraceID() {
						t.Errorf("create span: kind %v, parent %v; want PRODUCER, child of the request", c.SpanKind, c.Parent.SpanID())
					}
					checkAttrs(t, c, be, "create", "create")
				}
				sends := byName(spans, "send jobs")
				linked := 0
				for _, s := range sends {
					if s.SpanKind != trace.SpanKindProducer {
						t.Errorf("send span kind %v", s.SpanKind)
					}
					checkAttrs(t, s, be, "send", "send")
					for _, c := range creates {
						if linksTo(s, c.SpanContext) {
							linked++
						}
					}
				}
				if linked != 2 {
					t.Errorf("send spans link to %d of the 2 create spans", linked)
				}

				receivedLinks := 0
				for _, rs := range byName(spans, "receive jobs") {
					if rs.SpanKind != trace.SpanKindClient {
						t.Errorf("receive span kind %v", rs.SpanKind)
					}
					checkAttrs(t, rs, be, "receive", "receive")
					for _, c := range creates {
						if linksTo(rs, c.SpanContext) {
							receivedLinks++
							if id, ok := attr(rs, semconv.AWSRequestIDKey); be.requestIDs != nil && (!ok || id.AsString() == "") {
								t.Errorf("a receive span with messages has no aws.request_id over the wire")
							}
						}
					}
				}
				if receivedLinks != 2 {
					t.Errorf("receive spans link to %d of the 2 create spans", receivedLinks)
				}

				procs := byName(spans, "process jobs")
				if len(procs) != 2 {
					t.Fatalf("%d process spans, want 2: %v", len(procs), names(spans))
				}
				for _, p := range procs {
					if p.SpanKind != trace.SpanKindConsumer {
						t.Errorf("process span kind %v", p.SpanKind)
					}
					checkAttrs(t, p, be, "process", "process")
					if id, ok := attr(p, semconv.MessagingMessageIDKey); !ok || id.AsString() == "" {
						t.Errorf("process span has no messaging.message.id")
					}
					var creator *trace.SpanContext
					for _, c := range creates {
						switch mode.mode {
						case telemetry.ChildOfProducer:
							if p.Parent.SpanID() == c.SpanContext.SpanID() {
								creator = &c.SpanContext
							}
						case telemetry.LinkToProducer:
							if linksTo(p, c.SpanContext) {
								creator = &c.SpanContext
							}
						}
					}
					if creator == nil {
						t.Errorf("process span (parent %v, links %v) is not tied to a create span", p.Parent, p.Links)
						continue
					}
					sameTrace := p.SpanContext.TraceID() == request.TraceID()
					if want := mode.mode == telemetry.ChildOfProducer; sameTrace != want {
						t.Errorf("process span in the request's trace: %v, want %v", sameTrace, want)
					}
					if mode.mode == telemetry.LinkToProducer && p.Parent.IsValid() {
						t.Errorf("process span has parent %v, want a root", p.Parent)
					}
				}
				for _, h := range got {
					found := false
					for _, p := range procs {
						found = found || p.SpanContext.SpanID() == h.span.SpanID()
					}
					if !found {
						t.Errorf("handler of %s ran outside its process span", h.body)
					}
				}

				deletes := byName(spans, "delete jobs")
				if len(deletes) == 0 {
					t.Errorf("no delete span: %v", names(spans))
				}
				for _, d := range deletes {
					if d.SpanKind != trace.SpanKindClient {
						t.Errorf("delete span kind %v", d.SpanKind)
					}
					checkAttrs(t, d, be, "delete", "settle")
					if v, ok := attr(d, telemetry.PurposeKey); !ok || v.AsString() != "ack" {
						t.Errorf("delete span %s = %v, want ack", telemetry.PurposeKey, v.Emit())
					}
				}

				m := r.metrics(t)
				base := []attribute.KeyValue{semconv.MessagingSystemAWSSQS, semconv.MessagingDestinationName("jobs")}
				if p, ok := find(m["messaging.client.sent.messages"], base...); !ok || p.value != 2 || hasKey(p, semconv.ErrorTypeKey) {
					t.Errorf("messaging.client.sent.messages = %+v, want 2", p)
				}
				if p, ok := find(m["messaging.client.consumed.messages"], base...); !ok || p.value != 2 {
					t.Errorf("messaging.client.consumed.messages = %+v, want 2", p)
				}
				if p, ok := find(m["messaging.process.duration"], base...); !ok || p.count != 2 {
					t.Errorf("messaging.process.duration count = %+v, want 2", p)
				}
				for _, op := range []string{"send", "receive", "delete"} {
					if p, ok := find(m["messaging.client.operation.duration"], append(base, semconv.MessagingOperationName(op))...); !ok || p.count == 0 {
						t.Errorf("messaging.client.operation.duration{%s} = %+v", op, p)
					}
				}
				if p, ok := find(m["messaging.client.operation.duration"], append(base, semconv.MessagingOperationName("delete"), telemetry.PurposeKey.String("ack"))...); !ok || p.count == 0 {
					t.Errorf("messaging.client.operation.duration{delete, ack} = %+v", p)
				}
				if p, ok := find(m["postbox.consumer.in_flight"], base...); !ok || p.value != 0 {
					t.Errorf("postbox.consumer.in_flight = %+v, want 0 after the handlers", p)
				}
				if p, ok := find(m["postbox.consumer.queue_time"], base...); !ok || p.count != 2 {
					t.Errorf("postbox.consumer.queue_time = %+v, want 2 observations", p)
				}
			})
		}
	}
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// checkAttrs checks the attributes every span of a queue has.
func checkAttrs(t *testing.T, s tracetest.SpanStub, be backendEnv, op, typ string) {
	t.Helper()
	want := map[attribute.Key]attribute.Value{
		semconv.MessagingSystemKey:          attribute.StringValue("aws_sqs"),
		semconv.MessagingDestinationNameKey: attribute.StringValue("jobs"),
		semconv.MessagingOperationNameKey:   attribute.StringValue(op),
		semconv.MessagingOperationTypeKey:   attribute.StringValue(typ),
		semconv.ServerAddressKey:            attribute.StringValue(be.host),
		semconv.ServerPortKey:               attribute.IntValue(be.port),
	}
	for k, v := range want {
		if got, ok := attr(s, k); !ok || got != v {
			t.Errorf("%s: %s = %v, want %v", s.Name, k, got.Emit(), v.Emit())
		}
	}
	if u, ok := attr(s, semconv.AWSSQSQueueURLKey); !ok || u.AsString() == "" {
		t.Errorf("%s: no aws.sqs.queue.url", s.Name)
	}
	// Request ids: only calls answered over the wire have them. (A receive
	// that the consumer's shutdown cancels got no answer: see the caller.)
	id, ok := attr(s, semconv.AWSRequestIDKey)
	switch {
	case be.requestIDs == nil && ok:
		t.Errorf("%s: aws.request_id = %q in process", s.Name, id.AsString())
	case be.requestIDs != nil && (op == "send" || op == "delete") && (!ok || id.AsString() == ""):
		t.Errorf("%s: no aws.request_id over the wire", s.Name)
	}
}
