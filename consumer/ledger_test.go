package consumer_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

// The ledger of a lifecycle scenario records, as they happen, every
// delivery (a message as one receive took it, with its receipt handle),
// every handler call and its outcome, and every operation the consumer
// sent on a receipt handle. The invariants that concern a moment are
// checked as they happen; the others by check, from the ledger and the
// state the scenario ended in. They are, from the package documentation:
//
//   - never more handler calls (batches) at once than Concurrency;
//   - a delete only for a handle received with a delivery whose handler
//     returned nil, or a Permanent error with OnPermanent nil or returning
//     nil (with a FIFO BatchHandler: and no earlier message of its group in
//     the batch failed); no operation on a handle after its handler saw its
//     lease lost; no release (visibility 0) of a message whose handler runs;
//   - FIFO: the calls of one group never overlap, and a group's message
//     starts only once each earlier one succeeded (or comes earlier in the
//     same batch); a delivery the test stole, or whose lease ran out without
//     the consumer giving it back, excuses an overlap;
//   - a handler is cancelled with ErrLeaseLost only when the queue no longer
//     holds its lease (within leaseSlack);
//   - after Run returned, every message the consumer was handed and did not
//     delete is visible, unless its handler failed (backoff), its lease was
//     lost, or the last operation on it failed by injection; and no receive
//     cancelled within its grace took messages (a receive already sent is
//     given a second, at most until the handlers' deadline, to answer: over
//     HTTP, a cancelled receive may still take messages, which no one then
//     sees);
//   - Run and Shutdown return what the way the server was stopped allows:
//     ErrServerClosed from Run after Shutdown; nil only if no handler was
//     cancelled; ErrShutdownTimeout only once the handlers' deadline (the
//     deadline less a fifth, at most 2 s) passed and, as Shutdown's
//     documentation has it, when a handler ran then;
//   - the shutdown ends within its deadline, plus the time a call that
//     ignores its cancellation may take, plus shutdownMargin;
//   - no goroutine of the consumer is left once Run returned.

// violation is one broken invariant.
type violation struct {
	kind string // see the kind* constants
	msg  string
}

func (v violation) String() string { return v.kind + ": " + v.msg }

// Kinds of violations.
const (
	kindConcurrency = "concurrency"     // more handler calls at once than Concurrency
	kindUnknown     = "unknown"         // a handler call or operation on a handle no receive handed over
	kindTwice       = "twice"           // one delivery handled twice
	kindAck         = "ack"             // a delete of a handle whose handler did not succeed
	kindLeaseLost   = "lease-lost"      // an operation on a handle after its handler saw its lease lost
	kindRelRunning  = "release-running" // a visibility change to 0 while the handler runs
	kindFIFOOrder   = "fifo-order"      // a group's message started before an earlier one succeeded
	kindFIFOOverlap = "fifo-overlap"    // two handler calls of one group at once
	kindStrand      = "strand"          // a received message left invisible after the shutdown
	kindLostRecv    = "lost-receive"    // a receive cancelled before the shutdown deadline took messages
	kindResult      = "result"          // Run or Shutdown returned what the way it was stopped rules out
	kindDuration    = "duration"        // the shutdown took longer than its deadline allows
	kindGoroutine   = "goroutine"       // a goroutine of the consumer outlived Run
	kindSpurious    = "lease-spurious"  // a handler cancelled with ErrLeaseLost while the queue still held its lease
)

type opKind int

const (
	opDelete opKind = iota
	opVisibility
)

// msgRec is a message the scenario sent.
type msgRec struct {
	id         string
	idx        int // send order
	group      string
	seq        int // position in its group's send order
	deliveries []*delivery
}

func (m *msgRec) String() string { return "#" + strconv.Itoa(m.idx) }

// delivery is a message as one receive took it.
type delivery struct {
	m      *msgRec
	handle string
	rc     int // ApproximateReceiveCount
	at     time.Time
	seen   bool // the answer reached the consumer
	seenAt time.Time
	lost   bool      // the answer never reached the consumer
	lostAt time.Time // when its receive's context ended; zero: the answer was lost on the way
	stolen int       // event at which the test made it visible behind the consumer's back; 0: never

	call     *hcall
	pos      int // in call.ds
	returned bool
	retEv    int
	err      error
	cause    error // context.Cause of the handler's context at its return

	onPermCalled bool
	onPermErr    error
	onPermEv     int

	ops []opResult
}

func (d *delivery) String() string {
	return fmt.Sprintf("%v (receive %d)", d.m, d.rc)
}

// history tells the story of d's message, for messages.
func (l *ledger) history(m *msgRec) string {
	var b strings.Builder
	for _, d := range m.deliveries {
		fmt.Fprintf(&b, "\n      receive %d at %s: ", d.rc, l.since(d.at))
		switch {
		case d.seen:
			fmt.Fprintf(&b, "handed over at %s", l.since(d.seenAt))
		case d.lostAt.IsZero():
			b.WriteString("answer lost")
		default:
			fmt.Fprintf(&b, "answer dropped, the receive cancelled at %s", l.since(d.lostAt))
		}
		if d.stolen != 0 {
			b.WriteString(", stolen")
		}
		fmt.Fprintf(&b, "; %s; operations %v", d.outcome(), d.ops)
	}
	return b.String()
}

// outcome describes how d's handling ended, for messages.
func (d *delivery) outcome() string {
	switch {
	case !d.seen && d.lost:
		return "answer lost"
	case d.call == nil:
		return "never handled"
	case !d.returned:
		return "handler running"
	}
	s := "handler returned " + fmt.Sprint(d.err)
	if d.cause != nil {
		s += " (cause " + d.cause.Error() + ")"
	}
	if d.onPermCalled {
		s += fmt.Sprintf(", OnPermanent returned %v", d.onPermErr)
	}
	return s
}

// hcall is a handler call (one message, or a batch).
type hcall struct {
	start, end     int // events
	startAt, endAt time.Time
	ds             []*delivery
}

// opResult is what became of one entry of an operation on d's handle.
type opResult struct {
	kind     opKind
	secs     int
	ev       int
	at       time.Duration // since the ledger began
	injected bool          // the fault injection failed it
	err      *backend.Error
	pending  bool
}

func (o opResult) String() string {
	s := "delete"
	if o.kind == opVisibility {
		s = "visibility " + strconv.Itoa(o.secs)
	}
	switch {
	case o.pending:
		s += " (no answer)"
	case o.injected:
		s += " (injected failure)"
	case o.err != nil:
		s += " (" + o.err.Code + ")"
	default:
		s += " (ok)"
	}
	return s + " at " + o.at.String()
}

// opRec is one Delete or ChangeVisibility call.
type opRec struct {
	ds  []*delivery // nil for an unknown handle
	idx []int       // each entry's index in its delivery's ops
}

type ledger struct {
	fifo, batch  bool
	concurrency  int
	hasOnPerm    bool // QueueConfig.OnPermanent is set
	t0           time.Time
	mu           sync.Mutex
	ev           int
	msgs         map[string]*msgRec // by message id
	groups       map[string][]*msgRec
	byHandle     map[string]*delivery
	calls        []*hcall
	running      int
	maxRunning   int
	violations   []violation
	stopAt       time.Time // when the shutdown began; zero before
	deadline     time.Time // the shutdown's deadline
	handlersBy   time.Time // when running handlers are cancelled: the deadline less a fifth, at most 2 s
	graceEnd     time.Time // until when the receives already sent may answer: a second, at most handlersBy
	lostAnswers  int
	excused      map[string]int
	deliveredCnt int
	// peek returns the message with id as the engine has it now.
	peek func(id string) (native.PeekedMessage, bool)
}

// leaseSlack is how much earlier than the queue a consumer may count a
// lease as run out: the time a request takes to reach the queue.
const leaseSlack = time.Second

func newLedger(fifo, batch bool, concurrency int, onPermanent bool) *ledger {
	return &ledger{
		fifo: fifo, batch: batch, concurrency: concurrency, hasOnPerm: onPermanent,
		t0:   time.Now(),
		msgs: map[string]*msgRec{}, groups: map[string][]*msgRec{}, byHandle: map[string]*delivery{},
		excused: map[string]int{},
	}
}

func (l *ledger) violate(kind, format string, args ...any) {
	l.violations = append(l.violations, violation{kind, fmt.Sprintf(format, args...)})
}

func (l *ledger) since(t time.Time) string { return t.Sub(l.t0).String() }

// sent records a message the scenario sent.
func (l *ledger) sent(id string, idx int, group string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msgs[id]
	if m == nil { // or a receive took it before Send returned
		m = &msgRec{id: id}
		l.msgs[id] = m
	}
	m.idx, m.group, m.seq = idx, group, len(l.groups[group])
	l.groups[group] = append(l.groups[group], m)
}

// taken records what a receive took from the engine, before anyone sees it.
func (l *ledger) taken(msgs []*backend.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, bm := range msgs {
		if l.byHandle[bm.ReceiptHandle] != nil {
			continue // a FIFO receive retried with its attempt id
		}
		m := l.msgs[bm.MessageID]
		if m == nil {
			m = &msgRec{id: bm.MessageID, idx: -1}
			l.msgs[bm.MessageID] = m
		}
		rc, _ := strconv.Atoi(bm.Attributes["ApproximateReceiveCount"])
		d := &delivery{m: m, handle: bm.ReceiptHandle, rc: rc, at: time.Now()}
		m.deliveries = append(m.deliveries, d)
		l.byHandle[bm.ReceiptHandle] = d
	}
}

// seen records that a receive's messages reached the consumer.
func (l *ledger) seen(msgs []*backend.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, bm := range msgs {
		if d := l.byHandle[bm.ReceiptHandle]; d != nil {
			d.seen, d.lost, d.seenAt = true, false, time.Now()
			l.deliveredCnt++
		}
	}
}

// lost records that a receive's answer never reached the consumer; at is
// when its context ended (zero: it did not; the answer was lost).
func (l *ledger) lost(msgs []*backend.Message, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, bm := range msgs {
		if d := l.byHandle[bm.ReceiptHandle]; d != nil && !d.seen {
			d.lost, d.lostAt = true, at
			l.lostAnswers++
		}
	}
}

// beginStop records that the shutdown begins, with its deadline.
func (l *ledger) beginStop(deadline time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopAt, l.deadline = time.Now(), deadline
	l.handlersBy = deadline.Add(-min(deadline.Sub(l.stopAt)/5, 2*time.Second))
	l.graceEnd = l.stopAt.Add(time.Second)
	if l.handlersBy.Before(l.graceEnd) {
		l.graceEnd = l.handlersBy
	}
}

func (l *ledger) stopping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.stopAt.IsZero()
}

// begin records the start of a handler call on msgs; it returns the call
// and how many times each message was handled before.
func (l *ledger) begin(msgs []*consumer.Message) (*hcall, []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev++
	c := &hcall{start: l.ev, startAt: time.Now()}
	l.running++
	l.maxRunning = max(l.maxRunning, l.running)
	if l.running > l.concurrency {
		l.violate(kindConcurrency, "%d handler calls at once, Concurrency %d (at %s)", l.running, l.concurrency, l.since(c.startAt))
	}
	attempts := make([]int, len(msgs))
	for i, msg := range msgs {
		d := l.byHandle[msg.ReceiptHandle]
		if d == nil || !d.seen {
			l.violate(kindUnknown, "handler called with message %s (body %s), whose handle no receive handed over", msg.MessageID, msg.Body)
			d = &delivery{m: &msgRec{id: msg.MessageID, idx: -1}, handle: msg.ReceiptHandle}
		}
		if d.call != nil {
			l.violate(kindTwice, "delivery %v handled twice", d)
		}
		for _, e := range d.m.deliveries {
			if e.call != nil {
				attempts[i]++
			}
		}
		d.call, d.pos = c, i
		c.ds = append(c.ds, d)
	}
	l.calls = append(l.calls, c)
	return c, attempts
}

// end records the end of call c: each message's result, and the context's
// cause.
func (l *ledger) end(c *hcall, errs []error, cause error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev++
	c.end, c.endAt = l.ev, time.Now()
	l.running--
	for i, d := range c.ds {
		d.returned, d.retEv, d.cause = true, l.ev, cause
		if errs != nil {
			d.err = errs[i]
		}
	}
	if errors.Is(cause, consumer.ErrLeaseLost) && l.peek != nil {
		// One of the messages (the only one, with a Handler) lost its
		// lease: the queue must not hold every one of them for a while yet.
		var held []string
		for _, d := range c.ds {
			pm, ok := l.peek(d.m.id)
			if d.stolen != 0 || !ok || pm.State != native.PeekInflight || pm.ReceiveCount != d.rc || pm.VisibleAt.Sub(c.endAt) <= leaseSlack {
				return
			}
			held = append(held, fmt.Sprintf("%v until %s", d, l.since(pm.VisibleAt)))
		}
		l.violate(kindSpurious, "handler cancelled at %s (%v), though the queue holds the lease: %v", l.since(c.endAt), cause, held)
	}
}

// onPermanent records OnPermanent's answer for msg.
func (l *ledger) onPermanent(msg *consumer.Message, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev++
	if d := l.byHandle[msg.ReceiptHandle]; d != nil {
		d.onPermCalled, d.onPermErr, d.onPermEv = true, err, l.ev
	}
}

// ackEv is the event at which d's outcome made it due for deletion (its
// handler's return, or OnPermanent's), or 0 if it is not.
func (l *ledger) ackEv(d *delivery) int {
	if d.call == nil || !d.returned {
		return 0
	}
	if !l.batch && errors.Is(d.cause, consumer.ErrLeaseLost) {
		return 0 // "neither deleted nor changed afterwards"
	}
	ev := d.retEv
	switch {
	case d.err == nil:
	case consumer.IsPermanent(d.err):
		if l.hasOnPerm {
			if !d.onPermCalled || d.onPermErr != nil {
				return 0
			}
			ev = d.onPermEv
		}
	default:
		return 0
	}
	if l.fifo && l.batch {
		// Once a message of a group fails, the later ones of the batch
		// are given back whatever their result.
		for _, e := range d.call.ds[:d.pos] {
			if e.m.group == d.m.group {
				a := l.ackEv(e)
				if a == 0 {
					return 0
				}
				ev = max(ev, a)
			}
		}
	}
	return ev
}

// sending records, and checks, an operation the consumer sends: a delete
// (secs nil) or visibility changes.
func (l *ledger) sending(kind opKind, handles []string, secs []int) *opRec {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev++
	now := time.Now()
	op := &opRec{ds: make([]*delivery, len(handles)), idx: make([]int, len(handles))}
	for i, h := range handles {
		d := l.byHandle[h]
		if d == nil || !d.seen {
			l.violate(kindUnknown, "operation on handle %.24s..., which no receive handed over", h)
			continue
		}
		r := opResult{kind: kind, ev: l.ev, at: now.Sub(l.t0), pending: true}
		if secs != nil {
			r.secs = secs[i]
		}
		if !l.batch && d.returned && errors.Is(d.cause, consumer.ErrLeaseLost) {
			l.violate(kindLeaseLost, "%v sent for %v after its handler saw its lease lost (%s)", r, d, d.outcome())
		}
		switch {
		case kind == opDelete && l.ackEv(d) == 0:
			l.violate(kindAck, "delete of %v at %s, whose handling did not succeed: %s", d, l.since(now), d.outcome())
		case kind == opVisibility && r.secs == 0 && d.call != nil && !d.returned:
			l.violate(kindRelRunning, "%v released at %s while its handler runs", d, l.since(now))
		}
		op.ds[i] = d
		op.idx[i] = len(d.ops)
		d.ops = append(d.ops, r)
	}
	return op
}

// done records the answer to op: the results, or the request's error.
func (l *ledger) done(op *opRec, res []backend.EntryResult, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, d := range op.ds {
		if d == nil {
			continue
		}
		r := &d.ops[op.idx[i]]
		r.pending = false
		e := err
		if err == nil {
			if res[i].Err == nil {
				continue
			}
			e = res[i].Err
		}
		var be *backend.Error
		if errors.As(e, &be) {
			r.err = be
			r.injected = strings.HasPrefix(be.Message, "injected")
		} else {
			r.err = backend.NewError(backend.CodeInternalFailure, "%v", e)
		}
	}
}

// unackedHandle returns the handle of a delivery the consumer holds that is
// not due for deletion, not among exclude; "" if there is none.
func (l *ledger) unackedHandle(exclude []string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		for _, d := range m.deliveries {
			if d.seen && d.stolen == 0 && d.call != nil && l.ackEv(d) == 0 && !slices.Contains(exclude, d.handle) {
				return d.handle
			}
		}
	}
	return ""
}

// stealable returns the deliveries the test may make visible behind the
// consumer's back: in hand, not finished.
func (l *ledger) stealable() []*delivery {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*delivery
	for _, m := range l.msgs {
		if n := len(m.deliveries); n > 0 {
			d := m.deliveries[n-1]
			if d.seen && d.stolen == 0 && !d.returned {
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b *delivery) int { return a.m.idx - b.m.idx })
	return out
}

func (l *ledger) steal(d *delivery) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev++
	d.stolen = l.ev
}

// endState is how a scenario ended.
type endState struct {
	viaShutdown bool
	shutdownErr error // Shutdown's result (viaShutdown)
	runErr      error
	elapsed     time.Duration // from the shutdown's start to Run's return
	deadline    time.Duration // the shutdown's deadline, from its start
	bound       time.Duration // the longest the shutdown may take
	hung        bool
	leftovers   []string               // goroutines of the consumer alive after Run returned
	inflight    []native.PeekedMessage // messages invisible at the end
}

// check returns every violation: those recorded as they happened, and
// those of the end state.
func (l *ledger) check(end endState) []violation {
	l.mu.Lock()
	defer l.mu.Unlock()
	vs := slices.Clone(l.violations)
	add := func(kind, format string, args ...any) {
		vs = append(vs, violation{kind, fmt.Sprintf(format, args...)})
	}
	if l.fifo {
		vs = append(vs, l.checkFIFO()...)
	}

	// 4. Nothing the consumer received is left invisible.
	clear(l.excused)
	for _, pm := range end.inflight {
		m := l.msgs[pm.MessageID]
		var d *delivery
		if m != nil {
			for _, e := range m.deliveries {
				if d == nil || e.rc > d.rc {
					d = e
				}
			}
		}
		if d == nil {
			add(kindStrand, "message %s in flight (until %s) but no receive took it", pm.MessageID, l.since(pm.VisibleAt))
			continue
		}
		if why := l.excuse(d); why != "" {
			l.excused[why]++
			continue
		}
		add(kindStrand, "%v left in flight until %s after the shutdown:%s", d, l.since(pm.VisibleAt), l.history(d.m))
	}
	// A receive cancelled within its grace (see Server.Shutdown) must not
	// take messages that no one will see. After it, only a long poll on an
	// empty queue is still waiting, and one that takes a message as it is
	// cancelled is the race the grace makes rare.
	byAt := map[time.Time][]string{}
	for _, m := range l.msgs {
		for _, d := range m.deliveries {
			if d.lost && !d.lostAt.IsZero() && (l.graceEnd.IsZero() || d.lostAt.Before(l.graceEnd)) {
				byAt[d.lostAt] = append(byAt[d.lostAt], d.String())
			}
		}
	}
	for at, ds := range byAt {
		slices.Sort(ds)
		add(kindLostRecv, "a receive cancelled at %s (shutdown began at %s, deadline %s) took %v, which stay in flight unseen",
			l.since(at), l.since(l.stopAt), l.since(l.deadline), ds)
	}

	// 6. What Run and Shutdown return.
	cancelled := false // a handler was cancelled by the shutdown
	runningAtDeadline := false
	for _, c := range l.calls {
		for _, d := range c.ds {
			if errors.Is(d.cause, consumer.ErrServerShutdown) {
				cancelled = true
			}
		}
		if !c.startAt.After(l.handlersBy) && (c.end == 0 || !c.endAt.Before(l.handlersBy)) {
			runningAtDeadline = true
		}
	}
	result := end.runErr
	if end.viaShutdown {
		if !errors.Is(end.runErr, consumer.ErrServerClosed) {
			add(kindResult, "Run returned %v after Shutdown, want ErrServerClosed", end.runErr)
		}
		result = end.shutdownErr
	}
	switch {
	case end.hung:
	case result == nil:
		if cancelled {
			add(kindResult, "the shutdown returned nil, but handlers were cancelled (cause ErrServerShutdown)")
		}
	case errors.Is(result, consumer.ErrShutdownTimeout):
		if by := l.handlersBy.Sub(l.stopAt); end.elapsed < by {
			add(kindResult, "ErrShutdownTimeout after %v, before the handlers' deadline (%v)", end.elapsed, by)
		}
		if !cancelled && !runningAtDeadline {
			add(kindResult, "ErrShutdownTimeout, but no handler ran at the deadline (%v); Shutdown's doc: ErrShutdownTimeout if some had to be cancelled", end.deadline)
		}
	default:
		add(kindResult, "the shutdown returned %v", result)
	}
	if end.hung {
		add(kindDuration, "the shutdown did not return within %v", end.bound+time.Hour)
	} else if end.elapsed > end.bound {
		add(kindDuration, "the shutdown took %v, more than its deadline %v allows (%v)", end.elapsed, end.deadline, end.bound)
	}
	for _, g := range end.leftovers {
		add(kindGoroutine, "still running after Run returned:\n%s", g)
	}
	return vs
}

// excuse tells why d, the last delivery of a message still in flight, may
// be left so; "" if it may not.
func (l *ledger) excuse(d *delivery) string {
	switch {
	case !d.seen:
		return "answer lost" // checked on its own (kindLostRecv)
	case d.stolen != 0:
		return "stolen"
	case !l.batch && d.returned && errors.Is(d.cause, consumer.ErrLeaseLost):
		return "lease lost"
	case d.returned && d.err != nil && !errors.Is(d.cause, consumer.ErrServerShutdown) && l.ackEv(d) == 0:
		return "failed: backed off"
	}
	if n := len(d.ops); n > 0 && d.ops[n-1].injected {
		return "last operation failed by injection"
	}
	return ""
}

// checkFIFO checks that the calls of one group never overlap, and that a
// group's message starts only once the earlier ones succeeded.
func (l *ledger) checkFIFO() []violation {
	var vs []violation
	add := func(kind, format string, args ...any) {
		vs = append(vs, violation{kind, fmt.Sprintf(format, args...)})
	}
	// Calls by group.
	byGroup := map[string][]*hcall{}
	for _, c := range l.calls {
		seenG := map[string]bool{}
		for _, d := range c.ds {
			if !seenG[d.m.group] {
				seenG[d.m.group] = true
				byGroup[d.m.group] = append(byGroup[d.m.group], c)
			}
		}
	}
	// A delivery made visible behind the consumer's back (the test's
	// theft, or its lease running out) may be received again while its
	// handler runs. The consumer's own visibility change to 0 is no excuse.
	gone := func(c *hcall, group string, before int) bool {
		for _, d := range c.ds {
			if d.m.group != group {
				continue
			}
			if d.stolen != 0 && d.stolen < before {
				return true
			}
			if errors.Is(d.cause, consumer.ErrLeaseLost) {
				for _, o := range d.ops {
					if o.kind == opVisibility && o.secs == 0 {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	for g, calls := range byGroup {
		for i, a := range calls {
			for _, b := range calls[i+1:] {
				// a started first (calls are in start order).
				if a.end != 0 && a.end < b.start {
					continue
				}
				if gone(a, g, b.start) {
					continue
				}
				add(kindFIFOOverlap, "group %s: %v started at %s while %v ran (since %s)%s", g, b.ds, l.since(b.startAt), a.ds, l.since(a.startAt), l.history(a.ds[0].m))
			}
		}
	}
	for _, c := range l.calls {
		for _, d := range c.ds {
			for _, p := range l.groups[d.m.group] {
				if p.seq >= d.m.seq {
					break
				}
				ok := false
				for _, e := range p.deliveries {
					if e.call == c && e.pos < d.pos {
						ok = true
					} else if a := l.ackEv(e); a != 0 && a < c.start {
						ok = true
					}
				}
				if !ok {
					add(kindFIFOOrder, "group %s: %v started at %s before %v succeeded; %v:%s", d.m.group, d, l.since(c.startAt), p, p, l.history(p))
				}
			}
		}
	}
	return vs
}
