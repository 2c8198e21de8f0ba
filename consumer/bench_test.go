package consumer_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// fill sends n small messages to q, ten at a time, from a few goroutines.
func fill(b testing.TB, q backend.Queue, n int) {
	b.Helper()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 4 {
		wg.Go(func() {
			entries := make([]backend.SendEntry, 0, 10)
			for {
				i := int(next.Add(10)) - 10
				if i >= n {
					return
				}
				entries = entries[:0]
				for k := i; k < min(n, i+10); k++ {
					entries = append(entries, backend.SendEntry{ID: strconv.Itoa(k - i), Body: "job " + strconv.Itoa(k)})
				}
				if _, err := q.Send(context.Background(), entries); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// settleHeap collects garbage and returns the free heap to the operating
// system before a timed run, so that every run starts from the same state
// whatever ran before it in the process: otherwise a run finds the heap
// that an earlier benchmark freed still mapped, and does not pay the page
// faults of fresh memory (BenchmarkHandLoop, which runs after
// BenchmarkConsumerNoop, ran about 5% faster for it than when run first).
func settleHeap() { debug.FreeOSMemory() }

// cpuTime is the CPU time the process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time spent per message since start: unlike
// msgs/s it hardly moves when other processes load the machine.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/msg")
}

// countingQueue is a queue that closes done once n messages are deleted:
// the end of a run, seen without polling (a poll every 200 µs woke a
// goroutine 5,000 times a second, which the hand loop does not pay).
type countingQueue struct {
	backend.Queue
	n       int64
	deleted atomic.Int64
	done    chan struct{}
}

func newCountingQueue(q backend.Queue, n int) *countingQueue {
	return &countingQueue{Queue: q, n: int64(n), done: make(chan struct{})}
}

func (c *countingQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	res, err := c.Queue.Delete(ctx, entries)
	if err == nil {
		ok := int64(0)
		for _, r := range res {
			if r.Err == nil {
				ok++
			}
		}
		if before := c.deleted.Add(ok) - ok; before < c.n && before+ok >= c.n {
			close(c.done)
		}
	}
	return res, err
}

// runConsumer consumes b.N pre-sent messages with h and reports msgs/s.
func runConsumer(b *testing.B, qc consumer.QueueConfig) float64 {
	eng := newEngine(b)
	q := newQueue(b, eng, "bench", nil)
	fill(b, q, b.N)
	cq := newCountingQueue(q, b.N)
	qc.Queue = cq
	return timeConsumer(b, qc, cq.done)
}

// timeConsumer runs a server on qc until done is closed, and reports
// msgs/s (returned) and cpu-ns/msg for b.N messages.
func timeConsumer(b *testing.B, qc consumer.QueueConfig, done <-chan struct{}) float64 {
	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{qc}, OnError: func(err error) { b.Error(err) }})
	if err != nil {
		b.Fatal(err)
	}
	settleHeap()
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(context.Background()) }()
	<-done
	elapsed := time.Since(t0)
	b.StopTimer()
	reportCPU(b, cpu0)
	if err := srv.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	<-ran
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "msgs/s")
	return rate
}

// BenchmarkConsumerNoop is the framework with a handler that does nothing,
// on the in-process engine: receive, dispatch, delete in batches. It gets
// the hand loop's budget: four workers (the hand loop's four goroutines)
// and 40 messages received at once (four receives of 10), which makes four
// pollers, of which GOMAXPROCS receive once receives are seen to take
// microseconds (see QueueConfig.Pollers).
func BenchmarkConsumerNoop(b *testing.B) {
	noop := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	runConsumer(b, consumer.QueueConfig{Handler: noop, Concurrency: 4, Prefetch: 36})
}

// BenchmarkHandLoop is the best hand-written loop that does the same work:
// a few goroutines that each receive 10 messages (asking for the same
// attributes the consumer asks for), "handle" them inline and delete them
// with one DeleteMessageBatch.
//
// Compare the two at the same backlog, with a fixed -benchtime such as
// 500000x: each starts with b.N messages in the queue, the engine's cost
// per message grows with that backlog, and left to choose b.N the testing
// package gives the faster loop a larger one.
func BenchmarkHandLoop(b *testing.B) {
	eng := newEngine(b)
	q := newQueue(b, eng, "bench", nil)
	fill(b, q, b.N)
	settleHeap()
	b.ResetTimer()
	t0, cpu0 := time.Now(), cpuTime()
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	for range handLoopGoroutines() {
		wg.Go(func() {
			wait, vis := 0, 30 // the queue is full: never park in a long poll
			req := backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: &wait, VisibilityTimeout: &vis,
				SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}}
			entries := make([]backend.DeleteEntry, 0, 10)
			for left.Load() > 0 {
				msgs, err := q.Receive(context.Background(), req)
				if err != nil {
					b.Error(err)
					return
				}
				if len(msgs) == 0 {
					continue
				}
				entries = entries[:0]
				for i, m := range msgs {
					entries = append(entries, backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle})
				}
				if _, err := q.Delete(context.Background(), entries); err != nil {
					b.Error(err)
					return
				}
				left.Add(-int64(len(msgs)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	reportCPU(b, cpu0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// handLoopGoroutines is the hand loop's parallelism: the best of those
// tried (1, 2, 4 and 8 per core) on the reference machine.
func handLoopGoroutines() int { return 2 * runtime.GOMAXPROCS(0) }

// BenchmarkConsumerSlowHandler runs a 10 ms handler on 200 workers; the
// ideal is 20,000 messages/s. It reports msgs/s and the percentage of the
// ideal reached.
func BenchmarkConsumerSlowHandler(b *testing.B) {
	slow := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
		time.Sleep(10 * time.Millisecond)
		return nil
	})
	rate := runConsumer(b, consumer.QueueConfig{Handler: slow, Concurrency: 200, Prefetch: 20})
	b.ReportMetric(100*rate/20000, "%ideal")
}

// BenchmarkSleepCeiling is the peer of BenchmarkConsumerSlowHandler without
// postbox: 200 goroutines that each sleep 10 ms in a loop, b.N sleeps in
// all. It measures what the machine's timers allow (a 10 ms sleep takes
// longer than 10 ms, more so under load).
func BenchmarkSleepCeiling(b *testing.B) { sleepCeiling(b, 0) }

// BenchmarkSleepCeilingStaggered is BenchmarkSleepCeiling with the 200
// goroutines' first sleeps 50 µs apart, so that their sleeps end spread over
// the 10 ms, as a worker pool's do (its workers start as messages come, not
// all at once). The runtime fires timers that come due while its cores are
// idle from its network poller, whose waits are whole milliseconds: sleeps
// that end together share one late wake-up, spread ones each pay their own.
func BenchmarkSleepCeilingStaggered(b *testing.B) { sleepCeiling(b, 50*time.Microsecond) }

// sleepCeiling runs b.N sleeps of 10 ms on 200 goroutines, the i-th of
// which starts i*gap late, and reports msgs/s and the percentage of 20,000.
func sleepCeiling(b *testing.B, gap time.Duration) {
	var left atomic.Int64
	left.Store(int64(b.N))
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * gap)
			for left.Add(-1) >= 0 {
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	rate := float64(b.N) / time.Since(t0).Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(100*rate/20000, "%ideal")
}

// stubQueue is a queue that costs next to nothing: Receive hands out the
// same ten messages (received once from the in-process engine, with the
// attributes the consumer asks for) until n have gone, then waits for its
// context; Delete and ChangeVisibility succeed at once. It allocates
// nothing per call, so that a benchmark on it measures the consumer's own
// cost per message.
type stubQueue struct {
	tmpl    []*backend.Message
	left    atomic.Int64
	results []backend.EntryResult
}

func newStubQueue(b *testing.B, n int) *stubQueue {
	q := newQueue(b, newEngine(b), "stub", nil)
	fill(b, q, 10)
	wait := 0
	msgs, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: &wait,
		SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
	if err != nil || len(msgs) != 10 {
		b.Fatalf("template receive: %d messages, %v", len(msgs), err)
	}
	s := &stubQueue{tmpl: msgs, results: make([]backend.EntryResult, backend.MaxBatchEntries)}
	s.left.Store(int64(n))
	return s
}

func (s *stubQueue) URL() string { return "stub" }

func (s *stubQueue) Send(context.Context, []backend.SendEntry) ([]backend.SendResult, error) {
	return nil, nil
}

func (s *stubQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	n := int64(min(req.MaxMessages, len(s.tmpl)))
	if left := s.left.Add(-n); left < 0 {
		n += left
		s.left.Add(-left) // back to 0 for the next caller's sum
		if n <= 0 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
	}
	return s.tmpl[:n], nil
}

func (s *stubQueue) Delete(_ context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	return s.results[:len(entries)], nil
}

func (s *stubQueue) ChangeVisibility(_ context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	return s.results[:len(entries)], nil
}

// BenchmarkConsumerOverhead is BenchmarkConsumerNoop on a queue that costs
// nothing (stubQueue): what is left is the consumer's own cost per message
// (cpu-ns/msg), which BenchmarkConsumerNoop measures only as the small
// difference between two large figures.
func BenchmarkConsumerOverhead(b *testing.B) {
	q := newCountingQueue(newStubQueue(b, b.N), b.N)
	noop := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	timeConsumer(b, consumer.QueueConfig{Queue: q, Handler: noop, Concurrency: 4, Prefetch: 16}, q.done)
}
