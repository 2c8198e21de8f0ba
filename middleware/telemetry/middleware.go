package telemetry

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/consumer"
)

// ReceiveCountKey is the span attribute of a process span that holds the
// message's ApproximateReceiveCount.
const ReceiveCountKey = attribute.Key("postbox.message.receive_count")

// PurposeKey is the span and metric attribute of a delete or
// change_visibility call made by a consumer.Server: its consumer.Purpose,
// "ack", "heartbeat" or "release".
const PurposeKey = attribute.Key("postbox.consumer.purpose")

// Middleware returns a consumer.Middleware that runs each handler inside a
// CONSUMER span "process {queue}" and records the consumer's metrics (see
// the package documentation). The span links to the context of the
// producer that sent the message, or has it as its parent with
// Config.ParentMode ChildOfProducer. A handler's error marks the span as
// failed, with error.type; the error is returned unchanged.
//
// Put it first (outermost) in the chain, so that the other middleware and
// their logs run inside the span.
func (t *Telemetry) Middleware() consumer.Middleware {
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			return t.process(ctx, msg, next)
		})
	}
}

func (t *Telemetry) process(ctx context.Context, msg *consumer.Message, next consumer.Handler) (err error) {
	d := t.dest(msg.QueueURL)
	attrs := d.spanAttrs(opProcess,
		semconv.MessagingMessageID(msg.MessageID),
		semconv.MessagingMessageBodySize(len(msg.Body)))
	if msg.ReceiveCount > 0 {
		attrs = append(attrs, ReceiveCountKey.Int(msg.ReceiveCount))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
	sc, bg := t.extract(&msg.Message)
	if bg.Len() > 0 {
		ctx = baggage.ContextWithBaggage(ctx, bg)
	}
	if sc.IsValid() {
		if t.mode == ChildOfProducer {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		} else {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	ctx, span := t.tracer.Start(ctx, opProcess+" "+d.name, append(opts, trace.WithAttributes(attrs...))...)

	set := d.sets[opProcess]
	in := &t.inst
	if !msg.SentAt.IsZero() {
		at := msg.ReceivedAt
		if at.IsZero() {
			at = time.Now()
		}
		in.queueTime.Record(ctx, max(at.Sub(msg.SentAt), 0).Seconds(), metric.WithAttributeSet(set))
	}
	if msg.ReceiveCount > 1 {
		in.retries.Add(ctx, 1, metric.WithAttributeSet(set))
	}
	if limit := t.maxReceiveCount(ctx, msg.QueueURL); limit > 0 && msg.ReceiveCount >= limit {
		in.lastAttempts.Add(ctx, 1, metric.WithAttributeSet(set))
	}
	in.inFlight.Add(ctx, 1, metric.WithAttributeSet(set))
	began := time.Now()
	done := false
	defer func() {
		if !done { // the handler panicked: record it, then let it go on
			t.finish(ctx, span, d, began, &consumer.PanicError{Value: "panic"})
		}
	}()
	err = next.HandleMessage(ctx, msg)
	done = true
	t.finish(ctx, span, d, began, err)
	return err
}

// finish ends a process span and records its metrics.
func (t *Telemetry) finish(ctx context.Context, span trace.Span, d *dest, began time.Time, err error) {
	elapsed := time.Since(began)
	t.inst.inFlight.Add(ctx, -1, metric.WithAttributeSet(d.sets[opProcess]))
	errType := ErrorType(err)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	}
	t.inst.process.RecordSet(ctx, elapsed.Seconds(), d.set(opProcess, errType))
	span.End()
}

// redrive is one queue's maxReceiveCount, read once.
type redrive struct {
	once sync.Once
	max  int
}

// maxReceiveCount is the queue's maxReceiveCount, 0 when unknown.
func (t *Telemetry) maxReceiveCount(ctx context.Context, queueURL string) int {
	if t.maxReceives > 0 || t.svc == nil {
		return t.maxReceives
	}
	v, _ := t.redrive.LoadOrStore(queueURL, &redrive{})
	r := v.(*redrive)
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		attrs, err := t.svc.GetAttributes(ctx, queueURL, []string{"RedrivePolicy"})
		if err == nil {
			r.max = parseMaxReceiveCount(attrs["RedrivePolicy"])
		}
	})
	return r.max
}

// parseMaxReceiveCount reads maxReceiveCount from a RedrivePolicy, where
// SQS gives it as a string or a number; 0 when there is none.
func parseMaxReceiveCount(policy string) int {
	if policy == "" {
		return 0
	}
	var p struct {
		MaxReceiveCount json.RawMessage `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(policy), &p) != nil {
		return 0
	}
	s := string(p.MaxReceiveCount)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
