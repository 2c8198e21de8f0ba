package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/lambda"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

// childEnv, when set, makes the test binary a Lambda function instead of
// running tests: the runtime API test starts it as a subprocess, since
// aws-lambda-go's runtime loop never returns.
const (
	childEnv    = "POSTBOX_LAMBDA_TEST_CHILD"
	childLogEnv = "POSTBOX_LAMBDA_TEST_LOG"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		childMain()
		return
	}
	goleak.VerifyTestMain(m)
}

// childMain runs the test function with aws-lambda-go's runtime loop
// against AWS_LAMBDA_RUNTIME_API; it ends the process when the loop ends.
func childMain() {
	log, err := os.OpenFile(os.Getenv(childLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f, err := newTestFunction(log, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	f.Start()
}

// newTestFunction is the function the tests run, in process and in the
// child: its handler acts on the body ("fail..." fails, "panic" panics,
// "permanent..." is a permanent failure, anything else succeeds), behind
// telemetry's middleware (the producer's context as the parent), and
// writes a line per message to log: "handled <id> body=<body>
// trace=<trace id> deadline=<unix ms> request=<id> arn=<function ARN>".
// OnPermanent refuses "permanent-refused". onError may be nil.
func newTestFunction(log io.Writer, onError func(error)) (*lambda.Function, error) {
	tel, err := telemetry.New(telemetry.Config{
		TracerProvider: sdktrace.NewTracerProvider(),
		ParentMode:     telemetry.ChildOfProducer,
	})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		deadline, _ := ctx.Deadline()
		var request, arn string
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			request, arn = lc.AwsRequestID, lc.InvokedFunctionArn
		}
		mu.Lock()
		fmt.Fprintf(log, "handled %s body=%q trace=%s deadline=%d request=%s arn=%s\n", msg.MessageID, msg.Body,
			trace.SpanContextFromContext(ctx).TraceID(), deadline.UnixMilli(), request, arn)
		mu.Unlock()
		switch {
		case strings.HasPrefix(msg.Body, "fail"):
			return errors.New("failed on purpose")
		case msg.Body == "panic":
			panic("panicked on purpose")
		case strings.HasPrefix(msg.Body, "permanent"):
			return consumer.Permanent(errors.New("cannot ever work"))
		}
		return nil
	})
	return lambda.New(lambda.Config{
		Handler: consumer.Chain(h, tel.Middleware()),
		OnPermanent: func(ctx context.Context, msg *consumer.Message, err error) error {
			if msg.Body == "permanent-refused" {
				return errors.New("nowhere to forward it")
			}
			return nil
		},
		OnError: onError,
	})
}

// fixture reads an event from testdata.
func fixture(t testing.TB, name string) (raw []byte, ev events.SQSEvent) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return raw, ev
}

// failures lists the ids of a response's failures.
func failures(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// ids returns the message ids of ev's records at the indexes given.
func ids(ev events.SQSEvent, idx ...int) []string {
	out := []string{}
	for _, i := range idx {
		out = append(out, ev.Records[i].MessageId)
	}
	return out
}

// syncBuffer is a strings.Builder safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// errorsCollector gathers what OnError receives.
type errorsCollector struct {
	mu   sync.Mutex
	errs []error
}

func (c *errorsCollector) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs = append(c.errs, err)
}

func (c *errorsCollector) all() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}
