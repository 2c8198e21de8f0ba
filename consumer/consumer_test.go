package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

func TestProcessesEveryMessageOnce(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		n, conc, prefetch, mm int
	}{
		{"defaults", 100, 0, 0, 0},
		{"one worker", 30, 1, 0, 1},
		{"many workers with prefetch", 500, 50, 20, 10},
		{"small receives", 50, 3, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				fq := &faultQueue{Queue: q}
				sendN(t, q, tc.n, nil)
				rec := &recorder{}
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: fq, Handler: rec, Concurrency: tc.conc, Prefetch: tc.prefetch, MaxMessages: tc.mm,
				}}})
				advanceUntil(t, func() bool { return rec.total() >= tc.n })
				time.Sleep(consumer.DefaultAckMaxDelay)
				synctest.Wait()
				if err := r.stop(t, context.Background()); err != nil {
					t.Fatal(err)
				}
				for i := range tc.n {
					if c := rec.count(strconv.Itoa(i)); c != 1 {
						t.Errorf("message %d handled %d times", i, c)
					}
				}
				if v, f, d := counts(t, eng, q); v+f+d != 0 {
					t.Errorf("queue left with %d visible, %d in flight, %d delayed", v, f, d)
				}
				st := r.srv.Stats()
				if st.Deleted != int64(tc.n) || st.Succeeded != int64(tc.n) || st.InFlight != 0 {
					t.Errorf("stats %+v", st)
				}
				for _, n := range fq.deleteEntries {
					if n > 10 {
						t.Errorf("a delete call had %d entries", n)
					}
				}
				if calls := fq.deletes.Load(); calls > int64(tc.n/2+5) {
					t.Errorf("%d delete calls for %d messages: not batched", calls, tc.n)
				}
			})
		})
	}
}

func TestHandlerErrorBacksOffThenRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 1, nil)
		var errs errorLog
		rec := &recorder{}
		rec.fn = func(ctx context.Context, msg *consumer.Message) error {
			if msg.ReceiveCount < 3 {
				return errors.New("try again")
			}
			return nil
		}
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: q, Handler: rec, Backoff: consumer.ConstantBackoff(10 * time.Second),
		}}})
		advanceUntil(t, func() bool { return rec.total() == 1 })
		start := time.Now()
		// The failed message is invisible for the backoff, then handled again.
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if _, inflight, _ := counts(t, eng, q); inflight != 1 || rec.total() != 1 {
			t.Fatalf("during the backoff: %d in flight, handled %d times", inflight, rec.total())
		}
		advanceUntil(t, func() bool { return rec.total() == 3 })
		if d := time.Since(start); d < 20*time.Second || d > 21*time.Second {
			t.Errorf("third attempt %v after the first failure, want 20s", d)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		for i, m := range rec.msgs {
			if m.ReceiveCount != i+1 {
				t.Errorf("attempt %d has ReceiveCount %d", i+1, m.ReceiveCount)
			}
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("message not deleted: %d visible, %d in flight", v, f)
		}
		if got := errs.ops(consumer.OpHandle); len(got) != 2 || got[0].MessageID != rec.msgs[0].MessageID {
			t.Errorf("OnError got %v", got)
		}
	})
}

func TestFailedMessageIsNeverDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 20, nil)
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			if n, _ := strconv.Atoi(msg.Body); n%2 == 1 {
				return errors.New("odd")
			}
			return nil
		}}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, Handler: rec, Backoff: consumer.ConstantBackoff(time.Hour),
		}}})
		advanceUntil(t, func() bool { return rec.total() == 20 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		fq.mu.Lock()
		defer fq.mu.Unlock()
		for _, m := range rec.msgs {
			n, _ := strconv.Atoi(m.Body)
			if got, want := fq.deleted[m.ReceiptHandle], 1-n%2; got != want {
				t.Errorf("message %d deleted %d times, want %d", n, got, want)
			}
		}
		if _, inflight, _ := counts(t, eng, q); inflight != 10 {
			t.Errorf("%d in flight, want the 10 failed ones backing off", inflight)
		}
	})
}

func TestPanicBecomesError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 3, nil)
		var errs errorLog
		rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
			if msg.Body == "1" && msg.ReceiveCount == 1 {
				panic("boom")
			}
			return nil
		}}
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: q, Handler: rec, Backoff: consumer.ConstantBackoff(time.Second),
		}}})
		advanceUntil(t, func() bool { return rec.total() == 4 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		got := errs.ops(consumer.OpHandle)
		var pe *consumer.PanicError
		if len(got) != 1 || !errors.As(got[0], &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
			t.Fatalf("OnError got %v", got)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight after the retry", v, f)
		}
	})
}

func TestPermanentErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hook       bool
		hookErr    error
		wantLeft   int // messages left in flight
		wantCalled int
	}{
		{"no hook: reported and deleted", false, nil, 0, 0},
		{"hook forwards, then deleted", true, nil, 0, 1},
		{"hook fails: kept and retried", true, errors.New("forward failed"), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				sendN(t, q, 1, nil)
				var errs errorLog
				called := 0
				var hook func(context.Context, *consumer.Message, error) error
				if tc.hook {
					hook = func(ctx context.Context, msg *consumer.Message, err error) error {
						called++
						if !consumer.IsPermanent(err) || msg.Body != "0" {
							t.Errorf("hook got %v, %q", err, msg.Body)
						}
						return tc.hookErr
					}
				}
				rec := &recorder{fn: func(ctx context.Context, msg *consumer.Message) error {
					return fmt.Errorf("wrapped: %w", consumer.Permanent(errors.New("bad body")))
				}}
				r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
					Queue: q, Handler: rec, OnPermanent: hook, Backoff: consumer.ConstantBackoff(time.Hour),
				}}})
				advanceUntil(t, func() bool { return rec.total() == 1 })
				time.Sleep(time.Second)
				synctest.Wait()
				r.stop(t, context.Background())
				if called != tc.wantCalled {
					t.Errorf("hook called %d times", called)
				}
				if _, f, _ := counts(t, eng, q); f != tc.wantLeft {
					t.Errorf("%d in flight, want %d", f, tc.wantLeft)
				}
				if len(errs.ops(consumer.OpPermanent)) != 1-tc.wantCalled+tc.wantLeft {
					t.Errorf("errors %v", errs.errs)
				}
				if st := r.srv.Stats(); st.Permanent != 1 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

func TestPermanentHelpers(t *testing.T) {
	base := errors.New("x")
	p := consumer.Permanent(base)
	if !consumer.IsPermanent(p) || !errors.Is(p, base) || consumer.IsPermanent(base) {
		t.Fatal("Permanent does not mark or unwrap")
	}
	if consumer.Permanent(nil) != nil || consumer.Permanent(p) != p {
		t.Fatal("Permanent(nil) or double wrap")
	}
}

func TestBatchHandlerPartialFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		fq := &faultQueue{Queue: q}
		sendN(t, q, 30, nil)
		var mu sync.Mutex
		var sizes []int
		attempts := map[string]int{}
		bh := consumer.BatchHandlerFunc(func(ctx context.Context, msgs []*consumer.Message) []error {
			mu.Lock()
			defer mu.Unlock()
			sizes = append(sizes, len(msgs))
			res := make([]error, len(msgs))
			for i, m := range msgs {
				attempts[m.Body]++
				if n, _ := strconv.Atoi(m.Body); n%3 == 0 && m.ReceiveCount == 1 {
					res[i] = errors.New("first try fails")
				}
			}
			if len(msgs) == 1 && msgs[0].Body == "never" {
				return nil
			}
			return res
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: fq, BatchHandler: bh, Concurrency: 2, Backoff: consumer.ConstantBackoff(5 * time.Second),
		}}})
		advanceUntil(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, c := range attempts {
				n += c
			}
			return n == 40
		})
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		for i := range 30 {
			want := 1
			if i%3 == 0 {
				want = 2
			}
			if got := attempts[strconv.Itoa(i)]; got != want {
				t.Errorf("message %d handled %d times, want %d", i, got, want)
			}
		}
		for _, n := range sizes {
			if n > 10 {
				t.Errorf("batch of %d", n)
			}
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight", v, f)
		}
	})
}

func TestBatchHandlerWrongResultCountFailsAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 3, nil)
		var errs errorLog
		calls := make(chan int, 10)
		bh := consumer.BatchHandlerFunc(func(ctx context.Context, msgs []*consumer.Message) []error {
			calls <- len(msgs)
			return []error{nil}
		})
		r := start(t, consumer.Config{OnError: errs.add, Queues: []consumer.QueueConfig{{
			Queue: q, BatchHandler: bh, Concurrency: 1, Backoff: consumer.ConstantBackoff(time.Hour),
		}}})
		advanceUntil(t, func() bool { return len(calls) > 0 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		n := <-calls
		if _, f, _ := counts(t, eng, q); f != n || len(errs.ops(consumer.OpHandle)) != n {
			t.Errorf("%d in flight, %d errors, want %d of each", f, len(errs.ops(consumer.OpHandle)), n)
		}
	})
}

func TestSeveralQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		qa := newQueue(t, eng, "a", nil)
		qb := newQueue(t, eng, "b", nil)
		sendN(t, qa, 25, nil)
		sendN(t, qb, 35, nil)
		ra, rb := &recorder{}, &recorder{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{
			{Queue: qa, Handler: ra, Concurrency: 3},
			{Queue: qb, Handler: rb, Concurrency: 5},
		}})
		advanceUntil(t, func() bool { return ra.total() == 25 && rb.total() == 35 })
		time.Sleep(time.Second)
		synctest.Wait()
		r.stop(t, context.Background())
		for _, m := range ra.msgs {
			if m.QueueURL != qa.URL() {
				t.Errorf("message from %s in a's handler", m.QueueURL)
			}
		}
		for _, q := range []backend.Queue{qa, qb} {
			if v, f, _ := counts(t, eng, q); v+f != 0 {
				t.Errorf("%s: %d visible, %d in flight", q.URL(), v, f)
			}
		}
	})
}

func TestMessageFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sent := time.Now()
		res, err := q.Send(context.Background(), []backend.SendEntry{{ID: "a", Body: "hello",
			MessageAttributes: map[string]backend.MessageAttributeValue{"k": {DataType: "String", StringValue: "v"}}}})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		time.Sleep(3 * time.Second)
		rec := &recorder{}
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: rec}}})
		advanceUntil(t, func() bool { return rec.total() == 1 })
		r.stop(t, context.Background())
		m := rec.msgs[0]
		if m.MessageID != res[0].MessageID || m.Body != "hello" || m.ReceiveCount != 1 || m.QueueURL != q.URL() ||
			m.MessageAttributes["k"].StringValue != "v" || m.ReceiptHandle == "" {
			t.Errorf("message %+v", m)
		}
		if !m.SentAt.Truncate(time.Millisecond).Equal(sent.Truncate(time.Millisecond)) || m.ReceivedAt.Sub(sent) != 3*time.Second ||
			m.FirstReceivedAt.IsZero() {
			t.Errorf("sent %v received %v first %v; sent at %v", m.SentAt, m.ReceivedAt, m.FirstReceivedAt, sent)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	q := newQueue(t, newEngine(t), "q", nil)
	h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	bh := consumer.BatchHandlerFunc(func(context.Context, []*consumer.Message) []error { return nil })
	for _, tc := range []struct {
		name string
		cfg  consumer.Config
	}{
		{"no queues", consumer.Config{}},
		{"nil queue", consumer.Config{Queues: []consumer.QueueConfig{{Handler: h}}}},
		{"no handler", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q}}}},
		{"two handlers", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, BatchHandler: bh}}}},
		{"negative concurrency", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, Concurrency: -1}}}},
		{"max messages 11", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, MaxMessages: 11}}}},
		{"wait 21s", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, WaitTime: 21 * time.Second}}}},
		{"visibility 500ms", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, VisibilityTimeout: 500 * time.Millisecond}}}},
		{"visibility 13h", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, VisibilityTimeout: 13 * time.Hour}}}},
		{"ack batch 11", consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h, AckBatchSize: 11}}}},
		{"negative shutdown timeout", consumer.Config{ShutdownTimeout: -1, Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := consumer.New(tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
	if _, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}}); err != nil {
		t.Fatal(err)
	}
}

func TestLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(t, newEngine(t), "q", nil)
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
		cfg := consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}}

		// Shutdown before Run closes the server.
		srv, _ := consumer.New(cfg)
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := srv.Run(context.Background()); !errors.Is(err, consumer.ErrServerClosed) {
			t.Fatalf("Run after Shutdown: %v", err)
		}

		// Run returns nil when its context ends; Run again is refused;
		// Shutdown afterwards is a no-op.
		srv, _ = consumer.New(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- srv.Run(ctx) }()
		synctest.Wait()
		if err := srv.Run(context.Background()); !errors.Is(err, consumer.ErrServerClosed) {
			t.Fatalf("second Run: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestChainOrder(t *testing.T) {
	var trace []string
	mw := func(name string) consumer.Middleware {
		return func(next consumer.Handler) consumer.Handler {
			return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				trace = append(trace, name)
				return next.HandleMessage(ctx, msg)
			})
		}
	}
	h := consumer.Chain(consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
		trace = append(trace, "h")
		return nil
	}), mw("a"), mw("b"))
	_ = h.HandleMessage(context.Background(), &consumer.Message{})
	if strings.Join(trace, ",") != "a,b,h" {
		t.Fatalf("order %v", trace)
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := consumer.ExponentialBackoff(time.Second, time.Minute)
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{4, 4 * time.Second, 8 * time.Second},
		{7, 30 * time.Second, time.Minute},
		{100, 30 * time.Second, time.Minute},
	} {
		for range 50 {
			if d := b(tc.n); d < tc.min || d > tc.max {
				t.Errorf("n=%d: %v not in [%v, %v]", tc.n, d, tc.min, tc.max)
			}
		}
	}
}
