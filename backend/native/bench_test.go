package native

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Benchmarks of the in-process hot path. Each reports msgs/s (messages per
// second of wall time, all goroutines together). Run:
//
//	GOMAXPROCS=2 go test -run '^$' -bench . ./backend/native

var benchSizes = []struct {
	name string
	size int
}{{"256B", 256}, {"64KiB", 64 << 10}}

var benchGoroutines = []int{1, 8}

func benchBody(size int) string { return strings.Repeat("x", size) }

func benchEngine(b *testing.B) *Engine {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e
}

func benchQueue(b *testing.B, e *Engine, name string, attrs backend.Attributes) backend.Queue {
	u, err := e.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		b.Fatal(err)
	}
	q, _ := e.Queue(u)
	return q
}

// entryIDs are batch entry ids, made once.
var entryIDs = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func batchOf(body string, group func(i int) string) []backend.SendEntry {
	entries := make([]backend.SendEntry, 10)
	for i := range entries {
		entries[i] = backend.SendEntry{ID: entryIDs[i], Body: body}
		if group != nil {
			entries[i].MessageGroupID = group(i)
			entries[i].MessageDeduplicationID = "" // filled per send
		}
	}
	return entries
}

// parallel runs batches iterations of fn split over g goroutines and
// reports msgs/s for msgsPerBatch messages per iteration.
func parallel(b *testing.B, g, msgsPerBatch int, fn func(worker, i int)) {
	batches := (b.N + msgsPerBatch - 1) / msgsPerBatch
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < g; w++ {
		n := batches / g
		if w < batches%g {
			n++
		}
		wg.Go(func() {
			for i := 0; i < n; i++ {
				fn(w, i)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(batches*msgsPerBatch)/el.Seconds(), "msgs/s")
}

func cycle(b *testing.B, q backend.Queue, entries []backend.SendEntry) {
	ctx := context.Background()
	if _, err := q.Send(ctx, entries); err != nil {
		b.Fatal(err)
	}
	got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if err != nil {
		b.Fatal(err)
	}
	var del [10]backend.DeleteEntry
	for i, m := range got {
		del[i] = backend.DeleteEntry{ID: entryIDs[i], ReceiptHandle: m.ReceiptHandle}
	}
	if len(got) > 0 {
		if _, err := q.Delete(ctx, del[:len(got)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCycle: send a batch of 10, receive 10, delete a batch of 10.
func BenchmarkCycle(b *testing.B) {
	for _, sz := range benchSizes {
		for _, g := range benchGoroutines {
			b.Run(fmt.Sprintf("%s/g%d", sz.name, g), func(b *testing.B) {
				q := benchQueue(b, benchEngine(b), "cycle", nil)
				body := benchBody(sz.size)
				per := make([][]backend.SendEntry, g)
				for w := range per {
					per[w] = batchOf(body, nil)
				}
				b.SetBytes(int64(sz.size))
				parallel(b, g, 10, func(w, _ int) { cycle(b, q, per[w]) })
			})
		}
	}
}

type floorMsg struct {
	id, body, md5 string
}

// BenchmarkFloor does only the unavoidable work of a message: a new id, the
// MD5 of its body, a copy of the body, and a hand-over through a shared
// structure (a mutex-guarded queue) to a receiver.
func BenchmarkFloor(b *testing.B) {
	for _, sz := range benchSizes {
		for _, g := range benchGoroutines {
			b.Run(fmt.Sprintf("%s/g%d", sz.name, g), func(b *testing.B) {
				body := benchBody(sz.size)
				var mu sync.Mutex
				var shared []floorMsg
				b.SetBytes(int64(sz.size))
				parallel(b, g, 10, func(_, _ int) {
					var batch [10]floorMsg
					for i := range batch {
						sum := md5.Sum([]byte(body))
						batch[i] = floorMsg{id: newMessageID(), body: strings.Clone(body), md5: hex.EncodeToString(sum[:])}
					}
					mu.Lock()
					shared = append(shared, batch[:]...)
					mu.Unlock()
					mu.Lock()
					out := shared[len(shared)-10:]
					var got [10]floorMsg
					copy(got[:], out)
					shared = shared[:len(shared)-10]
					mu.Unlock()
					_ = got
				})
			})
		}
	}
}

// BenchmarkSend: batches of 10 into a queue that is drained off the clock.
func BenchmarkSend(b *testing.B) {
	for _, sz := range benchSizes {
		for _, g := range benchGoroutines {
			b.Run(fmt.Sprintf("%s/g%d", sz.name, g), func(b *testing.B) {
				e := benchEngine(b)
				q := benchQueue(b, e, "send", nil)
				body := benchBody(sz.size)
				per := make([][]backend.SendEntry, g)
				for w := range per {
					per[w] = batchOf(body, nil)
				}
				b.SetBytes(int64(sz.size))
				parallel(b, g, 10, func(w, _ int) {
					if _, err := q.Send(context.Background(), per[w]); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkReceive: receives of 10 from a queue filled beforehand, each
// with a visibility timeout of 0, so the messages come straight back and
// the queue never runs dry (nor reaches the in-flight limit).
func BenchmarkReceive(b *testing.B) {
	for _, g := range benchGoroutines {
		b.Run(fmt.Sprintf("256B/g%d", g), func(b *testing.B) {
			q := benchQueue(b, benchEngine(b), "recv", nil)
			fill(b, q, 1000, benchBody(256))
			parallel(b, g, 10, func(_, _ int) {
				got, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(0)})
				if err != nil || len(got) == 0 {
					b.Fatal("receive", err)
				}
			})
		})
	}
}

func fill(b *testing.B, q backend.Queue, n int, body string) {
	entries := batchOf(body, nil)
	for i := 0; i < n; i += 10 {
		if _, err := q.Send(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
	}
}

// receiveAll receives n messages (n a multiple of 10) and returns their
// handles in batches of 10.
func receiveAll(b *testing.B, q backend.Queue, n int) [][]string {
	var out [][]string
	for len(out)*10 < n {
		got, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil || len(got) == 0 {
			b.Fatal("receive", err)
		}
		hs := make([]string, len(got))
		for i, m := range got {
			hs[i] = m.ReceiptHandle
		}
		out = append(out, hs)
	}
	return out
}

// BenchmarkDelete: delete batches of 10 received beforehand. Messages are
// prepared (sent and received) off the clock in rounds of at most 100,000,
// below the in-flight limit.
func BenchmarkDelete(b *testing.B) {
	for _, g := range benchGoroutines {
		b.Run(fmt.Sprintf("256B/g%d", g), func(b *testing.B) {
			q := benchQueue(b, benchEngine(b), "del", backend.Attributes{"VisibilityTimeout": "43200"})
			body := benchBody(256)
			var elapsed time.Duration
			total := 0
			b.ResetTimer()
			b.StopTimer()
			for total < b.N {
				n := min(100_000, (b.N-total+9)/10*10)
				fill(b, q, n, body)
				handles := receiveAll(b, q, n)
				var wg sync.WaitGroup
				start := time.Now()
				for w := 0; w < g; w++ {
					wg.Go(func() {
						for i := w; i < len(handles); i += g {
							var entries [10]backend.DeleteEntry
							for j, h := range handles[i] {
								entries[j] = backend.DeleteEntry{ID: entryIDs[j], ReceiptHandle: h}
							}
							if _, err := q.Delete(context.Background(), entries[:len(handles[i])]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed += time.Since(start)
				total += n
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkChangeVisibility: extend batches of 10 in-flight messages.
func BenchmarkChangeVisibility(b *testing.B) {
	for _, g := range benchGoroutines {
		b.Run(fmt.Sprintf("256B/g%d", g), func(b *testing.B) {
			q := benchQueue(b, benchEngine(b), "vis", backend.Attributes{"VisibilityTimeout": "600"})
			fill(b, q, 1000, benchBody(256))
			handles := receiveAll(b, q, 1000)
			parallel(b, g, 10, func(_, i int) {
				hs := handles[i%len(handles)]
				var entries [10]backend.VisibilityEntry
				for j, h := range hs {
					entries[j] = backend.VisibilityEntry{ID: fmt.Sprint(j), ReceiptHandle: h, VisibilityTimeout: 600}
				}
				if _, err := q.ChangeVisibility(context.Background(), entries[:len(hs)]); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkCycleManyQueues: 8 goroutines each cycle over 100 queues of one
// engine; with no engine-wide lock on the hot path it scales like
// BenchmarkCycle/256B/g8.
func BenchmarkCycleManyQueues(b *testing.B) {
	e := benchEngine(b)
	qs := make([]backend.Queue, 100)
	for i := range qs {
		qs[i] = benchQueue(b, e, fmt.Sprintf("q%03d", i), nil)
	}
	body := benchBody(256)
	per := make([][]backend.SendEntry, 8)
	for w := range per {
		per[w] = batchOf(body, nil)
	}
	parallel(b, 8, 10, func(w, i int) { cycle(b, qs[(w*13+i)%len(qs)], per[w]) })
}

// BenchmarkCycleFIFO: the cycle on a FIFO queue whose messages spread over
// 1, 10 or 1,000 groups.
func BenchmarkCycleFIFO(b *testing.B) {
	for _, groups := range []int{1, 10, 1000} {
		for _, g := range benchGoroutines {
			b.Run(fmt.Sprintf("256B/%dg/g%d", groups, g), func(b *testing.B) {
				q := benchQueue(b, benchEngine(b), "cycle.fifo", backend.Attributes{"FifoQueue": "true"})
				body := benchBody(256)
				per := make([][]backend.SendEntry, g)
				counters := make([]int, g)
				for w := range per {
					per[w] = batchOf(body, nil)
				}
				names := make([]string, groups)
				for i := range names {
					names[i] = strconv.Itoa(i)
				}
				parallel(b, g, 10, func(w, i int) {
					entries := per[w]
					for j := range entries {
						n := counters[w]
						counters[w]++
						entries[j].MessageGroupID = names[(n*8+w)%groups]
						// One allocation: the id must be new for every message.
						entries[j].MessageDeduplicationID = strconv.Itoa(n*8 + w)
					}
					cycleFIFO(b, q, entries)
				})
			})
		}
	}
}

// cycleFIFO sends, then receives and deletes until it has handled as many
// messages as it sent (a group locked by another goroutine may make a
// receive come back short).
func cycleFIFO(b *testing.B, q backend.Queue, entries []backend.SendEntry) {
	ctx := context.Background()
	if _, err := q.Send(ctx, entries); err != nil {
		b.Fatal(err)
	}
	handled := 0
	for tries := 0; handled < len(entries) && tries < 4; tries++ {
		got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil {
			b.Fatal(err)
		}
		if len(got) == 0 {
			runtime.Gosched()
			continue
		}
		var del [10]backend.DeleteEntry
		for i, m := range got {
			del[i] = backend.DeleteEntry{ID: entryIDs[i], ReceiptHandle: m.ReceiptHandle}
		}
		if _, err := q.Delete(ctx, del[:len(got)]); err != nil {
			b.Fatal(err)
		}
		handled += len(got)
	}
}

// BenchmarkMoveTask: an unthrottled redrive of 100,000 messages out of a
// dead-letter queue.
func BenchmarkMoveTask(b *testing.B) {
	ctx := context.Background()
	body := benchBody(256)
	const n = 100_000
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := benchEngine(b)
		dlq := benchQueue(b, e, "dlq", nil)
		benchQueue(b, e, "src", backend.Attributes{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}`})
		dst := benchQueue(b, e, "dst", nil)
		fill(b, dlq, n, body)
		b.StartTimer()
		start := time.Now()
		h, err := e.StartMessageMoveTask(ctx, backend.MoveTaskRequest{
			SourceARN: "arn:aws:sqs:us-east-1:000000000000:dlq", DestinationARN: "arn:aws:sqs:us-east-1:000000000000:dst",
		})
		if err != nil {
			b.Fatal(err)
		}
		<-e.taskDone(h)
		total += time.Since(start)
		b.StopTimer()
		ts, _ := e.ListMessageMoveTasks(ctx, "arn:aws:sqs:us-east-1:000000000000:dlq", 1)
		if ts[0].Status != backend.MoveTaskCompleted || ts[0].ApproximateNumberOfMessagesMoved != n {
			b.Fatalf("task ended %+v", ts[0])
		}
		attrs, _ := e.GetAttributes(ctx, dst.URL(), []string{"ApproximateNumberOfMessages"})
		if attrs["ApproximateNumberOfMessages"] != fmt.Sprint(n) {
			b.Fatalf("destination has %s", attrs["ApproximateNumberOfMessages"])
		}
		e.Close()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkMemory queues 100,000 messages with distinct 256 B bodies and
// reports the engine's heap cost per queued message beyond its body (B/msg).
func BenchmarkMemory(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		e := benchEngine(b)
		q := benchQueue(b, e, "mem", nil)
		bodies := make([]string, n)
		for j := range bodies {
			bodies[j] = fmt.Sprintf("%0256d", j)
		}
		entries := batchOf("", nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 0; j < n; j += 10 {
			for k := range entries {
				entries[k].Body = bodies[j+k]
			}
			if _, err := q.Send(ctx, entries); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/msg")
		runtime.KeepAlive(bodies)
		e.Close()
	}
}
