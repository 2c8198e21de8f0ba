package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

func message(queueURL string, receiveCount int, sentAgo time.Duration) *consumer.Message {
	now := time.Now()
	m := &consumer.Message{QueueURL: queueURL, ReceiveCount: receiveCount, ReceivedAt: now, SentAt: now.Add(-sentAgo)}
	m.MessageID = fmt.Sprintf("id-%d", receiveCount)
	m.Body = "body"
	return m
}

// TestMiddlewareMetrics runs handlers through the middleware and checks the
// consumer's metrics and the process spans' outcome.
func TestMiddlewareMetrics(t *testing.T) {
	const url = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"
	r := newRig(t, telemetry.Config{MaxReceiveCount: 3})
	fail := errors.New("boom")
	h := consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, m *consumer.Message) error {
		switch m.Body {
		case "fail":
			return fail
		case "throttled":
			return backend.ErrRequestThrottled
		case "permanent":
			return consumer.Permanent(fail)
		case "panic":
			panic("handler panicked")
		}
		return nil
	}), r.tel.Middleware())
	for _, tc := range []struct {
		body    string
		count   int
		sentAgo time.Duration
		want    string // error.type
	}{
		{"ok", 1, 2 * time.Second, ""},
		{"ok", 2, 3 * time.Second, ""},
		{"fail", 3, 5 * time.Second, "*errors.errorString"},
		{"throttled", 1, 0, "RequestThrottled"},
		{"permanent", 4, 0, "permanent"},
	} {
		m := message(url, tc.count, tc.sentAgo)
		m.Body = tc.body
		err := h.HandleMessage(context.Background(), m)
		if got := telemetry.ErrorType(err); got != tc.want {
			t.Errorf("%s: error type %q, want %q", tc.body, got, tc.want)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not go on")
			}
		}()
		m := message(url, 1, 0)
		m.Body = "panic"
		h.HandleMessage(context.Background(), m)
	}()

	m := r.metrics(t)
	base := []attribute.KeyValue{semconv.MessagingSystemAWSSQS, semconv.MessagingDestinationName("orders"),
		semconv.ServerAddress("sqs.eu-west-1.amazonaws.com"), semconv.ServerPort(443), semconv.MessagingOperationName("process")}
	for _, tc := range []struct {
		metric string
		attrs  []attribute.KeyValue
		value  float64
		count  uint64
	}{
		{metric: "postbox.consumer.retries", value: 3},       // receive counts 2, 3, 4
		{metric: "postbox.consumer.last_attempts", value: 2}, // 3 and 4, at or above maxReceiveCount 3
		{metric: "postbox.consumer.in_flight", value: 0},     // every handler ended, the panicking one too
		{metric: "postbox.consumer.queue_time", value: 10, count: 6},
		{metric: "messaging.process.duration", count: 2}, // the successes
		{metric: "messaging.process.duration", attrs: []attribute.KeyValue{semconv.ErrorTypeKey.String("RequestThrottled")}, count: 1},
		{metric: "messaging.process.duration", attrs: []attribute.KeyValue{semconv.ErrorTypeKey.String("permanent")}, count: 1},
		{metric: "messaging.process.duration", attrs: []attribute.KeyValue{semconv.ErrorTypeKey.String("panic")}, count: 1},
		{metric: "messaging.process.duration", attrs: []attribute.KeyValue{semconv.ErrorTypeKey.String("*errors.errorString")}, count: 1},
	} {
		var p point
		found := false
		for _, q := range points(m[tc.metric]) {
			match := true
			for _, kv := range append(base, tc.attrs...) {
				if v, ok := q.attrs.Value(kv.Key); !ok || v != kv.Value {
					match = false
				}
			}
			if match && (len(tc.attrs) > 0 || !hasKey(q, semconv.ErrorTypeKey)) {
				p, found = q, true
			}
		}
		if !found {
			t.Errorf("%s%v: no data point in %+v", tc.metric, tc.attrs, points(m[tc.metric]))
			continue
		}
		if tc.count > 0 {
			if p.count != tc.count {
				t.Errorf("%s%v: count %d, want %d", tc.metric, tc.attrs, p.count, tc.count)
			}
			if tc.value > 0 && (p.value < tc.value || p.value > tc.value+0.5) {
				t.Errorf("%s%v: sum %v, want about %v", tc.metric, tc.attrs, p.value, tc.value)
			}
		} else if p.value != tc.value {
			t.Errorf("%s%v: %v, want %v", tc.metric, tc.attrs, p.value, tc.value)
		}
	}

	spans := byName(r.spans.GetSpans(), "process orders")
	if len(spans) != 6 {
		t.Fatalf("%d process spans", len(spans))
	}
	failed := 0
	for _, s := range spans {
		if s.Status.Code == codes.Error {
			failed++
			if _, ok := attr(s, semconv.ErrorTypeKey); !ok {
				t.Errorf("failed span without error.type")
			}
		}
		if s.Parent.IsValid() || len(s.Links) != 0 {
			t.Errorf("a message without a context gave parent %v, links %v", s.Parent, s.Links)
		}
		if v, ok := attr(s, telemetry.ReceiveCountKey); !ok || v.AsInt64() < 1 {
			t.Errorf("no receive count on the span")
		}
	}
	if failed != 4 {
		t.Errorf("%d failed spans, want 4", failed)
	}
}

// TestLastAttemptsFromRedrivePolicy checks that the middleware reads each
// queue's maxReceiveCount from its RedrivePolicy when told no number.
func TestLastAttemptsFromRedrivePolicy(t *testing.T) {
	be := inProcess(t)
	be.queue(t, "dlq", nil)
	q := be.queue(t, "jobs", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"2"}`})
	plain := be.queue(t, "plain", nil)
	r := newRig(t, telemetry.Config{Service: be.svc})
	h := consumer.Chain(consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }), r.tel.Middleware())
	for _, c := range []int{1, 2, 3} {
		h.HandleMessage(context.Background(), message(q.URL(), c, 0))
		h.HandleMessage(context.Background(), message(plain.URL(), c, 0))
	}
	m := r.metrics(t)["postbox.consumer.last_attempts"]
	if p, ok := find(m, semconv.MessagingDestinationName("jobs")); !ok || p.value != 2 {
		t.Errorf("last attempts on jobs = %+v, want 2", p)
	}
	if p, ok := find(m, semconv.MessagingDestinationName("plain")); ok {
		t.Errorf("last attempts on a queue without RedrivePolicy: %+v", p)
	}
}

// TestQueueSendInjectsAndLinks checks the send span: a child of the
// caller's span, linked to the entries that carry a context, whose
// context goes into the entries that carry none; and that the caller's
// entries are not changed.
func TestQueueSendInjectsAndLinks(t *testing.T) {
	be := inProcess(t)
	q := be.queue(t, "jobs", nil)
	r := newRig(t, telemetry.Config{})
	tq := r.tel.Queue(q)
	ctx, req := r.tp.Tracer("app").Start(context.Background(), "request")
	other := spanContext(t, "")
	carried := backend.SendEntry{ID: "a", Body: "carried"}
	r.tel.InjectEntry(other, &carried)
	entries := []backend.SendEntry{carried, {ID: "b", Body: "bare"}}
	res, err := tq.Send(ctx, entries)
	req.End()
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	if entries[1].MessageAttributes != nil || entries[1].MessageSystemAttributes != nil {
		t.Error("the caller's entry changed")
	}
	sends := byName(r.spans.GetSpans(), "send jobs")
	if len(sends) != 1 {
		t.Fatalf("%d send spans", len(sends))
	}
	s := sends[0]
	if s.Parent.SpanID() != req.SpanContext().SpanID() {
		t.Errorf("send span parent %v, want the request", s.Parent.SpanID())
	}
	if len(s.Links) != 1 || !linksTo(s, trace.SpanContextFromContext(other)) {
		t.Errorf("send span links %v, want the carried entry's context", s.Links)
	}
	if v, ok := attr(s, semconv.MessagingBatchMessageCountKey); !ok || v.AsInt64() != 2 {
		t.Errorf("messaging.batch.message_count = %v", v.Emit())
	}
	msgs, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0),
		MessageAttributeNames: []string{"All"}, SystemAttributeNames: []string{"All"}})
	if err != nil || len(msgs) != 2 {
		t.Fatal(err, len(msgs))
	}
	for _, m := range msgs {
		pctx, ok := r.tel.ProducerContext(context.Background(), m)
		sc := trace.SpanContextFromContext(pctx)
		want := s.SpanContext
		if m.Body == "carried" {
			want = trace.SpanContextFromContext(other)
		}
		if !ok || sc.SpanID() != want.SpanID() || sc.TraceID() != want.TraceID() {
			t.Errorf("%s carries %v, want %v", m.Body, sc.SpanID(), want.SpanID())
		}
		if m.Attributes["AWSTraceHeader"] == "" {
			t.Errorf("%s has no AWSTraceHeader", m.Body)
		}
	}
}

// TestQueueFailures checks how failed calls and failed entries show in
// spans and metrics.
func TestQueueFailures(t *testing.T) {
	be := inProcess(t)
	q := be.queue(t, "jobs", nil)
	r := newRig(t, telemetry.Config{})
	tq := r.tel.Queue(q)
	ctx := context.Background()

	if _, err := tq.Send(ctx, nil); !errors.Is(err, backend.ErrEmptyBatchRequest) {
		t.Fatalf("empty send: %v", err)
	}
	res, err := tq.Send(ctx, []backend.SendEntry{{ID: "ok", Body: "fine"}, {ID: "bad", Body: "\x00"}})
	if err != nil || res[0].Err != nil || res[1].Err == nil {
		t.Fatal(err, res)
	}
	badCode := backend.Code(res[1].Err)
	dres, err := tq.Delete(ctx, []backend.DeleteEntry{{ID: "x", ReceiptHandle: "forged"}})
	if err != nil || dres[0].Err == nil {
		t.Fatal(err, dres)
	}

	m := r.metrics(t)
	opName := semconv.MessagingOperationName
	if p, ok := find(m["messaging.client.operation.duration"], opName("send"), semconv.ErrorTypeKey.String("EmptyBatchRequest")); !ok || p.count != 1 {
		t.Errorf("failed send call: %+v", p)
	}
	if p, ok := find(m["messaging.client.sent.messages"], semconv.ErrorTypeKey.String(badCode)); !ok || p.value != 1 {
		t.Errorf("sent.messages{error.type=%s} = %+v", badCode, p)
	}
	for _, tc := range []struct {
		op, code string
	}{{"send", badCode}, {"delete", "ReceiptHandleIsInvalid"}} {
		if p, ok := find(m["postbox.client.entry_errors"], opName(tc.op), semconv.ErrorTypeKey.String(tc.code)); !ok || p.value != 1 {
			t.Errorf("entry_errors{%s, %s} = %+v", tc.op, tc.code, p)
		}
	}
	for _, s := range r.spans.GetSpans() {
		if s.Status.Code != codes.Error {
			t.Errorf("%s: status %v, want Error", s.Name, s.Status)
		}
	}
}

// TestDeadLetterMoves checks postbox.engine.dead_letter_moves against the
// native engine.
func TestDeadLetterMoves(t *testing.T) {
	be := inProcess(t)
	be.queue(t, "dlq", nil)
	q := be.queue(t, "jobs", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":1}`})
	r := newRig(t, telemetry.Config{})
	reg, err := r.tel.ObserveDeadLetters(be.eng)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()
	ctx := context.Background()
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "poison"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second receive moves it
		if _, err := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(0)}); err != nil {
			t.Fatal(err)
		}
	}
	if p, ok := find(r.metrics(t)["postbox.engine.dead_letter_moves"]); !ok || p.value != 1 {
		t.Errorf("dead_letter_moves = %+v, want 1", p)
	}
}

// TestReceiveAsksForTheTraceAttributes checks that a receive that asks for
// no attributes still links to the producer's context, in process and over
// the wire, and that the caller's request is not changed.
func TestReceiveAsksForTheTraceAttributes(t *testing.T) {
	for _, env := range []struct {
		name string
		open func(testing.TB) backendEnv
	}{{"in-process", inProcess}, {"postbox-serve", overServe}} {
		for _, cfg := range []telemetry.Config{{}, {PreferAWSTraceHeader: true}} {
			t.Run(fmt.Sprintf("%s/preferXRay=%v", env.name, cfg.PreferAWSTraceHeader), func(t *testing.T) {
				be := env.open(t)
				r := newRig(t, cfg)
				tq := r.tel.Queue(be.queue(t, "jobs", nil))
				ctx, span := r.tp.Tracer("app").Start(context.Background(), "request")
				if _, err := tq.Send(ctx, []backend.SendEntry{{ID: "1", Body: "x"}}); err != nil {
					t.Fatal(err)
				}
				span.End()
				req := backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: []string{"SentTimestamp"}}
				msgs, err := tq.Receive(context.Background(), req)
				if err != nil || len(msgs) != 1 {
					t.Fatal(err, len(msgs))
				}
				if len(req.SystemAttributeNames) != 1 || req.MessageAttributeNames != nil {
					t.Errorf("the caller's request changed: %+v", req)
				}
				send := byName(r.spans.GetSpans(), "send jobs")[0]
				recv := byName(r.spans.GetSpans(), "receive jobs")[0]
				if !linksTo(recv, send.SpanContext) {
					t.Errorf("receive links %v, want the send span %v", recv.Links, send.SpanContext.SpanID())
				}
			})
		}
	}
}
