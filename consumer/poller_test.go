package consumer_test

import (
	"context"
	"errors"
	"runtime"
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

func TestBackPressure(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		conc, prefetch, pollers int
	}{
		{"no prefetch", 2, 0, 0},
		{"prefetch 3", 2, 3, 0},
		{"many pollers", 5, 1, 4},
		{"many workers", 40, 5, 0},
		{"workers not a multiple of 10", 15, 0, 0},
		{"fewer slots than a receive", 3, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				sendN(t, q, 100, nil)
				b := newBlocker()
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: q, Handler: b, Concurrency: tc.conc, Prefetch: tc.prefetch, Pollers: tc.pollers,
				}}})
				time.Sleep(time.Minute)
				synctest.Wait()
				// The workers are all busy, the prefetch is full, and
				// nothing more was received.
				if _, inflight, _ := counts(t, eng, q); inflight != tc.conc+tc.prefetch {
					t.Errorf("%d messages received, want %d workers + %d prefetch", inflight, tc.conc, tc.prefetch)
				}
				if n := len(b.started); n != tc.conc {
					t.Errorf("%d handlers started, want %d", n, tc.conc)
				}
				if st := r.srv.Stats(); st.InFlight != int64(tc.conc+tc.prefetch) {
					t.Errorf("stats %+v", st)
				}
				close(b.release)
				advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 100 })
				r.stop(t, context.Background())
			})
		})
	}
}

func TestEmptyQueueCostsOneLongPollPerPoller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 25, // 3 pollers
		}}})
		synctest.Wait()
		if n := eng.WaitingReceives(); n != 3 {
			t.Fatalf("%d long polls parked, want 3", n)
		}
		time.Sleep(59 * time.Second) // three 20-second waits each
		synctest.Wait()
		if n := fq.receives.Load(); n != 9 {
			t.Errorf("%d receives in 59s, want 9", n)
		}
		// A message sent now is received at once by a parked poll.
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
			Queue: fq, Handler: h, Concurrency: 3, MaxMessages: 3, WaitTime: 7 * time.Second, VisibilityTimeout: 45 * time.Second, // one poller
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

// TestReceivesStayFullWhileWorkIsBuffered checks that pollers do not
// trickle one-message receives as slots free up one at a time: while
// received messages wait for a worker, a poller waits for a whole receive's
// worth of free slots.
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

// latencyQueue is a queue whose receives take delay (on the test's fake
// clock), and which records how many run at once.
type latencyQueue struct {
	backend.Queue
	delay       atomic.Int64 // nanoseconds
	active, max atomic.Int32
}

func (l *latencyQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	n := l.active.Add(1)
	defer l.active.Add(-1)
	for m := l.max.Load(); n > m && !l.max.CompareAndSwap(m, n); m = l.max.Load() {
	}
	time.Sleep(time.Duration(l.delay.Load()))
	return l.Queue.Receive(ctx, req)
}

// TestSparePollersWaitWhileReceivesAreQuick: while receives take
// microseconds (a queue in the same process), only GOMAXPROCS of a queue's
// pollers receive, the others wait; when receives turn slow (a queue across
// a network), all of them receive at once; when they are quick again, the
// spare ones wait again, and Shutdown ends them while they wait.
func TestSparePollersWaitWhileReceivesAreQuick(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		lq := &latencyQueue{Queue: newQueue(t, eng, "q", nil)}
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: lq, Handler: h, Concurrency: 40, Pollers: 4,
		}}})
		deleted := func(n int64) func() bool { return func() bool { return r.srv.Stats().Deleted >= n } }
		phase := func(name string, delay time.Duration, want int32, total int64) {
			t.Helper()
			lq.delay.Store(int64(delay))
			// The first 2,000 let the estimate of a receive's cost
			// settle. A poller in a receive when it turned quick ends
			// that receive before it waits; it may be a long poll that
			// the next messages end: the next 1,000 do. The last 1,000
			// show how many receives run at once.
			for _, n := range []int{2000, 1000, 1000} {
				lq.max.Store(0)
				sendN(t, lq, n, nil)
				total += int64(n)
				advanceUntil(t, deleted(total))
			}
			if got := lq.max.Load(); got != want {
				t.Errorf("%s: %d receives at once, want %d", name, got, want)
			}
		}
		phase("receives of 10µs", 10*time.Microsecond, 2, 0)
		phase("receives of 5ms", 5*time.Millisecond, 4, 4000)
		phase("receives of 10µs again", 10*time.Microsecond, 2, 8000)
		if err := r.stop(t, context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := r.srv.Stats(); st.Deleted != 12000 || st.InFlight != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestSparePollerStandsInForAStuckOne: a spare poller waits while receives
// are quick, but not while a poller is stuck in a handler of an inline run
// (one that the watchdog had to rescue): the queue keeps being received and
// handled while the stuck handler runs.
func TestSparePollerStandsInForAStuckOne(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // one poller receives, one is spare
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		lq := &latencyQueue{Queue: newQueue(t, eng, "q", nil)}
		lq.delay.Store(int64(10 * time.Microsecond))
		release := make(chan struct{})
		var handled atomic.Int64
		h := consumer.HandlerFunc(func(_ context.Context, msg *consumer.Message) error {
			if msg.Body == "stuck" {
				<-release
			}
			handled.Add(1)
			return nil
		})
		r := startQuick(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: lq, Handler: h, Concurrency: 10, Pollers: 2,
		}}})
		deleted := func(n int64) func() bool { return func() bool { return r.srv.Stats().Deleted >= n } }
		sendN(t, lq, 2000, nil) // receives are timed quick: the spare poller waits
		advanceUntil(t, deleted(2000))
		if _, err := lq.Send(context.Background(), []backend.SendEntry{{ID: "0", Body: "stuck"}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(consumer.RescueWithin)
		synctest.Wait()
		sendN(t, lq, 100, nil)
		advanceUntil(t, func() bool { return handled.Load() >= 2100 })
		if n := handled.Load(); n != 2100 {
			t.Errorf("%d handled while one handler is stuck, want 2100", n)
		}
		close(release)
		advanceUntil(t, deleted(2101))
		if err := r.stop(t, context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
