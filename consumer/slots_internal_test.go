package consumer

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestSlotsWakeWaitingPollers: a poller waiting for a full receive's worth
// of slots is woken by releases once enough are free, and by nudge when it
// becomes hungry; releases with no poller waiting kick nobody.
func TestSlotsWakeWaitingPollers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSlots(10)
		if n := s.acquire(context.Background(), 10, func() bool { return false }); n != 10 {
			t.Fatalf("acquired %d, want 10", n)
		}
		s.release(3)
		select {
		case <-s.kick:
			t.Fatal("a kick with no poller waiting")
		default:
		}
		var hungry atomic.Bool
		got := make(chan int)
		go func() { got <- s.acquire(context.Background(), 10, hungry.Load) }()
		synctest.Wait() // waiting: 3 free, not hungry
		s.release(3)
		synctest.Wait()
		select {
		case n := <-got:
			t.Fatalf("acquired %d with 6 free and not hungry", n)
		default:
		}
		hungry.Store(true)
		s.nudge()
		if n := <-got; n != 6 {
			t.Fatalf("acquired %d after the nudge, want 6", n)
		}
		go func() { got <- s.acquire(context.Background(), 4, hungry.Load) }()
		hungry.Store(false)
		synctest.Wait()
		s.release(4)
		if n := <-got; n != 4 {
			t.Fatalf("acquired %d after the release, want 4", n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { got <- s.acquire(ctx, 10, hungry.Load) }()
		synctest.Wait()
		cancel()
		if n := <-got; n != 0 {
			t.Fatalf("acquired %d after cancel, want 0", n)
		}
		if s.waiting != 0 {
			t.Errorf("%d pollers counted waiting, want 0", s.waiting)
		}
	})
}
