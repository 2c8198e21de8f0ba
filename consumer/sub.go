package consumer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// entryIDs are the batch entry ids, by position.
var entryIDs = func() (ids [backend.MaxBatchEntries]string) {
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// allEntries are the positions of a full batch, by position.
var allEntries = [backend.MaxBatchEntries]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// job is one received message from its receive to its end.
type job struct {
	msg  *Message // &m
	m    Message
	self [1]*job  // a one-job unit of work, without an allocation
	rc   *receipt // the receive it came in, which owns its memory
	// hctx0 is the context for j's handler call, made with its receipt and
	// used once.
	hctx0 *handlerCtx

	// state is where j's lease stands (the job* bits). It changes by
	// compare-and-swap, without sub.leaseMu: begin and end cost no lock.
	state atomic.Uint32
	// hctx is the context of j's handler; set by begin before the
	// jobRunning bit, read by whoever sees that bit.
	hctx *handlerCtx
	// lost is why the lease was lost; written by the heartbeat before the
	// jobLost bit, read by whoever sees that bit.
	lost error
	// expiresAt is when the lease runs out; the heartbeat's alone once the
	// receipt is in sub.leases.
	expiresAt time.Time
	// idx is j's position in its receipt. gather: j runs in an inline run,
	// which gathers its successful deletes in rc.acked (see ack).
	idx    uint8
	gather bool
}

// The bits of job.state. A job is tracked by the heartbeat (extended,
// cancelled when its lease is lost) until jobEnded is set; end sets it once.
const (
	jobRunning   = 1 << iota // begin: the handler runs, hctx is set
	jobEnded                 // end: no longer tracked
	jobLost                  // the lease is lost; lost says why
	jobExtending             // the heartbeat is extending it right now
)

// setBits sets bits in j.state unless one of unless is set; it returns the
// state before, and whether it set them.
func (j *job) setBits(bits, unless uint32) (old uint32, ok bool) {
	for {
		old = j.state.Load()
		if old&unless != 0 {
			return old, false
		}
		if j.state.CompareAndSwap(old, old|bits) {
			return old, true
		}
	}
}

// receipt holds the jobs of one receive. It is recycled (through
// sub.receipts) once every job in it is done with, so that a steady stream
// of messages allocates no jobs: refs counts the references to its jobs,
// one per job until its handling ends (runOne, runBatch or giveBack), plus
// one per queued delete or visibility change until its flush ends, plus one
// per heartbeat extension under way. Whoever drops the last one recycles
// the receipt.
type receipt struct {
	jobs [backend.MaxReceiveMessages]job
	ptrs [backend.MaxReceiveMessages]*job
	n    int // jobs in use
	refs atomic.Int32
	// live counts the jobs not yet ended. The receipt is in sub.leases
	// (its lease record: one per receive, not one per message) from its
	// receive until the last of its jobs ends.
	live       atomic.Int32
	prev, next *receipt // in shard's list; guarded by shard.mu
	shard      *leaseShard
	// cursor is the next job to claim, in an inline run (runInline): the
	// run and the watchdog that takes over the rest of a slow run claim
	// jobs by moving it on.
	cursor atomic.Int32
	// acked has a bit per job of an inline run that succeeded and waits
	// for its delete to be queued: by the run at its end, or by the
	// watchdog (whoever swaps it out queues them).
	acked atomic.Uint32
	// ctxs are the handler contexts of the jobs, by position: one
	// allocation per receive rather than one per message. Unlike the jobs
	// they are never reused (a handler may hand its context to something
	// that outlives the call), so every receive gets a new array.
	ctxs *[backend.MaxReceiveMessages]handlerCtx
}

// hold takes a reference to j, which the caller already holds one to.
func (j *job) hold() { j.rc.refs.Add(1) }

// drop gives up a reference to j; the last one recycles j's receipt. j must
// not be used by the caller afterwards.
func (s *sub) drop(j *job) {
	if j.rc != nil {
		s.dropReceipt(j.rc)
	}
}

// dropReceipt gives up a reference to rc; the last one recycles it.
func (s *sub) dropReceipt(rc *receipt) {
	if rc.refs.Add(-1) != 0 {
		return
	}
	clear(rc.jobs[:]) // and with them the strings and maps of the messages
	clear(rc.ptrs[:])
	rc.ctxs = nil
	s.receipts.Put(rc)
}

// newReceipt returns the jobs for msgs, received at start, holding one
// reference each.
func (s *sub) newReceipt(msgs []*backend.Message, start time.Time) []*job {
	rc, _ := s.receipts.Get().(*receipt)
	if rc == nil {
		rc = new(receipt)
	}
	rc.refs.Store(int32(len(msgs)))
	rc.live.Store(int32(len(msgs)))
	rc.cursor.Store(0)
	rc.n = len(msgs)
	rc.ctxs = new([backend.MaxReceiveMessages]handlerCtx)
	expires := start.Add(s.vis)
	jobs := rc.ptrs[:len(msgs)]
	for i, m := range msgs {
		j := &rc.jobs[i]
		j.m.fill(m, s.url, start)
		j.msg, j.self[0], j.rc, j.expiresAt = &j.m, j, rc, expires
		j.hctx0, j.idx = &rc.ctxs[i], uint8(i)
		jobs[i] = j
	}
	return jobs
}

// visChange is a visibility change queued on the nack batcher.
type visChange struct {
	j    *job
	secs int
}

// sub consumes one queue: pollers, a worker pool, a heartbeat and two
// batchers (deletes, visibility changes). Every goroutine it starts is
// waited for by Server.stop.
type sub struct {
	srv *Server
	queueSettings
	q backend.Queue

	slots  *slots
	ready  *readyQueue // received, not started; bounded by slots
	groups *groups     // FIFO queues with a Handler only

	ioCtx      context.Context // for deletes and visibility changes; never cancelled
	beatCtx    context.Context // ioCtx carrying PurposeHeartbeat, for the heartbeat's calls
	pollCtx    context.Context
	pollCancel context.CancelFunc
	stopping   atomic.Bool
	stopWork   chan struct{}
	stopBeat   chan struct{}

	pollWG, workWG, beatWG sync.WaitGroup

	// held counts the received messages not yet finished. It is added to
	// at every message, by every worker: on a cache line of its own, not
	// on the one of the fields above that every worker reads.
	_    cacheLinePad
	held counter
	// shards hold the receipts with jobs not yet ended (the lease
	// records), one shard per poller: they change at every receive, and
	// pollers would take one lock from one another.
	shards []leaseShard
	// halted is set when running handlers are cancelled.
	halted atomic.Pointer[error]
	// drained: the last receive returned fewer messages than it asked for.
	drained atomic.Bool
	// beatDone is closed when the running beat's extensions end; set
	// before any jobExtending bit of that beat.
	beatDone atomic.Pointer[chan struct{}]

	_     cacheLinePad
	acks  *batcher[*job]
	nacks *batcher[visChange]

	// handlerCost is the average time a handler call takes (see
	// runInline); it is written by every worker and poller, on a cache
	// line of its own.
	_           cacheLinePad
	handlerCost cost
	inlineRuns  atomic.Int64 // receives run inline, for tests
	// recvCost is the average time a receive that did not wait for
	// messages takes; while it is quick, the spare pollers wait at spare
	// (see pollers.go).
	recvCost   cost
	spare      *gate
	stuck      atomic.Int32 // pollers stuck in an inline run (see rescue)
	quickFlush bool         // take flushes for quick from the start (tests)
	_          cacheLinePad
	// inline: the queue's messages may run on the poller that received
	// them (standard queues with a Handler). runners are the pollers'
	// inline runs, watched by the watchdog.
	inline    bool
	runners   []runner
	watching  atomic.Bool
	watchKick chan struct{}
	stopWatch chan struct{}
	watchWG   sync.WaitGroup

	receipts sync.Pool // of *receipt
	deletes  sync.Pool // of *[backend.MaxBatchEntries]backend.DeleteEntry
}

func newSub(srv *Server, s queueSettings) *sub {
	sb := &sub{
		srv:           srv,
		queueSettings: s,
		q:             s.Queue,
		slots:         newSlots(s.capacity),
		ready:         newReadyQueue(s.Concurrency),
		stopWork:      make(chan struct{}),
		stopBeat:      make(chan struct{}),
		inline:        !s.fifo && s.Handler != nil && !s.noInline,
		watchKick:     make(chan struct{}, 1),
		stopWatch:     make(chan struct{}),
	}
	sb.handlerCost.init(inlineHandlerCost, 4, 4)
	sb.recvCost.init(quickReceive, 2, 3) // see noteReceive
	sb.spare = newGate()
	sb.shards = make([]leaseShard, s.Pollers)
	if sb.inline {
		sb.runners = make([]runner, s.Pollers)
	}
	return sb
}

// start launches the sub's goroutines.
func (s *sub) start(base context.Context) {
	s.ioCtx = base
	s.beatCtx = withPurpose(base, PurposeHeartbeat)
	s.pollCtx, s.pollCancel = context.WithCancel(base)
	if s.fifo && s.Handler != nil {
		s.groups = newGroups()
	}
	inflight := max(2, s.capacity/s.AckBatchSize)
	// The flushes' contexts carry their Purpose, made once here rather
	// than once per batch.
	s.acks = newBatcher(withPurpose(base, PurposeAck), s.srv.clock, s.AckBatchSize, s.AckMaxDelay, min(inflight, 16), s.flushDeletes)
	s.nacks = newBatcher(withPurpose(base, PurposeRelease), s.srv.clock, backend.MaxBatchEntries, s.AckMaxDelay, min(inflight, 16), s.flushVisibility)
	if s.quickFlush {
		s.acks.cost.assumeQuick()
		s.nacks.cost.assumeQuick()
	}
	for range s.Concurrency {
		s.workWG.Go(s.worker)
	}
	active := activePollers()
	for i := range s.Pollers {
		var rn *runner
		if s.inline {
			rn = &s.runners[i]
		}
		s.pollWG.Go(func() { s.poll(&s.shards[i], rn, i >= active) })
	}
	if s.inline {
		s.watchWG.Go(s.watch)
	}
	if s.heartbeat > 0 {
		s.beatWG.Go(s.heartbeatLoop)
	}
}

func (s *sub) report(op string, msgID string, err error) {
	s.srv.report(&Error{Op: op, QueueURL: s.url, MessageID: msgID, Err: err})
}

// sleep waits d on the server's clock; it reports false if ctx ended first.
func (s *sub) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := s.srv.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	}
}

func newAttemptID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// attemptIDLife is how long a FIFO receive attempt id is reused for
// retries; SQS keeps one for 5 minutes.
const attemptIDLife = 4 * time.Minute

// poll receives messages while there are free slots, and hands them to the
// workers, or runs them itself (runInline) with rn, if rn is not nil. The
// receipts go in shard. A spare poller waits while receives are quick.
func (s *sub) poll(shard *leaseShard, rn *runner, spare bool) {
	ctx := s.pollCtx
	clock := s.srv.clock
	fails := 0
	var attemptID string
	var attemptAt time.Time
	req := backend.ReceiveRequest{
		WaitTimeSeconds:       &s.waitSecs,
		VisibilityTimeout:     &s.visSecs,
		SystemAttributeNames:  systemAttributeNames,
		MessageAttributeNames: messageAttributeNames,
	}
	carry := 0 // slots kept from the last receive's inline run
	for {
		if spare && s.sparesWait() {
			s.slots.release(carry)
			carry = 0
			if !s.waitAsSpare(ctx) {
				return
			}
		}
		var n int
		if carry >= s.MaxMessages {
			// The slots of the messages this poller just ran are
			// still its own: no need to give them back and take them
			// again.
			n, carry = s.MaxMessages, carry-s.MaxMessages
		} else {
			s.slots.release(carry)
			carry = 0
			if n = s.slots.acquire(ctx, s.MaxMessages, s.hungry); n == 0 {
				return
			}
		}
		start := clock.Now()
		if s.fifo {
			// A receive retried after an error reuses its attempt id, so
			// that SQS returns the same messages if the first attempt
			// did take them.
			if attemptID == "" || start.Sub(attemptAt) > attemptIDLife {
				attemptID, attemptAt = newAttemptID(), start
			}
			req.ReceiveRequestAttemptID = attemptID
		}
		req.MaxMessages = n
		// A receive is timed when it cannot have waited for messages:
		// the last one found more than it asked for, and this one got
		// all it asked for.
		backlog, t0 := !s.drained.Load(), monotonic()
		msgs, err := s.q.Receive(ctx, req)
		if err == nil && backlog && len(msgs) == n {
			s.noteReceive(time.Duration(monotonic() - t0))
		}
		if err != nil {
			s.slots.release(n)
			if ctx.Err() != nil {
				return
			}
			fails++
			s.report(OpReceive, "", err)
			if !s.sleep(ctx, s.ReceiveBackoff(fails)) {
				return
			}
			continue
		}
		fails, attemptID = 0, ""
		if short := len(msgs) < n; short != s.drained.Load() {
			s.drained.Store(short)
		}
		s.slots.release(n - len(msgs))
		stopped := false
		for len(msgs) > 0 {
			// A receive returns at most 10 messages; a backend that
			// returned more gets them handled all the same.
			k := min(len(msgs), backend.MaxReceiveMessages)
			ok, kept := s.received(ctx, s.newReceipt(msgs[:k], start), shard, rn)
			stopped = stopped || !ok
			carry += kept
			msgs = msgs[k:]
		}
		if stopped {
			s.slots.release(carry)
			return
		}
	}
}

// received tracks and dispatches the jobs of a receive, or runs them with
// rn (see runInline); their receipt goes in shard. It reports false if the
// pollers are stopping: the jobs were then given back. kept is how many
// slots of finished messages the inline run kept for the caller, which
// must use them or release them.
func (s *sub) received(ctx context.Context, jobs []*job, shard *leaseShard, rn *runner) (ok bool, kept int) {
	if rc := jobs[0].rc; rc != nil {
		rc.shard = shard
		shard.mu.Lock()
		shard.list.push(rc)
		shard.mu.Unlock()
	}
	s.held.Add(int64(len(jobs)))
	s.srv.stats.received.Add(int64(len(jobs)))
	if ctx.Err() != nil {
		// Shutting down: nothing received now will start.
		s.giveBack(jobs)
		return false, 0
	}
	if rn != nil && s.handlerCost.quick() && jobs[0].rc != nil && s.ready.borrow() {
		kept = s.runInline(rn, jobs[0].rc)
		s.ready.unborrow()
		return true, kept
	}
	s.dispatch(jobs)
	return true, 0
}

// hungry reports whether the workers are about to run out of work: nothing
// received waits for them. Pollers then receive as soon as one slot is free;
// otherwise they wait until a whole receive's worth is, which keeps receives
// full without leaving a worker idle.
func (s *sub) hungry() bool { return s.ready.len() == 0 }

// dispatch hands received jobs to the workers.
func (s *sub) dispatch(jobs []*job) {
	switch {
	case s.BatchHandler != nil:
		s.ready.put(jobs)
	case s.groups != nil:
		start, ok := s.groups.submit(jobs)
		if !ok {
			s.giveBack(jobs)
			return
		}
		s.ready.putJobs(start)
	default:
		s.ready.putJobs(jobs)
	}
}

func (s *sub) worker() {
	for {
		w, left, ok := s.ready.take(s.stopWork)
		if !ok {
			return
		}
		if left == 0 {
			// The workers are about to run dry: let a poller that
			// waits for a full receive's worth of slots take what is
			// free now.
			s.slots.nudge()
		}
		if s.stopping.Load() {
			s.giveBack(w)
			continue
		}
		switch {
		case s.BatchHandler != nil:
			s.runBatch(w)
		case s.inline:
			t0 := monotonic()
			s.runOne(w[0])
			s.handlerCost.note(time.Duration(monotonic()-t0), 1)
		default:
			s.runOne(w[0])
		}
	}
}

// handlerContext returns the context of j's handler call (of the batch j
// begins, with a BatchHandler). Its parent cannot be cancelled, so that
// making one costs no registration with a parent: it is cancelled through
// its job instead, by loseLocked when the lease is lost and by
// cancelHandlers at shutdown.
func (s *sub) handlerContext(j *job) *handlerCtx {
	hc := j.hctx0
	if hc == nil { // a job made outside newReceipt (tests)
		hc = new(handlerCtx)
	}
	hc.parent = s.ioCtx
	return hc
}

// begin marks j as running with hc as its handler's context. It reports
// false if j's lease is already lost. If running handlers were cancelled
// already, hc is cancelled at once.
func (s *sub) begin(j *job, hc *handlerCtx) bool {
	j.hctx = hc
	if _, ok := j.setBits(jobRunning, jobLost|jobEnded); !ok {
		return false
	}
	// cancelHandlers sets halted before it looks for running jobs, and
	// j is running before this looks at halted: one of the two sees the
	// other.
	if h := s.halted.Load(); h != nil {
		hc.cancel(*h)
	}
	return true
}

// cancelHandlers cancels, with cause, the context of every handler running
// now or started from now on.
func (s *sub) cancelHandlers(cause error) {
	s.halted.Store(&cause)
	for k := range s.shards {
		sh := &s.shards[k]
		sh.mu.Lock()
		for rc := sh.list.head; rc != nil; rc = rc.next {
			for i := range rc.n {
				j := &rc.jobs[i]
				if j.state.Load()&(jobRunning|jobEnded) == jobRunning {
					j.hctx.cancel(cause)
				}
			}
		}
		sh.mu.Unlock()
	}
}

// end stops tracking j and returns why its lease was lost, if it was. If
// the heartbeat is extending j at this moment, wait is closed when that
// extension has ended: a visibility change for j must wait for it, or the
// extension could land after the change and undo it.
func (s *sub) end(j *job) (lost error, wait <-chan struct{}) {
	old, ok := j.setBits(jobEnded, jobEnded)
	if old&jobLost != 0 {
		lost = j.lost
	}
	if old&jobExtending != 0 {
		// The beat stores beatDone before it sets the bit, and clears
		// it only once the extension has ended.
		if c := s.beatDone.Load(); c != nil {
			wait = *c
		}
	}
	if ok && j.rc != nil && j.rc.live.Add(-1) == 0 {
		// The receipt's last job: its lease record goes. Until then the
		// receipt cannot be recycled (this job's reference is held), so
		// the heartbeat may read its jobs under its shard's lock.
		sh := j.rc.shard
		sh.mu.Lock()
		sh.list.remove(j.rc)
		sh.mu.Unlock()
	}
	return lost, wait
}

// changeVisibility queues a visibility change for j, after any extension of
// j that is under way. The change takes over the caller's reference to j
// (dropped when it is flushed): the caller must not use j afterwards.
func (s *sub) changeVisibility(j *job, secs int, wait <-chan struct{}) {
	if wait != nil {
		<-wait
	}
	s.nacks.add(visChange{j, secs})
}

// ack queues j's delete, which takes over the caller's reference to j
// (dropped when it is flushed): the caller must not use j afterwards.
func (s *sub) ack(j *job) {
	s.acks.add(j)
}

// succeeded counts j as succeeded and queues its delete, or gathers it in
// its receipt's acked, in an inline run (one add and one count per run,
// not per message). Either takes over the caller's reference to j.
func (s *sub) succeeded(j *job) {
	if j.gather {
		j.rc.acked.Or(1 << j.idx)
		return
	}
	s.srv.stats.succeeded.Add(1)
	s.acks.add(j)
}

// queueAcked queues the deletes gathered in rc.acked, and counts them. With
// now set, when every job of rc succeeded, they are deleted at once on the
// calling goroutine while deletes are quick (see batcher.flushFull): the
// caller must hold a reference to rc (the batch is rc's own array, which
// the flush's drops must not recycle under it) and no lock others wait on.
func (s *sub) queueAcked(rc *receipt, now bool) {
	mask := rc.acked.Swap(0)
	if mask == 0 {
		return
	}
	if mask == 1<<rc.n-1 {
		s.srv.stats.succeeded.Add(int64(rc.n))
		if now && s.acks.flushFull(rc.ptrs[:rc.n]) {
			return
		}
		s.acks.add(rc.ptrs[:rc.n]...)
		return
	}
	var buf [backend.MaxReceiveMessages]*job
	jobs := buf[:0]
	for i := range rc.n {
		if mask&(1<<i) != 0 {
			jobs = append(jobs, rc.ptrs[i])
		}
	}
	s.srv.stats.succeeded.Add(int64(len(jobs)))
	s.acks.add(jobs...)
}

func (s *sub) runOne(j *job) {
	if s.groups != nil {
		j.hold() // for groups.done, after handle gave its reference away
	}
	ok := s.handle(j)
	s.finished(1)
	if s.groups != nil {
		next, rel := s.groups.done(j, ok)
		s.giveBack(rel)
		if next != nil {
			if s.stopping.Load() {
				s.giveBack(next.self[:])
			} else {
				s.ready.put(next.self[:])
			}
		}
		s.drop(j)
	}
}

// handle runs j's handler and settles its outcome; it reports whether the
// message is done with (see settle). It takes over the caller's reference
// to j. The caller frees j's slot.
func (s *sub) handle(j *job) bool {
	hc := s.handlerContext(j)
	var err error
	started := s.begin(j, hc)
	if started {
		err = callHandler(hc, s.Handler, j.msg)
	}
	lost, wait := s.end(j)
	cause := hc.finish()
	if !started {
		s.drop(j)
		return false
	}
	return s.settle(j, err, lost, cause, wait)
}

func (s *sub) runBatch(jobs []*job) {
	hc := s.handlerContext(jobs[0])
	live := make([]*job, 0, len(jobs))
	for _, j := range jobs {
		if s.begin(j, hc) {
			live = append(live, j)
		}
	}
	var results []error
	if len(live) > 0 {
		msgs := make([]*Message, len(live))
		for i, j := range live {
			msgs[i] = j.msg
		}
		results = callBatchHandler(hc, s.BatchHandler, msgs)
	}
	cause := hc.Cause()
	var failedGroups map[string]bool
	if s.fifo {
		failedGroups = make(map[string]bool)
	}
	li := 0
	// Each job's reference is given to its delete or visibility change,
	// or dropped.
	for _, j := range jobs {
		lost, wait := s.end(j)
		group := j.msg.GroupID
		if li >= len(live) || live[li] != j {
			// Lost before it started: it will come back by itself.
			if failedGroups != nil {
				failedGroups[group] = true
			}
			s.drop(j)
			continue
		}
		var err error
		if results != nil {
			err = results[li]
		}
		li++
		if failedGroups != nil && failedGroups[group] {
			if lost == nil {
				s.srv.stats.released.Add(1)
				s.changeVisibility(j, 0, wait)
			} else {
				s.drop(j)
			}
			continue
		}
		if !s.settle(j, err, lost, cause, wait) && failedGroups != nil {
			failedGroups[group] = true
		}
	}
	hc.end()
	s.finished(len(jobs))
}

func callHandler(ctx context.Context, h Handler, msg *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return h.HandleMessage(ctx, msg)
}

func callBatchHandler(ctx context.Context, h BatchHandler, msgs []*Message) (results []error) {
	defer func() {
		if r := recover(); r != nil {
			err := &PanicError{Value: r, Stack: debug.Stack()}
			results = make([]error, len(msgs))
			for i := range results {
				results[i] = err
			}
		}
	}()
	results = h.HandleBatch(ctx, msgs)
	if results != nil && len(results) != len(msgs) {
		err := fmt.Errorf("consumer: batch handler returned %d results for %d messages", len(results), len(msgs))
		results = make([]error, len(msgs))
		for i := range results {
			results[i] = err
		}
	}
	return results
}

// settle acts on a handler's outcome and reports whether the message is
// done with (deleted or about to be), which lets a FIFO group go on. It
// takes over the caller's reference to j: the caller must not use j
// afterwards.
func (s *sub) settle(j *job, err, lost, cause error, wait <-chan struct{}) bool {
	st := &s.srv.stats
	switch {
	case lost != nil:
		// The message may be someone else's by now: leave it alone.
		if err == nil {
			st.succeeded.Add(1)
		} else {
			st.failed.Add(1)
		}
		s.drop(j)
		return false
	case err == nil:
		s.succeeded(j)
		return true
	case IsPermanent(err):
		st.failed.Add(1)
		st.permanent.Add(1)
		if s.OnPermanent != nil {
			if herr := s.OnPermanent(s.ioCtx, j.msg, err); herr != nil {
				s.report(OpPermanent, j.msg.MessageID, fmt.Errorf("OnPermanent: %w (handler: %w)", herr, err))
				s.changeVisibility(j, s.backoffSecs(j), wait)
				return false
			}
		} else {
			s.report(OpPermanent, j.msg.MessageID, err)
		}
		s.ack(j)
		return true
	case errors.Is(cause, ErrServerShutdown):
		st.released.Add(1)
		s.changeVisibility(j, 0, wait)
		return false
	default:
		st.failed.Add(1)
		s.report(OpHandle, j.msg.MessageID, err)
		s.changeVisibility(j, s.backoffSecs(j), wait)
		return false
	}
}

// backoffSecs is how long a failed message stays invisible: the backoff for
// its receive count, rounded up to seconds, never past 12 hours from its
// receive.
func (s *sub) backoffSecs(j *job) int {
	d := s.Backoff(max(1, j.msg.ReceiveCount))
	secs := int((d + time.Second - 1) / time.Second)
	// The change waits up to AckMaxDelay in its batch, and reaches the
	// queue a little later still: keep a second in hand.
	left := int((j.msg.ReceivedAt.Add(maxLease).Sub(s.srv.clock.Now()) - s.AckMaxDelay - leaseMargin) / time.Second)
	return max(0, min(secs, left, backend.MaxVisibilityTimeout))
}

// leaseMargin is kept between a visibility change and SQS's 12-hour limit,
// for the time the request takes to reach the queue.
const leaseMargin = time.Second

// finished frees the slots of n received messages that are done with.
func (s *sub) finished(n int) {
	s.letGo(n)
	s.slots.release(n)
}

// letGo counts n received messages as finished. When none is left and the
// last receive came back short (the queue looked drained), the deletes
// waiting for a fuller batch go now: no message is in hand or coming to
// fill it, and waiting AckMaxDelay would make them late for no gain (a
// burst's last part batch, a lone message). A consumer that is merely
// between messages, its receives still full, keeps batching.
func (s *sub) letGo(n int) {
	if s.held.Add(-int64(n)) == 0 && s.drained.Load() {
		s.acks.flushNow()
	}
}

// giveBack releases messages that will not run and frees their slots.
func (s *sub) giveBack(jobs []*job) {
	if len(jobs) > 0 {
		s.release(jobs)
		s.finished(len(jobs))
	}
}

// release gives messages that will not run back to the queue at once.
func (s *sub) release(jobs []*job) {
	for _, j := range jobs {
		lost, wait := s.end(j)
		if lost == nil {
			s.srv.stats.released.Add(1)
			s.changeVisibility(j, 0, wait) // takes j's reference
		} else {
			s.drop(j)
		}
	}
}

// flushRetries is how often a failed delete or visibility change is tried,
// and flushBackoff the waits between tries.
const flushRetries = 4

var flushBackoff = ExponentialBackoff(100*time.Millisecond, 2*time.Second)

// flushDeletes deletes a batch; ctx carries PurposeAck. Inline, it tries
// once and returns the jobs to try again (see batcher).
func (s *sub) flushDeletes(ctx context.Context, batch []*job, inline bool) (again []*job) {
	buf, _ := s.deletes.Get().(*[backend.MaxBatchEntries]backend.DeleteEntry)
	if buf == nil {
		buf = new([backend.MaxBatchEntries]backend.DeleteEntry)
	}
	entries := buf[:len(batch)]
	for i, j := range batch {
		entries[i] = backend.DeleteEntry{ID: entryIDs[i], ReceiptHandle: j.msg.ReceiptHandle}
	}
	retry := s.retryBatch(ctx, OpDelete, len(entries), inline, func(idx []int) ([]backend.EntryResult, error) {
		sub := entries
		if len(idx) != len(entries) {
			sub = make([]backend.DeleteEntry, len(idx))
			for k, i := range idx {
				sub[k] = entries[i]
			}
		}
		return s.q.Delete(ctx, sub)
	}, func(i int) string { return batch[i].msg.MessageID }, &s.srv.stats.deleted.Int64)
	clear(entries)
	s.deletes.Put(buf)
	return settleFlush(batch, retry, s.drop)
}

// flushVisibility changes the visibility of a batch; ctx carries
// PurposeRelease. Inline, it tries once and returns the changes to try
// again (see batcher).
func (s *sub) flushVisibility(ctx context.Context, batch []visChange, inline bool) (again []visChange) {
	entries := make([]backend.VisibilityEntry, len(batch))
	for i, c := range batch {
		entries[i] = backend.VisibilityEntry{ID: entryIDs[i], ReceiptHandle: c.j.msg.ReceiptHandle, VisibilityTimeout: c.secs}
	}
	retry := s.retryBatch(ctx, OpVisibility, len(entries), inline, func(idx []int) ([]backend.EntryResult, error) {
		sub := entries
		if len(idx) != len(entries) {
			sub = make([]backend.VisibilityEntry, len(idx))
			for k, i := range idx {
				sub[k] = entries[i]
			}
		}
		return s.q.ChangeVisibility(ctx, sub)
	}, func(i int) string { return batch[i].j.msg.MessageID }, nil)
	return settleFlush(batch, retry, func(c visChange) { s.drop(c.j) })
}

// settleFlush ends a flush of batch: the items at the positions in retry
// (ascending) are returned, to be tried again, and the others dropped.
func settleFlush[T any](batch []T, retry []int, drop func(T)) (again []T) {
	if len(retry) > 0 {
		again = make([]T, 0, len(retry))
	}
	k := 0
	for i, item := range batch {
		if k < len(retry) && retry[k] == i {
			again = append(again, item)
			k++
			continue
		}
		drop(item)
	}
	return again
}

// retryBatch runs a batch call, retrying the whole request or its failed
// entries while the failures are retryable, and reports what still fails.
// With once (an inline flush, which must not wait) it makes one call and
// returns, instead of reporting, the positions (ascending) of the entries
// that failed and may be tried again.
func (s *sub) retryBatch(ctx context.Context, op string, n int, once bool, call func(idx []int) ([]backend.EntryResult, error),
	msgID func(i int) string, okCount *atomic.Int64) (retry []int) {
	idx := allEntries[:n] // never written to: a retry takes a new list
	for attempt := 1; ; attempt++ {
		res, err := call(idx)
		last := attempt >= flushRetries || once
		if err != nil {
			if once && retryable(err) && ctx.Err() == nil {
				return append([]int(nil), idx...)
			}
			if last || !retryable(err) || ctx.Err() != nil {
				for _, i := range idx {
					s.report(op, msgID(i), err)
				}
				return nil
			}
		} else {
			var again []int
			ok := 0
			for k, r := range res {
				i := idx[k]
				switch {
				case r.Err == nil:
					ok++
				case (!last || once) && retryable(r.Err):
					again = append(again, i)
				default:
					s.report(op, msgID(i), r.Err)
				}
			}
			if okCount != nil {
				okCount.Add(int64(ok))
			}
			if len(again) == 0 || once {
				return again
			}
			idx = again
		}
		if !s.sleep(ctx, flushBackoff(attempt)) {
			return nil
		}
	}
}

// heartbeatLoop extends the visibility of received, unfinished messages.
func (s *sub) heartbeatLoop() {
	t := s.srv.clock.NewTicker(s.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-s.stopBeat:
			return
		case <-t.Chan():
			s.beat()
		}
	}
}

// beat extends, in batches of 10, the leases that have run down by half a
// heartbeat interval or more, and cancels the handlers whose lease ran out.
func (s *sub) beat() {
	now := s.srv.clock.Now()
	var due []visChange
	var lost []*job
	var expired []*Error // built under the lock: an expired job is not held
	var beatDone chan struct{}
	for k := range s.shards {
		sh := &s.shards[k]
		sh.mu.Lock()
		due, expired, beatDone = s.scanLeases(sh, now, due, expired, beatDone)
		sh.mu.Unlock()
	}
	for _, e := range expired {
		s.srv.report(e)
	}
	if beatDone != nil {
		all := due
		defer func() {
			for _, c := range all {
				c.j.state.And(^uint32(jobExtending))
			}
			s.beatDone.Store(nil)
			close(beatDone)
			for _, c := range all {
				s.drop(c.j)
			}
		}()
	}
	for len(due) > 0 {
		n := min(len(due), backend.MaxBatchEntries)
		batch := due[:n]
		due = due[n:]
		entries := make([]backend.VisibilityEntry, n)
		for i, c := range batch {
			entries[i] = backend.VisibilityEntry{ID: entryIDs[i], ReceiptHandle: c.j.msg.ReceiptHandle, VisibilityTimeout: c.secs}
		}
		res, err := s.q.ChangeVisibility(s.beatCtx, entries)
		if err != nil {
			// Tried again at the next beat.
			s.report(OpHeartbeat, "", err)
			continue
		}
		var failed []*Error
		lost = lost[:0]
		// The jobs of batch are held: no lock is needed to look at them.
		for i, r := range res {
			j := batch[i].j
			if j.state.Load()&jobEnded != 0 {
				continue // finished meanwhile
			}
			switch {
			case r.Err == nil:
				j.expiresAt = now.Add(time.Duration(batch[i].secs) * time.Second)
				s.srv.stats.extended.Add(1)
			case leaseLost(r.Err):
				if s.lose(j, fmt.Errorf("%w: extending visibility of message %s: %w", ErrLeaseLost, j.msg.MessageID, r.Err)) {
					lost = append(lost, j)
				}
			default:
				failed = append(failed, &Error{Op: OpHeartbeat, QueueURL: s.url, MessageID: j.msg.MessageID, Err: r.Err})
			}
		}
		s.reportLost(lost)
		for _, e := range failed {
			s.srv.report(e)
		}
	}
}

// scanLeases looks at the leases of shard (whose lock the caller holds):
// it adds the extensions due to due, and the lease losses of jobs whose
// visibility ran out to expired.
func (s *sub) scanLeases(sh *leaseShard, now time.Time, due []visChange, expired []*Error, beatDone chan struct{}) ([]visChange, []*Error, chan struct{}) {
	for rc := sh.list.head; rc != nil; rc = rc.next {
		for i := range rc.n {
			j := &rc.jobs[i]
			if j.state.Load()&(jobEnded|jobLost) != 0 {
				continue
			}
			remaining := j.expiresAt.Sub(now)
			if remaining <= 0 {
				if s.lose(j, fmt.Errorf("%w: visibility timeout of message %s ran out", ErrLeaseLost, j.msg.MessageID)) {
					expired = append(expired, &Error{Op: OpHeartbeat, QueueURL: s.url, MessageID: j.msg.MessageID, Err: j.lost})
				}
				continue
			}
			if remaining > s.vis-s.heartbeat/2 {
				continue
			}
			limit := j.msg.ReceivedAt.Add(s.MaxExtension)
			if s.MaxExtension >= maxLease {
				limit = limit.Add(-leaseMargin)
			}
			secs := min(s.visSecs, int(limit.Sub(now)/time.Second))
			if time.Duration(secs)*time.Second <= remaining {
				continue // at the extension limit: let it run out
			}
			if beatDone == nil {
				beatDone = make(chan struct{})
				s.beatDone.Store(&beatDone)
			}
			if _, ok := j.setBits(jobExtending, jobEnded|jobLost); !ok {
				continue
			}
			// The receipt is in leases, so some job of it, maybe j,
			// has not ended and holds a reference: this one is safe.
			j.hold() // until the extension has ended
			due = append(due, visChange{j, secs})
		}
	}
	return due, expired, beatDone
}

func (s *sub) reportLost(jobs []*job) {
	for _, j := range jobs {
		s.report(OpHeartbeat, j.msg.MessageID, j.lost)
	}
}

// lose records that j's lease is lost and cancels its handler if it runs;
// it reports false if j had ended (or was lost) already. Only the
// heartbeat calls it, on jobs that cannot be recycled meanwhile (under
// leaseMu, or held).
func (s *sub) lose(j *job, cause error) bool {
	if j.state.Load()&(jobEnded|jobLost) != 0 {
		return false
	}
	j.lost = cause // before the bit: whoever sees the bit reads it
	old, ok := j.setBits(jobLost, jobEnded|jobLost)
	if !ok {
		return false
	}
	s.srv.stats.leasesLost.Add(1)
	if old&jobRunning != 0 {
		j.hctx.cancel(cause)
	}
	return true
}

// stopReceiving makes the pollers stop; nothing starts from now on.
func (s *sub) stopReceiving() {
	s.stopping.Store(true)
	s.pollCancel()
}

// drain releases every received message that has not started. The pollers
// have stopped.
func (s *sub) drain() {
	if s.groups != nil {
		s.giveBack(s.groups.drain())
	}
	for {
		w, ok := s.ready.tryTake()
		if !ok {
			return
		}
		s.giveBack(w)
	}
}

// leaseShard is a part of the lease records: the receipts one poller
// received that have jobs not yet ended.
type leaseShard struct {
	mu   sync.Mutex
	list receiptList
	_    cacheLinePad
}

// receiptList is an intrusive doubly linked list of receipts.
type receiptList struct{ head, tail *receipt }

func (l *receiptList) push(rc *receipt) {
	rc.prev, rc.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = rc
	} else {
		l.head = rc
	}
	l.tail = rc
}

func (l *receiptList) remove(rc *receipt) {
	if rc.prev != nil {
		rc.prev.next = rc.next
	} else {
		l.head = rc.next
	}
	if rc.next != nil {
		rc.next.prev = rc.prev
	} else {
		l.tail = rc.prev
	}
	rc.prev, rc.next = nil, nil
}
