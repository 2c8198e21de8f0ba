package consumer_test

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/consumer"
)

// TestShutdownMidwayThenResume sends N messages, shuts a server down in the
// middle of them, starts another, and checks that every message was handled
// at least once, deleted exactly once, and that nothing is left in the
// queue or stuck invisible.
func TestShutdownMidwayThenResume(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // of the first shutdown
		fifo     bool
	}{
		{"handlers finish", time.Hour, false},
		{"handlers cancelled", 500 * time.Millisecond, false},
		{"fifo, handlers cancelled", 500 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 300
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				var group func(int) string
				if tc.fifo {
					q = newFIFO(t, eng)
					group = func(i int) string { return "g" + strconv.Itoa(i%30) }
				}
				fq := &faultQueue{Queue: q}
				ids := sendN(t, q, n, group)
				var mu sync.Mutex
				handled := map[string]int{}
				handle := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					h := fnv.New32a()
					h.Write([]byte(msg.Body))
					select {
					case <-time.After(time.Duration(h.Sum32()%2000) * time.Millisecond):
					case <-ctx.Done():
						return context.Cause(ctx)
					}
					mu.Lock()
					handled[msg.MessageID]++
					mu.Unlock()
					return nil
				})
				cfg := consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: fq, Handler: handle, Concurrency: 20, Prefetch: 10,
				}}}
				r := start(t, cfg)
				advanceUntil(t, func() bool { return r.srv.Stats().Succeeded >= n/3 })
				ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
				err := r.stop(t, ctx)
				cancel()
				if tc.deadline < time.Second && !errors.Is(err, consumer.ErrShutdownTimeout) {
					t.Errorf("Shutdown = %v, want ErrShutdownTimeout", err)
				} else if tc.deadline > time.Second && err != nil {
					t.Errorf("Shutdown = %v", err)
				}
				// Nothing is stuck invisible: what was not deleted is
				// visible again at once.
				v, f, _ := counts(t, eng, q)
				first := r.srv.Stats()
				if f != 0 || v != n-int(first.Deleted) || first.InFlight != 0 {
					t.Fatalf("after the first shutdown: %d visible, %d in flight; stats %+v", v, f, first)
				}

				r = start(t, cfg)
				advanceUntil(t, func() bool {
					v, f, _ := counts(t, eng, q)
					return v+f == 0
				})
				if err := r.stop(t, context.Background()); err != nil {
					t.Fatal(err)
				}
				if first.Deleted+r.srv.Stats().Deleted != n {
					t.Errorf("deleted %d + %d, want %d", first.Deleted, r.srv.Stats().Deleted, n)
				}
				fq.mu.Lock()
				defer fq.mu.Unlock()
				deletes := 0
				for _, c := range fq.deleted {
					deletes += c
				}
				if deletes != n {
					t.Errorf("%d successful deletes for %d messages", deletes, n)
				}
				for body, id := range ids {
					if handled[id] < 1 {
						t.Errorf("message %s never handled", body)
					}
				}
			})
		})
	}
}

func TestShutdownWaitsForRunningHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		sendN(t, q, 3, nil)
		started := make(chan struct{}, 3)
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			started <- struct{}{}
			time.Sleep(10 * time.Second)
			return ctx.Err()
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}})
		for range 3 {
			<-started
		}
		t0 := time.Now()
		if err := r.stop(t, context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d != 10*time.Second {
			t.Errorf("Shutdown took %v, want the 10s the handlers needed", d)
		}
		if v, f, _ := counts(t, eng, q); v+f != 0 {
			t.Errorf("%d visible, %d in flight: acks not flushed", v, f)
		}
	})
}

func TestShutdownCancelsHandlersAtTheDeadline(t *testing.T) {
	for _, viaRun := range []bool{false, true} {
		name := "Shutdown"
		if viaRun {
			name = "Run's context"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				sendN(t, q, 2, nil)
				b := newBlocker()
				causes := make(chan error, 2)
				h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
					err := b.HandleMessage(ctx, msg)
					causes <- err
					return err
				})
				srv, err := consumer.New(consumer.Config{ShutdownTimeout: 5 * time.Second, OnError: func(error) {},
					Queues: []consumer.QueueConfig{{Queue: q, Handler: h}}})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- srv.Run(ctx) }()
				<-b.started
				<-b.started
				t0 := time.Now()
				if viaRun {
					cancel()
					err = <-done
				} else {
					err = srv.Shutdown(context.Background())
					if runErr := <-done; !errors.Is(runErr, consumer.ErrServerClosed) {
						t.Errorf("Run = %v", runErr)
					}
				}
				cancel()
				// The handlers get the deadline less the fifth kept for
				// the releases that follow.
				if !errors.Is(err, consumer.ErrShutdownTimeout) || time.Since(t0) != 4*time.Second {
					t.Errorf("shutdown = %v after %v", err, time.Since(t0))
				}
				for range 2 {
					if c := <-causes; !errors.Is(c, consumer.ErrServerShutdown) {
						t.Errorf("handler cause %v", c)
					}
				}
				// Their messages are visible again at once.
				if v, f, _ := counts(t, eng, q); v != 2 || f != 0 {
					t.Errorf("%d visible, %d in flight", v, f)
				}
			})
		})
	}
}

func TestShutdownReleasesUnstartedMessagesFirst(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		name := "standard"
		if fifo {
			name = "fifo"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				eng := newEngine(t)
				q := newQueue(t, eng, "q", nil)
				var group func(int) string
				if fifo {
					q = newFIFO(t, eng)
					group = func(int) string { return "same" }
				}
				sendN(t, q, 20, group)
				b := newBlocker()
				r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
					Queue: q, Handler: b, Concurrency: 1, Prefetch: 4,
				}}})
				<-b.started
				synctest.Wait()
				if _, f, _ := counts(t, eng, q); f != 5 {
					t.Fatalf("%d in flight, want 1 running + 4 prefetched", f)
				}
				stopped := make(chan error)
				go func() { stopped <- r.stop(t, context.Background()) }()
				time.Sleep(time.Second) // the AckMaxDelay of the release batch
				synctest.Wait()
				// The running handler still runs; the other four are back.
				if v, f, _ := counts(t, eng, q); v != 19 || f != 1 {
					t.Errorf("while the handler runs: %d visible, %d in flight", v, f)
				}
				close(b.release)
				if err := <-stopped; err != nil {
					t.Fatal(err)
				}
				if v, f, _ := counts(t, eng, q); v != 19 || f != 0 {
					t.Errorf("after shutdown: %d visible, %d in flight", v, f)
				}
			})
		})
	}
}
