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
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // keep the example's output stable
			}
			return a
		},
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
	// level=INFO msg="postbox message handled" message_id=m-1 queue=mem://jobs receive_count=1 outcome=ok
	// <nil> 2
}
