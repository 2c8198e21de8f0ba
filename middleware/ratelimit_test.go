package middleware_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

// starts runs one message per key through h, all at once, and returns when
// each handler started, by key, in order, as offsets from the start.
func starts(t *testing.T, cfg middleware.RateLimitConfig, keys []string) map[string][]time.Duration {
	t.Helper()
	var mu sync.Mutex
	got := map[string][]time.Duration{}
	t0 := time.Now()
	h := middleware.RateLimit(cfg)(consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got[msg.GroupID] = append(got[msg.GroupID], time.Since(t0))
		return nil
	}))
	var wg sync.WaitGroup
	for _, k := range keys {
		msg := testMessage()
		msg.GroupID = k
		wg.Go(func() {
			if err := h.HandleMessage(context.Background(), msg); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, d := range got {
		slices.Sort(d)
	}
	return got
}

func ms(ns ...int) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func TestRateLimit(t *testing.T) {
	tenPerSecond := rate.Every(100 * time.Millisecond)
	for _, tc := range []struct {
		name string
		cfg  middleware.RateLimitConfig
		keys []string
		want map[string][]time.Duration // by key; "all" for every message together
	}{
		{"evenly spaced", middleware.RateLimitConfig{Limit: tenPerSecond},
			[]string{"a", "a", "a", "a"}, map[string][]time.Duration{"a": ms(0, 100, 200, 300)}},
		{"burst", middleware.RateLimitConfig{Limit: tenPerSecond, Burst: 3},
			[]string{"a", "a", "a", "a", "a"}, map[string][]time.Duration{"a": ms(0, 0, 0, 100, 200)}},
		{"shared by every key", middleware.RateLimitConfig{Limit: tenPerSecond},
			[]string{"a", "b", "a", "b"}, map[string][]time.Duration{"all": ms(0, 100, 200, 300)}},
		{"per group", middleware.RateLimitConfig{Limit: tenPerSecond, Key: middleware.KeyByGroup},
			[]string{"a", "b", "a", "b", "a", "c"}, map[string][]time.Duration{"a": ms(0, 100, 200), "b": ms(0, 100), "c": ms(0)}},
		{"no limit", middleware.RateLimitConfig{Limit: rate.Inf},
			[]string{"a", "a", "a"}, map[string][]time.Duration{"a": ms(0, 0, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got := starts(t, tc.cfg, tc.keys)
				var all []time.Duration
				for _, d := range got {
					all = append(all, d...)
				}
				slices.Sort(all)
				got["all"] = all
				for k, want := range tc.want {
					if !slices.Equal(got[k], want) {
						t.Errorf("key %s started at %v, want %v", k, got[k], want)
					}
				}
			})
		})
	}
}

func TestRateLimitKeyByAttribute(t *testing.T) {
	key := middleware.KeyByAttribute("tenant")
	msg := testMessage()
	if key(msg) != "" {
		t.Errorf("no attribute: %q", key(msg))
	}
	msg.MessageAttributes = map[string]backend.MessageAttributeValue{"tenant": {DataType: "String", StringValue: "acme"}}
	if key(msg) != "acme" {
		t.Errorf("key %q", key(msg))
	}
	if middleware.KeyByGroup(msg) != "g1" {
		t.Errorf("group key %q", middleware.KeyByGroup(msg))
	}
}

// A message whose context ends while it waits is not handled, says so, and
// gives its turn back to the next message.
func TestRateLimitContextEndsWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		h := middleware.RateLimit(middleware.RateLimitConfig{Limit: 1, Key: middleware.KeyByGroup})(
			consumer.HandlerFunc(func(context.Context, *consumer.Message) error { calls++; return nil }))
		t0 := time.Now()
		if err := h.HandleMessage(context.Background(), testMessage()); err != nil || calls != 1 {
			t.Fatalf("first message: %v, %d calls", err, calls)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() {
			time.Sleep(400 * time.Millisecond)
			cancel(consumer.ErrLeaseLost)
		}()
		err := h.HandleMessage(ctx, testMessage())
		if calls != 1 || !errors.Is(err, middleware.ErrRateLimited) || !errors.Is(err, consumer.ErrLeaseLost) ||
			time.Since(t0) != 400*time.Millisecond {
			t.Fatalf("err %v, %d calls, after %v", err, calls, time.Since(t0))
		}
		if !strings.Contains(err.Error(), "handler not run") || !strings.Contains(err.Error(), `key "g1"`) {
			t.Errorf("error does not say what happened: %v", err)
		}
		// The cancelled message's turn (t=1s) is free again.
		if err := h.HandleMessage(context.Background(), testMessage()); err != nil || calls != 2 ||
			time.Since(t0) != time.Second {
			t.Fatalf("third message: %v, %d calls, at %v", err, calls, time.Since(t0))
		}
	})
}

func TestRateLimitDeadlineBeforeTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		h := middleware.RateLimit(middleware.RateLimitConfig{Limit: 1})(
			consumer.HandlerFunc(func(context.Context, *consumer.Message) error { calls++; return nil }))
		h.HandleMessage(context.Background(), testMessage())
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		err := h.HandleMessage(ctx, testMessage())
		if calls != 1 || !errors.Is(err, middleware.ErrRateLimited) || !errors.Is(err, context.DeadlineExceeded) ||
			time.Since(t0) != 0 {
			t.Fatalf("err %v, %d calls, after %v", err, calls, time.Since(t0))
		}
		// Its turn was given back: the next message goes at t=1s.
		if err := h.HandleMessage(context.Background(), testMessage()); err != nil || time.Since(t0) != time.Second {
			t.Fatalf("next message: %v at %v", err, time.Since(t0))
		}
	})
}

func TestRateLimitContextAlreadyEnded(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(consumer.ErrServerShutdown)
	called := false
	err := middleware.RateLimit(middleware.RateLimitConfig{Limit: rate.Inf})(
		consumer.HandlerFunc(func(context.Context, *consumer.Message) error { called = true; return nil })).
		HandleMessage(ctx, testMessage())
	if called || !errors.Is(err, middleware.ErrRateLimited) || !errors.Is(err, consumer.ErrServerShutdown) {
		t.Fatalf("called %v, err %v", called, err)
	}
}

func TestRateLimitOnFakeClock(t *testing.T) {
	clk := clockwork.NewFakeClock()
	h := middleware.RateLimit(middleware.RateLimitConfig{Limit: rate.Every(time.Minute), Clock: clk})(
		consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }))
	if err := h.HandleMessage(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- h.HandleMessage(context.Background(), testMessage()) }()
	if err := clk.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("ran before its turn: %v", err)
	default:
	}
	clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRateLimitPanicsWithoutLimit(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(p.(string), "positive Limit") {
			t.Fatalf("panic %v", p)
		}
	}()
	middleware.RateLimit(middleware.RateLimitConfig{})
}
