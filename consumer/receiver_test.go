package consumer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// netQueue is a queue across a network, on the bubble's fake clock: a call
// reaches the queue rtt/2 after it is made, and its answer comes back
// rtt/2 later. A call whose context ends after it reached the queue has
// taken effect, but its answer is lost, as over HTTP: a receive's messages
// then stay invisible.
type netQueue struct {
	backend.Queue
	rtt time.Duration
	// answering counts the receives whose messages are on their way back.
	answering atomic.Int32
}

func (n *netQueue) trip(ctx context.Context, call func(context.Context) error) error {
	select {
	case <-time.After(n.rtt / 2):
	case <-ctx.Done():
		return ctx.Err()
	}
	err := call(context.WithoutCancel(ctx))
	select {
	case <-time.After(n.rtt / 2):
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

func (n *netQueue) Receive(ctx context.Context, req backend.ReceiveRequest) (msgs []*backend.Message, err error) {
	// The long poll itself ends with ctx, as a server's does when its
	// client goes away.
	select {
	case <-time.After(n.rtt / 2):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	msgs, err = n.Queue.Receive(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(msgs) > 0 {
		n.answering.Add(1)
		defer n.answering.Add(-1)
	}
	select {
	case <-time.After(n.rtt / 2):
	case <-ctx.Done():
		return nil, ctx.Err() // the answer is lost; the messages stay invisible
	}
	return msgs, nil
}

func (n *netQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) (res []backend.EntryResult, err error) {
	err = n.trip(ctx, func(ctx context.Context) (err error) {
		res, err = n.Queue.Delete(ctx, entries)
		return err
	})
	return res, err
}

func (n *netQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) (res []backend.EntryResult, err error) {
	err = n.trip(ctx, func(ctx context.Context) (err error) {
		res, err = n.Queue.ChangeVisibility(ctx, entries)
		return err
	})
	return res, err
}

// TestWorkersDoNotWaitOnTheNetwork: at the default settings (only
// Concurrency set), the receives in flight grow until the workers no
// longer wait for messages, whatever the round trip: a handler-bound
// consumer reaches at least 90% of Concurrency / handler time, and a no-op
// handler is not held to one batch per round trip per worker's worth. Fake
// time: what is measured is how the receiver sizes its receives, not the
// machine's speed.
func TestWorkersDoNotWaitOnTheNetwork(t *testing.T) {
	for _, tc := range []struct {
		rtt, handler time.Duration
		conc         int
		min          float64 // messages per second of fake time
	}{
		{10 * time.Millisecond, 10 * time.Millisecond, 32, 0.9 * 3200},
		{30 * time.Millisecond, 10 * time.Millisecond, 32, 0.9 * 3200},
		{10 * time.Millisecond, 100 * time.Millisecond, 128, 0.9 * 1280},
		{30 * time.Millisecond, 0, 32, 5000},
	} {
		t.Run(fmt.Sprintf("rtt=%v/handler=%v/c=%d", tc.rtt, tc.handler, tc.conc), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				sendN(t, q, 30000, nil)
				h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					time.Sleep(tc.handler)
					return nil
				})
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: &netQueue{Queue: q, rtt: tc.rtt}, Handler: h, Concurrency: tc.conc,
				}}})
				// Measured after the first second, once ramped up.
				advanceUntil(t, func() bool { return r.srv.Stats().Succeeded >= 1 })
				time.Sleep(time.Second)
				synctest.Wait()
				from, t0 := r.srv.Stats().Succeeded, time.Now()
				time.Sleep(time.Second)
				synctest.Wait()
				rate := float64(r.srv.Stats().Succeeded-from) / time.Since(t0).Seconds()
				if rate < tc.min {
					t.Errorf("%.0f messages/s, want at least %.0f", rate, tc.min)
				}
				t.Logf("%.0f messages/s, %d held", rate, r.srv.Stats().InFlight)
				if st := r.srv.Stats(); st.InFlight > int64(10*tc.conc) {
					t.Errorf("%d messages held, over Concurrency + the default Prefetch", st.InFlight)
				}
				r.stop(t, context.Background())
			})
		})
	}
}

// sizeQueue records the MaxMessages of every receive.
type sizeQueue struct {
	backend.Queue
	mu    sync.Mutex
	asked []int
}

func (q *sizeQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	q.mu.Lock()
	q.asked = append(q.asked, req.MaxMessages)
	q.mu.Unlock()
	return q.Queue.Receive(ctx, req)
}

// TestReceivesStayFullAtTheCap: a quick handler far from its queue keeps
// the receiver at its cap (Concurrency + Prefetch), where room frees up a
// message at a time; it still asks for whole receives of 10, not a
// request per freed message.
func TestReceivesStayFullAtTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 6000, nil)
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error { return nil })
		sq := &sizeQueue{Queue: &netQueue{Queue: q, rtt: 30 * time.Millisecond}}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{Queue: sq, Handler: h, Concurrency: 32}}})
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 6000 })
		r.stop(t, context.Background())
		sq.mu.Lock()
		defer sq.mu.Unlock()
		for _, n := range sq.asked {
			if n != 10 {
				t.Fatalf("receives asked for %v: want 10 each", sq.asked)
			}
		}
	})
}

// TestShutdownGivesBackWhatReceivesInFlightBring: a shutdown under load,
// with receives on their way back across the network, leaves no message
// invisible: the receives already sent are not abandoned; what they bring
// is given back at once.
func TestShutdownGivesBackWhatReceivesInFlightBring(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				var group func(int) string
				if fifo {
					q = newFIFO(t, eng)
					group = func(i int) string { return fmt.Sprint(i % 20) }
				}
				sendN(t, q, 2000, group)
				h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					time.Sleep(5 * time.Millisecond)
					return nil
				})
				nq := &netQueue{Queue: q, rtt: 200 * time.Millisecond}
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: nq, Handler: h, Concurrency: 32,
				}}})
				advanceUntil(t, func() bool { return r.srv.Stats().Succeeded >= 300 })
				for nq.answering.Load() == 0 { // messages on their way back
					time.Sleep(time.Millisecond)
					synctest.Wait()
				}
				if err := r.stop(t, context.Background()); err != nil {
					t.Fatal(err)
				}
				if _, f, _ := counts(t, eng, q); f != 0 {
					t.Errorf("%d messages left invisible after the shutdown; stats %+v", f, r.srv.Stats())
				}
			})
		})
	}
}

// TestStopWhenIdle: Run returns nil once the queue has been idle for
// StopWhenIdle, after every message was handled and deleted, however long
// WaitTime is.
func TestStopWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 25, nil)
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			time.Sleep(100 * time.Millisecond)
			return nil
		}}
		srv, err := consumer.New(consumer.Config{StopWhenIdle: 2 * time.Second, Queues: []consumer.QueueConfig{{
			Queue: q, Handler: rec, Concurrency: 4,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		done := make(chan error)
		go func() { done <- srv.Run(context.Background()) }()
		// A message that comes later keeps it running.
		time.Sleep(1500 * time.Millisecond)
		sendN(t, q, 1, nil)
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 || rec.total() != 26 {
			t.Errorf("%d visible, %d in flight, %d handled", v, f, rec.total())
		}
		if d := time.Since(t0); d > 6*time.Second {
			t.Errorf("Run returned after %v", d)
		}
		if err := srv.Run(context.Background()); err != consumer.ErrServerClosed {
			t.Errorf("second Run = %v", err)
		}
	})
}

// TestMoreMessagesThanAskedFor: a backend that answers a receive with more
// messages than it asked for gets the extra ones given back at once, and
// every message is still handled (the workers' buffer has room only for
// what was asked for).
func TestMoreMessagesThanAskedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 30, nil)
		fq := &faultQueue{Queue: q}
		fq.receiveHook = func(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
			req.MaxMessages = 10 // whatever was asked for
			return q.Receive(ctx, req)
		}
		rec := &recorder{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 1, Prefetch: -1,
		}}})
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 30 })
		r.stop(t, context.Background())
		if rec.distinct() != 30 || r.srv.Stats().Released == 0 {
			t.Errorf("%d handled, stats %+v", rec.distinct(), r.srv.Stats())
		}
	})
}
