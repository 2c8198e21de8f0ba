package consumer_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// Latency benchmarks: the consumer at its default settings against a queue
// that is a network round trip away, as SQS is.
//
// Each run consumes max(b.N, minLatencyMsgs(c)) messages (b.N > 1: the
// testing package's first run, b.N = 1, only probes and is kept cheap),
// timed from the server's start to the acknowledgement of the last of them's
// delete, which includes the ramp-up: the first deletes come back a
// receive's round trip, a handler and a delete's round trip (and up to
// AckMaxDelay) after the start. Run with a count that makes that small
// beside the whole, for example
//
//	go test ./consumer -run '^$' -bench 'ConsumerLatency|HandLoopLatency' -benchtime=3000x
//
// or -benchtime=5s. One sub-benchmark is selected with, for example,
// -bench 'ConsumerLatency/rtt=10ms/handler=10ms/c=32'.

// rttQueue is a queue a network round trip away: every call's request
// reaches the queue rtt/2 after the call, and its answer comes back rtt/2
// later, on the real clock. Calls overlap freely (a network is not a single
// pipe). A ctx that ends during the first half ends the call before it
// reaches the queue; one that ends during the second half drops the answer
// of a call that has already taken effect (as over HTTP), and the call
// returns ctx's error. It closes done once n deletes are acknowledged: the
// answers that came back with no error.
type rttQueue struct {
	backend.Queue
	rtt     time.Duration
	n       int64
	deleted atomic.Int64
	done    chan struct{}
}

func newRTTQueue(q backend.Queue, rtt time.Duration, n int) *rttQueue {
	return &rttQueue{Queue: q, rtt: rtt, n: int64(n), done: make(chan struct{})}
}

// half waits half a round trip, or until ctx ends.
func (l *rttQueue) half(ctx context.Context) error {
	if l.rtt <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(l.rtt / 2)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call runs f a round trip away.
func call[T any](ctx context.Context, l *rttQueue, f func() (T, error)) (T, error) {
	var zero T
	if err := l.half(ctx); err != nil {
		return zero, err
	}
	res, err := f()
	if herr := l.half(ctx); herr != nil {
		return zero, herr
	}
	return res, err
}

func (l *rttQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	return call(ctx, l, func() ([]backend.SendResult, error) { return l.Queue.Send(ctx, entries) })
}

func (l *rttQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	return call(ctx, l, func() ([]*backend.Message, error) { return l.Queue.Receive(ctx, req) })
}

func (l *rttQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	return call(ctx, l, func() ([]backend.EntryResult, error) { return l.Queue.ChangeVisibility(ctx, entries) })
}

func (l *rttQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	res, err := call(ctx, l, func() ([]backend.EntryResult, error) { return l.Queue.Delete(ctx, entries) })
	if err == nil {
		ok := int64(0)
		for _, r := range res {
			if r.Err == nil {
				ok++
			}
		}
		if before := l.deleted.Add(ok) - ok; before < l.n && before+ok >= l.n {
			close(l.done)
		}
	}
	return res, err
}

// latencyCase is one sub-benchmark: round trip, handler time, concurrency.
type latencyCase struct {
	rtt, handler time.Duration
	c            int
}

// latencyMatrix runs run on every case, as nested sub-benchmarks named
// rtt=.../handler=.../c=....
func latencyMatrix(b *testing.B, run func(*testing.B, latencyCase)) {
	type dur struct {
		name string
		d    time.Duration
	}
	rtts := []dur{{"0", 0}, {"10ms", 10 * time.Millisecond}, {"30ms", 30 * time.Millisecond}}
	handlers := []dur{{"0", 0}, {"10ms", 10 * time.Millisecond}, {"100ms", 100 * time.Millisecond}}
	for _, rtt := range rtts {
		b.Run("rtt="+rtt.name, func(b *testing.B) {
			for _, h := range handlers {
				b.Run("handler="+h.name, func(b *testing.B) {
					for _, c := range []int{32, 128} {
						b.Run("c="+strconv.Itoa(c), func(b *testing.B) {
							run(b, latencyCase{rtt: rtt.d, handler: h.d, c: c})
						})
					}
				})
			}
		})
	}
}

// minLatencyMsgs is the fewest messages a run with concurrency c consumes
// (but for the probe run of b.N = 1): ten turns of the worker pool.
func minLatencyMsgs(b *testing.B, c int) int {
	if b.N == 1 {
		return 1
	}
	return max(b.N, 10*c)
}

// rttQueueFor returns a fresh in-process queue behind tc's round trip
// holding n messages and as many more again as keep the workers busy to
// the end, and counting n deletes.
func rttQueueFor(b *testing.B, tc latencyCase, n int) *rttQueue {
	q := newQueue(b, newEngine(b), "bench", nil)
	fill(b, q, n+10*tc.c+100)
	return newRTTQueue(q, tc.rtt, n)
}

// reportLatency reports n messages consumed in elapsed: ns/op (per message,
// replacing the testing package's per-b.N one), msgs/s and, if the handler
// takes time, %ideal (of Concurrency handlers always busy).
func reportLatency(b *testing.B, tc latencyCase, n int, elapsed time.Duration) {
	rate := float64(n) / elapsed.Seconds()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/op")
	b.ReportMetric(rate, "msgs/s")
	if tc.handler > 0 {
		b.ReportMetric(100*rate/(float64(tc.c)/tc.handler.Seconds()), "%ideal")
	}
}

// sleepFor is the benchmark's handler work: d of sleep, nothing if d is 0.
func sleepFor(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}

// BenchmarkConsumerLatency is a Server at its default settings, but for
// Concurrency, consuming a backlog a round trip away (rtt) with a handler
// that sleeps (handler; 0: returns at once).
func BenchmarkConsumerLatency(b *testing.B) {
	latencyMatrix(b, func(b *testing.B, tc latencyCase) {
		n := minLatencyMsgs(b, tc.c)
		q := rttQueueFor(b, tc, n)
		h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
			sleepFor(tc.handler)
			return nil
		})
		srv, err := consumer.New(consumer.Config{
			Queues:  []consumer.QueueConfig{{Queue: q, Handler: h, Concurrency: tc.c}},
			OnError: func(err error) { b.Error(err) },
		})
		if err != nil {
			b.Fatal(err)
		}
		settleHeap()
		b.ResetTimer()
		t0 := time.Now()
		ran := make(chan error, 1)
		go func() { ran <- srv.Run(context.Background()) }()
		<-q.done
		elapsed := time.Since(t0)
		b.StopTimer()
		if err := srv.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
		if err := <-ran; err != nil && !errors.Is(err, consumer.ErrServerClosed) {
			b.Error(err)
		}
		reportLatency(b, tc, n, elapsed)
	})
}

// BenchmarkHandLoopLatency is the floor for BenchmarkConsumerLatency: the
// loop a careful user writes by hand with Concurrency handlers. Receivers
// each take up to 10 messages at a time (Concurrency/10 of them, rounded
// up, the last asking for the remainder), run the handlers concurrently,
// wait for them all, delete the batch, wait for the answer, and go again:
// a turn takes a round trip, the slowest handler and a round trip.
func BenchmarkHandLoopLatency(b *testing.B) {
	latencyMatrix(b, func(b *testing.B, tc latencyCase) {
		n := minLatencyMsgs(b, tc.c)
		q := rttQueueFor(b, tc, n)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		settleHeap()
		b.ResetTimer()
		t0 := time.Now()
		var loops sync.WaitGroup
		for first := 0; first < tc.c; first += backend.MaxReceiveMessages {
			loops.Go(func() {
				wait, vis := backend.MaxWaitTimeSeconds, 30
				req := backend.ReceiveRequest{MaxMessages: min(backend.MaxReceiveMessages, tc.c-first),
					WaitTimeSeconds: &wait, VisibilityTimeout: &vis,
					SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}}
				for ctx.Err() == nil {
					msgs, err := q.Receive(ctx, req)
					if err != nil {
						if ctx.Err() == nil {
							b.Error(err)
						}
						return
					}
					var handlers sync.WaitGroup
					entries := make([]backend.DeleteEntry, len(msgs))
					for i, m := range msgs {
						entries[i] = backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle}
						handlers.Go(func() { sleepFor(tc.handler) })
					}
					handlers.Wait()
					if len(entries) == 0 {
						continue
					}
					if _, err := q.Delete(ctx, entries); err != nil && ctx.Err() == nil {
						b.Error(err)
						return
					}
				}
			})
		}
		<-q.done
		elapsed := time.Since(t0)
		b.StopTimer()
		cancel()
		loops.Wait()
		reportLatency(b, tc, n, elapsed)
	})
}
