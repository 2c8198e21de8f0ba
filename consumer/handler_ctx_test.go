package consumer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/postbox-go/postbox/consumer"
)

type ctxKey struct{}

// TestHandlerContextOutlivesItsMessage: a handler's context carries Run's
// values, is cancelled (context.Canceled) once the handler returns, and
// stays so: the server reuses message memory from receive to receive, but
// never a context, so one kept by something the handler started does not
// come back to life with a later message.
func TestHandlerContextOutlivesItsMessage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		const n = 200
		sendN(t, q, n, nil)
		var mu sync.Mutex
		var kept []context.Context
		var bad []string
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if ctx.Err() != nil || ctx.Value(ctxKey{}) != "run" {
				bad = append(bad, msg.Body)
			}
			kept = append(kept, ctx)
			return nil
		})
		srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, Concurrency: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- srv.Run(context.WithValue(context.Background(), ctxKey{}, "run")) }()
		advanceUntil(t, func() bool { return srv.Stats().Deleted == n })
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		<-done
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Errorf("handlers of %v saw a cancelled context or lost Run's values", bad)
		}
		seen := map[context.Context]bool{}
		for i, ctx := range kept {
			if seen[ctx] {
				t.Fatalf("context %d was handed to two handlers", i)
			}
			seen[ctx] = true
			if !errors.Is(ctx.Err(), context.Canceled) || context.Cause(ctx) != context.Canceled {
				t.Fatalf("context %d after its handler returned: err %v, cause %v", i, ctx.Err(), context.Cause(ctx))
			}
			select {
			case <-ctx.Done():
			default:
				t.Fatalf("context %d: Done not closed", i)
			}
		}
	})
}
