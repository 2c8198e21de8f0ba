package telemetry

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/postbox-go/postbox/middleware/telemetry"

// ParentMode says how a process span relates to the context of the
// producer that sent its message.
type ParentMode int

const (
	// LinkToProducer (the default) starts each process span in the
	// consumer's own trace (a child of whatever span the handler's context
	// carries, usually none, so a new trace) with a link to the producer's
	// context, as the messaging conventions recommend: a message may wait in
	// the queue for days, and one producer trace may fan out to thousands of
	// messages.
	LinkToProducer ParentMode = iota
	// ChildOfProducer makes the producer's context the parent of the
	// process span, so that the producer's request and the job it caused
	// show as one trace. Messages that carry no context get a new trace.
	ChildOfProducer
)

// Config configures a Telemetry. The zero value of each field is its
// documented default.
type Config struct {
	// TracerProvider makes the tracer. Default: otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter. Default: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Propagator writes the trace context into message attributes and
	// reads it back. Default: propagation.TraceContext{} (W3C traceparent
	// and tracestate). Every field it writes counts against SQS's limit of
	// 10 message attributes (see the package documentation).
	Propagator propagation.TextMapPropagator
	// DisableAWSTraceHeader stops writing and reading the AWSTraceHeader
	// message system attribute (the X-Ray trace header).
	DisableAWSTraceHeader bool
	// PreferAWSTraceHeader makes the AWSTraceHeader win over the message
	// attributes when a message carries both. By default the message
	// attributes (Propagator's fields) win.
	PreferAWSTraceHeader bool
	// ParentMode says how a process span relates to the producer's
	// context. Default LinkToProducer.
	ParentMode ParentMode
	// MaxReceiveCount is the maxReceiveCount of the consumed queues'
	// RedrivePolicy: a message received that many times is on its last
	// attempt (postbox.consumer.last_attempts). 0: read each queue's
	// RedrivePolicy through Service, once, on its first message; if Service
	// is nil too, last attempts are not counted.
	MaxReceiveCount int
	// Service reads the RedrivePolicy of the consumed queues when
	// MaxReceiveCount is 0. Optional.
	Service backend.Service
}

// Telemetry traces and measures postbox's queue operations and handlers
// with OpenTelemetry. It is safe for concurrent use; make one per program
// (or per pair of providers) and share it.
type Telemetry struct {
	tracer      trace.Tracer
	prop        propagation.TextMapPropagator
	propFields  map[string]bool
	xray        bool
	preferXRay  bool
	mode        ParentMode
	maxReceives int
	svc         backend.Service

	dests     sync.Map // queue URL -> *dest
	redrive   sync.Map // queue URL -> *redrive
	inst      instruments
	deadMoves metric.Int64ObservableCounter
	meter     metric.Meter
}

// New returns a Telemetry. It fails only when an instrument cannot be
// created (the error names it); the Telemetry it returns then still works,
// without that instrument.
func New(cfg Config) (*Telemetry, error) {
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	mp := cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	prop := cfg.Propagator
	if prop == nil {
		prop = propagation.TraceContext{}
	}
	t := &Telemetry{
		tracer:      tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:        prop,
		propFields:  map[string]bool{},
		xray:        !cfg.DisableAWSTraceHeader,
		preferXRay:  cfg.PreferAWSTraceHeader,
		mode:        cfg.ParentMode,
		maxReceives: cfg.MaxReceiveCount,
		svc:         cfg.Service,
		meter:       mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL)),
	}
	for _, f := range prop.Fields() {
		t.propFields[f] = true
	}
	var err error
	t.inst, err = newInstruments(t.meter)
	dm, derr := t.meter.Int64ObservableCounter("postbox.engine.dead_letter_moves",
		metric.WithUnit("{message}"),
		metric.WithDescription("Messages the native engine moved to a dead-letter queue after maxReceiveCount receives."))
	t.deadMoves = dm
	return t, errors.Join(err, derr)
}

// instruments are the metric instruments.
type instruments struct {
	opDuration   messagingconv.ClientOperationDuration
	sent         messagingconv.ClientSentMessages
	consumed     messagingconv.ClientConsumedMessages
	process      messagingconv.ProcessDuration
	retries      metric.Int64Counter
	lastAttempts metric.Int64Counter
	inFlight     metric.Int64UpDownCounter
	queueTime    metric.Float64Histogram
	batchSize    metric.Int64Histogram
	entryErrors  metric.Int64Counter
}

// durationBuckets are the messaging conventions' advised boundaries for
// duration histograms, with 20 s added for long polls.
var durationBuckets = metric.WithExplicitBucketBoundaries(
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20)

func newInstruments(m metric.Meter) (instruments, error) {
	var in instruments
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	in.opDuration, err = messagingconv.NewClientOperationDuration(m, durationBuckets)
	add(err)
	in.sent, err = messagingconv.NewClientSentMessages(m)
	add(err)
	in.consumed, err = messagingconv.NewClientConsumedMessages(m)
	add(err)
	in.process, err = messagingconv.NewProcessDuration(m, durationBuckets)
	add(err)
	in.retries, err = m.Int64Counter("postbox.consumer.retries", metric.WithUnit("{message}"),
		metric.WithDescription("Messages handled again: ApproximateReceiveCount above 1."))
	add(err)
	in.lastAttempts, err = m.Int64Counter("postbox.consumer.last_attempts", metric.WithUnit("{message}"),
		metric.WithDescription("Messages handled on their last attempt: ApproximateReceiveCount at or above the queue's maxReceiveCount."))
	add(err)
	in.inFlight, err = m.Int64UpDownCounter("postbox.consumer.in_flight", metric.WithUnit("{message}"),
		metric.WithDescription("Messages whose handler is running."))
	add(err)
	in.queueTime, err = m.Float64Histogram("postbox.consumer.queue_time", metric.WithUnit("s"),
		metric.WithDescription("Time from a message's SentTimestamp to the receive that delivered it."),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400))
	add(err)
	in.batchSize, err = m.Int64Histogram("postbox.client.receive.batch_size", metric.WithUnit("{message}"),
		metric.WithDescription("Messages returned by one receive call (0 for an empty poll)."),
		metric.WithExplicitBucketBoundaries(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
	add(err)
	in.entryErrors, err = m.Int64Counter("postbox.client.entry_errors", metric.WithUnit("{entry}"),
		metric.WithDescription("Batch entries (send, delete, change_visibility) that failed on their own while their call succeeded."))
	add(err)
	return in, errors.Join(errs...)
}

// DeadLetterCounter is what ObserveDeadLetters reads: the native engine
// (*native.Engine) implements it.
type DeadLetterCounter interface {
	// DeadLettered returns how many messages have been moved to
	// dead-letter queues so far.
	DeadLettered() int64
}

// ObserveDeadLetters reports c's dead-letter moves as the counter
// postbox.engine.dead_letter_moves, read at each collection. Observe one
// engine per Telemetry; Unregister the registration when the engine
// closes.
func (t *Telemetry) ObserveDeadLetters(c DeadLetterCounter) (metric.Registration, error) {
	return t.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(t.deadMoves, c.DeadLettered())
		return nil
	}, t.deadMoves)
}

// Operation names (messaging.operation.name) and span name prefixes.
const (
	opCreate     = "create"
	opSend       = "send"
	opReceive    = "receive"
	opProcess    = "process"
	opDelete     = "delete"
	opVisibility = "change_visibility"
)

// dest is what the attributes of one queue's spans and metrics share.
type dest struct {
	url   string
	name  string
	attrs []attribute.KeyValue // system, destination, server, queue URL
	// metric attribute sets by operation, success only
	sets map[string]attribute.Set
}

func (t *Telemetry) dest(queueURL string) *dest {
	if d, ok := t.dests.Load(queueURL); ok {
		return d.(*dest)
	}
	d, _ := t.dests.LoadOrStore(queueURL, newDest(queueURL))
	return d.(*dest)
}

func newDest(queueURL string) *dest {
	d := &dest{url: queueURL, sets: map[string]attribute.Set{}}
	d.attrs = []attribute.KeyValue{semconv.MessagingSystemAWSSQS}
	u, err := url.Parse(queueURL)
	if err == nil {
		path := strings.Trim(u.Path, "/")
		switch {
		case u.Query().Get("queue") != "":
			d.name = u.Query().Get("queue")
		case path != "":
			d.name = path[strings.LastIndexByte(path, '/')+1:]
		default:
			d.name = u.Host
		}
	}
	if d.name == "" {
		d.name = queueURL
	}
	d.attrs = append(d.attrs, semconv.MessagingDestinationName(d.name))
	var server []attribute.KeyValue
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Hostname() != "" {
		port := 443
		if u.Scheme == "http" {
			port = 80
		}
		if p, perr := strconv.Atoi(u.Port()); perr == nil {
			port = p
		}
		server = []attribute.KeyValue{semconv.ServerAddress(u.Hostname()), semconv.ServerPort(port)}
		d.attrs = append(d.attrs, server...)
	}
	for _, op := range []string{opCreate, opSend, opReceive, opProcess, opDelete, opVisibility} {
		d.sets[op] = attribute.NewSet(d.metricAttrs(op, opType(op))...)
	}
	return d
}

func opType(op string) attribute.KeyValue {
	switch op {
	case opCreate:
		return semconv.MessagingOperationTypeCreate
	case opSend:
		return semconv.MessagingOperationTypeSend
	case opReceive:
		return semconv.MessagingOperationTypeReceive
	case opProcess:
		return semconv.MessagingOperationTypeProcess
	default:
		return semconv.MessagingOperationTypeSettle
	}
}

// metricAttrs are the metric attributes of op on d (no queue URL: metrics
// keep to the conventions' low-cardinality attributes).
func (d *dest) metricAttrs(op string, typ attribute.KeyValue, extra ...attribute.KeyValue) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, len(d.attrs)+3+len(extra))
	a = append(a, d.attrs...)
	a = append(a, semconv.MessagingOperationName(op), typ)
	return append(a, extra...)
}

// set is the metric attribute set of op, with error.type when errType is
// not empty.
func (d *dest) set(op, errType string) attribute.Set {
	if errType == "" {
		return d.sets[op]
	}
	return attribute.NewSet(d.metricAttrs(op, opType(op), semconv.ErrorTypeKey.String(errType))...)
}

// purposeSet is set with postbox.consumer.purpose when purpose is not
// empty.
func (d *dest) purposeSet(op, errType string, purpose consumer.Purpose) attribute.Set {
	if purpose == "" {
		return d.set(op, errType)
	}
	extra := []attribute.KeyValue{PurposeKey.String(string(purpose))}
	if errType != "" {
		extra = append(extra, semconv.ErrorTypeKey.String(errType))
	}
	return attribute.NewSet(d.metricAttrs(op, opType(op), extra...)...)
}

// spanAttrs are the attributes of a span of op on d.
func (d *dest) spanAttrs(op string, extra ...attribute.KeyValue) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, len(d.attrs)+4+len(extra))
	a = append(a, d.attrs...)
	a = append(a, semconv.MessagingOperationName(op), opType(op), semconv.AWSSQSQueueURL(d.url))
	return append(a, extra...)
}

// ErrorType is the error.type value for err: the SQS error code of a
// *backend.Error, "panic" for a handler's panic, "permanent" for an error
// marked consumer.Permanent, "timeout" and "canceled" for the context's
// errors, and otherwise the error's Go type, as semconv.ErrorType gives
// it. It is "" for nil.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	var pe *consumer.PanicError
	var be *backend.Error
	switch {
	case errors.As(err, &pe):
		return "panic"
	case consumer.IsPermanent(err):
		return "permanent"
	case errors.As(err, &be):
		return be.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return semconv.ErrorType(err).Value.AsString()
}

// xrayProp is the X-Ray propagator behind AWSTraceHeader.
var xrayProp = xray.Propagator{}

// xrayKey is the header xray.Propagator reads and writes.
const xrayKey = "X-Amzn-Trace-Id"

// awsTraceHeader is the message system attribute of the X-Ray header.
const awsTraceHeader = "AWSTraceHeader"
