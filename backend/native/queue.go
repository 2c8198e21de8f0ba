package native

import (
	"context"
	"math"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

const maxVisibilityNanos = int64(backend.MaxVisibilityTimeout) * int64(time.Second)

// queue is one queue's state. Everything below mu belongs to it.
type queue struct {
	eng     *Engine
	name    string
	account string
	arn     string
	path    string // "/account/name"
	rawURL  string // the URL the engine issues for it
	gen     uint32 // incarnation, carried in receipt handles
	created int64  // unix seconds

	deleted  atomic.Bool
	counters queueCounters // for Stats; atomic adds outside mu

	mu           sync.Mutex
	oldestBound  int64 // no message was sent before this unix ms (0: none known); lets sweep skip its scan
	cfg          queueConfig
	lastModified int64 // unix seconds
	tags         map[string]string
	purgedAt     int64 // unix nanoseconds of the last purge; 0 never

	nextSeq   uint64
	msgs      msgIndex
	ready     ring[*message]    // standard queues: visible messages, oldest first (may hold tombstones)
	fifo      *fifoState        // FIFO queues: groups, deduplication, receive attempts
	dlq       *queue            // the RedrivePolicy's target, resolved when the policy is set
	noisy     []*group          // standard queues: tenants with held-back messages
	tenants   map[string]*group // standard queues: message groups, for fair queueing
	dlqOut    []*message        // dead-lettered under mu, handed to dlq by unlock
	nReady    int
	nInflight int
	nDelayed  int
	pending   timeHeap // in-flight and delayed messages by visibleAt

	scratch enc // the record being encoded; guarded by mu

	waiters  waiterList
	wake     clockwork.Timer
	wakeAt   int64
	wakeFunc func()
}

// waiter is a parked long poll. Messages are handed to it under q.mu.
type waiter struct {
	max        int
	visibility int64 // nanoseconds
	got        []taken
	ready      chan struct{}
	prev, next *waiter
	queued     bool
}

type waiterList struct {
	head, tail *waiter
	n          int
}

func (l *waiterList) pushBack(w *waiter) {
	w.prev, w.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = w
	} else {
		l.head = w
	}
	l.tail = w
	w.queued = true
	l.n++
}

func (l *waiterList) remove(w *waiter) {
	if !w.queued {
		return
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		l.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		l.tail = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	l.n--
}

// taken is a message handed out by a receive, with the per-receive fields
// copied while the lock was held.
type taken struct {
	m            *message
	receiveCount int32
	firstRecvAt  int64
}

func newQueue(e *Engine, account, name string, cfg queueConfig, now time.Time) *queue {
	q := &queue{
		eng:          e,
		name:         name,
		account:      account,
		arn:          "arn:aws:sqs:" + e.cfg.Region + ":" + account + ":" + name,
		path:         "/" + account + "/" + name,
		gen:          e.nextGen.Add(1),
		created:      now.Unix(),
		cfg:          cfg,
		lastModified: now.Unix(),
		tags:         map[string]string{},
		nextSeq:      1,
	}
	q.rawURL = e.cfg.BaseURL + q.path
	if e.cfg.LocalURLs && account == e.cfg.AccountID {
		q.rawURL = localURL(e.cfg.DataDir, name)
	}
	if cfg.fifo {
		q.fifo = newFIFOState()
	}
	q.wakeFunc = q.onWake
	return q
}

func (q *queue) url() string { return q.rawURL }

// localURL is the URL that names queue name in process: mem://NAME, or
// file:///DIR?queue=NAME for a durable engine in dir.
func localURL(dir, name string) string {
	if dir == "" {
		return "mem://" + name
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(dir), RawQuery: "queue=" + url.QueryEscape(name)}).String()
}

// advance makes due messages visible and drops expired ones. Callers hold mu.
func (q *queue) advance(nowNanos int64) {
	for {
		m := q.pending.peek()
		if m == nil || m.visibleAt > nowNanos {
			return
		}
		q.pending.remove(0)
		if m.state == stateInflight {
			q.leaveInflight(m)
		} else {
			q.nDelayed--
		}
		if q.expired(m, nowNanos) {
			q.drop(m)
			continue
		}
		q.makeReady(m)
	}
}

// noteSent keeps oldestBound at or below the send time of every message
// the queue holds. Callers hold mu.
func (q *queue) noteSent(m *message) {
	if q.oldestBound == 0 || m.sentAt < q.oldestBound {
		q.oldestBound = m.sentAt
	}
}

func (q *queue) expired(m *message, nowNanos int64) bool {
	return m.sentAt+int64(q.cfg.retention)*1000 <= nowNanos/1e6
}

// drop forgets a message that is in no count or heap any more (a standard
// queue's ready ring may still hold it as a tombstone). Callers hold mu.
func (q *queue) drop(m *message) {
	q.msgs.del(m.seq)
	if g := m.group(); g != nil {
		if q.fifo != nil {
			g.removeMsg(m)
			q.checkAvail(g)
			q.forgetGroup(g)
		} else if m.state == stateReady || m.state == stateDelayed {
			q.tenantLeave(g)
		}
	}
	m.state = stateGone
}

// makeReady makes a message visible. Callers hold mu.
func (q *queue) makeReady(m *message) {
	m.state = stateReady
	q.nReady++
	if q.fifo != nil {
		q.checkAvail(m.ext.grp)
		return
	}
	if m.group() != nil {
		q.tenantEnter(m)
	}
	if !m.inRing {
		m.inRing = true
		q.ready.push(m)
	}
}

// markInflight makes a message invisible for visibility nanoseconds after a
// receive. Callers hold mu.
func (q *queue) markInflight(m *message, visibility, nowNanos, nowMs int64) {
	m.receiveCount++
	if m.firstRecvAt == 0 {
		m.firstRecvAt = nowMs
	}
	m.receivedAt = nowNanos
	m.state = stateInflight
	m.visibleAt = nowNanos + visibility
	q.pending.push(m)
	q.nInflight++
	if g := m.group(); g != nil {
		if q.fifo == nil {
			q.tenantLeave(g)
		}
		g.inflight++
	}
}

// hide makes a visible message invisible until visibleAt without a
// receive: its receive count and handles stay as they are. A standard
// queue's ring slot for it stays behind as a tombstone (see
// message.inRing). Callers hold mu.
func (q *queue) hide(m *message, visibleAt int64) {
	q.nReady--
	if g := m.group(); g != nil {
		if q.fifo == nil {
			q.tenantLeave(g)
		}
		g.inflight++
	}
	m.state = stateInflight
	m.visibleAt = visibleAt
	q.pending.push(m)
	q.nInflight++
}

// leaveInflight updates the counts of a message leaving the in-flight state
// (its heap entry is the caller's business). Callers hold mu.
func (q *queue) leaveInflight(m *message) {
	q.nInflight--
	if g := m.group(); g != nil {
		g.inflight--
		if q.fifo == nil {
			q.forgetTenant(g)
		}
	}
}

// take hands out up to max ready messages, making them in flight for
// visibility nanoseconds. Callers hold mu and have called advance.
func (q *queue) take(max int, visibility int64, nowNanos int64, out []taken) []taken {
	if q.fifo != nil {
		return q.takeFIFO(max, visibility, nowNanos, out)
	}
	nowMs := nowNanos / 1e6
	start := len(out)
	defer func() { q.logReceive(out[start:]) }()
	for len(out) < max && q.nReady > 0 {
		m := q.popReady(nowNanos)
		if m == nil {
			break
		}
		q.nReady--
		if q.expired(m, nowNanos) {
			q.drop(m)
			continue
		}
		if q.mustDeadLetter(m) {
			q.deadLetter(m)
			continue
		}
		q.markInflight(m, visibility, nowNanos, nowMs)
		out = append(out, taken{m: m, receiveCount: m.receiveCount, firstRecvAt: m.firstRecvAt})
	}
	return out
}

// serveWaiters hands ready messages to parked receives, oldest first, then
// arms the wake timer for the next message that becomes visible. Callers
// hold mu.
func (q *queue) serveWaiters(nowNanos int64) {
	for q.waiters.n > 0 && q.nReady > 0 {
		w := q.waiters.head
		w.got = q.take(w.max, w.visibility, nowNanos, w.got)
		if len(w.got) == 0 {
			break // only tombstones or expired messages were left
		}
		q.waiters.remove(w)
		w.ready <- struct{}{}
	}
	q.armWake()
}

// armWake keeps one timer, set for the earliest moment a pending message
// becomes visible, while receives are parked. Callers hold mu.
func (q *queue) armWake() {
	if q.waiters.n == 0 {
		return
	}
	m := q.pending.peek()
	if m == nil {
		return
	}
	if q.wake != nil && q.wakeAt == m.visibleAt {
		return
	}
	if q.wake != nil {
		q.wake.Stop()
	}
	q.wakeAt = m.visibleAt
	d := time.Duration(m.visibleAt - q.eng.clock.Now().UnixNano())
	if d < 0 {
		d = 0
	}
	q.wake = q.eng.clock.AfterFunc(d, q.wakeFunc)
}

func (q *queue) onWake() {
	q.mu.Lock()
	defer q.unlock()
	q.wake = nil
	if q.deleted.Load() || q.eng.closed.Load() {
		return
	}
	now := q.eng.clock.Now().UnixNano()
	q.advance(now)
	q.serveWaiters(now)
}

// wakeAll ends every parked receive empty-handed (queue deleted, engine
// closed). Callers hold mu.
func (q *queue) wakeAll() {
	for w := q.waiters.head; w != nil; w = q.waiters.head {
		q.waiters.remove(w)
		w.ready <- struct{}{}
	}
	if q.wake != nil {
		q.wake.Stop()
		q.wake = nil
	}
}

func (q *queue) send(entries []backend.SendEntry) ([]backend.SendResult, error) {
	if err := validateIDs(entries, func(e *backend.SendEntry) string { return e.ID }); err != nil {
		return nil, err
	}
	if err := backend.ValidateSendBatchSize(entries); err != nil {
		return nil, err
	}
	q.mu.Lock()
	maxSize := q.cfg.maxSize
	fifo := q.cfg.fifo
	contentDedup := q.cfg.contentDedup
	perGroupDedup := q.cfg.dedupScope == "messageGroup"
	q.mu.Unlock()
	if fifo {
		if err := checkFIFOBatch(entries, contentDedup); err != nil {
			return nil, err
		}
	}

	// Build the messages outside the lock: ids, MD5s and validation are the
	// expensive part of a send.
	results := make([]backend.SendResult, len(entries))
	var msgBuf [backend.MaxBatchEntries]*message
	msgs := msgBuf[:len(entries)]
	var keyBuf [backend.MaxBatchEntries]dedupKey
	keys := keyBuf[:0]
	if fifo {
		keys = make([]dedupKey, len(entries))
	}
	block := make([]message, len(entries))
	text := make([]byte, len(entries)*idTextLen) // ids and MD5s, see putIDText
	for i := range entries {
		e := &entries[i]
		results[i].ID = e.ID
		if err := backend.ValidateSendEntry(e, maxSize); err != nil {
			results[i].Err = err
			continue
		}
		dedupID := ""
		if fifo {
			var err *backend.Error
			if dedupID, err = checkFIFOEntry(e, contentDedup); err != nil {
				results[i].Err = err
				continue
			}
		} else if e.MessageDeduplicationID != "" {
			results[i].Err = backend.NewError(backend.CodeInvalidParameterValue,
				"Value %s for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.", e.MessageDeduplicationID)
			continue
		}
		m := &block[i]
		m.id, m.md5Body = putIDText(text[i*idTextLen:], e.Body)
		m.body = e.Body
		m.nonce = randUint64()
		m.heapIdx = -1
		if len(e.MessageAttributes) > 0 {
			m.attrs = cloneAttrs(e.MessageAttributes)
			m.md5Attrs = backend.MD5OfMessageAttributes(m.attrs)
		}
		if th, ok := e.MessageSystemAttributes["AWSTraceHeader"]; ok {
			m.ext = &msgExt{traceHeader: th.StringValue, md5SysAttrs: backend.MD5OfMessageAttributes(e.MessageSystemAttributes)}
		}
		if e.MessageGroupID != "" || dedupID != "" {
			if m.ext == nil {
				m.ext = &msgExt{}
			}
			m.ext.groupID = e.MessageGroupID
			m.ext.dedupID = dedupID
		}
		if fifo {
			keys[i] = dedupKeyOf(e.MessageGroupID, dedupID, perGroupDedup)
		}
		msgs[i] = m
		results[i].MessageID = m.id
		results[i].MD5OfMessageBody = m.md5Body
		results[i].MD5OfMessageAttributes = m.md5Attrs
		if m.ext != nil {
			results[i].MD5OfMessageSystemAttributes = m.ext.md5SysAttrs
		}
	}

	if err := q.eng.storeCheck(); err != nil {
		return nil, err
	}
	now := q.eng.clock.Now()
	nowNanos := now.UnixNano()
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return nil, errNoQueue()
	}
	q.advance(nowNanos)
	if q.fifo != nil {
		q.fifoSend(msgs, keys, results, nowNanos)
	}
	sent := 0
	for i, m := range msgs {
		if m == nil {
			continue
		}
		sent++
		m.seq = q.nextSeq
		q.nextSeq++
		m.sentAt = nowNanos / 1e6
		delay := q.cfg.delay
		if d := entries[i].DelaySeconds; d != nil && !fifo {
			// A FIFO queue takes no per-message delay: a message's 0
			// leaves the queue's delay in force, as in SQS.
			delay = *d
		}
		q.enqueue(m, delay, nowNanos)
	}
	r := q.logSend(msgs)
	q.serveWaiters(nowNanos)
	q.unlock()
	q.counters.sent.Add(int64(sent))
	if r == nil {
		// Nothing new to store (every entry failed or was a duplicate): a
		// duplicate's answer names a message whose send must be stable too.
		return results, q.eng.barrier()
	}
	if err := r.wait(); err != nil {
		return nil, err
	}
	return results, nil
}

func cloneAttrs(a map[string]backend.MessageAttributeValue) map[string]backend.MessageAttributeValue {
	c := make(map[string]backend.MessageAttributeValue, len(a))
	for k, v := range a {
		if v.BinaryValue != nil {
			v.BinaryValue = append([]byte(nil), v.BinaryValue...)
		}
		c[k] = v
	}
	return c
}

func (q *queue) receive(ctx context.Context, req *backend.ReceiveRequest) ([]*backend.Message, error) {
	if err := backend.ValidateReceiveRequest(req); err != nil {
		return nil, err
	}
	max := req.MaxMessages
	if max == 0 {
		max = 1
	}
	now := q.eng.clock.Now().UnixNano()
	q.mu.Lock()
	if q.deleted.Load() {
		q.unlock()
		return nil, errNoQueue()
	}
	vis := int64(q.cfg.visibility) * int64(time.Second)
	if req.VisibilityTimeout != nil {
		vis = int64(*req.VisibilityTimeout) * int64(time.Second)
	}
	wait := q.cfg.waitTime
	if req.WaitTimeSeconds != nil {
		wait = *req.WaitTimeSeconds
	}
	if req.ReceiveRequestAttemptID != "" && !q.cfg.fifo {
		// SQS ignores the attempt id on standard queues.
		req.ReceiveRequestAttemptID = ""
	}
	q.advance(now)
	if q.nInflight >= backend.MaxInflightMessages {
		q.unlock()
		if q.fifo != nil {
			return []*backend.Message{}, nil // a FIFO queue at its limit returns nothing
		}
		return nil, backend.NewError(backend.CodeOverLimit,
			"Too many messages in flight: a queue may have at most %d in-flight messages.", backend.MaxInflightMessages)
	}
	attemptID := req.ReceiveRequestAttemptID
	if attemptID != "" {
		if got, ok := q.retryAttempt(attemptID, vis, now); ok {
			ms := make([]*message, len(got))
			for i, t := range got {
				ms[i] = t.m
			}
			q.logVisibility(ms)
			q.unlock()
			return q.answer(got, req)
		}
	}
	var takenBuf [backend.MaxReceiveMessages]taken
	got := q.take(max, vis, now, takenBuf[:0])
	if len(got) > 0 || wait == 0 {
		if attemptID != "" {
			q.recordAttempt(attemptID, got, now)
		}
		q.unlock()
		return q.answer(got, req)
	}
	w := &waiter{max: max, visibility: vis, ready: make(chan struct{}, 1)}
	q.waiters.pushBack(w)
	q.armWake()
	q.unlock()

	// The wait's timer is on the clock before the receive counts as
	// waiting, so a test that sees WaitingReceives go up may advance a fake
	// clock past the wait.
	timer := q.eng.clock.NewTimer(time.Duration(wait) * time.Second)
	q.eng.waiting.Add(1)
	var ctxErr error
	select {
	case <-w.ready:
	case <-timer.Chan():
	case <-ctx.Done():
		ctxErr = ctx.Err()
	case <-q.eng.done:
	}
	timer.Stop()
	q.eng.waiting.Add(-1)
	q.mu.Lock()
	q.waiters.remove(w)
	got = w.got
	if attemptID != "" && len(got) > 0 {
		q.recordAttempt(attemptID, got, q.eng.clock.Now().UnixNano())
	}
	q.unlock()
	if len(got) == 0 && ctxErr != nil {
		return nil, ctxErr
	}
	return q.answer(got, req)
}

// answer builds a receive's result. On a durable engine it first waits
// until every change the receive saw is stable (the sends of the messages it
// returns, the deletes that unlocked their FIFO groups, its own receive
// record): otherwise a crash could take back what a client already holds.
func (q *queue) answer(got []taken, req *backend.ReceiveRequest) ([]*backend.Message, error) {
	if len(got) > 0 {
		q.counters.received.Add(int64(len(got)))
		if err := q.eng.barrier(); err != nil {
			return nil, err
		}
	}
	return q.build(got, req), nil
}

// build turns taken messages into results. It runs without the lock: it
// reads only the immutable part of each message and the copied fields.
func (q *queue) build(got []taken, req *backend.ReceiveRequest) []*backend.Message {
	out := make([]*backend.Message, len(got))
	if len(got) == 0 {
		return out
	}
	msgs := make([]backend.Message, len(got))
	hb := make([]byte, 0, len(got)*handleLen)
	for _, t := range got {
		hb = appendHandle(hb, q.gen, t.m.seq, t.receiveCount, t.m.nonce)
	}
	handles := unsafe.String(unsafe.SliceData(hb), len(hb)) // hb is never written again
	wantSys := len(req.SystemAttributeNames) > 0
	for i, t := range got {
		m := t.m
		msg := &msgs[i]
		msg.MessageID = m.id
		msg.ReceiptHandle = handles[i*handleLen : (i+1)*handleLen]
		msg.Body = m.body
		msg.MD5OfBody = m.md5Body
		if len(req.MessageAttributeNames) > 0 && len(m.attrs) > 0 {
			sel := backend.SelectMessageAttributes(m.attrs, req.MessageAttributeNames)
			if len(sel) > 0 {
				msg.MessageAttributes = sel
				if len(sel) == len(m.attrs) {
					msg.MD5OfMessageAttributes = m.md5Attrs
				} else {
					msg.MD5OfMessageAttributes = backend.MD5OfMessageAttributes(sel)
				}
			}
		}
		if wantSys {
			msg.Attributes = q.systemAttributes(t, req.SystemAttributeNames)
		}
		out[i] = msg
	}
	return out
}

func (q *queue) systemAttributes(t taken, names []string) map[string]string {
	m := t.m
	a := make(map[string]string, 4)
	want := func(n string) bool { return backend.WantsSystemAttribute(names, n) }
	if want("SenderId") {
		a["SenderId"] = q.eng.cfg.SenderID
	}
	if want("SentTimestamp") {
		a["SentTimestamp"] = strconv.FormatInt(m.sentAt, 10)
	}
	if want("ApproximateReceiveCount") {
		a["ApproximateReceiveCount"] = strconv.Itoa(int(t.receiveCount))
	}
	if want("ApproximateFirstReceiveTimestamp") {
		a["ApproximateFirstReceiveTimestamp"] = strconv.FormatInt(t.firstRecvAt, 10)
	}
	if x := m.ext; x != nil {
		if x.traceHeader != "" && want("AWSTraceHeader") {
			a["AWSTraceHeader"] = x.traceHeader
		}
		if x.groupID != "" && want("MessageGroupId") {
			a["MessageGroupId"] = x.groupID
		}
		if x.dedupID != "" && want("MessageDeduplicationId") {
			a["MessageDeduplicationId"] = x.dedupID
		}
		if x.sequenceNumber != "" && want("SequenceNumber") {
			a["SequenceNumber"] = x.sequenceNumber
		}
		if x.dlqSourceArn != "" && want("DeadLetterQueueSourceArn") {
			a["DeadLetterQueueSourceArn"] = x.dlqSourceArn
		}
	}
	return a
}

// lookup resolves a receipt handle. It returns the message (nil when it is
// gone) or the entry error for a handle that is malformed, forged, or from
// another queue.
func (q *queue) lookup(rh string) (*message, handle, *backend.Error) {
	h, ok := parseHandle(rh)
	if !ok || h.gen != q.gen || h.seq == 0 || h.seq >= q.nextSeq || h.receiveCount < 1 {
		return nil, h, errBadHandle(rh)
	}
	m := q.msgs.get(h.seq)
	if m == nil {
		return nil, h, nil
	}
	if h.receiveCount > m.receiveCount || handleTag(m.nonce, h.receiveCount) != h.tag {
		return nil, h, errBadHandle(rh)
	}
	return m, h, nil
}

func errBadHandle(rh string) *backend.Error {
	return backend.NewError(backend.CodeReceiptHandleIsInvalid,
		"The input receipt handle %q is not a valid receipt handle.", rh)
}

// errNoQueue is SQS's answer for a queue that does not exist, in its JSON
// protocol's words (the query protocol adds "for this wsdl version").
func errNoQueue() *backend.Error {
	return backend.NewError(backend.CodeQueueDoesNotExist, "The specified queue does not exist.")
}

func (q *queue) remove(m *message) {
	switch m.state {
	case stateReady:
		q.nReady-- // in a standard queue its ring slot becomes a tombstone
	case stateInflight:
		q.pending.remove(int(m.heapIdx))
		q.leaveInflight(m)
	case stateDelayed:
		q.pending.remove(int(m.heapIdx))
		q.nDelayed--
	}
	q.drop(m)
}

func (q *queue) delete(entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	if err := validateIDs(entries, func(e *backend.DeleteEntry) string { return e.ID }); err != nil {
		return nil, err
	}
	if err := q.eng.storeCheck(); err != nil {
		return nil, err
	}
	res := make([]backend.EntryResult, len(entries))
	var seqBuf [backend.MaxBatchEntries]uint64
	deleted := seqBuf[:0]
	now := q.eng.clock.Now().UnixNano()
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return nil, errNoQueue()
	}
	q.advance(now)
	for i := range entries {
		res[i].ID = entries[i].ID
		m, h, err := q.lookup(entries[i].ReceiptHandle)
		if err != nil {
			res[i].Err = err
			continue
		}
		if m == nil {
			continue // already deleted: deleting again succeeds
		}
		if q.fifo != nil && (h.receiveCount < m.receiveCount || m.state != stateInflight) {
			// A FIFO queue accepts only the handle of the current receive
			// while its visibility holds: otherwise the group may already
			// have moved on.
			err := backend.NewError(backend.CodeReceiptHandleIsInvalid,
				"Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", entries[i].ReceiptHandle)
			err.SingleCode = backend.CodeInvalidParameterValue
			res[i].Err = err
			continue
		}
		deleted = append(deleted, m.seq)
		q.remove(m)
	}
	r := q.logDelete(deleted, true)
	if q.fifo != nil && len(deleted) > 0 {
		// Deleting a group's in-flight message lets the group's next
		// message go: hand it to a waiting receive now.
		q.serveWaiters(now)
	}
	q.mu.Unlock()
	q.counters.deleted.Add(int64(len(deleted)))
	if r == nil {
		// Nothing deleted now: a message already gone may have gone by a
		// delete that is not stable yet.
		if err := q.eng.barrier(); err != nil {
			return nil, err
		}
		return res, nil
	}
	if err := r.wait(); err != nil {
		return nil, err
	}
	return res, nil
}

func (q *queue) changeVisibility(entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	if err := validateIDs(entries, func(e *backend.VisibilityEntry) string { return e.ID }); err != nil {
		return nil, err
	}
	if err := q.eng.storeCheck(); err != nil {
		return nil, err
	}
	res := make([]backend.EntryResult, len(entries))
	var changedBuf [backend.MaxBatchEntries]*message
	changed := changedBuf[:0]
	now := q.eng.clock.Now().UnixNano()
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return nil, errNoQueue()
	}
	q.advance(now)
	released := false
	for i := range entries {
		e := &entries[i]
		res[i].ID = e.ID
		if err := backend.ValidateVisibilityTimeout(e.VisibilityTimeout); err != nil {
			res[i].Err = err
			continue
		}
		m, h, err := q.lookup(e.ReceiptHandle)
		if err != nil {
			res[i].Err = err
			continue
		}
		if m == nil {
			err := backend.NewError(backend.CodeReceiptHandleIsInvalid,
				"Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", e.ReceiptHandle)
			err.SingleCode = backend.CodeInvalidParameterValue
			res[i].Err = err
			continue
		}
		if q.fifo != nil && h.receiveCount < m.receiveCount {
			// A FIFO queue takes only the handle of the message's latest
			// receive, as for a delete: the group may have moved on. (A
			// standard queue applies a change made with an older handle,
			// as SQS does.)
			err := backend.NewError(backend.CodeReceiptHandleIsInvalid,
				"Value %s for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.", e.ReceiptHandle)
			err.SingleCode = backend.CodeInvalidParameterValue
			res[i].Err = err
			continue
		}
		if m.state != stateInflight && m.state != stateReady {
			res[i].Err = backend.NewError(backend.CodeMessageNotInflight, "The message referred to is not in flight.")
			continue
		}
		t := int64(e.VisibilityTimeout) * int64(time.Second)
		if now+t > m.receivedAt+maxVisibilityNanos {
			res[i].Err = backend.NewError(backend.CodeInvalidParameterValue,
				"Value %d for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].", e.VisibilityTimeout)
			continue
		}
		if m.state == stateReady {
			// Its visibility timeout ran out and it was not received
			// since: SQS applies the change, hiding it again (0 leaves
			// it visible).
			if t > 0 {
				q.hide(m, now+t)
				changed = append(changed, m)
			}
			continue
		}
		changed = append(changed, m)
		if t == 0 {
			q.pending.remove(int(m.heapIdx))
			q.leaveInflight(m)
			m.visibleAt = now
			q.makeReady(m)
			released = true
			continue
		}
		m.visibleAt = now + t
		q.pending.fix(int(m.heapIdx))
	}
	r := q.logVisibility(changed)
	if released {
		q.serveWaiters(now)
	} else {
		q.armWake()
	}
	q.unlock()
	if err := r.wait(); err != nil {
		return nil, err
	}
	return res, nil
}

// purgeLocked deletes every message and, as SQS's PurgeQueue does, a FIFO
// queue's deduplication history and receive attempts. Callers hold mu.
func (q *queue) purgeLocked() {
	q.msgs.each(func(m *message) { m.state = stateGone })
	q.msgs.reset()
	q.oldestBound = 0
	q.ready = ring[*message]{}
	q.noisy = nil
	q.tenants = nil
	q.pending = nil
	if q.fifo != nil {
		q.fifo.groups = make(map[string]*group)
		q.fifo.avail = ring[*group]{}
		clear(q.fifo.dedup)
		q.fifo.dedupOrder = ring[dedupRec]{}
		clear(q.fifo.attempts)
		q.fifo.attemptOrder = ring[attemptRec]{}
	}
	q.nReady, q.nInflight, q.nDelayed = 0, 0, 0
}

// sweep drops every expired message, in flight and delayed ones included, so
// that counts are exact. It scans the queue (O(n)) only when the oldest
// message may have expired (oldestBound), so attribute reads, which the
// dashboard makes every second, cost O(1) otherwise. Only attribute reads
// and move tasks call it. Callers hold mu.
func (q *queue) sweep(nowNanos int64) {
	q.advance(nowNanos)
	if q.oldestBound == 0 || q.oldestBound+int64(q.cfg.retention)*1000 > nowNanos/1e6 {
		// No message is old enough to have expired: nothing to scan.
		return
	}
	// The scan below visits every message: it finds the new bound too.
	oldest := int64(math.MaxInt64)
	note := func(m *message) {
		if m.sentAt < oldest {
			oldest = m.sentAt
		}
	}
	defer func() {
		if oldest == math.MaxInt64 {
			oldest = 0
		}
		q.oldestBound = oldest
	}()
	var gone []*message
	for _, m := range q.pending {
		if q.expired(m, nowNanos) {
			gone = append(gone, m)
		} else {
			note(m)
		}
	}
	for _, m := range gone {
		q.remove(m)
	}
	if q.fifo != nil {
		var expired []*message
		for _, g := range q.fifo.groups {
			for _, m := range g.msgs[g.head:] {
				if m.state == stateReady && q.expired(m, nowNanos) {
					expired = append(expired, m)
				} else if m.state == stateReady {
					note(m)
				}
			}
		}
		for _, m := range expired {
			q.nReady--
			q.drop(m)
		}
		return
	}
	keep := func(m *message) bool {
		if m.state != stateReady {
			m.inRing = false
			return false
		}
		if q.expired(m, nowNanos) {
			m.inRing = false
			q.nReady--
			q.drop(m)
			return false
		}
		note(m)
		return true
	}
	q.ready.filter(keep)
	q.heldBack(func(r *ring[*message]) { r.filter(keep) })
}

// validateIDs checks a batch's entry ids (count, form, distinctness) without
// allocating for batches of up to ten.
func validateIDs[E any](entries []E, id func(*E) string) error {
	var buf [backend.MaxBatchEntries]string
	ids := buf[:0]
	if len(entries) > len(buf) {
		ids = make([]string, 0, len(entries))
	}
	for i := range entries {
		ids = append(ids, id(&entries[i]))
	}
	if err := backend.ValidateBatchIDs(ids); err != nil {
		return err
	}
	return nil
}
