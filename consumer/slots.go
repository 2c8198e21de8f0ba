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
	mu   sync.Mutex
	free int
	// kick wakes one waiting poller when slots are freed; a poller that
	// takes slots and leaves some free passes the kick on.
	kick chan struct{}
}

func newSlots(n int) *slots { return &slots{free: n, kick: make(chan struct{}, 1)} }

// acquire waits until max slots are free, or at least one is and hungry
// reports true, and takes up to max of them. It returns 0 when ctx ends
// first. hungry is checked whenever slots are freed.
func (s *slots) acquire(ctx context.Context, max int, hungry func() bool) int {
	for {
		s.mu.Lock()
		if s.free >= max || (s.free > 0 && hungry()) {
			n := min(s.free, max)
			s.free -= n
			left := s.free
			s.mu.Unlock()
			if left > 0 {
				s.wake()
			}
			return n
		}
		s.mu.Unlock()
		select {
		case <-s.kick:
		case <-ctx.Done():
			s.wake() // pass on a kick this poller may have taken
			return 0
		}
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
	s.mu.Unlock()
	s.wake()
}
