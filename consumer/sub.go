package consumer

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// job is one received message, from its receive until its handler has
// ended (or it was given back unstarted). Its fields other than msg are
// guarded by sub.mu.
type job struct {
	msg Message

	expiresAt time.Time               // when the lease runs out, unless extended
	cancel    context.CancelCauseFunc // the handler's, while it runs
	lost      error                   // why the lease was lost, if it was
	extending chan struct{}           // closed when the heartbeat's extension of it ends
}

// sub consumes one queue. Its parts, each in a file of its own:
//
//   - the receiver (receiver.go) asks for messages while the workers will
//     want them, and puts what comes in on ready;
//   - the workers (processor.go) run the handlers and settle the outcomes;
//   - the acknowledger (acker.go) sends the deletes and visibility changes
//     in batches;
//   - the heartbeat (heartbeat.go) extends the leases of what is held.
//
// Server.shutdown stops them in that order (see Server.Shutdown).
type sub struct {
	srv *Server
	queueSettings
	q backend.Queue

	// ready holds the units of work (one job, or the jobs of one receive
	// for a BatchHandler) that wait for a worker. It has room for every
	// message the sub may hold, so a send never blocks; it is sent to only
	// under sendMu's read lock while stopped is false, and closed under
	// its write lock when stopped is set.
	ready  chan []*job
	sendMu sync.RWMutex
	groups *groups // FIFO queues with a Handler

	base     context.Context // the values of Run's context; never cancelled
	ioCtx    context.Context // for deletes and visibility changes; cancelled at the shutdown's end
	ioCancel context.CancelFunc
	acks     *batcher // deletes
	nacks    *batcher // visibility changes: backoffs and releases

	recvCtx    context.Context // for receives; cancelled after the shutdown's grace
	recvCancel context.CancelFunc
	stopRecv   chan struct{} // closed: no receive starts from now on
	stopBeat   chan struct{}

	recvWG, workWG, beatWG sync.WaitGroup

	mu     sync.Mutex
	wanted sync.Cond // on mu: signalled when wantLocked may ask for a receive
	// byID holds the jobs held (received and not ended) by message id:
	// the leases. A message received again replaces its earlier delivery,
	// whose lease is lost.
	byID map[string]*job
	// lostReports are the jobs whose lease newJobsLocked found lost, for
	// the receiver to report outside mu.
	lostReports []*job
	flow        flow // what the receiver looks at (receiver.go)
	// stopped is set, under mu and sendMu, when the shutdown begins:
	// nothing starts from then on. It is atomic so that the workers and
	// dispatch read it without mu.
	stopped  atomic.Bool
	halted   error     // once running handlers are cancelled, why
	health   health    // for Server.HealthHandler (health.go)
	attempts []attempt // FIFO receive attempt ids to retry (receiver.go)
}

func newSub(srv *Server, s queueSettings) *sub {
	sb := &sub{
		srv:           srv,
		queueSettings: s,
		q:             s.Queue,
		ready:         make(chan []*job, s.capacity),
		stopRecv:      make(chan struct{}),
		stopBeat:      make(chan struct{}),
		byID:          make(map[string]*job),
	}
	sb.wanted.L = &sb.mu
	if s.fifo && s.Handler != nil {
		sb.groups = newGroups()
	}
	return sb
}

// start launches the sub's goroutines; base carries the values of Run's
// context.
func (s *sub) start(base context.Context) {
	s.base = base
	s.recvCtx, s.recvCancel = context.WithCancel(base)
	s.ioCtx, s.ioCancel = context.WithCancel(base)
	now := s.srv.clock.Now()
	s.flow.winStart, s.flow.activeAt = now, now
	s.flow.empty = true // until a receive brings messages: one at a time
	// Up to one flush per ten messages the sub may hold: enough to keep
	// up with them at any round trip.
	inflight := max(2, s.capacity/backend.MaxBatchEntries)
	s.acks = newBatcher(s, withPurpose(s.ioCtx, PurposeAck), s.AckBatchSize, inflight, s.flushDeletes)
	s.nacks = newBatcher(s, withPurpose(s.ioCtx, PurposeRelease), backend.MaxBatchEntries, inflight, s.flushVisibility)
	for range s.Concurrency {
		s.workWG.Go(s.worker)
	}
	for range s.receivers() {
		s.recvWG.Go(s.receiver)
	}
	if s.heartbeat > 0 {
		s.beatWG.Go(s.heartbeatLoop)
	}
}

func (s *sub) report(op string, msgID string, err error) {
	s.srv.report(&Error{Op: op, QueueURL: s.url, MessageID: msgID, Err: err})
}

// sleep waits d on the server's clock; it reports false if stop was closed
// first.
func (s *sub) sleep(stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := s.srv.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-stop:
		return false
	}
}

// newJobsLocked makes the jobs of a receive that began at start and
// answered at now, and registers their leases. The caller holds mu.
func (s *sub) newJobsLocked(msgs []*backend.Message, start, now time.Time) []*job {
	jobs := make([]*job, len(msgs))
	js := make([]job, len(msgs)) // one allocation per receive
	// The queue made the messages invisible when it answered: a round
	// trip's half before now, or (a long poll that found messages late)
	// long after start. A full round trip before now is on the safe side.
	expires := now.Add(s.vis - s.flow.latency)
	if floor := start.Add(s.vis); expires.Before(floor) {
		expires = floor
	}
	for i, m := range msgs {
		j := &js[i]
		j.expiresAt = expires
		j.msg.fill(m, s.url, start)
		jobs[i] = j
		if old := s.byID[m.MessageID]; old != nil {
			// Received again while an earlier delivery is held: that
			// one's lease is gone, though SQS would still apply its
			// visibility changes (to this delivery) without an error.
			if s.loseLocked(old, fmt.Errorf("%w: message %s was received again", ErrLeaseLost, m.MessageID)) {
				s.lostReports = append(s.lostReports, old)
			}
		}
		s.byID[m.MessageID] = j
	}
	return jobs
}

// begin marks j as running, its handler cancelled by cancel. It reports
// false if j's lease is already lost. If running handlers were cancelled
// already (a shutdown's deadline), the new one is cancelled at once.
func (s *sub) begin(j *job, cancel context.CancelCauseFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.lost != nil {
		return false
	}
	j.cancel = cancel
	if s.halted != nil {
		cancel(s.halted)
	}
	return true
}

// ending is what end tells of a job that stopped being held.
type ending struct {
	lost        error           // why the lease was lost, if it was
	wait        <-chan struct{} // closed when the heartbeat's extension of it ends, if one runs
	flush, wake bool            // for after
	report      bool            // the lease was found lost at the end: after reports it
}

// end stops holding j and counts it finished (see finishLocked). If the
// heartbeat is extending j at this moment, e.wait is closed when that
// extension has ended: a visibility change for j must wait for it, or the
// extension could land after the change and undo it. Once j's delete or
// visibility change is queued, the caller passes e to after.
func (s *sub) end(j *job) (e ending) {
	now := s.srv.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j.cancel = nil // the handler has returned
	// A lease that ran out before the heartbeat saw it (or with the
	// heartbeat off) is lost: a change sent now could reach the message
	// after another consumer received it (SQS applies a change made with
	// an older receipt handle), so it is left alone.
	if j.extending == nil && !now.Before(j.expiresAt) && s.loseLocked(j, expired(j)) {
		e.report = true
	}
	if s.byID[j.msg.MessageID] == j {
		delete(s.byID, j.msg.MessageID)
	}
	e.lost, e.wait = j.lost, j.extending
	e.flush = s.finishLocked(now)
	e.wake = s.wantLocked() > 0
	return e
}

// after does what the end of a job calls for once its delete or
// visibility change is queued: send the deletes now, wake a receiver.
func (s *sub) after(j *job, e ending) {
	if e.report {
		s.report(OpHeartbeat, j.msg.MessageID, e.lost)
	}
	if e.flush {
		s.acks.flushNow()
	}
	s.poke(e.wake)
}

// lose records that j's lease is lost and cancels its handler if it runs;
// it reports false if j is not held or was lost already. The caller holds
// mu.
func (s *sub) loseLocked(j *job, cause error) bool {
	if s.byID[j.msg.MessageID] != j || j.lost != nil {
		return false
	}
	j.lost = cause
	s.srv.stats.leasesLost.Add(1)
	if j.cancel != nil {
		j.cancel(cause)
	}
	return true
}

// expired is the cause of a lease lost because its visibility timeout ran
// out.
func expired(j *job) error {
	return fmt.Errorf("%w: visibility timeout of message %s ran out", ErrLeaseLost, j.msg.MessageID)
}

// cancelHandlers cancels, with cause, every handler running now or started
// from now on.
func (s *sub) cancelHandlers(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.halted = cause
	for _, j := range s.byID {
		if j.cancel != nil {
			j.cancel(cause)
		}
	}
}

// stopReceiving makes the sub start nothing more: no receive, no handler.
// What waits on ready is for the shutdown to give back.
func (s *sub) stopReceiving() {
	s.sendMu.Lock()
	s.mu.Lock()
	s.stopped.Store(true)
	s.mu.Unlock()
	close(s.ready)
	s.sendMu.Unlock()
	s.wanted.Broadcast()
	close(s.stopRecv)
}

// entryIDs are the batch entry ids, by position.
var entryIDs = func() (ids [backend.MaxBatchEntries]string) {
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()
