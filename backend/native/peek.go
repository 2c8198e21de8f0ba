package native

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Peeked message states (PeekedMessage.State).
const (
	// PeekVisible is a message a receive could return now (in a FIFO
	// queue, once its group is not locked by an earlier message in flight).
	PeekVisible = "visible"
	// PeekInflight is a received message whose visibility timeout has not
	// ended.
	PeekInflight = "inflight"
	// PeekDelayed is a message sent with a delay that has not ended.
	PeekDelayed = "delayed"
)

// Peek limits (PeekRequest.Max).
const (
	DefaultPeekMax = 10
	MaxPeekMax     = 100
)

// PeekRequest selects the messages Engine.Peek returns.
type PeekRequest struct {
	// Max is the most messages to return, 1-100; 0 means 10.
	Max int
	// After continues a listing after the message with this id (the last
	// one of the previous page); "" starts from the queue's first message.
	// A message that has left the queue meanwhile cannot be continued
	// from: Peek answers InvalidParameterValue and the caller starts again.
	After string
}

// PeekedMessage is one message as Engine.Peek sees it.
//
// Message carries the id, body, MD5s and every message attribute; its
// Attributes hold the system attributes a receive asking for "All" would
// get (SenderId, SentTimestamp, ApproximateReceiveCount,
// ApproximateFirstReceiveTimestamp when received before, and
// MessageGroupId, MessageDeduplicationId, SequenceNumber, AWSTraceHeader,
// DeadLetterQueueSourceArn where the message has them). ReceiptHandle is
// always empty: a peek does not receive.
type PeekedMessage struct {
	backend.Message
	// State is PeekVisible, PeekInflight or PeekDelayed.
	State string
	// SentAt is when the message was sent (for a message dead-lettered
	// from a standard queue, when it was first sent to its source).
	SentAt time.Time
	// ReceiveCount is how many times the message has been received.
	ReceiveCount int
	// VisibleAt is when an in-flight or delayed message becomes visible;
	// zero for a visible message.
	VisibleAt time.Time
	// GroupID is the message's MessageGroupId, or "".
	GroupID string
}

// peeked is a message found under the queue's lock, with the fields that
// the lock guards copied.
type peeked struct {
	m            *message
	state        string
	visibleAt    int64
	receiveCount int32
	firstRecvAt  int64
}

// Peek returns up to req.Max of the queue's messages in queue order (the
// order they entered the queue: for a FIFO queue, send order, which is each
// group's delivery order), visible, in flight and delayed alike, without
// changing anything: visibility, receive counts, FIFO group locks, receipt
// handles and the queue's counters stay as they were, and nothing is
// written to a durable engine's log. Messages past the retention period
// are left out. It is for inspection (the dashboard, postbox peek); it
// holds the queue's lock while it scans, which is O(position of the last
// message returned).
//
// A missing queue is QueueDoesNotExist; Max outside 0-100, or an After
// naming no message of the queue, is InvalidParameterValue.
func (e *Engine) Peek(ctx context.Context, queueURL string, req PeekRequest) ([]PeekedMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	max := req.Max
	if max == 0 {
		max = DefaultPeekMax
	}
	if max < 1 || max > MaxPeekMax {
		return nil, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter Max is invalid. Reason: must be between 1 and %d.", req.Max, MaxPeekMax)
	}
	q, err := e.lookupURL(queueURL)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	nowNanos := now.UnixNano()
	nowMs := nowNanos / 1e6
	got := make([]peeked, 0, max)
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return nil, errNoQueue()
	}
	retentionMs := int64(q.cfg.retention) * 1000
	found := req.After == ""
	q.msgs.inOrder(func(m *message) bool {
		if m.state == stateGone || m.sentAt+retentionMs <= nowMs {
			return true
		}
		if !found {
			found = m.id == req.After
			return true
		}
		p := peeked{m: m, state: PeekVisible, receiveCount: m.receiveCount, firstRecvAt: m.firstRecvAt}
		if (m.state == stateInflight || m.state == stateDelayed) && m.visibleAt > nowNanos {
			p.visibleAt = m.visibleAt
			p.state = PeekInflight
			if m.state == stateDelayed {
				p.state = PeekDelayed
			}
		}
		got = append(got, p)
		return len(got) < max
	})
	q.mu.Unlock()
	if !found {
		return nil, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %s for parameter After is invalid. Reason: no message with that id is in the queue (it may have been deleted); start again from the beginning.", req.After)
	}
	out := make([]PeekedMessage, len(got))
	for i, p := range got {
		out[i] = q.peekedMessage(p)
	}
	return out, nil
}

// peekedMessage builds a PeekedMessage without the lock: it reads only the
// immutable part of the message and the copied fields.
func (q *queue) peekedMessage(p peeked) PeekedMessage {
	m := p.m
	pm := PeekedMessage{
		Message: backend.Message{
			MessageID:              m.id,
			Body:                   m.body,
			MD5OfBody:              m.md5Body,
			MD5OfMessageAttributes: m.md5Attrs,
		},
		State:        p.state,
		SentAt:       time.UnixMilli(m.sentAt),
		ReceiveCount: int(p.receiveCount),
	}
	if p.visibleAt != 0 {
		pm.VisibleAt = time.Unix(0, p.visibleAt)
	}
	if len(m.attrs) > 0 {
		pm.MessageAttributes = cloneAttrs(m.attrs)
	}
	a := map[string]string{
		"SenderId":                q.eng.cfg.SenderID,
		"SentTimestamp":           strconv.FormatInt(m.sentAt, 10),
		"ApproximateReceiveCount": strconv.Itoa(int(p.receiveCount)),
	}
	if p.firstRecvAt != 0 {
		a["ApproximateFirstReceiveTimestamp"] = strconv.FormatInt(p.firstRecvAt, 10)
	}
	if x := m.ext; x != nil {
		set := func(k, v string) {
			if v != "" {
				a[k] = v
			}
		}
		set("AWSTraceHeader", x.traceHeader)
		set("MessageGroupId", x.groupID)
		set("MessageDeduplicationId", x.dedupID)
		set("SequenceNumber", x.sequenceNumber)
		set("DeadLetterQueueSourceArn", x.dlqSourceArn)
		pm.GroupID = x.groupID
	}
	pm.Attributes = a
	return pm
}

// inOrder calls fn for the index's messages in sequence order until fn
// returns false.
func (x *msgIndex) inOrder(fn func(m *message) bool) {
	keys := make([]uint64, 0, len(x.pages))
	for k := range x.pages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, m := range x.pages[k].slots {
			if m != nil && !fn(m) {
				return
			}
		}
	}
}

// first returns the message with the lowest sequence number, or nil.
func (x *msgIndex) first() *message {
	var best *msgPage
	var bestKey uint64
	for k, p := range x.pages {
		if best == nil || k < bestKey {
			best, bestKey = p, k
		}
	}
	if best == nil {
		return nil
	}
	for _, m := range best.slots {
		if m != nil {
			return m
		}
	}
	return nil
}
