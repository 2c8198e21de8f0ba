package consumer

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
)

// TestBatcherNeverStrandsAPartBatch is the case where the delay passes while
// every flush is busy, and a flush that ends then leaves a part batch
// behind: that part must still go after the delay, not wait for more items.
func TestBatcherNeverStrandsAPartBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var flushed [][]int
		gate := make(chan struct{})
		first := true
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, 100*time.Millisecond, 1,
			func(ctx context.Context, batch []int, _ bool) []int {
				mu.Lock()
				wait := first
				first = false
				flushed = append(flushed, batch)
				mu.Unlock()
				if wait {
					<-gate
				}
				return nil
			})
		b.add(0)
		time.Sleep(100 * time.Millisecond) // the first item's delay: flush 1 starts, and blocks
		synctest.Wait()
		for i := 1; i <= 15; i++ {
			b.add(i)
		}
		time.Sleep(time.Second) // the delay passes with the only flush busy
		synctest.Wait()
		close(gate) // flush 1 ends; flush 2 takes 10, 5 are left
		time.Sleep(150 * time.Millisecond)
		synctest.Wait()
		mu.Lock()
		n := 0
		for _, f := range flushed {
			n += len(f)
			if len(f) > 10 {
				t.Errorf("a batch of %d", len(f))
			}
		}
		mu.Unlock()
		if n != 16 {
			t.Errorf("%d of 16 items flushed 150ms after the flushes freed up: %v", n, flushed)
		}
		b.close()
	})
}

func TestBatcherCloseFlushesEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		total := 0
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, time.Hour, 2,
			func(ctx context.Context, batch []int, _ bool) []int {
				mu.Lock()
				total += len(batch)
				mu.Unlock()
				return nil
			})
		for i := range 37 {
			b.add(i)
		}
		b.close()
		if total != 37 {
			t.Fatalf("%d flushed", total)
		}
	})
}

// TestBatcherBackPressure: while every flush is stuck, add takes items up
// to maxQueue and then waits, instead of letting a backlog grow.
func TestBatcherBackPressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var mu sync.Mutex
		total := 0
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, time.Millisecond, 2,
			func(ctx context.Context, batch []int, _ bool) []int {
				<-gate
				mu.Lock()
				total += len(batch)
				mu.Unlock()
				return nil
			})
		var added atomic.Int64
		go func() {
			for i := range 200 {
				b.add(i)
				added.Add(1)
			}
		}()
		time.Sleep(time.Second)
		synctest.Wait()
		// Two flushes of 10 are stuck, and maxQueue (80) more wait.
		if n := added.Load(); n != 20+80 {
			t.Errorf("%d items added while the flushes were stuck, want 100", n)
		}
		close(gate)
		time.Sleep(time.Second)
		synctest.Wait()
		b.close()
		if total != 200 || added.Load() != 200 {
			t.Errorf("flushed %d, added %d", total, added.Load())
		}
	})
}

// goroutineID is the id of the calling goroutine, from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// TestBatcherReusesFlushers: batch after batch runs on the same few
// flusher goroutines (at most maxInFlight), not on a goroutine per batch,
// and close ends them all (goleak checks).
func TestBatcherReusesFlushers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		flushers := map[string]int{}
		total := 0
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, time.Millisecond, 2,
			func(ctx context.Context, batch []int, _ bool) []int {
				mu.Lock()
				flushers[goroutineID()]++
				total += len(batch)
				mu.Unlock()
				return nil
			})
		for round := range 20 {
			for i := range 25 { // two full batches and a part one, each round
				b.add(round*25 + i)
			}
			time.Sleep(10 * time.Millisecond)
			synctest.Wait()
		}
		b.close()
		mu.Lock()
		defer mu.Unlock()
		if total != 500 {
			t.Errorf("%d of 500 flushed", total)
		}
		if len(flushers) > 2 {
			t.Errorf("%d flusher goroutines for 60 batches, want at most 2: %v", len(flushers), flushers)
		}
	})
}

// TestBatcherDelay: a part batch goes when its oldest item has waited the
// delay, not before; a steady stream makes full batches only.
func TestBatcherDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sizes []int
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, 100*time.Millisecond, 2,
			func(ctx context.Context, batch []int, _ bool) []int {
				mu.Lock()
				sizes = append(sizes, len(batch))
				mu.Unlock()
				return nil
			})
		flushed := func() []int {
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			return append([]int(nil), sizes...)
		}
		b.add(1)
		time.Sleep(60 * time.Millisecond)
		b.add(2)
		time.Sleep(39 * time.Millisecond)
		if got := flushed(); len(got) != 0 {
			t.Fatalf("flushed %v 99ms after the first item", got)
		}
		time.Sleep(time.Millisecond)
		if got := flushed(); len(got) != 1 || got[0] != 2 {
			t.Fatalf("flushed %v 100ms after the first item, want [2]", got)
		}
		// A steady stream, an item per millisecond: full batches only.
		for i := range 995 {
			b.add(i)
			time.Sleep(time.Millisecond)
		}
		got := flushed()
		for _, n := range got[1:] {
			if n != 10 {
				t.Fatalf("a batch of %d in a steady stream: %v", n, got)
			}
		}
		// The last 5 go 100ms after the first of them, which came 5ms
		// ago.
		time.Sleep(94 * time.Millisecond)
		if got := flushed(); len(got) != 1+99 {
			t.Fatalf("%d batches, want 100 before the last part batch's delay", len(got))
		}
		time.Sleep(time.Millisecond)
		if got := flushed(); len(got) != 1+100 || got[100] != 5 {
			t.Fatalf("%d batches, want the part batch of 5 last: %v", len(got), got[95:])
		}
		b.close()
	})
}

// TestBatcherFullBatchesWhileBusy: when flushes are slow, items are left
// behind at every flush; they still wait for a full batch (or their delay)
// rather than go as part batches.
func TestBatcherFullBatchesWhileBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sizes []int
		b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, 100*time.Millisecond, 1,
			func(ctx context.Context, batch []int, _ bool) []int {
				time.Sleep(5 * time.Millisecond)
				mu.Lock()
				sizes = append(sizes, len(batch))
				mu.Unlock()
				return nil
			})
		for i := range 1000 {
			b.add(i)
			time.Sleep(time.Millisecond)
		}
		b.close()
		mu.Lock()
		defer mu.Unlock()
		for k, n := range sizes[:len(sizes)-1] {
			if n != 10 {
				t.Fatalf("batch %d has %d items: %v", k, n, sizes)
			}
		}
	})
}

// TestBatcherFlushesInline: while flushes are quick, a batch that fills up
// is flushed on the goroutine that filled it (by add, or by flushFull for a
// whole batch at once); what such a flush returns to be tried again goes
// back on pending, and to a flusher (inline false) after the delay, and the
// batcher takes flushes for slow from then on: flushFull then declines.
func TestBatcherFlushesInline(t *testing.T) {
	for _, whole := range []bool{false, true} {
		t.Run(fmt.Sprintf("whole=%v", whole), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testBatcherFlushesInline(t, whole) })
		})
	}
}

func testBatcherFlushesInline(t *testing.T, whole bool) {
	type call struct {
		inline bool
		n      int
		gid    string
	}
	var mu sync.Mutex
	var calls []call
	b := newBatcher(context.Background(), clockwork.NewRealClock(), 10, 100*time.Millisecond, 2,
		func(ctx context.Context, batch []int, inline bool) []int {
			mu.Lock()
			calls = append(calls, call{inline, len(batch), goroutineID()})
			first := len(calls) == 1
			mu.Unlock()
			if first {
				return append([]int(nil), batch[7:]...) // three to try again
			}
			return nil
		})
	if b.flushFull([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatal("flushFull flushed before any flush was timed quick")
	}
	b.cost.assumeQuick() // as if many quick flushes had been timed
	me := goroutineID()
	if whole {
		if b.flushFull([]int{0, 1, 2}) {
			t.Error("flushFull took a part batch")
		}
		if !b.flushFull([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Fatal("flushFull declined a whole batch while flushes are quick")
		}
	} else {
		for i := range 10 {
			b.add(i)
		}
	}
	mu.Lock()
	if len(calls) != 1 || !calls[0].inline || calls[0].n != 10 || calls[0].gid != me {
		t.Errorf("after a full batch: calls %+v, want one inline flush of 10 on the adding goroutine %s", calls, me)
	}
	mu.Unlock()
	if c := b.cost.get(); c < inlineFlushCost {
		t.Errorf("cost %v after a flush that failed: want it taken for slow", c)
	}
	if b.flushFull([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Error("flushFull flushed after a flush that failed")
	}
	time.Sleep(100 * time.Millisecond) // the three wait their delay
	synctest.Wait()
	mu.Lock()
	if len(calls) != 2 || calls[1].inline || calls[1].n != 3 || calls[1].gid == me {
		t.Errorf("calls %+v, want the three retried on a flusher", calls)
	}
	mu.Unlock()
	b.close()
}
