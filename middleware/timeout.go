package middleware

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/postbox-go/postbox/consumer"
)

// ErrTimeout is the cause of a handler context that Timeout ended, and is
// matched (errors.Is) by the error Timeout returns for a handler that ran
// out of time.
var ErrTimeout = errors.New("middleware: handler timed out")

// Timeout gives each handler call at most d: its context ends after d with
// the cause ErrTimeout. A handler that returns an error after its time ran
// out gets that error wrapped with ErrTimeout. The handler must watch its
// context; Timeout does not abandon it.
func Timeout(d time.Duration) consumer.Middleware {
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			ctx, cancel := context.WithTimeoutCause(ctx, d, ErrTimeout)
			defer cancel()
			err := next.HandleMessage(ctx, msg)
			if err != nil && errors.Is(context.Cause(ctx), ErrTimeout) && !errors.Is(err, ErrTimeout) {
				err = fmt.Errorf("%w after %v: %w", ErrTimeout, d, err)
			}
			return err
		})
	}
}
