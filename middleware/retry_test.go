package middleware_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

func TestRetry(t *testing.T) {
	transient := errors.New("transient")
	for _, tc := range []struct {
		name      string
		failures  int   // attempts that fail before one succeeds
		err       error // what they fail with
		attempts  int
		wantCalls int
		wantErr   bool
		wantWait  time.Duration
	}{
		{"first try", 0, transient, 3, 1, false, 0},
		{"second try", 1, transient, 3, 2, false, time.Second},
		{"third try", 2, transient, 3, 3, false, 3 * time.Second},
		{"gives up", 5, transient, 3, 3, true, 3 * time.Second},
		{"permanent is not retried", 5, consumer.Permanent(transient), 3, 1, true, 0},
		{"default attempts", 5, transient, 0, 3, true, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
					calls++
					if calls <= tc.failures {
						return tc.err
					}
					return nil
				})
				mw := middleware.Retry(middleware.RetryConfig{Attempts: tc.attempts,
					Backoff: func(n int) time.Duration { return time.Duration(n) * time.Second }})
				t0 := time.Now()
				err := mw(h).HandleMessage(context.Background(), testMessage())
				if (err != nil) != tc.wantErr || calls != tc.wantCalls || time.Since(t0) != tc.wantWait {
					t.Fatalf("err %v, %d calls, waited %v", err, calls, time.Since(t0))
				}
				if tc.wantErr && !errors.Is(err, transient) {
					t.Errorf("err %v is not the handler's", err)
				}
			})
		})
	}
}

func TestRetryStopsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		calls := 0
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
			calls++
			return errors.New("fails")
		})
		go func() {
			time.Sleep(1500 * time.Millisecond)
			cancel(consumer.ErrLeaseLost)
		}()
		err := middleware.Retry(middleware.RetryConfig{Attempts: 10, Backoff: consumer.ConstantBackoff(time.Second)})(h).
			HandleMessage(ctx, testMessage())
		if calls != 2 || !errors.Is(err, consumer.ErrLeaseLost) {
			t.Fatalf("%d calls, err %v", calls, err)
		}
	})
}

func TestRetryOnFakeClock(t *testing.T) {
	clk := clockwork.NewFakeClock()
	calls := make(chan int, 3)
	n := 0
	h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
		n++
		calls <- n
		if n < 3 {
			return errors.New("again")
		}
		return nil
	})
	done := make(chan error)
	go func() {
		done <- middleware.Retry(middleware.RetryConfig{Clock: clk, Backoff: consumer.ConstantBackoff(time.Minute)})(h).
			HandleMessage(context.Background(), testMessage())
	}()
	for i := 1; i <= 2; i++ {
		<-calls
		if err := clk.BlockUntilContext(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	<-calls
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
