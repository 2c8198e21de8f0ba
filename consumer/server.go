package consumer

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/jonboulle/clockwork"
)

// Server consumes one or more queues: it receives their messages, runs the
// handlers in bounded worker pools, deletes what succeeded in batches, keeps
// running messages invisible, backs off failures, and shuts down gracefully.
// Create one with New, start it with Run, stop it by cancelling Run's
// context or with Shutdown.
type Server struct {
	cfg   Config
	subs  []*sub
	clock clockwork.Clock
	stats stats

	mu       sync.Mutex
	state    int
	stopReq  chan struct{} // closed when Shutdown is called on a running server
	done     chan struct{} // closed when everything has stopped
	stopOnce sync.Once
	result   error
}

const (
	stateNew = iota
	stateRunning
	stateClosed
)

// New validates cfg and returns a server ready to Run.
func New(cfg Config) (*Server, error) {
	settings, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, stopReq: make(chan struct{}), done: make(chan struct{})}
	s.clock = cfg.Clock
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.cfg.ShutdownTimeout == 0 {
		s.cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if s.cfg.OnError == nil {
		s.cfg.OnError = defaultOnError
	}
	for _, qs := range settings {
		s.subs = append(s.subs, newSub(s, qs))
	}
	return s, nil
}

func (s *Server) report(err *Error) { s.cfg.OnError(err) }

// Run starts consuming and blocks until ctx ends or Shutdown is called.
// When ctx ends, Run shuts the server down gracefully, waiting up to
// Config.ShutdownTimeout for running handlers, and returns nil (or
// ErrShutdownTimeout if handlers had to be cancelled). When Shutdown is
// called, Run returns ErrServerClosed once the shutdown is complete. Run
// may be called once; later calls return ErrServerClosed.
//
// The values of ctx (not its cancellation) are passed on to handlers and
// to backend calls.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.state = stateRunning
	base := context.WithoutCancel(ctx)
	for _, sb := range s.subs {
		sb.start(base)
	}
	s.mu.Unlock()

	select {
	case <-ctx.Done():
		return s.stop(nil)
	case <-s.stopReq:
		<-s.done
		return ErrServerClosed
	}
}

// Shutdown stops the server gracefully and returns when every goroutine it
// started has ended. In order, it:
//
//  1. stops receiving (long polls in progress are abandoned);
//  2. gives back (visibility 0) every message received but not started;
//  3. waits for running handlers until ctx ends or Config.ShutdownTimeout
//     passes, whichever is first, while their visibility is still extended;
//  4. then cancels the handlers still running (their context's cause is
//     ErrServerShutdown), waits for them to return, and gives their messages
//     back;
//  5. flushes the pending deletes and visibility changes.
//
// Shutdown returns nil if every handler finished by itself, and
// ErrShutdownTimeout if some had to be cancelled. A handler that ignores its
// context keeps Shutdown waiting. Shutdown on a server that never ran just
// closes it; calling it again waits for the first call and returns the same
// result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stateNew {
		s.state = stateClosed
		s.mu.Unlock()
		s.stopOnce.Do(func() { close(s.stopReq); close(s.done) })
		return nil
	}
	s.mu.Unlock()
	return s.stop(ctx.Done())
}

// stop runs the shutdown once; every caller waits for it.
func (s *Server) stop(deadline <-chan struct{}) error {
	s.stopOnce.Do(func() {
		close(s.stopReq)
		s.result = s.shutdown(deadline)
		s.mu.Lock()
		s.state = stateClosed
		s.mu.Unlock()
		close(s.done)
	})
	<-s.done
	return s.result
}

func (s *Server) shutdown(deadline <-chan struct{}) error {
	for _, sb := range s.subs {
		sb.stopReceiving()
	}
	// Pollers may be running handlers (inline runs): they are waited for
	// with the workers, within the deadline.
	workersDone := make(chan struct{})
	var waiter sync.WaitGroup
	waiter.Go(func() {
		for _, sb := range s.subs {
			sb.pollWG.Wait()
			close(sb.stopWatch)
			sb.watchWG.Wait()
		}
		for _, sb := range s.subs {
			close(sb.stopWork)
			sb.drain()
		}
		for _, sb := range s.subs {
			sb.workWG.Wait()
		}
		close(workersDone)
	})
	timer := s.clock.NewTimer(s.cfg.ShutdownTimeout)
	var err error
	select {
	case <-workersDone:
	case <-timer.Chan():
		err = ErrShutdownTimeout
	case <-deadline:
		err = ErrShutdownTimeout
	}
	timer.Stop()
	if err != nil {
		for _, sb := range s.subs {
			sb.cancelHandlers(ErrServerShutdown)
		}
		<-workersDone
	}
	waiter.Wait()
	for _, sb := range s.subs {
		sb.drain() // FIFO messages whose predecessor ended meanwhile
		close(sb.stopBeat)
	}
	for _, sb := range s.subs {
		sb.beatWG.Wait()
		sb.acks.close()
		sb.nacks.close()
		sb.pollCancel()
	}
	return err
}

// stats are the server's counters, each on a cache line of its own: they
// are added to by different goroutines (pollers, workers, flushers) on
// different cores, which would otherwise take the line from each other at
// every message.
type stats struct {
	_                                                                               cacheLinePad
	received, succeeded, failed, permanent, deleted, released, extended, leasesLost counter
}

// counter is an atomic counter that fills a cache line.
type counter struct {
	atomic.Int64
	_ [cacheLine - 8]byte
}

// cacheLine is the size of a CPU cache line (64 bytes on amd64 and most
// arm64 cores; 128 on some, where this halves the benefit but stays right).
const cacheLine = 64

// cacheLinePad keeps what follows off the cache line of what precedes it.
type cacheLinePad [cacheLine]byte

// Stats are counts of what a server has done since it started, over all its
// queues.
type Stats struct {
	Received   int64 // messages received
	Succeeded  int64 // handler calls that returned nil
	Failed     int64 // handler calls that returned an error (or panicked)
	Permanent  int64 // of those, errors marked Permanent
	Deleted    int64 // messages deleted (confirmed by the backend)
	Released   int64 // messages given back unprocessed (shutdown, FIFO order)
	Extended   int64 // visibility extensions made by the heartbeat
	LeasesLost int64 // messages whose lease was lost
	InFlight   int64 // messages received and not yet finished, now
}

// Stats returns the server's counters. It is safe to call at any time.
func (s *Server) Stats() Stats {
	st := Stats{
		Received:   s.stats.received.Load(),
		Succeeded:  s.stats.succeeded.Load(),
		Failed:     s.stats.failed.Load(),
		Permanent:  s.stats.permanent.Load(),
		Deleted:    s.stats.deleted.Load(),
		Released:   s.stats.released.Load(),
		Extended:   s.stats.extended.Load(),
		LeasesLost: s.stats.leasesLost.Load(),
	}
	for _, sb := range s.subs {
		st.InFlight += sb.held.Load()
	}
	return st
}
