package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// batcher gathers items into batches of up to size, flushed when full or
// when the oldest item has waited delay. Up to maxInFlight flushes run at
// once; while they are all busy, items queue up, so batches grow under load
// (gocloud's batcher does the same). The flushes run on flusher goroutines
// that are started as needed, up to maxInFlight, and kept until close: a
// flusher that ends a batch takes the next one due, or waits for one, so a
// steady stream of batches starts no goroutine (and grows no new stack) per
// batch. close flushes what is pending and waits for every flusher and
// timer callback. flush must not keep its batch after it returns: the slice
// is reused.
//
// When flushes are quick (a queue in the same process), starting a flush
// on a flusher goroutine costs more than the flush: waking the goroutine,
// and moving the batch to another core. So the batcher times its flushes
// (on the monotonic clock: this is a cost estimate, not a deadline) and,
// while they take under inlineFlushCost on average, runs a batch that
// fills up on the goroutine that filled it. An inline flush tries once and
// must not wait: it returns what failed and may be tried again, which goes
// back on pending and to the flushers (which retry with backoff), and the
// batcher stops flushing inline until flushes are quick again.
type batcher[T any] struct {
	clock       clockwork.Clock
	size        int
	delay       time.Duration
	maxInFlight int
	flush       flushFunc[T]
	ctx         context.Context
	// cost is the average time a flush takes; it starts high, so that
	// the first flushes run on flushers, where they are timed.
	cost cost

	mu       sync.Mutex
	room     sync.Cond // signalled when pending shrinks
	pending  []T       // items from head on wait for a flush
	head     int
	maxQueue int // add blocks while this many items wait
	inFlight int
	idle     int       // flushers waiting for a batch
	handoff  [][]T     // batches given to idle flushers, not yet taken
	work     sync.Cond // signalled when a batch is handed off, or on close
	// One timer, made for the first part batch and reset after: a part
	// batch is due at deadline, when its oldest item has waited delay.
	// The timer is not stopped when the batch fills up (that would cost a
	// stop and a new arming per batch); when it fires it finds the
	// batch gone, or a later one, and sets itself again for that one.
	timer    clockwork.Timer
	armed    bool      // the timer is set and its callback has not begun
	deadline time.Time // when the oldest pending item is due
	due      bool      // the delay of the pending items has passed
	closed   bool
	spare    [][]T // batches whose flush ended, for reuse
	wg       sync.WaitGroup
}

// flushFunc flushes a batch. With inline false it may take its time (retry,
// back off) and returns nil; with inline true it runs on a caller's
// goroutine, must not wait, and returns the items that failed and may be
// tried again, in a slice of its own.
type flushFunc[T any] func(ctx context.Context, batch []T, inline bool) (again []T)

// inlineFlushCost is the average flush time under which batches are
// flushed inline. A queue in the same process answers in microseconds; one
// across a network, even on loopback, in a hundred or more.
const inlineFlushCost = 50 * time.Microsecond

func newBatcher[T any](ctx context.Context, clock clockwork.Clock, size int, delay time.Duration, maxInFlight int,
	flush flushFunc[T]) *batcher[T] {
	b := &batcher[T]{clock: clock, size: size, delay: delay, maxInFlight: max(1, maxInFlight), flush: flush, ctx: ctx}
	b.cost.init(inlineFlushCost, 4, 3)
	b.room.L = &b.mu
	b.work.L = &b.mu
	// Enough to keep every flush busy several times over; past that the
	// callers wait, rather than let a backlog grow without bound.
	b.maxQueue = 4 * size * b.maxInFlight
	return b
}

// queued is how many items wait for a flush.
func (b *batcher[T]) queued() int { return len(b.pending) - b.head }

// add queues items, waiting while maxQueue items already wait. It must not
// be called after close. If that makes batches due and flushes are quick,
// the caller flushes them.
func (b *batcher[T]) add(items ...T) {
	b.mu.Lock()
	for b.queued() >= b.maxQueue && !b.closed {
		b.room.Wait()
	}
	b.appendLocked(items...)
	for b.due && b.inFlight < b.maxInFlight && !b.closed && b.cost.quick() {
		batch := b.takeLocked()
		b.wg.Add(1) // close waits for this flush too
		b.mu.Unlock()
		again := b.timedFlush(batch, true)
		b.mu.Lock()
		b.doneLocked(batch)
		b.appendLocked(again...)
		b.wg.Done()
	}
	b.startLocked()
	b.mu.Unlock()
}

// flushFull flushes batch, a whole batch of size items, on the calling
// goroutine, the way add would once the items had filled a batch, but
// without queueing them (no lock, no copy). It does nothing and reports
// false while flushes are slow. What the flush returns to be tried again
// goes on pending, as with add. It must not be called after close.
func (b *batcher[T]) flushFull(batch []T) bool {
	if len(batch) != b.size || !b.cost.quick() {
		return false
	}
	if again := b.timedFlush(batch, true); len(again) > 0 {
		b.add(again...)
	}
	return true
}

// appendLocked puts items on pending.
func (b *batcher[T]) appendLocked(items ...T) {
	if len(items) == 0 {
		return
	}
	if b.queued() == 0 && b.delay > 0 {
		b.deadline = b.clock.Now().Add(b.delay)
	}
	b.pending = append(b.pending, items...)
	if b.queued() >= b.size || b.delay <= 0 {
		b.due = true
	}
}

// timedFlush flushes batch and adds the time it took to cost. What an
// inline flush returns to be tried again makes the next flushes go to the
// flushers, which retry with backoff.
func (b *batcher[T]) timedFlush(batch []T, inline bool) (again []T) {
	t0 := time.Now()
	again = b.flush(b.ctx, batch, inline)
	// A flush that left work to retry counts in full.
	if len(again) > 0 {
		b.cost.noteSlow(time.Second)
	} else {
		b.cost.note(time.Since(t0), 1)
	}
	return again
}

// doneLocked ends the flush of batch, which the caller ran.
func (b *batcher[T]) doneLocked(batch []T) {
	clear(batch)
	b.spare = append(b.spare, batch)
	b.inFlight--
}

// armLocked sets the timer to fire in d. Each arming counts its callback
// in wg, so that close waits for a callback that is already running.
func (b *batcher[T]) armLocked(d time.Duration) {
	b.armed = true
	b.wg.Add(1)
	if b.timer == nil {
		b.timer = b.clock.AfterFunc(d, b.expire)
	} else {
		b.timer.Reset(d)
	}
}

// stopTimerLocked stops the timer; a callback that can no longer be
// stopped is left to end by itself.
func (b *batcher[T]) stopTimerLocked() {
	if b.armed && b.timer.Stop() {
		b.armed = false
		b.wg.Done()
	}
}

// expire is the timer's callback: the oldest pending item may have waited
// long enough.
func (b *batcher[T]) expire() {
	defer b.wg.Done()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed = false
	if b.closed || b.queued() == 0 || b.due {
		return
	}
	if !b.clock.Now().Before(b.deadline) {
		b.due = true
	}
	b.startLocked() // flushes, or sets the timer for the rest of the wait
}

// startLocked starts flushes while batches are due and flushes may run:
// each goes to an idle flusher, or to a new one.
func (b *batcher[T]) startLocked() {
	for b.due && b.queued() > 0 && b.inFlight < b.maxInFlight {
		batch := b.takeLocked()
		if b.idle > 0 {
			b.idle--
			b.handoff = append(b.handoff, batch)
			b.work.Signal()
		} else {
			b.wg.Add(1)
			go b.flusher(batch)
		}
	}
	// What is left waits for more items or for its delay; never for
	// nothing.
	if b.queued() > 0 && !b.due && !b.armed {
		b.armLocked(b.deadline.Sub(b.clock.Now()))
	}
}

// takeLocked takes the next batch off pending and counts its flush in
// flight. A batch is due and a flush may start.
func (b *batcher[T]) takeLocked() []T {
	n := min(b.queued(), b.size)
	var batch []T
	if k := len(b.spare); k > 0 {
		batch = b.spare[k-1][:n]
		b.spare[k-1] = nil
		b.spare = b.spare[:k-1]
	} else {
		batch = make([]T, n, b.size)
	}
	copy(batch, b.pending[b.head:])
	clear(b.pending[b.head : b.head+n])
	b.head += n
	switch {
	case b.head == len(b.pending):
		b.pending, b.head = b.pending[:0], 0
	case b.head >= 64 && b.head > b.queued():
		// Compact now and then: amortised, never per batch.
		rest := copy(b.pending, b.pending[b.head:])
		clear(b.pending[rest:])
		b.pending, b.head = b.pending[:rest], 0
	}
	b.due = b.closed || b.queued() >= b.size || b.delay <= 0
	if !b.due && b.queued() > 0 {
		// The part batch left behind is due a delay after its oldest
		// item came; when that was is not kept, so a deadline already
		// past (it was the flushed items') starts over from now.
		if now := b.clock.Now(); !now.Before(b.deadline) {
			b.deadline = now.Add(b.delay)
		}
	}
	b.inFlight++
	b.room.Broadcast()
	return batch
}

// flusher flushes batch, then the batches due after it, until close.
func (b *batcher[T]) flusher(batch []T) {
	defer b.wg.Done()
	for {
		b.timedFlush(batch, false)
		b.mu.Lock()
		b.doneLocked(batch)
		batch = nil
		if b.due && b.queued() > 0 {
			batch = b.takeLocked() // the next one is this flusher's
		}
		b.startLocked() // more flushes, or the timer for a part batch
		for batch == nil {
			switch {
			case len(b.handoff) > 0:
				// Shift rather than reslice, so that the array is
				// reused (there are at most maxInFlight batches).
				batch = b.handoff[0]
				n := copy(b.handoff, b.handoff[1:])
				b.handoff[n] = nil
				b.handoff = b.handoff[:n]
			case b.closed:
				b.mu.Unlock()
				return
			default:
				b.idle++
				b.work.Wait()
			}
		}
		b.mu.Unlock()
	}
}

// flushNow makes what is pending due now, without waiting for its delay.
func (b *batcher[T]) flushNow() {
	b.mu.Lock()
	if b.queued() > 0 && !b.due && !b.closed {
		b.due = true
		b.startLocked()
	}
	b.mu.Unlock()
}

// close flushes what is pending and waits for every flush to end.
func (b *batcher[T]) close() {
	b.mu.Lock()
	b.closed = true
	b.due = true
	b.stopTimerLocked()
	b.room.Broadcast()
	b.startLocked()
	b.work.Broadcast()
	b.mu.Unlock()
	b.wg.Wait()
}
