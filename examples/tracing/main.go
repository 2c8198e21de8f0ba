// Command tracing shows one trace from the request that produced a job to
// the worker that ran it, with OpenTelemetry and package
// middleware/telemetry: a producer sends image jobs inside an HTTP
// request's span, and a worker pool processes them inside process spans
// whose parent is each message's creation span. Spans go to the stdout
// exporter (one JSON object a line), metrics to the stdout exporter at the
// end and, with -metrics-addr, to a Prometheus /metrics endpoint; then it
// prints each trace as a tree.
//
//	go run ./examples/tracing                 # in process (the native engine)
//	go run ./examples/tracing -serve          # across postbox serve on 127.0.0.1
//	go run ./examples/tracing -metrics-addr 127.0.0.1:9464   # then curl /metrics; Ctrl-C ends
//	go run ./examples/tracing -queue https://sqs.eu-west-1.amazonaws.com/123456789012/images
//
// The first attempt of the first job fails on purpose, so the trace shows
// a failed process span and its retry, and postbox.consumer.retries counts
// one.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all" // http(s):// and mem:// URLs
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err == nil {
		err = run(ctx, cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tracing:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	jobs        int
	serve       bool
	queueURL    string
	metricsAddr string
	// metricsReady, when not nil, is told the /metrics URL once it
	// serves, instead of the program waiting for an interrupt (tests).
	metricsReady func(url string)
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("tracing", flag.ContinueOnError)
	fs.IntVar(&c.jobs, "n", 3, "how many jobs the request sends")
	fs.BoolVar(&c.serve, "serve", false, "go across postbox serve (started in process on 127.0.0.1) through the AWS SDK")
	fs.StringVar(&c.queueURL, "queue", "", "use this queue URL instead (http(s):// for SQS or postbox serve, mem://)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address at /metrics, until interrupted")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.jobs < 1 {
		return c, errors.New("-n must be at least 1")
	}
	return c, nil
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	res := resource.NewSchemaless(semconv.ServiceName("tracing-example"))

	// Traces: the stdout exporter, and a recorder for the tree at the end.
	// Programs use sdktrace.WithBatcher and an OTLP exporter instead.
	spanExp, err := stdouttrace.New(stdouttrace.WithWriter(out))
	if err != nil {
		return err
	}
	rec := &recorder{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithSyncer(spanExp), sdktrace.WithSpanProcessor(rec))

	// Metrics: stdout (once, at shutdown) and Prometheus.
	metricExp, err := stdoutmetric.New(stdoutmetric.WithWriter(out))
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	promExp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithReader(promExp))

	q, svc, eng, cleanup, err := openQueue(ctx, cfg)
	if err != nil {
		return err
	}
	defer cleanup()
	tel, err := telemetry.New(telemetry.Config{
		TracerProvider: tp,
		MeterProvider:  mp,
		ParentMode:     telemetry.ChildOfProducer, // one trace from request to worker
		Service:        svc,                       // to read the queue's maxReceiveCount
	})
	if err != nil {
		return err
	}
	if eng != nil {
		dl, err := tel.ObserveDeadLetters(eng)
		if err != nil {
			return err
		}
		defer dl.Unregister()
	}
	tq := tel.Queue(q) // the producer and the worker both use the traced queue
	tracer := tp.Tracer("tracing-example")
	if err := produce(ctx, tracer, tel, tq, cfg.jobs); err != nil {
		return err
	}
	if err := work(ctx, tracer, tel, tq, cfg.jobs); err != nil {
		return err
	}

	if cfg.metricsAddr != "" {
		if err := serveMetrics(ctx, cfg, reg, out); err != nil {
			return err
		}
	}
	// Flush: the stdout metric exporter prints at shutdown.
	if err := tp.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := mp.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	fmt.Fprintln(out)
	rec.print(out)
	return nil
}

// openQueue opens the queue the configuration names. eng is the native
// engine behind it when the program runs one (nil for a -queue URL).
func openQueue(ctx context.Context, cfg config) (q backend.Queue, svc backend.Service, eng *native.Engine, cleanup func(), err error) {
	if cfg.queueURL != "" {
		q, svc, err = backend.Open(ctx, cfg.queueURL)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		return q, svc, nil, func() { svc.Close() }, nil
	}
	if !cfg.serve {
		eng, err = native.New(native.Config{})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		q, err = createQueue(ctx, eng)
		if err != nil {
			eng.Close()
			return nil, nil, nil, nil, err
		}
		return q, eng, eng, func() { eng.Close() }, nil
	}
	// postbox serve, in process: the native engine behind the SQS wire
	// protocol on a loopback port, reached through the AWS SDK.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	base := "http://" + ln.Addr().String()
	eng, err = native.New(native.Config{BaseURL: base})
	if err != nil {
		ln.Close()
		return nil, nil, nil, nil, err
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		ln.Close()
		eng.Close()
		return nil, nil, nil, nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(ln)
	}()
	stopServer := func() {
		eng.Close() // answers parked long polls
		hs.Shutdown(context.WithoutCancel(ctx))
		<-served
	}
	raw, err := createQueue(ctx, eng)
	if err == nil {
		q, svc, err = backend.Open(ctx, raw.URL()) // the AWS adapter, over HTTP
	}
	if err != nil {
		stopServer()
		return nil, nil, nil, nil, err
	}
	return q, svc, eng, func() { svc.Close(); stopServer() }, nil
}

// createQueue creates the images queue and its dead-letter queue.
func createQueue(ctx context.Context, eng *native.Engine) (backend.Queue, error) {
	if _, err := eng.CreateQueue(ctx, "images-dlq", nil, nil); err != nil {
		return nil, err
	}
	url, err := eng.CreateQueue(ctx, "images", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:images-dlq","maxReceiveCount":"3"}`,
	}, nil)
	if err != nil {
		return nil, err
	}
	return eng.Queue(url)
}

// produce sends n jobs from inside one HTTP request's span, as a web
// handler would.
func produce(ctx context.Context, tracer trace.Tracer, tel *telemetry.Telemetry, q backend.Queue, n int) error {
	ctx, span := tracer.Start(ctx, "POST /albums", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "POST"), attribute.String("url.path", "/albums")))
	defer span.End()
	// Prepare gives each message a "create" span and writes its context
	// into the message before the producer batches it with others.
	p := producer.New(q, producer.Config{Prepare: tel.PrepareMessage})
	defer p.Close()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = p.Send(ctx, producer.Message{Body: fmt.Sprintf(`{"image":"photo-%d.jpg"}`, i+1)})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// work runs a worker pool until n jobs succeeded. The first attempt of
// photo-1 fails, to show a retry.
func work(ctx context.Context, tracer trace.Tracer, tel *telemetry.Telemetry, q backend.Queue, n int) error {
	done := make(chan struct{}, n)
	var once sync.Once
	resize := consumer.HandlerFunc(func(ctx context.Context, m *consumer.Message) error {
		_, span := tracer.Start(ctx, "resize")
		defer span.End()
		var failed bool
		if strings.Contains(m.Body, "photo-1.jpg") {
			once.Do(func() { failed = true })
		}
		if failed {
			err := errors.New("thumbnail service unavailable")
			span.SetStatus(codes.Error, err.Error())
			return err
		}
		sum := sha256.Sum256([]byte(m.Body))
		span.SetAttributes(attribute.String("thumbnail.sha256", hex.EncodeToString(sum[:8])))
		done <- struct{}{}
		return nil
	})
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(resize, tel.Middleware()), // telemetry outermost
			Concurrency: 4,
			WaitTime:    time.Second,
			AckMaxDelay: -1,                          // delete at once: the demo is short
			Backoff:     consumer.ConstantBackoff(0), // retry at once
		}},
		OnError: func(error) {}, // the failure is in the trace
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(runCtx) }()
	for range n {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	cancel()
	if err := <-ran; err != nil && !errors.Is(err, consumer.ErrServerClosed) {
		return err
	}
	return ctx.Err()
}

// serveMetrics serves /metrics until ctx ends (or, in tests, until
// cfg.metricsReady returns).
func serveMetrics(ctx context.Context, cfg config, reg *prometheus.Registry, out io.Writer) error {
	ln, err := net.Listen("tcp", cfg.metricsAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		hs.Serve(ln)
	}()
	url := "http://" + ln.Addr().String() + "/metrics"
	if cfg.metricsReady != nil {
		cfg.metricsReady(url)
	} else {
		fmt.Fprintf(os.Stderr, "metrics on %s; interrupt (Ctrl-C) to end\n", url)
		<-ctx.Done()
	}
	err = hs.Shutdown(context.WithoutCancel(ctx))
	<-served
	return err
}

// recorder keeps the ended spans, to print them as trees.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

// print writes the traces that hold a process span, each as a tree by
// start time, with the other traces (receives, deletes, batch sends) they
// link to counted at the end.
func (r *recorder) print(out io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	children := map[trace.SpanID][]sdktrace.ReadOnlySpan{}
	var roots []sdktrace.ReadOnlySpan
	ids := map[trace.SpanID]bool{}
	for _, s := range r.spans {
		ids[s.SpanContext().SpanID()] = true
	}
	for _, s := range r.spans {
		if p := s.Parent(); p.IsValid() && ids[p.SpanID()] {
			children[p.SpanID()] = append(children[p.SpanID()], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) }
	slices.SortFunc(roots, byStart)
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		line := fmt.Sprintf("%s%s [%s]", strings.Repeat("  ", depth+1), s.Name(), strings.ToLower(s.SpanKind().String()))
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case semconv.MessagingMessageIDKey, semconv.MessagingBatchMessageCountKey, semconv.ErrorTypeKey, telemetry.ReceiveCountKey:
				line += fmt.Sprintf(" %s=%s", kv.Key, kv.Value.Emit())
			}
		}
		if len(s.Links()) > 0 {
			line += fmt.Sprintf(" links=%d", len(s.Links()))
		}
		fmt.Fprintln(out, line)
		kids := children[s.SpanContext().SpanID()]
		slices.SortFunc(kids, byStart)
		for _, k := range kids {
			walk(k, depth+1)
		}
	}
	other := 0
	for _, root := range roots {
		if root.SpanKind() != trace.SpanKindServer {
			other++
			continue
		}
		fmt.Fprintf(out, "trace %s\n", root.SpanContext().TraceID())
		walk(root, 0)
	}
	fmt.Fprintf(out, "(and %d traces of queue calls: batch sends, receives, deletes, visibility changes)\n", other)
}
