package consumer

import (
	"sync"
	"sync/atomic"
)

// readyQueue holds received messages that wait for a worker, in units of
// work (one job, or the jobs of one receive for a BatchHandler), first in,
// first out. It costs less than a channel per message: a poller puts a whole
// receive in under one lock and wakes one idle worker; a worker that takes
// a unit and sees more waiting wakes the next idle worker, so the wake-ups
// spread while the work lasts and stop when it is gone; a worker that
// finishes a message and finds more waiting takes it without parking.
type readyQueue struct {
	mu    sync.Mutex
	units [][]*job // waiting from head on
	head  int
	idle  int           // workers parked in take, not yet woken
	wake  chan struct{} // a token per woken worker; never blocks
	n     atomic.Int64  // units waiting, for lock-free peeks
}

func newReadyQueue(workers int) *readyQueue {
	return &readyQueue{wake: make(chan struct{}, workers)}
}

// len is how many units wait.
func (r *readyQueue) len() int { return int(r.n.Load()) }

// put queues units, in order, and wakes an idle worker if there is one.
func (r *readyQueue) put(units ...[]*job) {
	if len(units) == 0 {
		return
	}
	r.mu.Lock()
	r.units = append(r.units, units...)
	r.n.Store(int64(len(r.units) - r.head))
	r.wakeLocked()
	r.mu.Unlock()
}

// putJobs queues each of jobs as a unit of its own.
func (r *readyQueue) putJobs(jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	r.mu.Lock()
	for _, j := range jobs {
		r.units = append(r.units, j.self[:])
	}
	r.n.Store(int64(len(r.units) - r.head))
	r.wakeLocked()
	r.mu.Unlock()
}

func (r *readyQueue) wakeLocked() {
	if r.idle > 0 {
		r.idle--
		r.wake <- struct{}{} // room for every worker: never blocks
	}
}

// take returns the next unit and how many wait after it, waiting for one
// while none does. It returns ok false once stop is closed and nothing was
// taken.
func (r *readyQueue) take(stop <-chan struct{}) (unit []*job, left int, ok bool) {
	r.mu.Lock()
	for r.head == len(r.units) {
		r.idle++
		r.mu.Unlock()
		select {
		case <-r.wake:
		case <-stop:
			return nil, 0, false
		}
		r.mu.Lock()
	}
	unit, left = r.popLocked()
	if left > 0 {
		r.wakeLocked() // more work than this worker: pass the wake-up on
	}
	r.mu.Unlock()
	return unit, left, true
}

// borrow takes the place of an idle worker, for a caller that runs work
// itself instead of queuing it: it reports false if no worker is idle, or
// if work waits (which comes first). The worker stays parked until unborrow
// gives its place back.
func (r *readyQueue) borrow() bool {
	r.mu.Lock()
	ok := r.idle > 0 && r.head == len(r.units)
	if ok {
		r.idle--
	}
	r.mu.Unlock()
	return ok
}

// unborrow gives back a place that borrow took, waking the worker if work
// waits.
func (r *readyQueue) unborrow() {
	r.mu.Lock()
	r.idle++
	if r.head < len(r.units) {
		r.wakeLocked()
	}
	r.mu.Unlock()
}

// tryTake returns the next unit, if one waits.
func (r *readyQueue) tryTake() (unit []*job, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.head == len(r.units) {
		return nil, false
	}
	unit, _ = r.popLocked()
	return unit, true
}

func (r *readyQueue) popLocked() (unit []*job, left int) {
	unit = r.units[r.head]
	r.units[r.head] = nil
	r.head++
	left = len(r.units) - r.head
	switch {
	case left == 0:
		r.units, r.head = r.units[:0], 0
	case r.head >= 64 && r.head > left:
		// Compact now and then: amortised, never per unit.
		n := copy(r.units, r.units[r.head:])
		clear(r.units[n:])
		r.units, r.head = r.units[:n], 0
	}
	r.n.Store(int64(left))
	return unit, left
}
