package consumer_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

func TestAckFailuresAreRetriedAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		ids := sendN(t, q, 10, nil)
		tries := map[string]int{}
		var handles = map[string]string{} // receipt handle -> body
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			fq.mu.Lock()
			handles[msg.ReceiptHandle] = msg.Body
			fq.mu.Unlock()
			return nil
		}}
		requestFailed := false
		fq.deleteHook = func(entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
			if !requestFailed {
				requestFailed = true
				return nil, backend.NewError(backend.CodeServiceUnavailable, "try later")
			}
			var pass []backend.DeleteEntry
			res := make([]backend.EntryResult, len(entries))
			fq.mu.Lock()
			for i, e := range entries {
				body := handles[e.ReceiptHandle]
				tries[body]++
				res[i].ID = e.ID
				switch {
				case body == "3":
					res[i].Err = backend.NewError(backend.CodeReceiptHandleIsInvalid, "bad")
				case body == "5" && tries[body] < 3:
					res[i].Err = backend.NewError(backend.CodeInternalFailure, "oops")
				default:
					pass = append(pass, e)
				}
			}
			fq.mu.Unlock()
			if len(pass) > 0 {
				if _, err := q.Delete(context.Background(), pass); err != nil {
					return nil, err
				}
			}
			return res, nil
		}
		var errs errorLog
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 10,
		}}})
		advanceUntil(t, func() bool { return rec.total() == 10 })
		time.Sleep(5 * time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		if tries["5"] != 3 || tries["3"] != 1 {
			t.Errorf("tries %v: want 5 retried until it passed, 3 not retried", tries)
		}
		got := errs.ops(consumer.OpDelete)
		if len(got) != 1 || got[0].MessageID != ids["3"] || !errors.Is(got[0], backend.ErrReceiptHandleIsInvalid) {
			t.Errorf("delete errors %v", got)
		}
		if v, f, _ := counts(t, eng, q); v+f != 1 {
			t.Errorf("%d visible, %d in flight; want only message 3 left", v, f)
		}
		if st := r.srv.Stats(); st.Deleted != 9 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestAckFlushesAfterMaxDelay: a part batch of deletes waits AckMaxDelay
// for more while the consumer still holds messages (here one whose handler
// has not returned).
func TestAckFlushesAfterMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 3, nil)
		rec := &recorder{}
		release := make(chan struct{})
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			if msg.Body == "2" {
				<-release
			}
			return rec.HandleMessage(ctx, msg)
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: q, Handler: h, AckMaxDelay: 2 * time.Second,
		}}})
		advanceUntil(t, func() bool { return rec.total() == 2 })
		t0 := time.Now()
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 2 })
		if d := time.Since(t0); d < 1900*time.Millisecond || d > 2100*time.Millisecond {
			t.Errorf("a part batch was deleted after %v, want 2s", d)
		}
		close(release)
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 3 })
		r.stop(t, context.Background())
	})
}

// TestAckFlushesWhenIdle: once the queue looks drained (a receive came back
// short) and no message is left in hand, a part batch of deletes goes at
// once instead of waiting AckMaxDelay: nothing could fill it.
func TestAckFlushesWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 3, nil)
		rec := &recorder{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, AckMaxDelay: time.Minute,
		}}})
		t0 := time.Now()
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 3 })
		if d := time.Since(t0); d != 0 {
			t.Errorf("the deletes went after %v, want at once", d)
		}
		r.stop(t, context.Background())
		if n := fq.deletes.Load(); n != 1 {
			t.Errorf("%d delete calls for 3 messages received together, want 1", n)
		}
	})
}

// TestReusedMessagesDeleteWhatWasHandled checks the recycling of received
// messages: over many receives (more than the server holds at once, so
// that message memory is reused), every delete names a receipt handle that
// a handler saw with the same body, every message is handled once with its
// own id, and nothing is left in the queue.
func TestReusedMessagesDeleteWhatWasHandled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		const n = 500
		ids := sendN(t, q, n, nil)
		handled := map[string]string{} // receipt handle -> body
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			if ids[msg.Body] != msg.MessageID {
				t.Errorf("body %s came with id %s, sent as %s", msg.Body, msg.MessageID, ids[msg.Body])
			}
			fq.mu.Lock()
			handled[msg.ReceiptHandle] = msg.Body
			fq.mu.Unlock()
			return nil
		}}
		fq.deleteHook = func(entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
			fq.mu.Lock()
			for _, e := range entries {
				if _, ok := handled[e.ReceiptHandle]; !ok {
					t.Errorf("delete of receipt handle %q that no handler saw", e.ReceiptHandle)
				}
				delete(handled, e.ReceiptHandle)
			}
			fq.mu.Unlock()
			return q.Delete(context.Background(), entries)
		}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Concurrency: 4, Prefetch: 6, AckMaxDelay: time.Millisecond,
		}}})
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == n })
		r.stop(t, context.Background())
		if rec.distinct() != n || rec.total() != n {
			t.Errorf("%d distinct bodies handled in %d calls, want %d", rec.distinct(), rec.total(), n)
		}
		if v, f, _ := counts(t, eng, q); v != 0 || f != 0 {
			t.Errorf("%d visible, %d in flight after all were deleted", v, f)
		}
	})
}
