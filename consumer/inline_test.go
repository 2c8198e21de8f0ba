package consumer_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// startQuick starts a server whose queues take their handlers and flushes
// for quick from the start (consumer.AssumeQuick): received messages run on
// their poller while a worker is idle, full batches flush inline.
func startQuick(t testing.TB, cfg consumer.Config) *running {
	t.Helper()
	return startWith(t, cfg, consumer.AssumeQuick)
}

// TestInlineRunsHandleEachMessageOnce: with a quick handler the server
// soon runs what it receives on its pollers (it times the handler calls to
// know), and every message is still handled once and deleted once, in
// batches.
func TestInlineRunsHandleEachMessageOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		const n = 600
		sendN(t, q, n, nil)
		rec := &recorder{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 4, Prefetch: 36,
		}}})
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == n })
		r.stop(t, context.Background())
		if runs := consumer.InlineRuns(r.srv); runs == 0 {
			t.Error("no receive ran inline with a handler that takes no time")
		}
		if rec.distinct() != n || rec.total() != n {
			t.Errorf("%d messages handled %d times, want %d once each", rec.distinct(), rec.total(), n)
		}
		fq.mu.Lock()
		defer fq.mu.Unlock()
		for h, c := range fq.deleted {
			if c != 1 {
				t.Errorf("receipt handle %s deleted %d times", h, c)
			}
		}
		if len(fq.deleted) != n {
			t.Errorf("%d messages deleted, want %d", len(fq.deleted), n)
		}
		if calls := fq.deletes.Load(); calls > n/10+10 {
			t.Errorf("%d delete calls for %d messages: not batched", calls, n)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight left", v, f)
		}
	})
}

// TestInlineRunRescued: a handler that turns slow in the middle of an
// inline run does not hold up the rest of the receive: within RescueWithin
// the messages the run has not started go to the idle workers, and the
// deletes of those it finished go out, while the slow one still runs.
func TestInlineRunRescued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		rec := &recorder{}
		release := make(chan struct{})
		var calls atomic.Int32
		var slow string
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			if calls.Add(1) == 3 {
				slow = msg.Body
				<-release
			}
			return rec.HandleMessage(ctx, msg)
		})
		// One poller (capacity 10), four workers.
		r := startQuick(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, Handler: h, Concurrency: 4, Prefetch: 6,
		}}})
		synctest.Wait() // workers parked, the poller in its long poll
		sendN(t, q, 10, nil)
		synctest.Wait()
		if got := rec.total(); got != 2 {
			t.Fatalf("%d handled before the slow one, want 2 (the run goes in order)", got)
		}
		time.Sleep(consumer.RescueWithin)
		synctest.Wait()
		if got := rec.total(); got != 9 {
			t.Fatalf("%d handled while the slow one runs, want the other 9", got)
		}
		time.Sleep(consumer.DefaultAckMaxDelay)
		synctest.Wait()
		if st := r.srv.Stats(); st.Deleted != 9 || st.Succeeded != 9 {
			t.Errorf("stats %+v while the slow one runs: want 9 deleted", st)
		}
		if v, f, _ := counts(t, eng, q); v != 0 || f != 1 {
			t.Errorf("%d visible, %d in flight; want only the slow one in flight", v, f)
		}
		close(release)
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 10 })
		r.stop(t, context.Background())
		if runs := consumer.InlineRuns(r.srv); runs != 1 {
			t.Errorf("%d inline runs, want 1", runs)
		}
		if rec.distinct() != 10 || rec.total() != 10 || rec.count(slow) != 1 {
			t.Errorf("handled %d messages %d times", rec.distinct(), rec.total())
		}
	})
}

// TestInlineRunShutdown: Shutdown during an inline run keeps its deadline.
// The running handler is cancelled with ErrServerShutdown at the deadline,
// and every message, started or not, is given back.
func TestInlineRunShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		var calls atomic.Int32
		var cause error
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			calls.Add(1)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		r := startQuick(t, consumer.Config{
			Queues:          []consumer.QueueConfig{{Queue: q, Handler: h, Concurrency: 2, Prefetch: 8}},
			ShutdownTimeout: time.Second,
		})
		synctest.Wait()
		sendN(t, q, 5, nil)
		synctest.Wait()
		if calls.Load() != 1 {
			t.Fatalf("%d handler calls, want 1 (the run's first)", calls.Load())
		}
		t0 := time.Now()
		err := r.stop(t, context.Background())
		if !errors.Is(err, consumer.ErrShutdownTimeout) {
			t.Errorf("Shutdown: %v, want ErrShutdownTimeout", err)
		}
		if d := time.Since(t0); d != time.Second {
			t.Errorf("Shutdown took %v, want the 1s timeout", d)
		}
		if !errors.Is(cause, consumer.ErrServerShutdown) {
			t.Errorf("handler cancelled with %v, want ErrServerShutdown", cause)
		}
		if calls.Load() != 1 {
			t.Errorf("%d handler calls: a message started during shutdown", calls.Load())
		}
		if v, f, _ := counts(t, eng, q); v != 5 || f != 0 {
			t.Errorf("%d visible, %d in flight after shutdown; want all 5 given back", v, f)
		}
	})
}

// TestInlineRunsKeepConcurrency: pollers that run messages do it in the
// place of idle workers, so Concurrency still bounds the handler calls
// running at once, here with more pollers (4) than workers (2).
func TestInlineRunsKeepConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		const n = 400
		var mu sync.Mutex
		running, most := 0, 0
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			mu.Lock()
			running++
			most = max(most, running)
			mu.Unlock()
			for range 3 {
				runtime.Gosched()
			}
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		})
		r := startQuick(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, Handler: h, Concurrency: 2, Prefetch: 38,
		}}})
		synctest.Wait() // workers parked, pollers in their long polls
		sendN(t, q, n, nil)
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == n })
		r.stop(t, context.Background())
		if most > 2 {
			t.Errorf("%d handler calls at once, Concurrency is 2", most)
		}
		if consumer.InlineRuns(r.srv) == 0 {
			t.Error("no inline run")
		}
	})
}

// TestInlineDeleteRetried: a delete that fails and may be tried again, in
// a batch flushed inline (which never waits), is tried again later by a
// flusher, with backoff; the message is deleted once and nothing is
// reported.
func TestInlineDeleteRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		var failed atomic.Bool
		var calls atomic.Int32
		fq.deleteHook = func(entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
			if calls.Add(1) == 3 && failed.CompareAndSwap(false, true) {
				return nil, backend.NewError(backend.CodeServiceUnavailable, "try again")
			}
			return q.Delete(context.Background(), entries)
		}
		var errs errorLog
		rec := &recorder{}
		r := startQuick(t, consumer.Config{
			Queues:  []consumer.QueueConfig{{Queue: fq, Handler: rec, Concurrency: 4, Prefetch: 36}},
			OnError: errs.add,
		})
		const n = 200
		sendN(t, q, n, nil)
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == n })
		r.stop(t, context.Background())
		if !failed.Load() {
			t.Fatal("no delete failed")
		}
		if got := errs.ops(consumer.OpDelete); len(got) != 0 {
			t.Errorf("delete errors reported: %v", got)
		}
		fq.mu.Lock()
		defer fq.mu.Unlock()
		if len(fq.deleted) != n {
			t.Errorf("%d deleted, want %d", len(fq.deleted), n)
		}
		for h, c := range fq.deleted {
			if c != 1 {
				t.Errorf("%s deleted %d times", h, c)
			}
		}
	})
}
