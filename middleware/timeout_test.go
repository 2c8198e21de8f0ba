package middleware_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		work    time.Duration
		wantErr bool
	}{
		{"in time", time.Second, false},
		{"overrun", time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cause error
				h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					select {
					case <-time.After(tc.work):
						return nil
					case <-ctx.Done():
						cause = context.Cause(ctx)
						return ctx.Err()
					}
				})
				t0 := time.Now()
				err := middleware.Timeout(10*time.Second)(h).HandleMessage(context.Background(), testMessage())
				if !tc.wantErr {
					if err != nil || time.Since(t0) != tc.work {
						t.Fatalf("err = %v after %v", err, time.Since(t0))
					}
					return
				}
				if !errors.Is(err, middleware.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) ||
					!errors.Is(cause, middleware.ErrTimeout) || time.Since(t0) != 10*time.Second {
					t.Fatalf("err = %v, cause %v, after %v", err, cause, time.Since(t0))
				}
			})
		})
	}
}

func TestTimeoutKeepsParentCancellation(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(consumer.ErrServerShutdown)
	h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error { return context.Cause(ctx) })
	err := middleware.Timeout(time.Hour)(h).HandleMessage(ctx, testMessage())
	if !errors.Is(err, consumer.ErrServerShutdown) || errors.Is(err, middleware.ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
}
