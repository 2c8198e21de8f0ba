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
	waiters int
	changed chan struct{} // closed and replaced when free grows and someone waits
}

func newSlots(n int) *slots { return &slots{free: n, changed: make(chan struct{})} }

// acquire waits until at least one slot is free and takes up to max of them.
// It returns 0 when ctx ends first.
func (s *slots) acquire(ctx context.Context, max int) int {
	for {
		s.mu.Lock()
		if s.free > 0 {
			n := min(s.free, max)
			s.free -= n
			s.mu.Unlock()
			return n
		}
		s.waiters++
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
			s.mu.Lock()
			s.waiters--
			s.mu.Unlock()
		case <-ctx.Done():
			s.mu.Lock()
			s.waiters--
			s.mu.Unlock()
			return 0
		}
	}
}

// release gives n slots back.
func (s *slots) release(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.free += n
	if s.waiters > 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
}
