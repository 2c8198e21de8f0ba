package native

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// mustDeadLetter reports whether receiving m once more would exceed its
// queue's maxReceiveCount while the dead-letter queue exists. A queue that
// is its own dead-letter queue keeps its messages. Callers hold mu.
func (q *queue) mustDeadLetter(m *message) bool {
	rp := q.cfg.redrive
	return rp != nil && int(m.receiveCount) >= rp.MaxReceiveCount && q.dlq != nil && q.dlq != q && !q.dlq.deleted.Load()
}

// deadLetter takes a visible message out of q for the dead-letter queue;
// unlock hands it over. Callers hold mu and have already uncounted it from
// the ready messages.
func (q *queue) deadLetter(m *message) {
	q.drop(m)
	q.dlqOut = append(q.dlqOut, m)
}

// unlock releases mu, then moves what was dead-lettered meanwhile into the
// dead-letter queue. No two queue locks are ever held at once.
func (q *queue) unlock() {
	out, dlq := q.dlqOut, q.dlq
	q.dlqOut = nil
	q.mu.Unlock()
	if len(out) == 0 {
		return
	}
	q.eng.deadLettered.Add(int64(len(out)))
	q.counters.deadLettered.Add(int64(len(out)))
	now := q.eng.clock.Now().UnixNano()
	seqs := make([]uint64, len(out))
	for i, m := range out {
		seqs[i] = m.seq
	}
	moved := make([]*message, 0, len(out))
	dlq.mu.Lock()
	if dlq.deleted.Load() {
		dlq.mu.Unlock()
		q.eng.cfg.Logger.Warn("native: dead-letter queue deleted while messages moved to it; they are dropped",
			"queue", q.name, "dlq", dlq.name, "messages", len(out))
		q.logDelete(seqs, false)
		return
	}
	dlq.advance(now)
	for _, m := range out {
		nm := dlq.adopt(m, now)
		nm.ext.dlqSourceArn = q.arn
		nm.receiveCount = m.receiveCount
		nm.firstRecvAt = m.firstRecvAt
		if q.fifo == nil {
			nm.sentAt = m.sentAt // a standard queue's retention counts from the first enqueue
		}
		if dlq.fifo != nil {
			nm.ext.dedupID = m.id
		}
		dlq.enqueue(nm, 0, now)
		moved = append(moved, nm)
	}
	// The copy is logged before the original's deletion: a crash between
	// the two leaves the message in both queues, never in neither.
	dlq.logSend(moved)
	dlq.serveWaiters(now)
	dlq.unlock()
	q.logDelete(seqs, false)
}

// adopt makes a copy of a message of another queue that belongs to q: same
// id, body and attributes, new sequence, handles and enqueue time. Callers
// hold q.mu.
func (q *queue) adopt(m *message, nowNanos int64) *message {
	nm := &message{
		seq:      q.nextSeq,
		id:       m.id,
		body:     m.body,
		md5Body:  m.md5Body,
		attrs:    m.attrs,
		md5Attrs: m.md5Attrs,
		sentAt:   nowNanos / 1e6,
		nonce:    randUint64(),
		heapIdx:  -1,
		ext:      &msgExt{},
	}
	q.nextSeq++
	if m.ext != nil {
		nm.ext.traceHeader = m.ext.traceHeader
		nm.ext.md5SysAttrs = m.ext.md5SysAttrs
		nm.ext.groupID = m.ext.groupID
		nm.ext.dedupID = m.ext.dedupID
	}
	return nm
}

// enqueue stores a built message: visible now, or after delay seconds.
// Callers hold mu.
func (q *queue) enqueue(m *message, delay int, nowNanos int64) {
	q.msgs.put(m)
	q.noteSent(m)
	if q.fifo != nil {
		if m.ext.sequenceNumber == "" {
			q.fifo.seq++
			m.ext.sequenceNumber = strconv.FormatUint(seqBase+q.fifo.seq, 10)
		}
		q.enqueueFIFO(m)
	}
	if q.fifo == nil && m.ext != nil && m.ext.groupID != "" {
		q.joinTenant(m, nowNanos)
	}
	if delay > 0 {
		if g := m.group(); g != nil && q.fifo == nil {
			q.tenantEnter(m)
		}
		m.state = stateDelayed
		m.visibleAt = nowNanos + int64(delay)*int64(time.Second)
		q.pending.push(m)
		q.nDelayed++
		return
	}
	q.makeReady(m)
}

// moveTask is one StartMessageMoveTask.
type moveTask struct {
	id        string
	handle    string
	sourceArn string
	destArn   string
	rate      int
	started   time.Time
	cancel    chan struct{}
	done      chan struct{} // closed when the task has ended

	mu      sync.Mutex
	status  string
	moved   int64
	toMove  int64
	failure string
}

type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

func (t *moveTask) snapshot() backend.MoveTask {
	t.mu.Lock()
	defer t.mu.Unlock()
	mt := backend.MoveTask{
		Status:                            t.status,
		SourceARN:                         t.sourceArn,
		DestinationARN:                    t.destArn,
		MaxNumberOfMessagesPerSecond:      t.rate,
		ApproximateNumberOfMessagesMoved:  t.moved,
		ApproximateNumberOfMessagesToMove: t.toMove,
		FailureReason:                     t.failure,
		StartedTimestamp:                  t.started,
	}
	if t.status == backend.MoveTaskRunning {
		mt.TaskHandle = t.handle
	}
	return mt
}

func (e *Engine) finishTask(t *moveTask, status, failure string) {
	t.mu.Lock()
	t.status, t.failure = status, failure
	t.mu.Unlock()
	if err := e.logTask(t).wait(); err != nil {
		e.cfg.Logger.Warn("native: could not store a move task's end; it will show as failed after a restart", "err", err)
	}
	close(t.done)
}

// finishLocal ends a task that never ran.
func (t *moveTask) finishLocal(status, failure string) {
	t.mu.Lock()
	t.status, t.failure = status, failure
	t.mu.Unlock()
	close(t.done)
}

// taskDone returns a channel closed when the task with that handle ends
// (nil for an unknown handle); tests and benchmarks wait on it.
func (e *Engine) taskDone(handle string) <-chan struct{} {
	e.tasksMu.Lock()
	defer e.tasksMu.Unlock()
	for _, hist := range e.tasks {
		for _, t := range hist {
			if t.handle == handle {
				return t.done
			}
		}
	}
	return nil
}

// maxTaskHistory is how many tasks ListMessageMoveTasks remembers per source.
const maxTaskHistory = 10

// StartMessageMoveTask starts moving the visible messages of a dead-letter
// queue to req.DestinationARN, or each back to the queue it was
// dead-lettered from. Moved messages get a new MessageId and enqueue time.
// One task runs per source queue at a time.
func (e *Engine) StartMessageMoveTask(ctx context.Context, req backend.MoveTaskRequest) (string, error) {
	if e.closed.Load() {
		return "", e.errClosed()
	}
	if req.SourceARN == "" {
		return "", backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter SourceArn.")
	}
	src := e.lookupARN(req.SourceARN)
	if src == nil {
		return "", backend.NewError(backend.CodeResourceNotFoundException, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	if len(e.sourcesOf(req.SourceARN)) == 0 {
		// Real SQS's answer (recorded for issue 19).
		return "", backend.NewError(backend.CodeInvalidParameterValue,
			"Source queue must be configured as a Dead Letter Queue.")
	}
	if req.MaxNumberOfMessagesPerSecond < 0 || req.MaxNumberOfMessagesPerSecond > 500 {
		return "", backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500.", req.MaxNumberOfMessagesPerSecond)
	}
	if req.DestinationARN != "" {
		dst := e.lookupARN(req.DestinationARN)
		if dst == nil {
			return "", backend.NewError(backend.CodeResourceNotFoundException, "The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
		if dst == src {
			return "", backend.NewError(backend.CodeInvalidParameterValue, "The source and destination queues must differ.")
		}
		if (dst.fifo != nil) != (src.fifo != nil) {
			return "", backend.NewError(backend.CodeInvalidParameterValue,
				"The destination queue must be of the same type (standard or FIFO) as the source queue.")
		}
	}
	now := e.clock.Now()
	src.mu.Lock()
	src.sweep(now.UnixNano())
	toMove := int64(src.nReady)
	src.mu.Unlock()

	id := newMessageID()
	hb, _ := json.Marshal(taskHandle{TaskID: id, SourceArn: req.SourceARN})
	t := &moveTask{
		id:        id,
		handle:    base64.StdEncoding.EncodeToString(hb),
		sourceArn: req.SourceARN,
		destArn:   req.DestinationARN,
		rate:      req.MaxNumberOfMessagesPerSecond,
		started:   now,
		cancel:    make(chan struct{}),
		done:      make(chan struct{}),
		status:    backend.MoveTaskRunning,
		toMove:    toMove,
	}
	e.tasksMu.Lock()
	hist := e.tasks[req.SourceARN]
	if n := len(hist); n > 0 {
		last := hist[n-1]
		last.mu.Lock()
		busy := last.status == backend.MoveTaskRunning || last.status == backend.MoveTaskCancelling
		last.mu.Unlock()
		if busy {
			e.tasksMu.Unlock()
			return "", backend.NewError(backend.CodeInvalidParameterValue,
				"There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	hist = append(hist, t)
	if len(hist) > maxTaskHistory {
		hist = hist[len(hist)-maxTaskHistory:]
	}
	e.tasks[req.SourceARN] = hist
	e.tasksWG.Add(1)
	e.tasksMu.Unlock()
	if err := e.logTask(t).wait(); err != nil {
		e.tasksWG.Done()
		t.finishLocal(backend.MoveTaskFailed, "The task could not be stored.")
		return "", err
	}
	go func() {
		defer e.tasksWG.Done()
		e.runMove(t, src)
	}()
	return t.handle, nil
}

// runMove moves messages batch by batch. A batch leaves the source and
// enters its destinations while this goroutine alone holds it, so a cancel
// or close between batches neither loses nor duplicates a message.
func (e *Engine) runMove(t *moveTask, src *queue) {
	const unthrottledBatch = 256
	var window time.Time // start of the current one-second window
	inWindow := 0
	for {
		select {
		case <-t.cancel:
			e.finishTask(t, backend.MoveTaskCancelled, "")
			return
		case <-e.done:
			e.finishTask(t, backend.MoveTaskFailed, "The engine was closed while the task ran.")
			return
		default:
		}
		n := unthrottledBatch
		if t.rate > 0 {
			now := e.clock.Now()
			if window.IsZero() || now.Sub(window) >= time.Second {
				window, inWindow = now, 0
			}
			if inWindow >= t.rate {
				timer := e.clock.NewTimer(window.Add(time.Second).Sub(now))
				select {
				case <-timer.Chan():
				case <-t.cancel:
				case <-e.done:
				}
				timer.Stop()
				continue
			}
			n = t.rate - inWindow
		}
		moved, failure := e.moveBatch(t, src, n)
		inWindow += moved
		t.mu.Lock()
		t.moved += int64(moved)
		t.mu.Unlock()
		if moved > 0 {
			e.logTask(t)
		}
		if failure != "" {
			e.finishTask(t, backend.MoveTaskFailed, failure)
			return
		}
		if moved == 0 || moved < n || !src.hasVisible(e.clock.Now().UnixNano()) {
			// Drained: nothing visible is left to move (a throttled task
			// does not wait out its rate window to find that out).
			e.finishTask(t, backend.MoveTaskCompleted, "")
			return
		}
	}
}

// moveBatch moves up to n visible messages out of src. It returns how many
// it moved, and a failure reason when a destination is missing (the
// messages it could not place stay in src).
func (e *Engine) moveBatch(t *moveTask, src *queue, n int) (int, string) {
	now := e.clock.Now().UnixNano()
	type item struct {
		m   *message
		dst *queue
	}
	var batch []item
	failure := ""
	dests := map[string]*queue{}
	src.mu.Lock()
	if src.deleted.Load() {
		src.mu.Unlock()
		return 0, failNoQueue
	}
	src.advance(now)
	var seqs []uint64
	for len(batch) < n {
		m := src.peekVisible(now)
		if m == nil {
			break
		}
		arn := t.destArn
		if arn == "" && m.ext != nil {
			arn = m.ext.dlqSourceArn
		}
		dst, ok := dests[arn]
		if !ok {
			dst = e.lookupARN(arn)
			dests[arn] = dst
		}
		if dst == nil {
			failure = failNoQueue
			break
		}
		if dst == src {
			failure = "The original source of a message is this dead-letter queue itself."
			break
		}
		src.nReady--
		src.drop(m)
		seqs = append(seqs, m.seq)
		batch = append(batch, item{m, dst})
	}
	src.unlock()
	moved := 0
	for i := 0; i < len(batch); {
		dst := batch[i].dst
		dst.mu.Lock()
		if dst.deleted.Load() {
			dst.mu.Unlock()
			// Put the rest back where it came from; nothing is lost.
			src.mu.Lock()
			var back []*message
			for _, it := range batch[i:] {
				nm := src.adoptBack(it.m, now)
				src.enqueue(nm, 0, now)
				back = append(back, nm)
			}
			src.logSend(back)
			src.serveWaiters(now)
			src.unlock()
			src.logDelete(seqs, false)
			return moved, failNoQueue
		}
		dst.advance(now)
		var sent []*message
		for ; i < len(batch) && batch[i].dst == dst; i++ {
			m := batch[i].m
			nm := dst.adopt(m, now)
			nm.id = newMessageID()
			if dst.fifo != nil && nm.ext.dedupID == "" {
				nm.ext.dedupID = nm.id
			}
			dst.enqueue(nm, 0, now)
			sent = append(sent, nm)
			moved++
		}
		dst.logSend(sent)
		dst.serveWaiters(now)
		dst.unlock()
	}
	src.logDelete(seqs, false)
	return moved, failure
}

// failNoQueue is the FailureReason of a task whose destination (or
// source) queue does not exist or was deleted while it ran, as SQS gives
// it.
const failNoQueue = "AWS.SimpleQueueService.NonExistentQueue"

// adoptBack re-creates a message taken out of q, unchanged but for its
// sequence. Callers hold q.mu.
func (q *queue) adoptBack(m *message, nowNanos int64) *message {
	nm := q.adopt(m, nowNanos)
	nm.sentAt = m.sentAt
	nm.receiveCount = m.receiveCount
	nm.firstRecvAt = m.firstRecvAt
	if m.ext != nil {
		nm.ext.dlqSourceArn = m.ext.dlqSourceArn
	}
	return nm
}

// hasVisible reports whether q has a visible message.
func (q *queue) hasVisible(nowNanos int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.advance(nowNanos)
	return q.peekVisible(nowNanos) != nil
}

// peekVisible returns the oldest visible message without taking it, or nil.
// Callers hold mu and have called advance.
func (q *queue) peekVisible(nowNanos int64) *message {
	if q.fifo != nil {
		// Any visible message of any group, in group order.
		var best *message
		for _, g := range q.fifo.groups {
			for _, m := range g.msgs[g.head:] {
				if m.state == stateReady {
					if best == nil || m.seq < best.seq {
						best = m
					}
					break
				}
			}
		}
		return best
	}
	rings := []*ring[*message]{&q.ready}
	q.heldBack(func(r *ring[*message]) { rings = append(rings, r) })
	for _, r := range rings {
		for r.len() > 0 {
			m := r.front()
			if m.state != stateReady {
				popSlot(r) // a tombstone
				continue
			}
			if q.expired(m, nowNanos) {
				popSlot(r)
				q.nReady--
				q.drop(m)
				continue
			}
			return m
		}
	}
	return nil
}

// CancelMessageMoveTask cancels a running task and returns how many
// messages it had moved. Messages already moved stay moved.
func (e *Engine) CancelMessageMoveTask(ctx context.Context, handle string) (int64, error) {
	if e.closed.Load() {
		return 0, e.errClosed()
	}
	malformed := backend.NewError(backend.CodeInvalidParameterValue, "Value for parameter TaskHandle is invalid.")
	raw, err := base64.StdEncoding.DecodeString(handle)
	if err != nil || handle == "" {
		return 0, malformed
	}
	var th taskHandle
	if json.Unmarshal(raw, &th) != nil || th.TaskID == "" || th.SourceArn == "" {
		return 0, malformed
	}
	// Real SQS's answers (recorded for issue 19).
	if e.lookupARN(th.SourceArn) == nil {
		return 0, backend.NewError(backend.CodeResourceNotFoundException,
			"The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	e.tasksMu.Lock()
	var t *moveTask
	for _, c := range e.tasks[th.SourceArn] {
		if c.id == th.TaskID {
			t = c
		}
	}
	e.tasksMu.Unlock()
	if t == nil {
		return 0, backend.NewError(backend.CodeResourceNotFoundException, "Task does not exist.")
	}
	t.mu.Lock()
	if t.status != backend.MoveTaskRunning {
		t.mu.Unlock()
		return 0, backend.NewError(backend.CodeResourceNotFoundException,
			"The message move task is %s; only a RUNNING task can be cancelled.", t.status)
	}
	t.status = backend.MoveTaskCancelling
	moved := t.moved
	close(t.cancel)
	t.mu.Unlock()
	return moved, nil
}

// ListMessageMoveTasks lists the most recent tasks of a source queue, newest
// first.
func (e *Engine) ListMessageMoveTasks(ctx context.Context, sourceARN string, maxResults int) ([]backend.MoveTask, error) {
	if e.closed.Load() {
		return nil, e.errClosed()
	}
	if maxResults == 0 {
		maxResults = 1
	}
	if maxResults < 1 || maxResults > 10 {
		return nil, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter MaxResults is invalid. Reason: must be between 1 and 10.", maxResults)
	}
	if e.lookupARN(sourceARN) == nil {
		return nil, backend.NewError(backend.CodeResourceNotFoundException, "The resource that you specified for the SourceArn parameter doesn't exist.")
	}
	e.tasksMu.Lock()
	hist := append([]*moveTask(nil), e.tasks[sourceARN]...)
	e.tasksMu.Unlock()
	out := []backend.MoveTask{}
	for i := len(hist) - 1; i >= 0 && len(out) < maxResults; i-- {
		out = append(out, hist[i].snapshot())
	}
	return out, nil
}

// DeadLettered returns how many messages the engine has moved to dead-letter
// queues since it started.
func (e *Engine) DeadLettered() int64 { return e.deadLettered.Load() }
