package telemetry

import (
	"context"
	"maps"
	"strings"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/producer"
)

// attrCarrier reads message attributes as a propagation.TextMapCarrier.
type attrCarrier map[string]backend.MessageAttributeValue

func (c attrCarrier) Get(key string) string {
	v, ok := c[key]
	if !ok || !strings.HasPrefix(v.DataType, "String") {
		return ""
	}
	return v.StringValue
}

func (c attrCarrier) Set(key, value string) {
	c[key] = backend.MessageAttributeValue{DataType: "String", StringValue: value}
}

func (c attrCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// carried is a trace context as it would be written into one message.
type carried struct {
	attrs  map[string]string // the propagator's fields
	header string            // AWSTraceHeader; empty when disabled
}

// carry renders the span context of ctx for messages; ok is false when ctx
// has no valid span context.
func (t *Telemetry) carry(ctx context.Context) (c carried, ok bool) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return c, false
	}
	mc := propagation.MapCarrier{}
	t.prop.Inject(ctx, mc)
	c.attrs = mc
	if t.xray {
		xc := propagation.MapCarrier{}
		xrayProp.Inject(ctx, xc)
		c.header = xc[xrayKey]
	}
	return c, true
}

// hasContext reports whether attrs already carry one of the propagator's
// fields.
func (t *Telemetry) hasContext(attrs map[string]backend.MessageAttributeValue) bool {
	for k := range attrs {
		if t.propFields[k] {
			return true
		}
	}
	return false
}

// extraBytes is what c's attributes add to a message's size.
func (c carried) extraBytes() int {
	n := 0
	for k, v := range c.attrs {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// fits reports whether c's attributes can join attrs: SQS takes at most 10
// message attributes, and at most backend.MaxMessageSize bytes of body and
// attributes (size is the message's current size, room what it may grow).
func (c carried) fits(attrs map[string]backend.MessageAttributeValue, room int) bool {
	n := len(attrs)
	for k := range c.attrs {
		if _, dup := attrs[k]; !dup {
			n++
		}
	}
	return n <= backend.MaxMessageAttributes && c.extraBytes() <= room
}

// withAttrs returns a copy of attrs with c's attributes added.
func (c carried) withAttrs(attrs map[string]backend.MessageAttributeValue) map[string]backend.MessageAttributeValue {
	out := make(map[string]backend.MessageAttributeValue, len(attrs)+len(c.attrs))
	maps.Copy(out, attrs)
	for k, v := range c.attrs {
		out[k] = backend.MessageAttributeValue{DataType: "String", StringValue: v}
	}
	return out
}

// InjectMessage writes the span context of ctx into m for
// producer.Message: the propagator's fields (W3C traceparent and
// tracestate by default) as message attributes, and the X-Ray header as
// TraceHeader (AWSTraceHeader). It copies m.Attributes rather than change
// the caller's map. A message that already carries a context (any of the
// propagator's fields, or a TraceHeader) keeps it and gets nothing. It reports whether the
// message attributes carry ctx's context; they do not when ctx has no
// valid span, or when adding them would pass SQS's limit of 10 message
// attributes or 1 MiB (the TraceHeader, which counts against neither, is
// written anyway).
func (t *Telemetry) InjectMessage(ctx context.Context, m *producer.Message) bool {
	c, ok := t.carry(ctx)
	if !ok {
		return false
	}
	if t.hasContext(m.Attributes) || m.TraceHeader != "" {
		return false // it keeps the context it has
	}
	m.TraceHeader = c.header
	if len(c.attrs) == 0 {
		return false
	}
	if !c.fits(m.Attributes, backend.MaxMessageSize-backend.MessageSize(m.Body, m.Attributes)) {
		return false
	}
	m.Attributes = c.withAttrs(m.Attributes)
	return true
}

// InjectEntry is InjectMessage for a backend.SendEntry: the X-Ray header
// goes to MessageSystemAttributes["AWSTraceHeader"]. Both maps are copied
// before they change.
func (t *Telemetry) InjectEntry(ctx context.Context, e *backend.SendEntry) bool {
	c, ok := t.carry(ctx)
	if !ok {
		return false
	}
	return t.injectEntry(c, e, backend.MaxMessageSize-backend.MessageSize(e.Body, e.MessageAttributes))
}

// injectEntry writes c into e, its attributes only if they fit in room
// bytes.
func (t *Telemetry) injectEntry(c carried, e *backend.SendEntry, room int) bool {
	if _, has := e.MessageSystemAttributes[awsTraceHeader]; has || t.hasContext(e.MessageAttributes) {
		return false // it keeps the context it has
	}
	if c.header != "" {
		sys := make(map[string]backend.MessageAttributeValue, len(e.MessageSystemAttributes)+1)
		maps.Copy(sys, e.MessageSystemAttributes)
		sys[awsTraceHeader] = backend.MessageAttributeValue{DataType: "String", StringValue: c.header}
		e.MessageSystemAttributes = sys
	}
	if len(c.attrs) == 0 || !c.fits(e.MessageAttributes, room) {
		return false
	}
	e.MessageAttributes = c.withAttrs(e.MessageAttributes)
	return true
}

// PrepareMessage is the producer.Config.Prepare hook: it starts and ends a
// PRODUCER span "create {queue}", a child of ctx's span, that stands for
// the message's creation, and writes its context into m with
// InjectMessage. Each message then has a creation context of its own,
// which stays true when the Producer merges messages of many Send calls
// into one batch call (whose "send" span links to them).
//
//	p := producer.New(tel.Queue(q), producer.Config{Prepare: tel.PrepareMessage})
func (t *Telemetry) PrepareMessage(ctx context.Context, queueURL string, m *producer.Message) {
	if t.hasContext(m.Attributes) || m.TraceHeader != "" {
		return
	}
	d := t.dest(queueURL)
	ctx, span := t.tracer.Start(ctx, opCreate+" "+d.name,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(d.spanAttrs(opCreate)...))
	t.InjectMessage(ctx, m)
	span.End()
}

// ProducerContext returns the context of the producer that sent m, as m's
// attributes carry it: the propagator's fields (message attributes) or the
// AWSTraceHeader system attribute, whichever wins (Config.
// PreferAWSTraceHeader); the baggage the propagator carries comes along.
// ctx is the context to add it to. ok is false when m carries no valid
// context.
func (t *Telemetry) ProducerContext(ctx context.Context, m *backend.Message) (pctx context.Context, ok bool) {
	sc, bg := t.extract(m)
	if !sc.IsValid() {
		return ctx, false
	}
	if bg.Len() > 0 {
		ctx = baggage.ContextWithBaggage(ctx, bg)
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc), true
}

// extract returns the producer's span context carried by m, and the
// baggage m's attributes carry.
func (t *Telemetry) extract(m *backend.Message) (trace.SpanContext, baggage.Baggage) {
	var w3c trace.SpanContext
	var bg baggage.Baggage
	if len(m.MessageAttributes) > 0 {
		ctx := t.prop.Extract(context.Background(), attrCarrier(m.MessageAttributes))
		w3c = trace.SpanContextFromContext(ctx)
		bg = baggage.FromContext(ctx)
	}
	if !t.xray || (w3c.IsValid() && !t.preferXRay) {
		return w3c, bg
	}
	h := m.Attributes[awsTraceHeader]
	if h == "" {
		return w3c, bg
	}
	x := trace.SpanContextFromContext(xrayProp.Extract(context.Background(), propagation.MapCarrier{xrayKey: h}))
	if x.IsValid() {
		return x, bg
	}
	return w3c, bg
}
