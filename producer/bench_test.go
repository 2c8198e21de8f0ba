package producer_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/producer"
)

// senders is how many goroutines send at once in the producer benchmarks.
const senders = 64

// runSenders sends b.N messages from senders goroutines with send, and
// reports msgs/s.
func runSenders(b *testing.B, send func(ctx context.Context, m producer.Message) error) {
	b.ResetTimer()
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := send(context.Background(), producer.Message{Body: "a small job"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
}

// slowQueue adds a network round trip to every Send call, and counts the
// calls.
type slowQueue struct {
	backend.Queue
	rtt   time.Duration
	calls atomic.Int64
}

func (s *slowQueue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	s.calls.Add(1)
	if s.rtt > 0 {
		time.Sleep(s.rtt)
	}
	return s.Queue.Send(ctx, entries)
}

// links are the two settings of the producer benchmarks: the in-process
// engine as it is, and the same with a 1 ms round trip per call, as a queue
// across a network would have (SQS's is several ms).
var links = []struct {
	name string
	rtt  time.Duration
}{{"inproc", 0}, {"rtt=1ms", time.Millisecond}}

func benchQueue(b *testing.B, rtt time.Duration) *slowQueue {
	_, q := newQueue(b, "bench", nil)
	return &slowQueue{Queue: q, rtt: rtt}
}

// BenchmarkProducerAutoBatch sends from 64 goroutines through one Producer,
// which merges them into SendMessageBatch calls.
func BenchmarkProducerAutoBatch(b *testing.B) {
	for _, l := range links {
		b.Run(l.name, func(b *testing.B) {
			q := benchQueue(b, l.rtt)
			p := producer.New(q, producer.Config{})
			runSenders(b, func(ctx context.Context, m producer.Message) error {
				_, err := p.Send(ctx, m)
				return err
			})
			p.Close()
			b.ReportMetric(float64(q.calls.Load())/float64(b.N), "calls/msg")
		})
	}
}

// BenchmarkProducerOneByOne sends from 64 goroutines, each message with a
// call of its own.
func BenchmarkProducerOneByOne(b *testing.B) {
	for _, l := range links {
		b.Run(l.name, func(b *testing.B) {
			q := benchQueue(b, l.rtt)
			runSenders(b, func(ctx context.Context, m producer.Message) error {
				_, err := q.Send(ctx, []backend.SendEntry{{ID: "0", Body: m.Body}})
				return err
			})
			b.ReportMetric(float64(q.calls.Load())/float64(b.N), "calls/msg")
		})
	}
}

// BenchmarkProducerSequential sends from one goroutine, one message at a
// time, through a Producer: each Send finds a call free and goes at once.
func BenchmarkProducerSequential(b *testing.B) {
	for _, l := range links {
		b.Run(l.name, func(b *testing.B) {
			q := benchQueue(b, l.rtt)
			p := producer.New(q, producer.Config{})
			b.ResetTimer()
			t0 := time.Now()
			for range b.N {
				if _, err := p.Send(context.Background(), producer.Message{Body: "a small job"}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "msgs/s")
			p.Close()
			b.ReportMetric(float64(q.calls.Load())/float64(b.N), "calls/msg")
		})
	}
}
