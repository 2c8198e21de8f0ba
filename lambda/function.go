package lambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/internal/logged"
)

// Defaults for Config's zero values.
const (
	DefaultConcurrency = 10
	DefaultReserve     = time.Second
)

// Config configures a Function. The zero value of each option is its
// documented default.
type Config struct {
	// Handler handles one message at a time, as in a consumer.Server.
	// Exactly one of Handler and BatchHandler is required.
	Handler consumer.Handler
	// BatchHandler handles the messages of one invocation together.
	BatchHandler consumer.BatchHandler

	// Concurrency is how many Handler calls run at once within one
	// invocation (the messages of one FIFO group always run one after the
	// other, in order). Default 10; 1 runs the messages one at a time.
	// Not used with BatchHandler.
	Concurrency int

	// QueueURL is put in every Message's QueueURL. Default: the URL of the
	// queue named by each record's eventSourceARN
	// (https://sqs.<region>.amazonaws.com/<account>/<name>).
	QueueURL string

	// OnPermanent is called with a message whose handler returned a
	// consumer.Permanent error, as in a consumer.Server: when it returns
	// nil the message counts as done (it is not reported as failed, so
	// Lambda deletes it); when it returns an error the message is reported
	// as failed and comes back. Default nil: the error goes to OnError and
	// the message counts as done.
	OnPermanent func(ctx context.Context, msg *consumer.Message, err error) error

	// OnError receives each failed message's error, as a *consumer.Error
	// (Op consumer.OpHandle or consumer.OpPermanent). Default: logged with
	// slog.Default() at level Warn, except a failure that
	// middleware.Logging has logged already.
	OnError func(err error)

	// Reserve is the time kept back from the function's deadline: the
	// handlers' context ends Reserve before it, and HandleEvent answers
	// at the latest Reserve/2 before it, reporting the messages whose
	// handlers still run as failed, so that the answer reaches Lambda
	// before the function times out (a timeout fails the whole batch,
	// successes included). Default 1 s, and never more than a quarter of
	// the time the invocation has.
	Reserve time.Duration
}

// Function runs a consumer.Handler (or BatchHandler) and its middleware as
// the handler of an SQS-triggered AWS Lambda function. It is safe for
// concurrent use.
type Function struct {
	cfg Config
}

// New returns a Function, or an error naming the first bad option.
func New(cfg Config) (*Function, error) {
	switch {
	case (cfg.Handler == nil) == (cfg.BatchHandler == nil):
		return nil, errors.New("lambda: exactly one of Handler and BatchHandler is required")
	case cfg.Concurrency < 0:
		return nil, errors.New("lambda: negative Concurrency")
	case cfg.Reserve < 0:
		return nil, errors.New("lambda: negative Reserve")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Reserve == 0 {
		cfg.Reserve = DefaultReserve
	}
	if cfg.OnError == nil {
		cfg.OnError = defaultOnError
	}
	return &Function{cfg: cfg}, nil
}

// Start runs f as the Lambda function's handler with aws-lambda-go's
// runtime loop (lambda.StartWithOptions, which see for opts). It never
// returns: outside Lambda (no AWS_LAMBDA_RUNTIME_API) it exits the process
// with an error.
func (f *Function) Start(opts ...awslambda.Option) {
	awslambda.StartWithOptions(f.HandleEvent, opts...)
}

// HandleEvent handles the messages of one SQS event and answers with a
// partial batch response: the ids of the messages that failed (the event
// source mapping must have ReportBatchItemFailures in its
// FunctionResponseTypes, or Lambda ignores the answer and deletes the whole
// batch on success). A message fails when its handler returns an error or
// panics, when its handler has not returned (or not started) by the
// answer's deadline (see Config.Reserve), or on FIFO queues when an earlier
// message of its group in the batch failed: such a message is not handled
// at all, so that no group runs out of order.
//
// The error is not nil only for an event that is not an SQS event (a
// record without a messageId): Lambda then retries the whole batch.
func (f *Function) HandleEvent(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	now := time.Now()
	msgs := make([]*consumer.Message, len(ev.Records))
	for i := range ev.Records {
		if ev.Records[i].MessageId == "" {
			return events.SQSEventResponse{}, fmt.Errorf("lambda: record %d of the event has no messageId: not an SQS event", i)
		}
		msgs[i] = Message(&ev.Records[i], f.cfg.QueueURL, now)
	}
	inv := newInvocation(msgs)
	hctx, answerBy, cancel := f.deadlines(ctx, now)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if f.cfg.BatchHandler != nil {
			f.runBatch(hctx, inv)
		} else {
			f.runEach(hctx, inv)
		}
	}()
	select {
	case <-done:
	case <-answerBy.Done():
	}
	return inv.answer(), nil
}

// deadlines returns the handlers' context and a context that ends when
// HandleEvent must answer, both from ctx's deadline less the reserve.
func (f *Function) deadlines(ctx context.Context, now time.Time) (hctx, answerBy context.Context, cancel func()) {
	deadline, ok := ctx.Deadline()
	if !ok {
		hctx, cancel := context.WithCancel(ctx)
		return hctx, hctx, cancel
	}
	reserve := min(f.cfg.Reserve, deadline.Sub(now)/4)
	hctx, hcancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	answerBy, acancel := context.WithDeadline(ctx, deadline.Add(-reserve/2))
	return hctx, answerBy, func() { hcancel(); acancel() }
}

// handle runs the handler on one message and settles its outcome; it
// reports whether the message is done with.
func (f *Function) handle(ctx context.Context, inv *invocation, i int) bool {
	mctx, cancel := context.WithCancelCause(ctx)
	err := callHandler(mctx, f.cfg.Handler, inv.msgs[i])
	cancel(context.Canceled) // the handler has returned
	return f.settle(ctx, inv, i, err)
}

// settle records the outcome err of message i, calling OnPermanent and
// OnError as a consumer.Server does; it reports whether the message is
// done with. An outcome that comes after the answer changes nothing.
func (f *Function) settle(ctx context.Context, inv *invocation, i int, err error) bool {
	msg := inv.msgs[i]
	ok := false
	switch {
	case err == nil:
		ok = true
	case consumer.IsPermanent(err):
		ok = true
		if f.cfg.OnPermanent == nil {
			f.report(consumer.OpPermanent, msg, err)
		} else if herr := f.cfg.OnPermanent(ctx, msg, err); herr != nil {
			f.report(consumer.OpPermanent, msg, fmt.Errorf("OnPermanent: %w (handler: %w)", herr, err))
			ok = false
		}
	default:
		f.report(consumer.OpHandle, msg, err)
	}
	if ok && !inv.succeed(i) {
		f.report(consumer.OpHandle, msg, errors.New("lambda: the handler returned after the invocation had answered; the message was reported as failed"))
	}
	return ok
}

func (f *Function) report(op string, msg *consumer.Message, err error) {
	f.cfg.OnError(&consumer.Error{Op: op, QueueURL: msg.QueueURL, MessageID: msg.MessageID, Err: err})
}

func defaultOnError(err error) {
	var e *consumer.Error
	if errors.As(err, &e) && logged.Is(e.Err) {
		return // middleware.Logging has logged this message's failure
	}
	slog.Default().Warn("postbox lambda", "err", err)
}
