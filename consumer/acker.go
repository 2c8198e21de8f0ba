package consumer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

// ackItem is a delete of j's message, or a change of its visibility to secs
// seconds.
type ackItem struct {
	j    *job
	secs int
}

// batcher sends ackItems in batch calls of up to size: a batch goes as soon
// as it is full, and a part batch once its oldest item has waited
// AckMaxDelay (or at once, after flushNow). Up to maxInFlight calls run at
// once, each on a flusher goroutine; while they are all busy, items queue
// up, so batches grow under load, as in gocloud's pubsub/batcher. Flushers
// start as needed and are kept until close, so that their stacks, grown by
// the backend's calls, are grown once. A timer runs only while a part
// batch waits. Past maxPending waiting items, add blocks: the workers wait
// for the queue rather than let a backlog grow without bound.
type batcher struct {
	clock       clockwork.Clock
	ctx         context.Context
	delay       time.Duration
	size        int
	maxInFlight int
	maxPending  int
	flush       func(ctx context.Context, batch []ackItem)

	mu       sync.Mutex
	room     sync.Cond // signalled when pending shrinks
	work     sync.Cond // signalled when a batch is due, or on close
	pending  []ackItem
	flushers int             // started
	idle     int             // flushers waiting for work
	urgent   bool            // send part batches now
	timer    clockwork.Timer // set while a part batch waits for its delay
	closed   bool
	wg       sync.WaitGroup // flushers and timer callbacks
}

func newBatcher(s *sub, ctx context.Context, size, maxInFlight int, flush func(context.Context, []ackItem)) *batcher {
	b := &batcher{
		clock: s.srv.clock, ctx: ctx, delay: s.AckMaxDelay, size: size,
		maxInFlight: maxInFlight, maxPending: 4 * size * maxInFlight, flush: flush,
	}
	b.room.L = &b.mu
	b.work.L = &b.mu
	return b
}

// add queues it. After close (a receive that answered after the shutdown
// finished), it sends it at once on the calling goroutine.
func (b *batcher) add(it ackItem) {
	b.mu.Lock()
	for len(b.pending) >= b.maxPending && !b.closed {
		b.room.Wait()
	}
	if b.closed {
		b.mu.Unlock()
		b.flush(b.ctx, []ackItem{it})
		return
	}
	b.pending = append(b.pending, it)
	b.kickLocked()
	b.mu.Unlock()
}

// busy reports whether anything waits or is being sent.
func (b *batcher) busy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending) > 0 || b.idle < b.flushers
}

// dueLocked reports whether a batch should go now.
func (b *batcher) dueLocked() bool {
	return len(b.pending) >= b.size || (len(b.pending) > 0 && (b.urgent || b.delay <= 0))
}

// kickLocked gets a due batch going: it wakes an idle flusher or starts a
// new one. It sets the timer for a part batch left waiting.
func (b *batcher) kickLocked() {
	switch {
	case !b.dueLocked():
	case b.idle > 0:
		b.work.Signal()
	case b.flushers < b.maxInFlight:
		b.flushers++
		b.wg.Add(1)
		go b.flusher()
	}
	if len(b.pending) > 0 && !b.urgent && b.timer == nil {
		b.wg.Add(1)
		b.timer = b.clock.AfterFunc(b.delay, b.expire)
	}
}

// flusher sends due batches until close.
func (b *batcher) flusher() {
	defer b.wg.Done()
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		for !b.dueLocked() {
			if b.closed {
				return
			}
			b.idle++
			b.work.Wait()
			b.idle--
		}
		n := min(len(b.pending), b.size)
		batch := make([]ackItem, n)
		copy(batch, b.pending)
		rest := copy(b.pending, b.pending[n:])
		clear(b.pending[rest:])
		b.pending = b.pending[:rest]
		if len(b.pending) == 0 {
			b.urgent = b.closed
			if b.timer != nil && b.timer.Stop() {
				b.wg.Done() // the callback will not run
			}
			b.timer = nil
		}
		b.room.Broadcast()
		b.kickLocked() // more due: another flusher
		b.mu.Unlock()
		b.flush(b.ctx, batch)
		b.mu.Lock()
	}
}

// expire is the timer's callback: the part batch has waited its delay.
func (b *batcher) expire() {
	defer b.wg.Done()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer = nil
	b.urgent = true
	b.kickLocked()
}

// flushNow sends what waits without waiting for its delay.
func (b *batcher) flushNow() {
	b.mu.Lock()
	if len(b.pending) > 0 {
		b.urgent = true
		b.kickLocked()
	}
	b.mu.Unlock()
}

// close sends everything that waits and returns when every call has ended.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed, b.urgent = true, true
	if b.timer != nil && b.timer.Stop() {
		b.wg.Done()
	}
	b.timer = nil
	b.room.Broadcast()
	b.work.Broadcast()
	b.kickLocked()
	b.mu.Unlock()
	b.wg.Wait()
}

// flushRetries is how often a failed delete or visibility change is tried,
// and flushBackoff the waits between tries.
const flushRetries = 4

var flushBackoff = ExponentialBackoff(100*time.Millisecond, 2*time.Second)

// flushDeletes deletes the messages of batch; ctx carries PurposeAck.
func (s *sub) flushDeletes(ctx context.Context, batch []ackItem) {
	entries := make([]backend.DeleteEntry, len(batch))
	for i, it := range batch {
		entries[i] = backend.DeleteEntry{ID: entryIDs[i], ReceiptHandle: it.j.msg.ReceiptHandle}
	}
	s.retryBatch(ctx, OpDelete, batch, &s.srv.stats.deleted, func(idx []int) ([]backend.EntryResult, error) {
		t0 := s.srv.clock.Now()
		res, err := s.q.Delete(ctx, pick(entries, idx))
		if err == nil {
			s.noteLatency(s.srv.clock.Now().Sub(t0))
		}
		return res, err
	})
}

// flushVisibility changes the visibility of the messages of batch; ctx
// carries PurposeRelease.
func (s *sub) flushVisibility(ctx context.Context, batch []ackItem) {
	entries := make([]backend.VisibilityEntry, len(batch))
	for i, it := range batch {
		entries[i] = backend.VisibilityEntry{ID: entryIDs[i], ReceiptHandle: it.j.msg.ReceiptHandle, VisibilityTimeout: it.secs}
	}
	s.retryBatch(ctx, OpVisibility, batch, nil, func(idx []int) ([]backend.EntryResult, error) {
		return s.q.ChangeVisibility(ctx, pick(entries, idx))
	})
}

// pick returns the entries at the positions idx (all of them, when idx
// covers every position).
func pick[E any](entries []E, idx []int) []E {
	if len(idx) == len(entries) {
		return entries
	}
	out := make([]E, len(idx))
	for k, i := range idx {
		out[k] = entries[i]
	}
	return out
}

// retryBatch makes a batch call, retrying the whole request or its failed
// entries while the failures are retryable, and reports what still fails.
// call gets the positions in batch of the entries to send. okCount, if not
// nil, counts the entries that succeeded.
func (s *sub) retryBatch(ctx context.Context, op string, batch []ackItem, okCount *atomic.Int64,
	call func(idx []int) ([]backend.EntryResult, error)) {
	idx := make([]int, len(batch))
	for i := range idx {
		idx[i] = i
	}
	for attempt := 1; ; attempt++ {
		res, err := call(idx)
		last := attempt >= flushRetries || ctx.Err() != nil
		if err == nil && len(res) != len(idx) {
			err = backend.NewError(backend.CodeInternalFailure, "backend returned %d results for %d entries", len(res), len(idx))
		}
		if err != nil {
			if last || !retryable(err) {
				for _, i := range idx {
					s.report(op, batch[i].j.msg.MessageID, err)
				}
				return
			}
		} else {
			var again []int
			ok := 0
			for k, r := range res {
				i := idx[k]
				switch {
				case r.Err == nil:
					ok++
				case !last && retryable(r.Err):
					again = append(again, i)
				default:
					s.report(op, batch[i].j.msg.MessageID, r.Err)
				}
			}
			if okCount != nil {
				okCount.Add(int64(ok))
			}
			if len(again) == 0 {
				return
			}
			idx = again
		}
		if !s.sleep(ctx.Done(), flushBackoff(attempt)) {
			return
		}
	}
}
