package telemetry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// Queue returns q traced and measured: every call gets a span and records
// messaging.client.operation.duration, as the package documentation
// describes. Send also writes the send span's context into the entries that
// carry none. Receive asks for the attributes that carry trace contexts
// (the propagator's fields and AWSTraceHeader) on top of those requested,
// so its messages may carry them even when the caller did not ask. Each
// call asks q for its backend.CallInfo (backend.WithCallInfo), so that the
// span gets aws.request_id when q reports one; a CallInfo the caller put in
// ctx is filled as well.
// Give the returned queue to the consumer and the producer in place of q.
func (t *Telemetry) Queue(q backend.Queue) backend.Queue {
	return &tracedQueue{q: q, t: t, d: t.dest(q.URL())}
}

// tracedQueue is the backend.Queue that Telemetry.Queue returns.
type tracedQueue struct {
	q backend.Queue
	t *Telemetry
	d *dest
}

var _ backend.Queue = (*tracedQueue)(nil)

// URL returns the queue's URL.
func (tq *tracedQueue) URL() string { return tq.q.URL() }

// Unwrap returns the queue that tq traces.
func (tq *tracedQueue) Unwrap() backend.Queue { return tq.q }

// start starts a span of op.
func (tq *tracedQueue) start(ctx context.Context, op string, kind trace.SpanKind, n int, links []trace.Link) (context.Context, trace.Span) {
	attrs := tq.d.spanAttrs(op)
	if n != 1 { // the conventions keep the count for batches of several
		attrs = append(attrs, semconv.MessagingBatchMessageCount(n))
	}
	return tq.t.tracer.Start(ctx, op+" "+tq.d.name,
		trace.WithSpanKind(kind), trace.WithAttributes(attrs...), trace.WithLinks(links...))
}

// end ends span and records the call's duration; err is the call's error
// and info what the backend told of the call: its request id, when it has
// one, becomes aws.request_id, whether the call failed or not.
// purpose is the consumer.Purpose of the call ("" for none), which the
// duration metric carries.
func (tq *tracedQueue) end(ctx context.Context, span trace.Span, op string, began time.Time, err error, info *backend.CallInfo, purpose consumer.Purpose) {
	if info.RequestID != "" {
		span.SetAttributes(semconv.AWSRequestID(info.RequestID))
	}
	errType := ErrorType(err)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	}
	tq.t.inst.opDuration.RecordSet(ctx, time.Since(began).Seconds(), tq.d.purposeSet(op, errType, purpose))
	span.End()
}

// entryFailures notes the entries that failed on their own on span and in
// postbox.client.entry_errors.
func (tq *tracedQueue) entryFailures(ctx context.Context, span trace.Span, op string, codesByEntry []string, purpose consumer.Purpose) {
	failed, first := 0, ""
	for _, c := range codesByEntry {
		if c == "" {
			continue
		}
		if failed == 0 {
			first = c
		}
		failed++
		tq.t.inst.entryErrors.Add(ctx, 1, metric.WithAttributeSet(tq.d.purposeSet(op, c, purpose)))
	}
	if failed > 0 {
		span.SetStatus(codes.Error, fmt.Sprintf("%d of %d entries failed; first: %s", failed, len(codesByEntry), first))
	}
}

// Send traces a SendMessageBatch call as a PRODUCER span "send {queue}".
// Entries that carry a trace context (from producer.Config.Prepare, or
// InjectEntry) are linked; the others get the send span's context. Entries
// are copied before they change.
func (tq *tracedQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	var links []trace.Link
	carriers := make([]bool, len(entries))
	total := 0
	for i := range entries {
		e := &entries[i]
		total += backend.MessageSize(e.Body, e.MessageAttributes)
		m := backend.Message{MessageAttributes: e.MessageAttributes}
		if h, ok := e.MessageSystemAttributes[awsTraceHeader]; ok {
			m.Attributes = map[string]string{awsTraceHeader: h.StringValue}
		}
		if sc, _ := tq.t.extract(&m); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
			carriers[i] = true
		}
	}
	began := time.Now()
	ctx, span := tq.start(ctx, opSend, trace.SpanKindProducer, len(entries), links)
	ctx, info := backend.WithCallInfo(ctx)
	if c, ok := tq.t.carry(ctx); ok && slices.Contains(carriers, false) {
		out := slices.Clone(entries)
		for i := range out {
			if carriers[i] {
				continue
			}
			before := backend.MessageSize(out[i].Body, out[i].MessageAttributes)
			// The batch as a whole must stay within the size limit too.
			if tq.t.injectEntry(c, &out[i], backend.MaxMessageSize-total) {
				total += backend.MessageSize(out[i].Body, out[i].MessageAttributes) - before
			}
		}
		entries = out
	}
	res, err := tq.q.Send(ctx, entries)
	if err == nil {
		if len(res) == 1 && res[0].Err == nil {
			span.SetAttributes(semconv.MessagingMessageID(res[0].MessageID))
		}
		failures := make([]string, len(res))
		for i, r := range res {
			failures[i] = ErrorType(r.Err) // "" on success
		}
		tq.entryFailures(ctx, span, opSend, failures, "")
		tq.countSent(ctx, failures)
	} else {
		tq.t.inst.sent.AddSet(ctx, int64(len(entries)), tq.d.set(opSend, ErrorType(err)))
	}
	tq.end(ctx, span, opSend, began, err, info, "")
	return res, err
}

// countSent adds a send call's entries to messaging.client.sent.messages,
// the failed ones with their error code as error.type.
func (tq *tracedQueue) countSent(ctx context.Context, failures []string) {
	ok := 0
	for _, c := range failures {
		if c == "" {
			ok++
			continue
		}
		tq.t.inst.sent.AddSet(ctx, 1, tq.d.set(opSend, c))
	}
	if ok > 0 {
		tq.t.inst.sent.AddSet(ctx, int64(ok), tq.d.sets[opSend])
	}
}

// Receive traces a ReceiveMessage call as a CLIENT span "receive {queue}"
// with a link to the producer context of each message received.
func (tq *tracedQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	req.MessageAttributeNames = tq.withNames(req.MessageAttributeNames, tq.t.prop.Fields())
	if tq.t.xray {
		req.SystemAttributeNames = tq.withNames(req.SystemAttributeNames, []string{awsTraceHeader})
	}
	began := time.Now()
	ctx, span := tq.t.tracer.Start(ctx, opReceive+" "+tq.d.name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(tq.d.spanAttrs(opReceive)...))
	ctx, info := backend.WithCallInfo(ctx)
	msgs, err := tq.q.Receive(ctx, req)
	if err == nil {
		if len(msgs) == 1 {
			span.SetAttributes(semconv.MessagingMessageID(msgs[0].MessageID))
		} else {
			span.SetAttributes(semconv.MessagingBatchMessageCount(len(msgs)))
		}
		for _, m := range msgs {
			if sc, _ := tq.t.extract(m); sc.IsValid() {
				span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{semconv.MessagingMessageID(m.MessageID)}})
			}
		}
		tq.t.inst.batchSize.Record(ctx, int64(len(msgs)), metric.WithAttributeSet(tq.d.sets[opReceive]))
		if len(msgs) > 0 {
			tq.t.inst.consumed.AddSet(ctx, int64(len(msgs)), tq.d.sets[opReceive])
		}
	}
	recorded := err
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The caller gave up the wait (a consumer shutting down): not a
		// failure of the queue.
		recorded = nil
	}
	tq.end(ctx, span, opReceive, began, recorded, info, "")
	return msgs, err
}

// withNames returns names with want added, unless names already asks for
// every attribute; names itself is never changed.
func (tq *tracedQueue) withNames(names, want []string) []string {
	if slices.Contains(names, "All") || slices.Contains(names, ".*") {
		return names
	}
	var out []string
	for _, w := range want {
		if !slices.Contains(names, w) {
			if out == nil {
				out = slices.Clone(names)
			}
			out = append(out, w)
		}
	}
	if out == nil {
		return names
	}
	return out
}

// Delete traces a DeleteMessageBatch call (an acknowledgement) as a CLIENT
// span "delete {queue}" of operation type settle.
func (tq *tracedQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	began := time.Now()
	ctx, span := tq.start(ctx, opDelete, trace.SpanKindClient, len(entries), nil)
	ctx, info := backend.WithCallInfo(ctx)
	res, err := tq.q.Delete(ctx, entries)
	tq.settled(ctx, span, opDelete, began, res, err, info)
	return res, err
}

// ChangeVisibility traces a ChangeMessageVisibilityBatch call (a heartbeat,
// a backoff or a release) as a CLIENT span "change_visibility {queue}" of
// operation type settle.
func (tq *tracedQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	began := time.Now()
	ctx, span := tq.start(ctx, opVisibility, trace.SpanKindClient, len(entries), nil)
	ctx, info := backend.WithCallInfo(ctx)
	res, err := tq.q.ChangeVisibility(ctx, entries)
	tq.settled(ctx, span, opVisibility, began, res, err, info)
	return res, err
}

// settled ends the span of a Delete or ChangeVisibility call. When the
// call comes from a consumer.Server, its consumer.Purpose (ack, heartbeat,
// release) goes on the span and on the call's metrics as
// postbox.consumer.purpose, so that ack and heartbeat latency and errors can
// be told apart.
func (tq *tracedQueue) settled(ctx context.Context, span trace.Span, op string, began time.Time, res []backend.EntryResult, err error, info *backend.CallInfo) {
	purpose := consumer.PurposeFrom(ctx)
	if purpose != "" {
		span.SetAttributes(PurposeKey.String(string(purpose)))
	}
	if err == nil {
		failures := make([]string, len(res))
		for i, r := range res {
			failures[i] = ErrorType(r.Err) // "" on success
		}
		tq.entryFailures(ctx, span, op, failures, purpose)
	}
	tq.end(ctx, span, op, began, err, info, purpose)
}
