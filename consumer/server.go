package consumer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

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

	mu        sync.Mutex
	state     int
	stopReq   chan struct{} // closed when a shutdown begins
	done      chan struct{} // closed when everything has stopped
	stopOnce  sync.Once
	result    error
	idle      chan struct{} // closed when StopWhenIdle applies
	idleOnce  sync.Once
	idleTimer clockwork.Timer // set while every queue is idle, to look again
}

const (
	stateNew = iota
	stateRunning
	stateStopping
	stateClosed
)

// New validates cfg and returns a server ready to Run.
func New(cfg Config) (*Server, error) {
	settings, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, stopReq: make(chan struct{}), done: make(chan struct{}), idle: make(chan struct{})}
	s.clock = cfg.Clock
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.cfg.ShutdownTimeout == 0 {
		s.cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if s.cfg.UnhealthyAfter == 0 {
		s.cfg.UnhealthyAfter = DefaultUnhealthyAfter
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

// Run starts consuming and blocks until the server has stopped. It
// returns:
//
//   - nil when ctx ended, or Config.StopWhenIdle applied, and the graceful
//     shutdown that followed (within Config.ShutdownTimeout, as Shutdown
//     describes) let every handler finish;
//   - ErrShutdownTimeout when that shutdown had to cancel running
//     handlers;
//   - ErrServerClosed when Shutdown was called (Shutdown returns the
//     shutdown's own result), and on a server that already ran.
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
		return s.stop(nil, time.Time{})
	case <-s.idle:
		return s.stop(nil, time.Time{})
	case <-s.stopReq:
		<-s.done
		return ErrServerClosed
	}
}

// Shutdown stops the server gracefully and returns when every goroutine it
// started has ended. The shutdown's deadline is Config.ShutdownTimeout from
// now, or ctx's deadline if that is earlier; part of it (a fifth, at most
// 2 seconds) is kept for the last deletes and releases. In order, it:
//
//  1. starts no more receives, and gives back (visibility 0) every message
//     received but not started;
//  2. gives the receives already sent up to a second to answer (what they
//     bring is given back at once), then cancels the rest: long polls on
//     an empty queue;
//  3. waits for running handlers, keeping their leases alive, until the
//     deadline less the part kept, or until ctx is cancelled;
//  4. then cancels the handlers still running (their context's cause is
//     ErrServerShutdown), waits for them to return, and gives their
//     messages back;
//  5. stops the heartbeat and sends the pending deletes and visibility
//     changes, until the deadline.
//
// Shutdown returns nil if every handler finished by itself, and
// ErrShutdownTimeout if some had to be cancelled. A handler that ignores
// its context keeps Shutdown waiting; a backend.Queue that ignores
// cancellation does not: its calls still running half a second past the
// deadline are left to end by themselves. Shutdown on a server that never ran just closes it;
// calling it again waits for the first call and returns the same result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stateNew {
		s.state = stateClosed
		s.mu.Unlock()
		s.stopOnce.Do(func() { close(s.stopReq); close(s.done) })
		return nil
	}
	s.mu.Unlock()
	deadline, _ := ctx.Deadline()
	return s.stop(ctx.Done(), deadline)
}

// stop runs the shutdown once; every caller waits for it.
func (s *Server) stop(cancelled <-chan struct{}, deadline time.Time) error {
	s.stopOnce.Do(func() {
		close(s.stopReq)
		s.mu.Lock()
		if s.idleTimer != nil {
			s.idleTimer.Stop()
			s.idleTimer = nil
		}
		s.state = stateStopping
		s.mu.Unlock()
		s.result = s.shutdown(cancelled, deadline)
		s.mu.Lock()
		s.state = stateClosed
		s.mu.Unlock()
		close(s.done)
	})
	<-s.done
	return s.result
}

// stragglerWait is how long past its deadline a shutdown waits for the
// backend calls it cancelled to return.
const stragglerWait = 500 * time.Millisecond

// maxFlushReserve bounds the part of a shutdown's time kept for the last
// deletes and releases.
const maxFlushReserve = 2 * time.Second

func (s *Server) shutdown(cancelled <-chan struct{}, deadline time.Time) error {
	start := s.clock.Now()
	end := start.Add(s.cfg.ShutdownTimeout)
	if !deadline.IsZero() && deadline.Before(end) {
		end = deadline
	}
	handlersBy := end.Add(-min(end.Sub(start)/5, maxFlushReserve))

	// 1. Nothing more starts; what waits for a worker goes back.
	var drains sync.WaitGroup
	for _, sb := range s.subs {
		sb.stopReceiving()
		drains.Go(func() {
			if sb.groups != nil {
				sb.giveBack(sb.groups.drain())
			}
			for unit := range sb.ready {
				sb.giveBackUnit(unit)
			}
		})
	}
	// 2. The receives already sent get a grace to answer, unless every
	// queue is idle (StopWhenIdle): then they are long polls on empty
	// queues.
	wait := min(receiveGrace, handlersBy.Sub(start))
	select {
	case <-s.idle:
		wait = 0
	default:
	}
	grace := s.clock.AfterFunc(wait, func() {
		for _, sb := range s.subs {
			sb.recvCancel()
		}
	})
	defer grace.Stop()

	// 3. Running handlers, until their deadline.
	handlers := waitAll(func() {
		for _, sb := range s.subs {
			sb.workWG.Wait()
		}
	})
	timer := s.clock.NewTimer(handlersBy.Sub(s.clock.Now()))
	defer timer.Stop()
	var err error
	select {
	case <-handlers:
	case <-timer.Chan():
		err = ErrShutdownTimeout
	case <-cancelled:
		err = ErrShutdownTimeout
	}
	if err != nil {
		// 4. Their time is up.
		for _, sb := range s.subs {
			sb.recvCancel()
			sb.cancelHandlers(ErrServerShutdown)
		}
		<-handlers
	}

	// 5. What is left goes out, until the deadline.
	hard := s.clock.NewTimer(end.Sub(s.clock.Now()))
	defer hard.Stop()
	finished := waitAll(func() {
		drains.Wait()
		for _, sb := range s.subs {
			close(sb.stopBeat)
			sb.beatWG.Wait()
		}
		for _, sb := range s.subs {
			sb.acks.close()
			sb.nacks.close()
		}
		for _, sb := range s.subs {
			sb.recvWG.Wait() // what a late answer brings is given back at once
		}
	})
	cancelCalls := func() {
		for _, sb := range s.subs {
			sb.recvCancel()
			sb.ioCancel()
		}
	}
	defer cancelCalls() // also releases the contexts when everything ended in time
	select {
	case <-finished:
	case <-hard.Chan():
		// Time is up: the calls still running are cancelled, and a
		// queue that ignores that gets a moment more, then its calls
		// are left to end by themselves.
		cancelCalls()
		straggle := s.clock.NewTimer(stragglerWait)
		defer straggle.Stop()
		select {
		case <-finished:
		case <-straggle.Chan():
		}
	}
	return err
}

// waitAll runs wait on a goroutine of its own and returns a channel closed
// when it returns.
func waitAll(wait func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait()
	}()
	return done
}

// checkIdle stops the server (see Config.StopWhenIdle) once every queue
// has been idle for long enough, or looks again when that will be.
func (s *Server) checkIdle() {
	if s.cfg.StopWhenIdle <= 0 {
		return
	}
	now := s.clock.Now()
	var wait time.Duration
	for _, sb := range s.subs {
		sb.mu.Lock()
		f := &sb.flow
		idle := f.idle && f.held == 0
		left := f.activeAt.Add(s.cfg.StopWhenIdle).Sub(now)
		sb.mu.Unlock()
		if !idle || sb.acks.busy() || sb.nacks.busy() {
			return
		}
		wait = max(wait, left)
	}
	if wait <= 0 {
		s.idleOnce.Do(func() { close(s.idle) })
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idleTimer == nil && s.state == stateRunning {
		s.idleTimer = s.clock.AfterFunc(wait, func() {
			s.mu.Lock()
			s.idleTimer = nil
			s.mu.Unlock()
			s.checkIdle()
		})
	}
}

// stats are the server's counters.
type stats struct {
	received, succeeded, failed, permanent, deleted, released, extended, leasesLost atomic.Int64
}

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
		sb.mu.Lock()
		st.InFlight += int64(sb.flow.held)
		sb.mu.Unlock()
	}
	return st
}
