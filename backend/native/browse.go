package native

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// Browse limits (BrowseRequest.MaxScan).
const (
	DefaultBrowseScan = 10_000
	MaxBrowseScan     = 100_000
)

// BrowseFilter selects messages for Engine.Browse; every field that is
// not empty must match.
type BrowseFilter struct {
	// MessageID is the message's id.
	MessageID string
	// Text must occur in the body (case-sensitive).
	Text string
	// State is PeekVisible, PeekInflight or PeekDelayed.
	State string
	// GroupID is the MessageGroupId.
	GroupID string
	// Attribute names a message attribute the message must have; with
	// AttributeValue, its StringValue must equal that.
	Attribute      string
	AttributeValue string
}

// BrowseRequest selects the messages Engine.Browse returns.
type BrowseRequest struct {
	// Max is the most matching messages to return, 1-100; 0 means 10.
	Max int
	// Cursor continues a listing where the previous one stopped (its
	// BrowseResult.Cursor); "" starts from the queue's first message.
	// Unlike PeekRequest.After, a cursor stays valid when messages leave
	// the queue, and continuing from it costs nothing for the messages
	// before it.
	Cursor string
	// Filter selects messages; the zero filter selects every one.
	Filter BrowseFilter
	// MaxScan bounds how many messages one call looks at, matching or
	// not (default 10,000, at most 100,000), so that a filter that matches
	// little in a big queue holds the queue's lock briefly: the caller
	// continues from Cursor.
	MaxScan int
}

// BrowseResult is a page of Engine.Browse.
type BrowseResult struct {
	Messages []PeekedMessage
	// Cursor continues the listing after the last message looked at; ""
	// when the scan reached the end of the queue.
	Cursor string
	// Scanned is how many messages the call looked at.
	Scanned int
}

// Browse is Peek with a filter and a cursor: it returns up to req.Max of
// the queue's messages that match req.Filter, in queue order, changing
// nothing (as Peek). It looks at no more than req.MaxScan messages, and
// starts at the cursor's position without walking the messages before it,
// so paging through a queue of millions costs each page only its own
// messages. Messages past the retention period are left out.
//
// A missing queue is QueueDoesNotExist; Max, MaxScan, a State or a
// Cursor that is not valid is InvalidParameterValue.
func (e *Engine) Browse(ctx context.Context, queueURL string, req BrowseRequest) (BrowseResult, error) {
	if err := ctx.Err(); err != nil {
		return BrowseResult{}, err
	}
	max := req.Max
	if max == 0 {
		max = DefaultPeekMax
	}
	if max < 1 || max > MaxPeekMax {
		return BrowseResult{}, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter Max is invalid. Reason: must be between 1 and %d.", req.Max, MaxPeekMax)
	}
	scan := req.MaxScan
	if scan == 0 {
		scan = DefaultBrowseScan
	}
	if scan < 1 || scan > MaxBrowseScan {
		return BrowseResult{}, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter MaxScan is invalid. Reason: must be between 1 and %d.", req.MaxScan, MaxBrowseScan)
	}
	switch req.Filter.State {
	case "", PeekVisible, PeekInflight, PeekDelayed:
	default:
		return BrowseResult{}, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %s for parameter State is invalid. Reason: must be visible, inflight or delayed.", req.Filter.State)
	}
	var start uint64
	if req.Cursor != "" {
		n, err := strconv.ParseUint(req.Cursor, 10, 64)
		if err != nil {
			return BrowseResult{}, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %s for parameter Cursor is invalid. Reason: not a cursor Browse returned.", req.Cursor)
		}
		start = n
	}
	q, err := e.lookupURL(queueURL)
	if err != nil {
		return BrowseResult{}, err
	}
	f := &req.Filter
	nowNanos := e.clock.Now().UnixNano()
	nowMs := nowNanos / 1e6
	got := make([]peeked, 0, max)
	res := BrowseResult{}
	q.mu.Lock()
	if q.deleted.Load() {
		q.mu.Unlock()
		return BrowseResult{}, errNoQueue()
	}
	retentionMs := int64(q.cfg.retention) * 1000
	last, ended := start, true
	q.msgs.from(start, func(m *message) bool {
		if res.Scanned == scan || len(got) == max {
			ended = false
			return false
		}
		res.Scanned++
		last = m.seq + 1
		if m.state == stateGone || m.sentAt+retentionMs <= nowMs {
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
		if f.matches(m, p.state) {
			got = append(got, p)
		}
		return true
	})
	q.mu.Unlock()
	if !ended {
		res.Cursor = strconv.FormatUint(last, 10)
	}
	res.Messages = make([]PeekedMessage, len(got))
	for i, p := range got {
		res.Messages[i] = q.peekedMessage(p)
	}
	return res, nil
}

// matches reports whether m, in state, passes the filter. It reads only
// the message's immutable fields.
func (f *BrowseFilter) matches(m *message, state string) bool {
	if f.MessageID != "" && f.MessageID != m.id {
		return false
	}
	if f.State != "" && f.State != state {
		return false
	}
	if f.GroupID != "" && (m.ext == nil || m.ext.groupID != f.GroupID) {
		return false
	}
	if f.Attribute != "" {
		v, ok := m.attrs[f.Attribute]
		if !ok || (f.AttributeValue != "" && v.StringValue != f.AttributeValue) {
			return false
		}
	}
	return f.Text == "" || strings.Contains(m.body, f.Text)
}

// from calls fn for the index's messages with sequence numbers from start
// on, in order, until fn returns false. It skips the pages before start's
// without visiting them.
func (x *msgIndex) from(start uint64, fn func(m *message) bool) {
	first := start >> pageBits
	keys := make([]uint64, 0, len(x.pages))
	for k := range x.pages {
		if k >= first {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := x.pages[k]
		i := 0
		if k == first {
			i = int(start & (pageSize - 1))
		}
		for ; i < pageSize; i++ {
			if m := p.slots[i]; m != nil && !fn(m) {
				return
			}
		}
	}
}
