package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Benchmarks of the durable engine. Run:
//
//	GOMAXPROCS=2 go test -run '^$' -bench 'Durable|Fsync|Reopen' ./backend/native

var durableClients = []int{8, 64}

// BenchmarkDurableCycle: c clients each send a batch of 10, receive 10 and
// delete a batch of 10 on a durable queue (SyncAlways: sends and deletes
// wait for their fsync, shared by group commit). Compare with
// BenchmarkDurableFloor at the same concurrency, and with BenchmarkCycle.
func BenchmarkDurableCycle(b *testing.B) {
	for _, mode := range []struct {
		name string
		sync SyncMode
	}{{"always", SyncAlways}, {"interval", SyncInterval}} {
		for _, c := range durableClients {
			b.Run(fmt.Sprintf("%s/c%d", mode.name, c), func(b *testing.B) {
				e, err := New(Config{DataDir: b.TempDir(), Sync: mode.sync})
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				q := benchQueue(b, e, "cycle", nil)
				body := benchBody(256)
				per := make([][]backend.SendEntry, c)
				for w := range per {
					per[w] = batchOf(body, nil)
				}
				parallel(b, c, 10, func(w, _ int) { cycle(b, q, per[w]) })
			})
		}
	}
}

// groupLog is the floor: the least a durable queue must do, appending the
// same records (a send frame, a receive frame, a delete frame per batch of
// 10) to a file and making the send and delete stable before answering,
// with concurrent appenders sharing one fsync. It is written independently
// of the engine's log.
type groupLog struct {
	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File
	buf     []byte
	seq     uint64 // bytes appended
	durable uint64 // bytes synced
	syncing bool
}

func (g *groupLog) appendWait(p []byte, wait bool) {
	g.mu.Lock()
	g.buf = append(g.buf, p...)
	g.seq += uint64(len(p))
	mine := g.seq
	for wait && g.durable < mine {
		if !g.syncing {
			g.syncing = true
			b := g.buf
			g.buf = nil
			upto := g.seq
			g.mu.Unlock()
			g.f.Write(b)
			g.f.Sync()
			g.mu.Lock()
			g.durable = upto
			g.syncing = false
			g.cond.Broadcast()
			continue
		}
		g.cond.Wait()
	}
	g.mu.Unlock()
}

func BenchmarkDurableFloor(b *testing.B) {
	for _, c := range durableClients {
		b.Run(fmt.Sprintf("always/c%d", c), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "floor.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			g := &groupLog{f: f}
			g.cond = sync.NewCond(&g.mu)
			// Frames of the sizes the engine writes for a batch of ten
			// 256-byte messages.
			send := appendFrame(nil, recSend, make([]byte, 10*(256+150)))
			recv := appendFrame(nil, recReceive, make([]byte, 10*28))
			del := appendFrame(nil, recDelete, make([]byte, 10*4))
			parallel(b, c, 10, func(_, _ int) {
				g.appendWait(send, true)
				g.appendWait(recv, false)
				g.appendWait(del, true)
			})
		})
	}
}

// BenchmarkFsync: the latency of one small write plus fsync on this disk.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 512)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Write(p)
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/fsync")
}

// BenchmarkReopen: how long a durable engine holding 1,000,000 queued 256 B
// messages takes to open, from a snapshot ("snapshot") or from the log
// alone ("log").
func BenchmarkReopen(b *testing.B) {
	const n = 1_000_000
	for _, compacted := range []bool{true, false} {
		name := "log"
		if compacted {
			name = "snapshot"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			fillDurable(b, dir, n, compacted)
			b.ResetTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				start := time.Now()
				e, err := New(Config{DataDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				b.StopTimer()
				a, _ := e.GetAttributes(context.Background(), "reopen", []string{"ApproximateNumberOfMessages"})
				if a["ApproximateNumberOfMessages"] != fmt.Sprint(n) {
					b.Fatalf("reopened with %s messages", a["ApproximateNumberOfMessages"])
				}
				e.Close()
				b.StartTimer()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/reopen")
		})
	}
}

func fillDurable(b *testing.B, dir string, n int, compact bool) {
	e, err := New(Config{DataDir: dir, Sync: SyncInterval})
	if err != nil {
		b.Fatal(err)
	}
	q := benchQueue(b, e, "reopen", nil)
	body := benchBody(256)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Go(func() {
			entries := batchOf(body, nil)
			for i := w * 10; i < n; i += 80 {
				if _, err := q.Send(context.Background(), entries); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if compact {
		if err := e.Compact(); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		b.Fatal(err)
	}
}
