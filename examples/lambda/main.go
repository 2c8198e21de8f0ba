// Command lambda is one handler for two runtimes: the same
// consumer.Handler, with the same middleware, runs as an SQS-triggered AWS
// Lambda function or as a worker pool, chosen at start.
//
//	go run ./examples/lambda -worker            # a worker on mem://thumbnails, with 3 demo jobs
//	POSTBOX_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/thumbnails go run ./examples/lambda -worker -n 0
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/lambda
//	zip function.zip bootstrap                  # a provided.al2023 function; in Lambda
//	                                            # (AWS_LAMBDA_RUNTIME_API set) it serves invocations
//
// The function's event source mapping must have ReportBatchItemFailures in
// its FunctionResponseTypes, so that only the failed messages come back
// (see docs/lambda.md). The handler is a Router of typed "thumbnail" jobs
// behind Recover and OpenTelemetry's middleware, which continues the trace
// of each message (its AWSTraceHeader or traceparent) in Lambda as in the
// worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all" // mem://, file://, http://, https://
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/lambda"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/telemetry"
	"github.com/postbox-go/postbox/producer"
)

// QueueURLEnv names the environment variable of the worker's queue URL.
const QueueURLEnv = "POSTBOX_QUEUE_URL"

// Thumbnail is the typed job.
type Thumbnail struct {
	Image string `json:"image"`
	Width int    `json:"width"`
}

// handler is the one handler both runtimes run. Each job done is one line
// on out.
func handler(out io.Writer, done func()) (consumer.Handler, error) {
	r := middleware.NewRouter()
	r.Handle("thumbnail", middleware.Job(func(ctx context.Context, t Thumbnail) error {
		switch {
		case t.Image == "":
			return errors.New("no image yet") // retried
		case t.Width <= 0:
			return consumer.Permanent(fmt.Errorf("width %d", t.Width)) // never retried
		}
		fmt.Fprintf(out, "thumbnail of %s at %d px\n", t.Image, t.Width)
		if done != nil {
			done()
		}
		return nil
	}))
	tel, err := telemetry.New(telemetry.Config{}) // the global providers: set them up to export
	if err != nil {
		return nil, err
	}
	return consumer.Chain(r, tel.Middleware(), middleware.Recover()), nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lambda:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, args []string, out io.Writer) error {
	out = &syncWriter{w: out} // handlers run concurrently
	fs := flag.NewFlagSet("lambda", flag.ContinueOnError)
	fs.SetOutput(out)
	worker := fs.Bool("worker", false, "run as a worker pool on "+QueueURLEnv+" (default mem://thumbnails) instead of in Lambda")
	n := fs.Int("n", 3, "with -worker: demo jobs to send first, then stop when they are done; 0: work until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*worker {
		if getenv("AWS_LAMBDA_RUNTIME_API") == "" {
			return errors.New("not in AWS Lambda (no AWS_LAMBDA_RUNTIME_API): run with -worker")
		}
		h, err := handler(out, nil)
		if err != nil {
			return err
		}
		f, err := lambda.New(lambda.Config{Handler: h})
		if err != nil {
			return err
		}
		f.Start() // never returns
	}
	if *n < 0 {
		return errors.New("bad flag value: -n")
	}
	return runWorker(ctx, getenv, *n, out)
}

// runWorker runs the handler in a consumer.Server.
func runWorker(ctx context.Context, getenv func(string) string, n int, out io.Writer) error {
	url := getenv(QueueURLEnv)
	if url == "" {
		url = "mem://thumbnails"
	}
	q, svc, err := backend.Open(ctx, url)
	if err != nil {
		return err
	}
	defer svc.Close()
	var done atomic.Int64
	allDone := make(chan struct{})
	h, err := handler(out, func() {
		if done.Add(1) == int64(n) {
			close(allDone)
		}
	})
	if err != nil {
		return err
	}
	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}})
	if err != nil {
		return err
	}
	runCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()
	if n > 0 {
		msgs := make([]producer.Message, n)
		for i := range msgs {
			if msgs[i], err = middleware.NewJob("thumbnail", Thumbnail{Image: fmt.Sprintf("photo-%d.jpg", i+1), Width: 160}); err != nil {
				break
			}
		}
		if err == nil {
			_, err = producer.SendBatch(ctx, q, msgs)
		}
		if err != nil {
			stopServer()
			<-served
			return err
		}
		fmt.Fprintf(out, "sent %d jobs to %s\n", n, url)
		select {
		case <-allDone:
		case <-ctx.Done():
		}
		stopServer()
	}
	return <-served
}

// syncWriter serialises writes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
