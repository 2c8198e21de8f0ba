package consumer

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// flow is what the receiver decides from: how many messages are in hand and
// on their way, how fast the workers finish them, and how long a round trip
// to the queue takes. Guarded by sub.mu.
//
// The receiver keeps enough messages asked for that the workers never wait
// on the network (Little's law: the messages in hand and on their way
// should cover what the workers finish during a receive's round trip, on
// top of one per worker), within the sub's capacity. The rate is measured,
// so a queue that supplies fewer messages than the workers could take
// still ramps up: each round trip's worth of messages asked for raises the
// rate, and with it the next target, until the capacity or the queue is
// the limit.
type flow struct {
	held     int  // messages received and not finished
	asked    int  // messages asked for by the receives in flight
	receives int  // receives in flight
	empty    bool // the last answer had no message: the queue is idle
	short    bool // the last answer had fewer messages than asked for
	failing  int  // receives failed in a row

	rate     float64       // messages finished per second, smoothed
	latency  time.Duration // the round trip to the queue (a delete call), smoothed
	winStart time.Time     // the rate's current window
	winDone  int           // messages finished in it

	activeAt time.Time // when a message was last received or finished
	idle     bool      // an empty answer came after activeAt: StopWhenIdle may apply
}

// rateWindow is how long the rate of finished messages is counted over
// before it is folded into the smoothed rate.
const rateWindow = 25 * time.Millisecond

// maxLatencySample caps one sample of the round trip.
const maxLatencySample = time.Second

// noteLatency folds the duration of a call that does not wait (a delete)
// into the round trip's estimate. Receives are not timed: a long poll's
// wait for messages would count as network.
func (s *sub) noteLatency(d time.Duration) {
	s.mu.Lock()
	s.flow.latency = smooth(s.flow.latency, min(d, maxLatencySample))
	s.mu.Unlock()
}

// receiveGrace is how long a shutdown waits for the receives already sent
// before it cancels them. A receive that brings messages answers within a
// network round trip; one still waiting after this is a long poll on an
// empty queue.
const receiveGrace = time.Second

// attemptIDLife is how long a FIFO receive attempt id is reused for
// retries; SQS keeps one for 5 minutes.
const attemptIDLife = 4 * time.Minute

// attempt is the ReceiveRequestAttemptId of a failed FIFO receive, reused
// by the next receive so that SQS returns the same messages if the failed
// one did take them.
type attempt struct {
	id string
	at time.Time
}

// wantLocked is how many messages the next receive should ask for: 0 when
// no receive should start now. The caller holds mu.
func (s *sub) wantLocked() int {
	f := &s.flow
	if s.stopped.Load() {
		return 0
	}
	if (f.empty || f.failing > 0) && f.receives > 0 {
		// An idle queue costs one long poll at a time, and a failing one
		// one attempt at a time.
		return 0
	}
	room := s.capacity - f.held - f.asked
	if room <= 0 {
		return 0
	}
	workers := s.Concurrency * s.unit
	// One receive's worth more than the workers, so that a receive is
	// under way while they finish what they have, and what the workers
	// finish during two round trips.
	target := workers + s.MaxMessages + int(2*f.rate*f.latency.Seconds())
	if f.held+f.asked >= target {
		return 0
	}
	if room < s.MaxMessages && f.held+f.asked >= workers {
		// At the cap: wait for a whole receive's worth of room rather
		// than trickle small receives (each one a request), unless a
		// worker would go without.
		return 0
	}
	return min(s.MaxMessages, room)
}

// poke wakes a waiting receiver, if wake is set: wantLocked asked for a
// receive. (Waking one at every finished message would cost a goroutine
// switch each time, for nothing most of the time.)
func (s *sub) poke(wake bool) {
	if wake {
		s.wanted.Signal()
	}
}

// receivers is how many receiver goroutines a queue has: enough for every
// receive its capacity allows at once. They are kept, rather than started
// per receive, so that their stacks, grown by the backend's calls, are
// grown once.
func (s *sub) receivers() int { return (s.capacity + s.MaxMessages - 1) / s.MaxMessages }

// receiver makes a receive whenever wantLocked asks for one, until the sub
// is stopping.
func (s *sub) receiver() {
	for {
		s.mu.Lock()
		n := s.wantLocked()
		for n == 0 && !s.stopped.Load() {
			s.wanted.Wait()
			n = s.wantLocked()
		}
		if s.stopped.Load() {
			s.mu.Unlock()
			return
		}
		s.flow.receives++
		s.flow.asked += n
		a := s.attemptLocked()
		more := s.wantLocked() > 0
		s.mu.Unlock()
		s.poke(more) // another receive is wanted too
		s.receive(n, a)
	}
}

// attemptLocked returns the attempt id for a receive about to start on a
// FIFO queue: a failed receive's, or a new one.
func (s *sub) attemptLocked() attempt {
	if !s.fifo {
		return attempt{}
	}
	now := s.srv.clock.Now()
	for len(s.attempts) > 0 {
		a := s.attempts[0]
		s.attempts = s.attempts[1:]
		if now.Sub(a.at) <= attemptIDLife {
			return a
		}
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return attempt{id: hex.EncodeToString(b[:]), at: now}
}

// receive makes one receive of n messages and hands what it brings to the
// workers, or, once the sub is stopping, back to the queue.
func (s *sub) receive(n int, a attempt) {
	clock := s.srv.clock
	req := backend.ReceiveRequest{
		MaxMessages:             n,
		WaitTimeSeconds:         &s.waitSecs,
		VisibilityTimeout:       &s.visSecs,
		SystemAttributeNames:    systemAttributeNames,
		MessageAttributeNames:   messageAttributeNames,
		ReceiveRequestAttemptID: a.id,
	}
	start := clock.Now()
	msgs, err := s.q.Receive(s.recvCtx, req)
	if err != nil {
		s.receiveFailed(n, a, err)
		return
	}
	now := clock.Now()
	s.mu.Lock()
	f := &s.flow
	f.receives--
	f.asked -= n
	f.failing = 0
	f.empty, f.short = len(msgs) == 0, len(msgs) < n
	s.health.received()
	if len(msgs) == 0 {
		f.idle = true
		wake := s.wantLocked() > 0
		s.mu.Unlock()
		s.poke(wake)
		s.srv.checkIdle()
		return
	}
	f.held += len(msgs)
	f.activeAt, f.idle = now, false
	jobs := s.newJobsLocked(msgs, start, now)
	s.srv.stats.received.Add(int64(len(jobs)))
	lost := s.lostReports
	s.lostReports = nil
	wake := s.wantLocked() > 0
	s.mu.Unlock()
	for _, j := range lost {
		s.report(OpHeartbeat, j.msg.MessageID, j.lost)
	}
	var back []*job // not to be run
	if len(jobs) > n {
		// More than asked for (a backend that ignores MaxMessages):
		// only what was asked for has room.
		jobs, back = jobs[:n], jobs[n:]
	}
	if !s.dispatch(jobs) {
		back = append(back, jobs...) // shutting down: nothing received now will start
	}
	s.giveBack(back)
	s.poke(wake)
}

// receiveFailed ends a receive that failed: unless the sub is stopping, it
// reports the error and holds the receive's place for a growing backoff, so
// that a failing queue gets one attempt at a time.
func (s *sub) receiveFailed(n int, a attempt, err error) {
	stopped := s.recvCtx.Err() != nil
	if !stopped {
		s.report(OpReceive, "", err)
		s.mu.Lock()
		s.flow.failing++
		fails := s.flow.failing
		s.health.failed(s.srv.clock.Now())
		s.mu.Unlock()
		s.sleep(s.stopRecv, s.ReceiveBackoff(fails))
	}
	s.mu.Lock()
	s.flow.receives--
	s.flow.asked -= n
	if a.id != "" && !stopped {
		s.attempts = append(s.attempts, a)
	}
	wake := s.wantLocked() > 0
	s.mu.Unlock()
	s.poke(wake)
}

// dispatch hands received jobs to the workers; it reports false, having
// handed over none, once the sub is stopping. It sends outside mu (which
// the workers it wakes take at once); sendMu keeps the sends and the
// closing of ready apart.
func (s *sub) dispatch(jobs []*job) bool {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.stopped.Load() {
		return false
	}
	switch {
	case s.BatchHandler != nil:
		s.ready <- jobs
	case s.groups != nil:
		for _, j := range s.groups.submit(jobs) {
			s.ready <- []*job{j}
		}
	default:
		for i := range jobs {
			s.ready <- jobs[i : i+1 : i+1] // a unit of one, without an allocation
		}
	}
	return true
}

// send hands one unit of work to the workers, like dispatch.
func (s *sub) send(unit []*job) bool {
	s.sendMu.RLock()
	defer s.sendMu.RUnlock()
	if s.stopped.Load() {
		return false
	}
	s.ready <- unit
	return true
}

// finishLocked counts a held message as finished (its handler ended, or
// it was given back) and reports whether the deletes waiting for a fuller
// batch should go now. The caller holds mu.
func (s *sub) finishLocked(now time.Time) (flush bool) {
	f := &s.flow
	f.held--
	f.activeAt, f.idle = now, false
	f.winDone++
	if el := now.Sub(f.winStart); el >= rateWindow {
		// The rate follows a rise at once, so that the receives ramp up
		// within a few round trips, and a fall slowly, so that a pause
		// does not empty the pipeline.
		r := float64(f.winDone) / el.Seconds()
		f.rate = max(r, f.rate+(r-f.rate)/4)
		f.winStart, f.winDone = now, 0
	}
	// With nothing in hand and the queue looking drained, no message is
	// coming to fill the deletes' part batch: waiting AckMaxDelay would
	// only make them late.
	return f.held == 0 && f.short
}

// smooth folds a new sample into a moving average (a quarter's weight).
func smooth(avg, sample time.Duration) time.Duration {
	if avg == 0 {
		return sample
	}
	return avg + (sample-avg)/4
}
