package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

func Example() {
	attempts := 0
	handler := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		attempts++
		if attempts < 2 {
			return errors.New("flaky dependency")
		}
		return nil
	})
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level:       slog.LevelDebug, // Logging logs successes at Debug
		ReplaceAttr: stableOutput,
	}))
	h := consumer.Chain(handler,
		middleware.Logging(logger),
		middleware.Retry(middleware.RetryConfig{Attempts: 3, Backoff: consumer.ConstantBackoff(time.Millisecond)}),
		middleware.Recover(),
		middleware.Timeout(time.Minute),
	)
	msg := &consumer.Message{QueueURL: "mem://jobs", ReceiveCount: 1}
	msg.MessageID = "m-1"
	err := h.HandleMessage(context.Background(), msg)
	fmt.Println(err, attempts)
	// Output:
	// level=DEBUG msg="postbox message handled" message_id=m-1 queue=mem://jobs receive_count=1 outcome=ok
	// <nil> 2
}

// stableOutput drops the time and duration from the examples' records.
func stableOutput(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey || a.Key == "duration" {
		return slog.Attr{}
	}
	return a
}

func ExampleLoggingWith() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: stableOutput}))
	// Every success at Info, where a logger at its default level shows it.
	h := consumer.Chain(consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }),
		middleware.LoggingWith(middleware.LoggingConfig{Logger: logger, SuccessLevel: slog.LevelInfo}),
		middleware.Recover(),
	)
	msg := &consumer.Message{QueueURL: "mem://jobs", ReceiveCount: 1}
	msg.MessageID = "m-2"
	h.HandleMessage(context.Background(), msg)
	// Output:
	// level=INFO msg="postbox message handled" message_id=m-2 queue=mem://jobs receive_count=1 outcome=ok
}
