package native

import (
	"context"

	"github.com/postbox-go/postbox/backend"
)

// Operator limits: how many message ids DeleteMessagesByID and
// MoveMessagesByID take at once.
const MaxOperatorIDs = MaxPeekMax

// errNoSuchMessage answers an id that names no message of the queue.
func errNoSuchMessage(id string) *backend.Error {
	return backend.NewError(backend.CodeInvalidParameterValue,
		"Value %s for parameter MessageId is invalid. Reason: no message with that id is in the queue (it may have been deleted).", id)
}

// checkIDs validates an operator call's message ids.
func checkIDs(ids []string) error {
	if len(ids) == 0 {
		return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter MessageId.")
	}
	if len(ids) > MaxOperatorIDs {
		return backend.NewError(backend.CodeInvalidParameterValue,
			"%d message ids is too many. Reason: at most %d at once.", len(ids), MaxOperatorIDs)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if id == "" || seen[id] {
			return backend.NewError(backend.CodeInvalidParameterValue, "Message ids must be distinct and not empty (%q).", id)
		}
		seen[id] = true
	}
	return nil
}

// findByID returns the queue's live messages with those ids, by id.
// Callers hold q.mu and have called advance. It visits the queue's
// messages in no order, comparing ids with a short list rather than
// hashing each message's id: O(n), about 30 ms for a million messages.
func (q *queue) findByID(ids []string, nowNanos int64) map[string]*message {
	found := make(map[string]*message, len(ids))
	var want map[string]bool
	if len(ids) > 8 {
		want = make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
	}
	q.msgs.each(func(m *message) {
		if len(found) == len(ids) || m.state == stateGone {
			return
		}
		hit := false
		if want != nil {
			hit = want[m.id]
		} else {
			for _, id := range ids {
				if m.id == id {
					hit = true
					break
				}
			}
		}
		if hit && !q.expired(m, nowNanos) {
			found[m.id] = m
		}
	})
	return found
}

// DeleteMessagesByID deletes the messages with these ids (1-100) from the
// queue, whatever their state, without a receipt handle: an operator's
// delete (the dashboard's), which SQS has no call for. A consumer that
// holds one of them in flight finds its receipt handle answered as for a
// message already deleted. It returns a result per id, in order: an id
// that names no message of the queue gets InvalidParameterValue. Deleted
// messages are not counted in the queue's Deleted counter (that counts
// deletes by receipt handle). On a durable engine it returns once the
// deletes are on disk. It scans the queue for the ids: O(messages).
func (e *Engine) DeleteMessagesByID(ctx context.Context, queueURL string, ids []string) ([]backend.EntryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	q, err := e.lookupURL(queueURL)
	if err != nil {
		return nil, err
	}
	if err := e.storeCheck(); err != nil {
		return nil, err
	}
	now := e.clock.Now().UnixNano()
	res := make([]backend.EntryResult, len(ids))
	var seqs []uint64
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return nil, errNoQueue()
	}
	q.advance(now)
	found := q.findByID(ids, now)
	for i, id := range ids {
		res[i].ID = id
		m := found[id]
		if m == nil {
			res[i].Err = errNoSuchMessage(id)
			continue
		}
		seqs = append(seqs, m.seq)
		q.remove(m)
	}
	r := q.logDelete(seqs, true)
	if q.fifo != nil && len(seqs) > 0 {
		q.serveWaiters(now) // a group may have been unlocked
	}
	q.unlock()
	if err := r.wait(); err != nil {
		return nil, err
	}
	return res, nil
}

// MoveMessagesByID moves the messages with these ids (1-100) from the
// queue at srcURL to the queue at dstURL, as a message move task moves
// them but only these: each arrives in the destination visible, with a new
// message id, its body, message attributes and (into a FIFO queue) group
// id, and leaves the source. Only visible messages move: one in flight
// (a consumer holds it) or delayed gets InvalidParameterValue, as does an
// id that names no message, and a message without a group id cannot go to
// a FIFO queue. It returns a result per id, in order. The copy is
// written before the original's deletion, so that on a durable engine a
// crash between the two leaves a message in both queues, never in
// neither; it returns once both are on disk. It scans the source for the
// ids: O(messages).
func (e *Engine) MoveMessagesByID(ctx context.Context, srcURL, dstURL string, ids []string) ([]backend.EntryResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkIDs(ids); err != nil {
		return nil, err
	}
	src, err := e.lookupURL(srcURL)
	if err != nil {
		return nil, err
	}
	dst, err := e.lookupURL(dstURL)
	if err != nil {
		return nil, err
	}
	if src == dst {
		return nil, backend.NewError(backend.CodeInvalidParameterValue, "The destination is the source queue itself.")
	}
	if err := e.storeCheck(); err != nil {
		return nil, err
	}
	now := e.clock.Now().UnixNano()
	res := make([]backend.EntryResult, len(ids))
	var batch []*message
	var seqs []uint64
	src.mu.Lock()
	if src.deleted.Load() {
		src.mu.Unlock()
		return nil, errNoQueue()
	}
	src.advance(now)
	dstFIFO := dst.fifo != nil // fixed at creation
	found := src.findByID(ids, now)
	for i, id := range ids {
		res[i].ID = id
		m := found[id]
		switch {
		case m == nil:
			res[i].Err = errNoSuchMessage(id)
		case m.state != stateReady:
			res[i].Err = backend.NewError(backend.CodeInvalidParameterValue,
				"Message %s is not visible (in flight or delayed): only visible messages move.", id)
		case dstFIFO && (m.ext == nil || m.ext.groupID == ""):
			res[i].Err = backend.NewError(backend.CodeInvalidParameterValue,
				"Message %s has no MessageGroupId: it cannot move to a FIFO queue.", id)
		default:
			src.remove(m)
			seqs = append(seqs, m.seq)
			batch = append(batch, m)
		}
	}
	src.unlock()
	if len(batch) == 0 {
		return res, nil
	}
	dst.mu.Lock()
	if dst.deleted.Load() {
		dst.mu.Unlock()
		// Put them back where they came from; nothing is lost.
		src.mu.Lock()
		var back []*message
		for _, m := range batch {
			nm := src.adoptBack(m, now)
			src.enqueue(nm, 0, now)
			back = append(back, nm)
		}
		r1 := src.logSend(back)
		src.serveWaiters(now)
		src.unlock()
		r2 := src.logDelete(seqs, false)
		if err := r1.wait(); err != nil {
			return nil, err
		}
		if err := r2.wait(); err != nil {
			return nil, err
		}
		return nil, errNoQueue()
	}
	dst.advance(now)
	sent := make([]*message, 0, len(batch))
	for _, m := range batch {
		nm := dst.adopt(m, now)
		nm.id = newMessageID()
		if dstFIFO && nm.ext.dedupID == "" {
			nm.ext.dedupID = nm.id
		}
		dst.enqueue(nm, 0, now)
		sent = append(sent, nm)
	}
	r1 := dst.logSend(sent)
	dst.serveWaiters(now)
	dst.unlock()
	r2 := src.logDelete(seqs, false)
	if err := r1.wait(); err != nil {
		return nil, err
	}
	if err := r2.wait(); err != nil {
		return nil, err
	}
	return res, nil
}
