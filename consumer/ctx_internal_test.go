package consumer

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

type ctxKey struct{}

func TestHandlerCtx(t *testing.T) {
	errLost := errors.New("lost")
	parent := context.WithoutCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
	isDone := func(ctx context.Context) bool {
		select {
		case <-ctx.Done():
			return true
		default:
			return false
		}
	}
	for _, tc := range []struct {
		name string
		// before runs before the cancellation, after it.
		before func(hc *handlerCtx) context.Context
	}{
		{"never looked at", func(hc *handlerCtx) context.Context { return hc }},
		{"Done before", func(hc *handlerCtx) context.Context { _ = hc.Done(); return hc }},
		{"derived before", func(hc *handlerCtx) context.Context {
			ctx, cancel := context.WithTimeout(hc, time.Hour)
			t.Cleanup(cancel)
			return ctx
		}},
		{"AfterFunc before", func(hc *handlerCtx) context.Context {
			ran := make(chan struct{})
			stop := context.AfterFunc(hc, func() { close(ran) })
			t.Cleanup(func() { stop() })
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-ran; cancel() }()
			return ctx
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc := newHandlerCtx(parent)
			ctx := tc.before(hc)
			if hc.Err() != nil || hc.Cause() != nil || context.Cause(hc) != nil {
				t.Fatalf("fresh context: err %v, cause %v", hc.Err(), hc.Cause())
			}
			if v := hc.Value(ctxKey{}); v != "v" {
				t.Errorf("Value = %v, want the parent's", v)
			}
			if _, ok := hc.Deadline(); ok {
				t.Error("a deadline")
			}
			hc.cancel(errLost)
			hc.cancel(errors.New("second")) // the first cause sticks
			<-ctx.Done()
			if !isDone(hc) {
				t.Error("Done not closed after cancel")
			}
			if !errors.Is(hc.Err(), context.Canceled) {
				t.Errorf("Err = %v", hc.Err())
			}
			if got := context.Cause(hc); got != errLost {
				t.Errorf("context.Cause = %v, want %v", got, errLost)
			}
			if got := hc.Cause(); got != errLost {
				t.Errorf("Cause = %v, want %v", got, errLost)
			}
			if v := hc.Value(ctxKey{}); v != "v" {
				t.Errorf("Value after cancel = %v, want the parent's", v)
			}
			hc.end()
			if got := context.Cause(hc); got != errLost {
				t.Errorf("context.Cause after end = %v, want %v", got, errLost)
			}
		})
	}

	t.Run("ended", func(t *testing.T) {
		hc := newHandlerCtx(parent)
		hc.end()
		if !isDone(hc) || !errors.Is(context.Cause(hc), context.Canceled) || hc.Cause() != context.Canceled {
			t.Errorf("after end: done %v, cause %v", isDone(hc), context.Cause(hc))
		}
	})
	t.Run("derived after cancel", func(t *testing.T) {
		hc := newHandlerCtx(parent)
		hc.cancel(errLost)
		ctx, cancel := context.WithCancel(hc)
		defer cancel()
		if !isDone(ctx) || context.Cause(ctx) != errLost {
			t.Errorf("derived: done %v, cause %v", isDone(ctx), context.Cause(ctx))
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		for range 50 {
			hc := newHandlerCtx(parent)
			var wg sync.WaitGroup
			wg.Go(func() { hc.cancel(errLost) })
			wg.Go(func() { <-hc.Done() })
			wg.Go(func() {
				for hc.Err() == nil {
					runtime.Gosched()
				}
			})
			wg.Go(func() { _ = context.Cause(hc) })
			wg.Wait()
			if context.Cause(hc) != errLost {
				t.Fatalf("cause %v", context.Cause(hc))
			}
		}
	})
}
