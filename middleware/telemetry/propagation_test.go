package telemetry_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

func attrs(n int) map[string]backend.MessageAttributeValue {
	m := make(map[string]backend.MessageAttributeValue, n)
	for i := range n {
		m["a"+strconv.Itoa(i)] = backend.MessageAttributeValue{DataType: "String", StringValue: "v"}
	}
	return m
}

// spanContext returns a context with a sampled span context, with
// tracestate when state is not empty.
func spanContext(t *testing.T, state string) context.Context {
	t.Helper()
	cfg := trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:     trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		TraceFlags: trace.FlagsSampled,
	}
	if state != "" {
		ts, err := trace.ParseTraceState(state)
		if err != nil {
			t.Fatal(err)
		}
		cfg.TraceState = ts
	}
	return trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(cfg))
}

// TestInjectRespectsAttributeLimits checks that the trace context's
// message attributes are written only when they fit in SQS's limits of 10
// attributes and 1 MiB, and that the send goes on without them otherwise,
// with the AWSTraceHeader (which counts against neither) still written.
func TestInjectRespectsAttributeLimits(t *testing.T) {
	r := newRig(t, telemetry.Config{})
	for _, tc := range []struct {
		name     string
		existing int
		state    string
		body     int
		want     []string // attributes written
	}{
		{name: "none", want: []string{"traceparent"}},
		{name: "with tracestate", state: "k=v", want: []string{"traceparent", "tracestate"}},
		{name: "9 attributes, traceparent only", existing: 9, want: []string{"traceparent"}},
		{name: "9 attributes and tracestate needed", existing: 9, state: "k=v"},
		{name: "8 attributes and tracestate", existing: 8, state: "k=v", want: []string{"traceparent", "tracestate"}},
		{name: "10 attributes", existing: 10},
		{name: "body at the size limit", body: backend.MaxMessageSize - 10},
		{name: "body just under", body: backend.MaxMessageSize - 100, want: []string{"traceparent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := spanContext(t, tc.state)
			body := "x"
			if tc.body > 0 {
				body = strings.Repeat("x", tc.body)
			}
			check := func(t *testing.T, ok bool, got map[string]backend.MessageAttributeValue, header string) {
				t.Helper()
				if ok != (len(tc.want) > 0) {
					t.Errorf("injected = %v, want %v", ok, len(tc.want) > 0)
				}
				if len(got) != tc.existing+len(tc.want) {
					t.Errorf("%d attributes, want %d", len(got), tc.existing+len(tc.want))
				}
				for _, k := range tc.want {
					if got[k].StringValue == "" || got[k].DataType != "String" {
						t.Errorf("%s = %+v", k, got[k])
					}
				}
				if !strings.HasPrefix(header, "Root=1-01020304-") {
					t.Errorf("AWSTraceHeader = %q", header)
				}
				if backend.MessageSize(body, got) > backend.MaxMessageSize {
					t.Errorf("message grew past the limit")
				}
			}
			t.Run("producer.Message", func(t *testing.T) {
				orig := attrs(tc.existing)
				m := producer.Message{Body: body, Attributes: orig}
				ok := r.tel.InjectMessage(ctx, &m)
				check(t, ok, m.Attributes, m.TraceHeader)
				if len(orig) != tc.existing {
					t.Errorf("the caller's map changed")
				}
			})
			t.Run("backend.SendEntry", func(t *testing.T) {
				orig := attrs(tc.existing)
				e := backend.SendEntry{Body: body, MessageAttributes: orig}
				ok := r.tel.InjectEntry(ctx, &e)
				check(t, ok, e.MessageAttributes, e.MessageSystemAttributes["AWSTraceHeader"].StringValue)
				if len(orig) != tc.existing {
					t.Errorf("the caller's map changed")
				}
			})
		})
	}
}

// TestInjectKeepsAnExistingContext checks that a message that already
// carries a context keeps it.
func TestInjectKeepsAnExistingContext(t *testing.T) {
	r := newRig(t, telemetry.Config{})
	a := map[string]backend.MessageAttributeValue{"traceparent": {DataType: "String", StringValue: "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01"}}
	m := producer.Message{Body: "x", Attributes: a, TraceHeader: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
	if r.tel.InjectMessage(spanContext(t, ""), &m) {
		t.Error("injected over an existing context")
	}
	if m.Attributes["traceparent"].StringValue != a["traceparent"].StringValue || !strings.HasPrefix(m.TraceHeader, "Root=1-5759e988") {
		t.Errorf("existing context changed: %+v %q", m.Attributes, m.TraceHeader)
	}
	onlyHeader := producer.Message{Body: "x", TraceHeader: m.TraceHeader}
	if r.tel.InjectMessage(spanContext(t, ""), &onlyHeader) || onlyHeader.Attributes != nil {
		t.Errorf("injected beside an existing AWSTraceHeader: %+v", onlyHeader.Attributes)
	}
	e := backend.SendEntry{Body: "x", MessageAttributes: a}
	if r.tel.InjectEntry(spanContext(t, ""), &e) || e.MessageSystemAttributes != nil {
		t.Errorf("entry: injected beside an existing traceparent: %+v", e.MessageSystemAttributes)
	}
	if r.tel.InjectMessage(context.Background(), &producer.Message{Body: "x"}) {
		t.Error("injected without a span")
	}
}

// TestProducerContextPrecedence checks which carrier wins when a message
// carries both a traceparent attribute and an AWSTraceHeader.
func TestProducerContextPrecedence(t *testing.T) {
	const (
		w3cTrace  = "0af7651916cd43dd8448eb211c80319c"
		xrayTrace = "5759e988bd862e3fe1be46a994272793"
	)
	traceparent := backend.MessageAttributeValue{DataType: "String", StringValue: "00-" + w3cTrace + "-b7ad6b7169203331-01"}
	header := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	for _, tc := range []struct {
		name    string
		cfg     telemetry.Config
		attrs   map[string]backend.MessageAttributeValue
		header  string
		want    string // trace id; "" for none
		baggage string
	}{
		{name: "both: W3C wins", attrs: map[string]backend.MessageAttributeValue{"traceparent": traceparent}, header: header, want: w3cTrace},
		{name: "both, PreferAWSTraceHeader", cfg: telemetry.Config{PreferAWSTraceHeader: true},
			attrs: map[string]backend.MessageAttributeValue{"traceparent": traceparent}, header: header, want: xrayTrace},
		{name: "AWSTraceHeader only", header: header, want: xrayTrace},
		{name: "W3C only", attrs: map[string]backend.MessageAttributeValue{"traceparent": traceparent}, want: w3cTrace},
		{name: "invalid traceparent: AWSTraceHeader", attrs: map[string]backend.MessageAttributeValue{
			"traceparent": {DataType: "String", StringValue: "garbage"}}, header: header, want: xrayTrace},
		{name: "AWSTraceHeader disabled", cfg: telemetry.Config{DisableAWSTraceHeader: true}, header: header},
		{name: "binary traceparent ignored", attrs: map[string]backend.MessageAttributeValue{
			"traceparent": {DataType: "Binary", BinaryValue: []byte(traceparent.StringValue)}}},
		{name: "none"},
		{name: "baggage comes along",
			cfg: telemetry.Config{Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})},
			attrs: map[string]backend.MessageAttributeValue{"traceparent": traceparent,
				"baggage": {DataType: "String", StringValue: "tenant=acme"}},
			want: w3cTrace, baggage: "acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.cfg)
			m := &backend.Message{MessageAttributes: tc.attrs}
			if tc.header != "" {
				m.Attributes = map[string]string{"AWSTraceHeader": tc.header}
			}
			ctx, ok := r.tel.ProducerContext(context.Background(), m)
			sc := trace.SpanContextFromContext(ctx)
			if tc.want == "" {
				if ok || sc.IsValid() {
					t.Errorf("got context %v, want none", sc)
				}
				return
			}
			if !ok || sc.TraceID().String() != tc.want || !sc.IsRemote() {
				t.Errorf("trace %s (ok %v, remote %v), want %s", sc.TraceID(), ok, sc.IsRemote(), tc.want)
			}
			if tc.baggage != "" {
				if got := baggageValue(ctx, "tenant"); got != tc.baggage {
					t.Errorf("baggage tenant = %q", got)
				}
			}
		})
	}
}
