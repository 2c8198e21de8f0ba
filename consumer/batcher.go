package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// batcher gathers items into batches of up to size, flushed when full or
// when the oldest item has waited delay. One goroutine owns the pending
// batch; up to maxInFlight flushes run at once, and while they are all busy
// items queue up, so batches grow under load (gocloud's batcher does the
// same). close flushes what is pending and waits for every flush.
type batcher[T any] struct {
	clock       clockwork.Clock
	size        int
	delay       time.Duration
	flush       func(ctx context.Context, batch []T)
	ctx         context.Context
	in          chan T
	sem         chan struct{}
	wg          sync.WaitGroup
	closeOnce   sync.Once
	loopStopped chan struct{}
}

func newBatcher[T any](ctx context.Context, clock clockwork.Clock, size int, delay time.Duration, maxInFlight int,
	flush func(ctx context.Context, batch []T)) *batcher[T] {
	b := &batcher[T]{
		clock:       clock,
		size:        size,
		delay:       delay,
		flush:       flush,
		ctx:         ctx,
		in:          make(chan T, 4*size),
		sem:         make(chan struct{}, max(1, maxInFlight)),
		loopStopped: make(chan struct{}),
	}
	go b.loop()
	return b
}

// add queues an item. It must not be called after close.
func (b *batcher[T]) add(item T) { b.in <- item }

// close flushes what is pending and waits for every flush to end.
func (b *batcher[T]) close() {
	b.closeOnce.Do(func() { close(b.in) })
	<-b.loopStopped
	b.wg.Wait()
}

func (b *batcher[T]) loop() {
	defer close(b.loopStopped)
	pending := make([]T, 0, b.size)
	var timer clockwork.Timer
	var timerC <-chan time.Time
	stopTimer := func() {
		if timer != nil {
			timer.Stop()
			timer, timerC = nil, nil
		}
	}
	send := func() {
		stopTimer()
		if len(pending) == 0 {
			return
		}
		batch := pending
		pending = make([]T, 0, b.size)
		b.sem <- struct{}{}
		b.wg.Add(1)
		go func() {
			defer func() { <-b.sem; b.wg.Done() }()
			b.flush(b.ctx, batch)
		}()
	}
	for {
		select {
		case item, ok := <-b.in:
			if !ok {
				send()
				return
			}
			pending = append(pending, item)
			// Take what else is already queued without waiting.
		more:
			for len(pending) < b.size {
				select {
				case item, ok := <-b.in:
					if !ok {
						send()
						return
					}
					pending = append(pending, item)
				default:
					break more
				}
			}
			if len(pending) >= b.size || b.delay <= 0 {
				send()
			} else if timer == nil {
				timer = b.clock.NewTimer(b.delay)
				timerC = timer.Chan()
			}
		case <-timerC:
			timer, timerC = nil, nil
			send()
		}
	}
}
