package telemetry_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

// A request sends a message; a handler processes it. With ChildOfProducer
// the handler's span joins the request's trace.
func Example() {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter() // use a real exporter (OTLP, stdout) in programs
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)
	tel, err := telemetry.New(telemetry.Config{TracerProvider: tp, ParentMode: telemetry.ChildOfProducer})
	if err != nil {
		panic(err)
	}

	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "emails", nil, nil)
	raw, _ := eng.Queue(url)
	q := tel.Queue(raw) // give this queue to producers and consumers

	// The producer side, inside a request's span.
	reqCtx, req := tp.Tracer("app").Start(ctx, "POST /signup")
	p := producer.New(q, producer.Config{Prepare: tel.PrepareMessage})
	p.Send(reqCtx, producer.Message{Body: `{"to":"ada@example.com"}`})
	p.Close()
	req.End()

	// The consumer side: consumer.Server does this for every message.
	msgs, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0),
		MessageAttributeNames: []string{"All"}, SystemAttributeNames: []string{"All"}})
	h := consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, m *consumer.Message) error {
		return nil // send the email
	}), tel.Middleware())
	h.HandleMessage(ctx, &consumer.Message{Message: *msgs[0], QueueURL: q.URL()})

	trace := req.SpanContext().TraceID()
	for _, s := range exp.GetSpans() {
		fmt.Printf("%-15s %-8s in the request's trace: %v\n", s.Name, s.SpanKind, s.SpanContext.TraceID() == trace)
	}
	// Output:
	// create emails   producer in the request's trace: true
	// send emails     producer in the request's trace: false
	// POST /signup    internal in the request's trace: true
	// receive emails  client   in the request's trace: false
	// process emails  consumer in the request's trace: true
}

// ObserveDeadLetters reports the native engine's dead-letter moves.
func ExampleTelemetry_ObserveDeadLetters() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	tel, _ := telemetry.New(telemetry.Config{MeterProvider: mp})

	eng, _ := native.New(native.Config{})
	defer eng.Close()
	reg, err := tel.ObserveDeadLetters(eng)
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()
	fmt.Println("observing postbox.engine.dead_letter_moves")
	// Output: observing postbox.engine.dead_letter_moves
}

// ErrorType names an error for the error.type attribute.
func ExampleErrorType() {
	fmt.Println(telemetry.ErrorType(backend.ErrRequestThrottled))
	fmt.Println(telemetry.ErrorType(consumer.Permanent(fmt.Errorf("bad body"))))
	fmt.Println(telemetry.ErrorType(context.DeadlineExceeded))
	// Output:
	// RequestThrottled
	// permanent
	// timeout
}

// InjectMessage writes the trace context as message attributes only when
// they fit in SQS's limit of 10; AWSTraceHeader carries it anyway.
func ExampleTelemetry_InjectMessage() {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	tel, _ := telemetry.New(telemetry.Config{TracerProvider: tp})
	ctx, span := tp.Tracer("app").Start(context.Background(), "request")
	defer span.End()

	few := producer.Message{Body: "job"}
	fmt.Println(tel.InjectMessage(ctx, &few), len(few.Attributes), few.TraceHeader != "")

	full := producer.Message{Body: "job", Attributes: map[string]backend.MessageAttributeValue{}}
	for i := range 10 {
		full.Attributes[fmt.Sprint("attr", i)] = backend.MessageAttributeValue{DataType: "String", StringValue: "v"}
	}
	fmt.Println(tel.InjectMessage(ctx, &full), len(full.Attributes), full.TraceHeader != "")
	// Output:
	// true 1 true
	// false 10 true
}

// Queue and Middleware together: the consumer's receives, deletes and
// handlers are traced.
func ExampleTelemetry_Middleware() {
	ctx := context.Background()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)
	tel, _ := telemetry.New(telemetry.Config{TracerProvider: tp})

	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "jobs", nil, nil)
	raw, _ := eng.Queue(url)
	q := tel.Queue(raw)
	producer.Send(ctx, q, producer.Message{Body: "hello"})

	done := make(chan struct{})
	srv, _ := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
		Queue: q,
		Handler: consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, m *consumer.Message) error {
			close(done)
			return nil
		}), tel.Middleware()),
		AckMaxDelay: -1,
	}}})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error)
	go func() { ran <- srv.Run(runCtx) }()
	<-done
	stop()
	<-ran

	seen := map[string]bool{}
	for _, s := range exp.GetSpans() {
		seen[s.Name] = true
	}
	fmt.Println(seen["send jobs"], seen["receive jobs"], seen["process jobs"], seen["delete jobs"])
	// Output: true true true true
}
