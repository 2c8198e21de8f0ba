package middleware

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/consumer"
)

// RetryConfig configures Retry. The zero value of each field is its
// documented default.
type RetryConfig struct {
	// Attempts is how many times the handler is called at most, the first
	// call included. Default 3.
	Attempts int
	// Backoff is the wait after the n-th failed attempt. Default
	// consumer.ExponentialBackoff(100ms, 5s).
	Backoff consumer.Backoff
	// Retryable tells whether an error is worth another attempt. Default:
	// every error but a consumer.Permanent one. Errors are never retried
	// once the message's context has ended.
	Retryable func(error) bool
	// Clock times the waits. Default: the real clock.
	Clock clockwork.Clock
}

// Retry calls the handler again, in the same delivery, when it fails, up to
// cfg.Attempts times with cfg.Backoff between attempts. It returns nil as
// soon as an attempt succeeds, and otherwise the last error, which the
// server then handles as usual (backoff through the queue). Keep the
// attempts and waits well inside the handler's time: the message stays
// leased to this process while Retry waits.
func Retry(cfg RetryConfig) consumer.Middleware {
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.Backoff == nil {
		cfg.Backoff = consumer.ExponentialBackoff(100*time.Millisecond, 5*time.Second)
	}
	if cfg.Retryable == nil {
		cfg.Retryable = func(err error) bool { return !consumer.IsPermanent(err) }
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			var err error
			for attempt := 1; ; attempt++ {
				err = next.HandleMessage(ctx, msg)
				if err == nil || attempt >= cfg.Attempts || ctx.Err() != nil || !cfg.Retryable(err) {
					return err
				}
				t := cfg.Clock.NewTimer(cfg.Backoff(attempt))
				select {
				case <-t.Chan():
				case <-ctx.Done():
					t.Stop()
					return errors.Join(err, context.Cause(ctx))
				}
			}
		})
	}
}
