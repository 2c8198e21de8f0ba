package backend_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

type otherKey struct{}

func TestCallInfo(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		ctx := context.Background()
		if info := backend.CallInfoFrom(ctx); info != nil {
			t.Fatalf("CallInfoFrom(Background) = %+v, want nil", info)
		}
		backend.SetRequestID(ctx, "r1") // no CallInfo: nothing to fill, no panic
	})

	t.Run("filled through derived contexts", func(t *testing.T) {
		parent := context.WithValue(context.Background(), otherKey{}, "kept")
		ctx, info := backend.WithCallInfo(parent)
		if info == nil || info.RequestID != "" {
			t.Fatalf("new CallInfo = %+v, want empty", info)
		}
		if got := backend.CallInfoFrom(ctx); got != info {
			t.Fatalf("CallInfoFrom = %p, want %p", got, info)
		}
		if got := ctx.Value(otherKey{}); got != "kept" {
			t.Fatalf("parent's value = %v, want kept", got)
		}
		// A backend typically derives its own contexts for the call.
		callCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		backend.SetRequestID(context.WithValue(callCtx, otherKey{}, "inner"), "r1")
		if info.RequestID != "r1" {
			t.Fatalf("RequestID = %q, want r1", info.RequestID)
		}
		backend.SetRequestID(callCtx, "") // an empty id keeps what is known
		if info.RequestID != "r1" {
			t.Fatalf("after an empty id, RequestID = %q, want r1", info.RequestID)
		}
		backend.SetRequestID(callCtx, "r2") // several requests: the last one
		if info.RequestID != "r2" {
			t.Fatalf("RequestID = %q, want r2", info.RequestID)
		}
	})

	t.Run("nested: a decorator's CallInfo does not hide the caller's", func(t *testing.T) {
		outerCtx, outer := backend.WithCallInfo(context.Background())
		innerCtx, inner := backend.WithCallInfo(outerCtx)
		if inner == outer {
			t.Fatal("WithCallInfo returned the outer CallInfo")
		}
		if got := backend.CallInfoFrom(innerCtx); got != inner {
			t.Fatal("CallInfoFrom does not return the innermost CallInfo")
		}
		backend.SetRequestID(innerCtx, "r1")
		if inner.RequestID != "r1" || outer.RequestID != "r1" {
			t.Fatalf("inner %q, outer %q, want r1 for both", inner.RequestID, outer.RequestID)
		}
		// A call made with the outer context alone leaves the inner alone.
		backend.SetRequestID(outerCtx, "r2")
		if inner.RequestID != "r1" || outer.RequestID != "r2" {
			t.Fatalf("inner %q, outer %q, want r1 and r2", inner.RequestID, outer.RequestID)
		}
	})

	t.Run("cancellation passes through", func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		ctx, _ := backend.WithCallInfo(parent)
		child, cancelChild := context.WithCancel(ctx)
		defer cancelChild()
		cancel()
		<-child.Done()
		if ctx.Err() != context.Canceled || child.Err() != context.Canceled {
			t.Fatalf("Err = %v, %v, want context.Canceled", ctx.Err(), child.Err())
		}
	})

	t.Run("String", func(t *testing.T) {
		ctx, _ := backend.WithCallInfo(context.Background())
		if s := fmt.Sprint(ctx); !strings.HasSuffix(s, ".WithCallInfo") {
			t.Fatalf("String() = %q", s)
		}
	})
}

// TestCallInfoAllocations holds the cost: one allocation to ask, none to
// record, none when nobody asked.
func TestCallInfoAllocations(t *testing.T) {
	bg := context.Background()
	tests := []struct {
		name string
		f    func()
		want float64
	}{
		{"WithCallInfo", func() { backend.WithCallInfo(bg) }, 1},
		{"SetRequestID without CallInfo", func() { backend.SetRequestID(bg, "r1") }, 0},
		{"SetRequestID", func() {
			ctx, _ := backend.WithCallInfo(bg)
			backend.SetRequestID(ctx, "r1")
		}, 1},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.f); got != tt.want {
			t.Errorf("%s: %v allocations, want %v", tt.name, got, tt.want)
		}
	}
}

func ExampleWithCallInfo() {
	// What a backend with request ids does once the answer is in:
	call := func(ctx context.Context) error {
		backend.SetRequestID(ctx, "9f1c2e44-7b6d-5a1e-8c3f-2d4b6a8e0c11")
		return nil
	}

	ctx, info := backend.WithCallInfo(context.Background())
	err := call(ctx) // q.Send(ctx, entries), q.Receive(ctx, req), ...
	fmt.Println(err, info.RequestID)
	// Output: <nil> 9f1c2e44-7b6d-5a1e-8c3f-2d4b6a8e0c11
}
