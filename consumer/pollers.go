package consumer

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Spare pollers.
//
// Pollers run receives at once so that the time a receive spends on the
// network overlaps with the others': against SQS, where a receive takes
// milliseconds, that is what keeps every worker fed. A queue in the same
// process answers in microseconds, and a receive is then work for this
// process's own cores, not a wait: more receives running at once than
// there are Ps (GOMAXPROCS) only queue up on the queue's lock and on the
// scheduler. So while receives that did not wait for messages (the queue
// had more than they asked for) take under quickReceive on average, only
// the first activePollers of a queue's pollers receive; the others, the
// spare ones, wait. They start again as soon as receives turn slow, or
// when a poller is stuck in a handler of an inline run (see rescue): a
// spare poller then stands in for it, rather than let the queue wait for
// that handler to return.

// quickReceive is the average receive under which the spare pollers wait:
// a queue in the same process answers ten messages in tens of
// microseconds, one across a network (even on loopback, over HTTP) takes a
// millisecond or so.
const quickReceive = 100 * time.Microsecond

// activePollers is how many of a queue's pollers receive while receives are
// quick.
func activePollers() int { return max(1, runtime.GOMAXPROCS(0)) }

// gate is where the spare pollers wait.
type gate struct {
	mu sync.Mutex
	ch chan struct{} // closed by open
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

// wait returns a channel that open closes. Take it before looking at the
// condition the waiter waits for, so that an open in between is not lost.
func (g *gate) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ch
}

// open wakes every waiter.
func (g *gate) open() {
	g.mu.Lock()
	close(g.ch)
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

// sparesWait reports whether the spare pollers are to wait: receives are
// quick and no poller is stuck in an inline run.
func (s *sub) sparesWait() bool { return s.recvCost.quick() && s.stuck.Load() == 0 }

// waitAsSpare parks a spare poller while sparesWait. It returns false if
// ctx ended first.
func (s *sub) waitAsSpare(ctx context.Context) bool {
	for {
		ch := s.spare.wait()
		if !s.sparesWait() {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// noteReceive adds a receive that took d to the receive cost, and
// wakes the spare pollers if that made receives slow. A sample counts as
// twice the limit at most (set in newSub): a receive may still have waited
// for messages (the queue emptied by a receive that found just what it
// asked for, then a long poll), and a few of those in a row must not look
// like a slow queue; five in a row from a quick average do, as do receives
// that are slow all along.
func (s *sub) noteReceive(d time.Duration) {
	was := s.recvCost.quick()
	s.recvCost.note(d, 1)
	if was && !s.recvCost.quick() {
		s.spare.open()
	}
}
