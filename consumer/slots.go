package consumer

import (
	"context"
	"sync"
)

// slots counts the messages a queue's consumer may still take in: capacity
// minus the messages received and not yet finished. Pollers acquire slots
// before a receive and give back what the receive did not fill; workers give
// one back per finished message. It is the back-pressure that keeps received
// messages from piling up in local buffers.
type slots struct {
	mu      sync.Mutex
	free    int
	waiting int // pollers waiting in acquire: no kick is sent when none is
	// kick wakes one waiting poller when slots are freed; a poller that
	// takes slots and leaves some free passes the kick on.
	kick chan struct{}
}

func newSlots(n int) *slots { return &slots{free: n, kick: make(chan struct{}, 1)} }

// acquire waits until max slots are free, or at least one is and hungry
// reports true, and takes up to max of them. It returns 0 when ctx ends
// first. hungry is checked whenever slots are freed.
func (s *slots) acquire(ctx context.Context, max int, hungry func() bool) int {
	waited := false
	for {
		s.mu.Lock()
		if waited {
			s.waiting--
		}
		if s.free >= max || (s.free > 0 && hungry()) {
			n := min(s.free, max)
			s.free -= n
			pass := s.free > 0 && s.waiting > 0
			s.mu.Unlock()
			if pass {
				s.wake()
			}
			return n
		}
		s.waiting++
		waited = true
		s.mu.Unlock()
		select {
		case <-s.kick:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			s.wake() // pass on a kick this poller may have taken
			return 0
		}
	}
}

// nudge wakes a waiting poller, if there is one, to check again: the
// workers are running out of work (hungry may now report true).
func (s *slots) nudge() {
	s.mu.Lock()
	w := s.waiting
	s.mu.Unlock()
	if w > 0 {
		s.wake()
	}
}

func (s *slots) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// release gives n slots back.
func (s *slots) release(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.free += n
	w := s.waiting
	s.mu.Unlock()
	if w > 0 {
		s.wake()
	}
}
