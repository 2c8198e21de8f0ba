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
	// want and hungry are the condition the waiting pollers wait for (all
	// pollers of a queue pass the same): a release kicks a poller only
	// when it would go, not for every slot freed.
	want   int
	hungry func() bool
	// kick wakes one waiting poller when slots are freed; a poller that
	// takes slots and leaves some free passes the kick on.
	kick chan struct{}
}

func newSlots(n int) *slots { return &slots{free: n, kick: make(chan struct{}, 1)} }

// acquire waits until max slots are free, or at least one is and hungry
// reports true, and takes up to max of them. It returns 0 when ctx ends
// first. hungry is checked whenever slots are freed, and on nudge.
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
			pass := s.waiting > 0 && s.readyLocked()
			s.mu.Unlock()
			if pass {
				s.wake()
			}
			return n
		}
		s.waiting++
		s.want, s.hungry = max, hungry
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
	w := s.waiting > 0 && s.readyLocked()
	s.mu.Unlock()
	if w {
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
	poke := s.waiting > 0 && s.readyLocked()
	s.mu.Unlock()
	if poke {
		s.wake()
	}
}

// readyLocked reports whether a waiting poller would take slots now.
func (s *slots) readyLocked() bool {
	return s.free >= s.want || (s.free > 0 && s.hungry != nil && s.hungry())
}
