package consumer_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

func TestHeartbeatKeepsLongJobsInvisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 26, nil)
		b := newBlocker()
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: b, Concurrency: 25, Prefetch: 1, // one waits for a worker
		}}})
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := len(b.started); n != 25 {
			t.Fatalf("%d handlers started, want 25 (nothing came back)", n)
		}
		if v, f, _ := counts(t, eng, q); v != 0 || f != 26 {
			t.Fatalf("%d visible, %d in flight after 10 minutes", v, f)
		}
		fq.mu.Lock()
		changes := len(fq.changeLog)
		fq.mu.Unlock()
		// 26 leases renewed about every 10-15 s for 10 minutes, 10 a call.
		if calls := fq.changes.Load(); calls > int64(changes/10+changes/30+2) {
			t.Errorf("%d ChangeVisibility calls for %d extensions: not batched", calls, changes)
		}
		if st := r.srv.Stats(); st.Extended < 26*40 || st.Extended != int64(changes) {
			t.Errorf("stats %+v, %d changes", st, changes)
		}
		close(b.release)
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 26 })
		r.stop(t, context.Background())
		for range 26 {
			if m := <-b.started; m.ReceiveCount != 1 {
				t.Errorf("message %s received %d times", m.Body, m.ReceiveCount)
			}
		}
	})
}

func TestLeaseLostCancelsHandler(t *testing.T) {
	for _, code := range []string{backend.CodeReceiptHandleIsInvalid, backend.CodeMessageNotInflight, backend.CodeInvalidParameterValue} {
		t.Run(code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				fq := &faultQueue{Queue: q}
				fq.changeHook = func(entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
					res := make([]backend.EntryResult, len(entries))
					for i, e := range entries {
						res[i] = backend.EntryResult{ID: e.ID, Err: backend.NewError(code, "gone")}
					}
					return res, nil
				}
				sendN(t, q, 1, nil)
				var errs errorLog
				causes := make(chan error, 1)
				h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					<-ctx.Done()
					causes <- context.Cause(ctx)
					return ctx.Err()
				})
				r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
					Queue: fq, Handler: h, VisibilityTimeout: 30 * time.Second,
				}}})
				t0 := time.Now()
				cause := <-causes
				if d := time.Since(t0); d > 30*time.Second {
					t.Errorf("cancelled after %v", d)
				}
				if !errors.Is(cause, consumer.ErrLeaseLost) || backend.Code(cause) != code {
					t.Errorf("cause %v", cause)
				}
				time.Sleep(time.Second)
				synctest.Wait()
				r.stop(t, context.Background())
				if fq.deletes.Load() != 0 {
					t.Error("a message whose lease was lost was deleted")
				}
				if got := errs.ops(consumer.OpHeartbeat); len(got) != 1 || !errors.Is(got[0], consumer.ErrLeaseLost) {
					t.Errorf("heartbeat errors %v", got)
				}
				if st := r.srv.Stats(); st.LeasesLost != 1 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

func TestHeartbeatStopsAtMaxExtension(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 1, nil)
		causes := make(chan error, 1)
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			if msg.ReceiveCount > 1 {
				return nil
			}
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		}}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, Handler: rec, VisibilityTimeout: 10 * time.Second, MaxExtension: time.Minute,
		}}})
		t0 := time.Now()
		cause := <-causes
		if d := time.Since(t0); d < 55*time.Second || d > 65*time.Second {
			t.Errorf("lease ran out after %v, want about a minute", d)
		}
		if !errors.Is(cause, consumer.ErrLeaseLost) {
			t.Errorf("cause %v", cause)
		}
		// The message comes back by itself and is handled again.
		advanceUntil(t, func() bool { return rec.total() == 2 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight", v, f)
		}
	})
}

func TestHeartbeatNeverPastTwelveHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 1, nil)
		var errs errorLog
		causes := make(chan error, 1)
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return nil
		})
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 1,
		}}})
		t0 := time.Now()
		cause := <-causes
		if d := time.Since(t0); d < 12*time.Hour-time.Minute || d > 12*time.Hour {
			t.Errorf("lease ran out after %v, want just under 12h", d)
		}
		if !errors.Is(cause, consumer.ErrLeaseLost) || backend.Code(cause) != "" {
			t.Errorf("cause %v: the engine refused an extension", cause)
		}
		r.stop(t, context.Background())
		if got := errs.ops(consumer.OpHeartbeat); len(got) != 1 {
			t.Errorf("heartbeat errors %v", got)
		}
		if fq.changes.Load() < 12*60*2 {
			t.Errorf("only %d extensions in 12 hours", fq.changes.Load())
		}
	})
}

func TestBackoffNeverPastTwelveHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 1, nil)
		var errs errorLog
		done := make(chan struct{})
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			time.Sleep(12*time.Hour - 25*time.Second)
			close(done)
			return errors.New("failed late")
		})
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 1, Backoff: consumer.ConstantBackoff(time.Hour),
		}}})
		<-done
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		fq.mu.Lock()
		last := fq.changeLog[len(fq.changeLog)-1]
		fq.mu.Unlock()
		if last.VisibilityTimeout > 24 || last.VisibilityTimeout < 20 {
			t.Errorf("backoff visibility %ds, want what is left of 12 hours", last.VisibilityTimeout)
		}
		if got := errs.ops(consumer.OpVisibility); len(got) != 0 {
			t.Errorf("visibility errors %v", got)
		}
		if got := errs.ops(consumer.OpHeartbeat); len(got) != 0 {
			t.Errorf("heartbeat errors %v", got)
		}
	})
}

// TestHeartbeatOnFakeClock drives the engine and the consumer with one
// clockwork.FakeClock.
func TestHeartbeatOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clockwork.NewFakeClock()
		eng, err := native.New(native.Config{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 3, nil)
		b := newBlocker()
		r := start(t, consumer.Config{Clock: clk, Queues: []consumer.QueueConfig{{
			Queue: q, Handler: b, VisibilityTimeout: 6 * time.Second,
		}}})
		synctest.Wait()
		for range 120 {
			clk.Advance(time.Second)
			synctest.Wait()
		}
		if v, f, _ := counts(t, eng, q); v != 0 || f != 3 || len(b.started) != 3 {
			t.Fatalf("%d visible, %d in flight, %d started", v, f, len(b.started))
		}
		if st := r.srv.Stats(); st.Extended < 3*20 {
			t.Errorf("stats %+v", st)
		}
		close(b.release)
		synctest.Wait()
		clk.Advance(time.Second)
		synctest.Wait()
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight after the handlers ended", v, f)
		}
		stopped := make(chan error)
		go func() { stopped <- r.stop(t, context.Background()) }()
		synctest.Wait()
		clk.Advance(time.Minute)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
	})
}

// TestVisibilityChangeWaitsForARunningExtension checks that a backoff set
// while the heartbeat is extending the same message is not undone by the
// extension landing after it.
func TestVisibilityChangeWaitsForARunningExtension(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 1, nil)
		extStarted, extRelease := make(chan struct{}), make(chan struct{})
		var once sync.Once
		fq.changeHook = func(entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
			if entries[0].VisibilityTimeout == 3 { // an extension
				once.Do(func() {
					close(extStarted)
					<-extRelease
				})
			}
			return q.ChangeVisibility(context.Background(), entries)
		}
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			<-extStarted
			return errors.New("failed while being extended")
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, VisibilityTimeout: 3 * time.Second, Backoff: consumer.ConstantBackoff(time.Hour),
		}}})
		<-extStarted
		time.Sleep(time.Second) // the backoff change would be flushed by now
		synctest.Wait()
		close(extRelease)
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		fq.mu.Lock()
		last := fq.changeLog[len(fq.changeLog)-1]
		fq.mu.Unlock()
		if last.VisibilityTimeout != 3600 {
			t.Errorf("last visibility change %ds: the extension overrode the backoff", last.VisibilityTimeout)
		}
		time.Sleep(time.Minute)
		if v, f, _ := counts(t, eng, q); v != 0 || f != 1 {
			t.Errorf("%d visible, %d in flight a minute later, want it backing off", v, f)
		}
	})
}

// TestReceivedAgainLosesTheLease: a message received again while an
// earlier delivery's handler runs (its lease ran out unseen, or someone
// changed its visibility) takes the lease from that delivery: the earlier
// handler is cancelled with ErrLeaseLost, and nothing is sent with its
// receipt handle afterwards (SQS would apply a change made with it to the
// new delivery).
func TestReceivedAgainLosesTheLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 1, nil)
		first := make(chan *consumer.Message, 1)
		causes := make(chan error, 1)
		var calls atomic.Int32
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			if calls.Add(1) == 1 {
				first <- msg
				<-ctx.Done()
				causes <- context.Cause(ctx)
				return errors.New("failed, after the lease was lost")
			}
			return nil
		})
		var errs errorLog
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: h, Concurrency: 2,
		}}})
		m := <-first
		handle := m.ReceiptHandle
		// Someone else makes it visible: the consumer receives it again.
		res, err := q.ChangeVisibility(context.Background(), []backend.VisibilityEntry{{ID: "0", ReceiptHandle: handle}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		if cause := <-causes; !errors.Is(cause, consumer.ErrLeaseLost) {
			t.Errorf("first handler's cause %v", cause)
		}
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 1 })
		r.stop(t, context.Background())
		fq.mu.Lock()
		defer fq.mu.Unlock()
		for _, e := range fq.changeLog {
			if e.ReceiptHandle == handle {
				t.Errorf("visibility change %+v with the first delivery's handle", e)
			}
		}
		if fq.deleted[handle] != 0 {
			t.Error("deleted with the first delivery's handle")
		}
		if got := errs.ops(consumer.OpHeartbeat); len(got) != 1 || !errors.Is(got[0], consumer.ErrLeaseLost) {
			t.Errorf("reports %v", errs.errs)
		}
	})
}
