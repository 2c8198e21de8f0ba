package storecompare

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Run (README.md has the results and why rounds of -count 1 rather than
// -count 6):
//
//	cd bench/storecompare
//	for i in $(seq 1 10); do GOMAXPROCS=2 go test -run '^$' -bench . -benchtime 2s -count 1; done | tee results.txt
//	awk -f ratios.awk results.txt

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// body is the 256-byte message body every store sends.
var body = strings.Repeat("x", 256)

// cycle is one client's turn: send 10, mark 10 received, delete them.
func cycle(ctx context.Context, q trafficQueue) error {
	if err := q.send(ctx, body); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	rs, err := q.receive(ctx)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	if len(rs) == 0 {
		return nil
	}
	if err := q.delete(ctx, rs); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return nil
}

// traffic runs cycles cycles split over clients goroutines and returns how
// long they took.
func traffic(ctx context.Context, q trafficQueue, clients, cycles int) (time.Duration, error) {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	start := time.Now()
	for c := range clients {
		n := cycles / clients
		if c < cycles%clients {
			n++
		}
		wg.Go(func() {
			for range n {
				if err := cycle(ctx, q); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), first
}

// drain receives and deletes until the queue has no ready message.
func drain(ctx context.Context, q trafficQueue) error {
	for {
		rs, err := q.receive(ctx)
		if err != nil || len(rs) == 0 {
			return err
		}
		if err := q.delete(ctx, rs); err != nil {
			return err
		}
	}
}

// BenchmarkQueueTraffic: c clients each loop over send 10 (durable),
// receive 10 (not waited for), delete 10 (durable), on a fresh durable
// queue of each store. b.N counts messages; msgs/s is messages sent (and
// received and deleted) per second. Per message it also reports the
// process's CPU time (user+sys, background work included, cpu-µs/msg),
// the bytes it passed to write calls (wchar-B/msg) and the bytes it caused
// to be written to the storage layer (disk-B/msg), from /proc/self/io.
func BenchmarkQueueTraffic(b *testing.B) {
	ctx := context.Background()
	for _, s := range stores {
		for _, clients := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/c%d", s.name, clients), func(b *testing.B) {
				q, err := s.open(b.TempDir(), true)
				if err != nil {
					b.Fatal(err)
				}
				defer q.close()
				cycles := (b.N + 9) / 10
				b.ResetTimer()
				p0 := readProc(b)
				el, err := traffic(ctx, q, clients, cycles)
				p1 := readProc(b)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				msgs := float64(cycles * 10)
				b.ReportMetric(msgs/el.Seconds(), "msgs/s")
				b.ReportMetric(float64((p1.cpu-p0.cpu).Microseconds())/msgs, "cpu-µs/msg")
				b.ReportMetric(float64(p1.wchar-p0.wchar)/msgs, "wchar-B/msg")
				b.ReportMetric(float64(p1.writeBytes-p0.writeBytes)/msgs, "disk-B/msg")
			})
		}
	}
}

// procStats are the process's counters that readProc reads.
type procStats struct {
	cpu        time.Duration // user + system
	wchar      int64         // bytes passed to write calls
	writeBytes int64         // bytes caused to be written to storage
}

func readProc(b *testing.B) procStats {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	st := procStats{cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(raw)) {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch name {
		case "wchar":
			st.wchar = n
		case "write_bytes":
			st.writeBytes = n
		}
	}
	return st
}

// churnMessages is how many messages BenchmarkChurnSpace sends and deletes.
const churnMessages = 100_000

// BenchmarkChurnSpace: the space a store takes on disk after 100,000
// messages were sent, received and deleted (64 clients), once its own
// reclamation has run (postbox: Engine.Compact; pebble: Compact over the
// queue's key range; bbolt: nothing to run, freed pages go to its freelist
// and the file never shrinks) and the store was closed. Space does not
// depend on when writes are synced, so to keep the run short the stores
// are opened without waiting for syncs (postbox SyncInterval, pebble
// NoSync, bbolt NoSync); the records written are the same.
// bytes-after-churn is the files' total size, alloc-bytes-after-churn the
// blocks they occupy, bytes-before-reclaim the size while open, before
// reclamation.
func BenchmarkChurnSpace(b *testing.B) {
	ctx := context.Background()
	for _, s := range stores {
		if s.name == "bbolt-delay1ms" {
			continue // the same file as bbolt
		}
		b.Run(s.name, func(b *testing.B) {
			var size, alloc, before int64
			for range b.N {
				dir, err := os.MkdirTemp(b.TempDir(), "churn")
				if err != nil {
					b.Fatal(err)
				}
				q, err := s.open(dir, false)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := traffic(ctx, q, 64, churnMessages/10); err != nil {
					b.Fatal(err)
				}
				if err := drain(ctx, q); err != nil {
					b.Fatal(err)
				}
				if n, err := q.count(ctx); err != nil || n != 0 {
					b.Fatalf("after churn: %d messages, %v", n, err)
				}
				sz, _, err := dirSize(dir)
				if err != nil {
					b.Fatal(err)
				}
				before += sz
				if err := q.reclaim(ctx); err != nil {
					b.Fatal(err)
				}
				if err := q.close(); err != nil {
					b.Fatal(err)
				}
				sz, al, err := dirSize(dir)
				if err != nil {
					b.Fatal(err)
				}
				size += sz
				alloc += al
			}
			n := float64(b.N)
			b.ReportMetric(float64(size)/n, "bytes-after-churn")
			b.ReportMetric(float64(alloc)/n, "alloc-bytes-after-churn")
			b.ReportMetric(float64(before)/n, "bytes-before-reclaim")
		})
	}
}

// dirSize returns the total size of the files under dir and the space
// their blocks occupy.
func dirSize(dir string) (size, alloc int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			alloc += st.Blocks * 512
		}
		return nil
	})
	return size, alloc, err
}

// BenchmarkFsync: the latency of a 512-byte write plus fsync on the disk
// the stores use, for context.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, 512)
	for b.Loop() {
		if _, err := f.Write(p); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/fsync")
}

// TestStoresAgree runs the workload on every store: messages sent before a
// reopen are found after it, 100 messages of traffic leave none behind,
// and the deletes are still there after another reopen.
func TestStoresAgree(t *testing.T) {
	ctx := context.Background()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			q, err := s.open(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.send(ctx, body); err != nil {
				t.Fatal(err)
			}
			if err := q.close(); err != nil {
				t.Fatal(err)
			}

			q, err = s.open(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if q != nil {
					q.close()
				}
			}()
			if n, err := q.count(ctx); err != nil || n != 10 {
				t.Fatalf("after reopen: %d messages, %v; want the 10 sent before", n, err)
			}
			if _, err := traffic(ctx, q, 4, 10); err != nil {
				t.Fatal(err)
			}
			if err := drain(ctx, q); err != nil {
				t.Fatal(err)
			}
			if n, err := q.count(ctx); err != nil || n != 0 {
				t.Fatalf("after traffic: %d messages, %v; want 0", n, err)
			}
			if err := q.reclaim(ctx); err != nil {
				t.Fatal(err)
			}
			if err := q.close(); err != nil {
				t.Fatal(err)
			}

			q, err = s.open(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := q.count(ctx); err != nil || n != 0 {
				t.Fatalf("after second reopen: %d messages, %v; want 0", n, err)
			}
		})
	}
}

// TestMessageRecordRoundTrip: the kv stores' message record decodes to
// what was encoded, and a truncated record is refused.
func TestMessageRecordRoundTrip(t *testing.T) {
	m := kvMessage{
		seq: 1 << 40, id: newMessageID(), body: body, md5: "0123456789abcdef0123456789abcdef",
		sentAt: time.Now().UnixNano(), nonce: 7, state: stateInFlight,
		visibleAt: 3, receivedAt: 2, firstRecvAt: -1, receiveCount: 4,
	}
	enc := m.encode(nil)
	got, err := decodeKVMessage(enc)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, m)
	}
	for _, n := range []int{0, 1, 10, len(enc) - 1} {
		if _, err := decodeKVMessage(enc[:n]); err == nil {
			t.Errorf("truncated to %d bytes: decoded", n)
		}
	}
	if _, err := decodeKVMessage(append(enc, 0)); err == nil {
		t.Error("trailing byte: decoded")
	}
}
