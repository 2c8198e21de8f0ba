package consumer_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// blocker is a handler that blocks until released, counting how many run.
type blocker struct {
	started chan *consumer.Message
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan *consumer.Message, 1000), release: make(chan struct{})}
}

func (b *blocker) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	cp := *msg // the server reuses msg once the handler returns
	b.started <- &cp
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// TestBackPressure: with every handler blocked, the server holds one
// message per worker and at most Concurrency + Prefetch messages; nothing
// more is received however long the handlers run.
func TestBackPressure(t *testing.T) {
	for _, tc := range []struct {
		name           string
		conc, prefetch int
		held           int // messages received
	}{
		{"no prefetch", 2, -1, 2},
		{"prefetch 3", 2, 3, 5},
		{"many workers", 40, 5, 40},
		{"workers not a multiple of 10", 15, -1, 15},
		{"a receive's worth over the workers", 15, 0, 30},
		{"fewer workers than a receive", 3, -1, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				sendN(t, q, 100, nil)
				b := newBlocker()
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: q, Handler: b, Concurrency: tc.conc, Prefetch: tc.prefetch,
				}}})
				time.Sleep(time.Minute)
				synctest.Wait()
				if _, inflight, _ := counts(t, eng, q); inflight != tc.held {
					t.Errorf("%d messages received, want %d", inflight, tc.held)
				}
				if n := len(b.started); n != tc.conc {
					t.Errorf("%d handlers started, want %d", n, tc.conc)
				}
				if st := r.srv.Stats(); st.InFlight != int64(tc.held) {
					t.Errorf("stats %+v", st)
				}
				close(b.release)
				advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 100 })
				r.stop(t, context.Background())
			})
		})
	}
}

// TestEmptyQueueCostsOneLongPoll: however many workers, an empty queue
// costs one long poll at a time, and a message sent to it is taken at once.
func TestEmptyQueueCostsOneLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 250,
		}}})
		synctest.Wait()
		if n := eng.WaitingReceives(); n != 1 {
			t.Fatalf("%d long polls parked, want 1", n)
		}
		time.Sleep(59 * time.Second) // three 20-second waits
		synctest.Wait()
		if n := fq.receives.Load(); n != 3 {
			t.Errorf("%d receives in 59s, want 3", n)
		}
		// A message sent now is received at once by the parked poll.
		sendN(t, q, 1, nil)
		synctest.Wait()
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if st := r.srv.Stats(); st.Succeeded != 1 {
			t.Errorf("stats %+v", st)
		}
		r.stop(t, context.Background())
	})
}

func TestReceiveErrorsBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 5, nil)
		fq := &faultQueue{Queue: q}
		var failing atomic.Bool
		failing.Store(true)
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			if failing.Load() {
				return nil, backend.NewError(backend.CodeServiceUnavailable, "down")
			}
			return q.Receive(ctx, req)
		}
		var errs errorLog
		rec := &recorder{}
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 1,
			ReceiveBackoff: consumer.ExponentialBackoff(time.Second, 8*time.Second),
		}}})
		time.Sleep(60 * time.Second)
		synctest.Wait()
		// 1 + 2 + 4 + 8 + 8 ... seconds apart: about 10 calls in a minute,
		// not a spin.
		n := fq.receives.Load()
		if n < 6 || n > 14 {
			t.Errorf("%d receives in a minute of failures", n)
		}
		got := errs.ops(consumer.OpReceive)
		if int64(len(got)) != n || !errors.Is(got[0], backend.ErrServiceUnavailable) || got[0].QueueURL != q.URL() {
			t.Errorf("%d receive errors reported for %d receives: %v", len(got), n, got[0])
		}
		failing.Store(false)
		advanceUntil(t, func() bool { return rec.total() == 5 })
		r.stop(t, context.Background())
	})
}

func TestReceiveAsksForAttributesAndVisibility(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, newEngine(t), "q", nil)
		fq := &faultQueue{Queue: q}
		reqs := make(chan backend.ReceiveRequest, 10)
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			reqs <- req
			return q.Receive(ctx, req)
		}
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 3, MaxMessages: 3, WaitTime: 7 * time.Second, VisibilityTimeout: 45 * time.Second,
		}}})
		synctest.Wait()
		r.stop(t, context.Background())
		req := <-reqs
		if req.MaxMessages != 3 || *req.WaitTimeSeconds != 7 || *req.VisibilityTimeout != 45 ||
			len(req.SystemAttributeNames) != 1 || req.SystemAttributeNames[0] != "All" ||
			len(req.MessageAttributeNames) != 1 || req.MessageAttributeNames[0] != "All" {
			t.Errorf("request %+v", req)
		}
	})
}

// TestReceivesStayFullWhileWorkIsBuffered checks that the receiver does
// not trickle one-message receives as workers free up one at a time: while
// received messages wait for a worker, it waits for a whole receive's
// worth of room.
func TestReceivesStayFullWhileWorkIsBuffered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		var sizes []int
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			msgs, err := q.Receive(ctx, req)
			if len(msgs) > 0 {
				fq.mu.Lock()
				sizes = append(sizes, req.MaxMessages)
				fq.mu.Unlock()
			}
			return msgs, err
		}
		sendN(t, q, 100, nil)
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			time.Sleep(time.Second)
			return nil
		}}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 2, Prefetch: 18,
		}}})
		advanceUntil(t, func() bool { return rec.total() == 100 })
		r.stop(t, context.Background())
		fq.mu.Lock()
		defer fq.mu.Unlock()
		small := 0
		for _, n := range sizes {
			if n < 10 {
				small++
			}
		}
		if len(sizes) > 11 || small > 1 {
			t.Errorf("receives asked for %v: want full receives of 10", sizes)
		}
	})
}
