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
// on the in-process engine: receive, dispatch, delete in batches, at the
// default settings with four workers (the hand loop's four goroutines on
// two cores). A diagnostic: receives from a queue in the same process take
// microseconds, which no user's queue does (see BenchmarkConsumerLatency).
func BenchmarkConsumerNoop(b *testing.B) {
	noop := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	runConsumer(b, consumer.QueueConfig{Handler: noop, Concurrency: 4})
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
