package native

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// dedupWindow is how long a FIFO queue remembers a deduplication id, and
// attemptWindow how long it remembers a ReceiveRequestAttemptId.
const (
	dedupWindow   = 5 * time.Minute
	attemptWindow = 5 * time.Minute
)

// seqBase makes sequence numbers large 20-digit decimals, as SQS's are.
const seqBase = 10_000_000_000_000_000_000

// fifoState is a FIFO queue's ordering and deduplication state.
type fifoState struct {
	groups map[string]*group
	avail  ring[*group] // groups that may deliver: none in flight, head visible (may hold stale entries)
	free   []*group     // forgotten groups kept for reuse

	seq        uint64
	dedup      map[dedupKey]dedupEntry
	dedupOrder ring[dedupRec]

	attempts     map[string]*attempt
	attemptOrder ring[attemptRec]
}

// group is one message group. In a FIFO queue it holds its messages in
// send order; the first may be in flight, and while any is, the group is
// locked. In a standard queue it is a tenant of fair queueing and only
// counts its messages.
type group struct {
	id       string
	msgs     []*message // FIFO: msgs[head:] in order
	head     int
	inflight int
	inAvail  bool
	// Fair queueing (standard queues).
	backlog  int            // visible and delayed messages
	lastSend int64          // unix nanoseconds
	noisy    bool           // noisy until its backlog drains or it stops sending
	deferred ring[*message] // visible messages held back while noisy
	held     bool           // in q.noisy
}

// The deduplication history holds every id of the last five minutes, which
// at a high send rate is millions of entries. Its keys are the first 128
// bits of the SHA-256 of the (group-scoped) id, so entries hold no
// pointers and the garbage collector never scans them, and the same id
// hashes alike after a restart.
type dedupKey [2]uint64

type dedupEntry struct {
	messageID [16]byte
	seq       uint64
	at        int64 // unix nanoseconds
}

type dedupRec struct {
	key dedupKey
	at  int64
}

type attemptRec struct {
	key string
	at  int64
}

type attempt struct {
	got []taken
	vis []int64 // visibleAt of each message right after that receive
	at  int64
}

// dedupKeyOf hashes a deduplication id, scoped to its group when the queue
// deduplicates per group.
func dedupKeyOf(group, id string, perGroup bool) dedupKey {
	h := sha256.New()
	if perGroup {
		h.Write([]byte(group))
		h.Write([]byte{0})
	}
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return dedupKey{binary.BigEndian.Uint64(sum[0:8]), binary.BigEndian.Uint64(sum[8:16])}
}

func newFIFOState() *fifoState {
	return &fifoState{
		groups:   make(map[string]*group),
		dedup:    make(map[dedupKey]dedupEntry),
		attempts: make(map[string]*attempt),
	}
}

func (g *group) len() int { return len(g.msgs) - g.head }

func (g *group) front() *message { return g.msgs[g.head] }

func (g *group) push(m *message) { g.msgs = append(g.msgs, m) }

// removeMsg takes m out of the group's order. Removals are almost always at
// the front (messages are deleted in order), so the scan is short.
func (g *group) removeMsg(m *message) {
	for i := g.head; i < len(g.msgs); i++ {
		if g.msgs[i] == m {
			if i == g.head {
				g.msgs[i] = nil
				g.head++
			} else {
				copy(g.msgs[i:], g.msgs[i+1:])
				g.msgs[len(g.msgs)-1] = nil
				g.msgs = g.msgs[:len(g.msgs)-1]
			}
			break
		}
	}
	if g.head == len(g.msgs) {
		g.msgs, g.head = g.msgs[:0], 0
	} else if g.head > 32 && g.head > len(g.msgs)/2 {
		n := copy(g.msgs, g.msgs[g.head:])
		clear(g.msgs[n:])
		g.msgs, g.head = g.msgs[:n], 0
	}
}

// checkAvail queues g for delivery when it may deliver: its first message
// is visible. Later messages of the group may be in flight (a head whose
// visibility timeout ran out, or was set to 0, while the message after it
// is still in flight is delivered again, as SQS does); the first one that
// is not visible holds back the rest. Callers hold mu.
func (q *queue) checkAvail(g *group) {
	if g.inAvail || g.len() == 0 || g.front().state != stateReady {
		return
	}
	g.inAvail = true
	q.fifo.avail.push(g)
}

// forgetGroup drops an empty, idle group, keeping a few for reuse: queues
// with many short-lived groups would otherwise allocate a group per message.
// A group already forgotten (its last message dropped while a receive was
// taking from it) is left alone, so it is never kept twice. Callers hold mu.
func (q *queue) forgetGroup(g *group) {
	if g.len() == 0 && g.inflight == 0 && !g.inAvail && q.fifo.groups[g.id] == g {
		delete(q.fifo.groups, g.id)
		if len(q.fifo.free) < maxFreeGroups {
			*g = group{msgs: g.msgs[:0]}
			q.fifo.free = append(q.fifo.free, g)
		}
	}
}

// maxFreeGroups bounds the groups a FIFO queue keeps for reuse.
const maxFreeGroups = 256

// takeFIFO hands out up to max messages: as many of one group as it can,
// then of the next groups. Of each group it takes the visible messages from
// the group's head on, up to the first that is in flight or delayed.
func (q *queue) takeFIFO(max int, visibility, nowNanos int64, out []taken) []taken {
	nowMs := nowNanos / 1e6
	f := q.fifo
	start := len(out)
	defer func() { q.logReceive(out[start:]) }()
	for len(out) < max && f.avail.len() > 0 {
		g := f.avail.pop()
		g.inAvail = false
		// The k messages taken from g in this loop are
		// g.msgs[g.head : g.head+k]: they stay in place, while a message
		// dropped at g.head+k leaves the group (removeMsg keeps the order
		// of the rest, and g.head points at the first).
		for k := 0; len(out) < max; {
			i := g.head + k
			if i >= len(g.msgs) {
				break
			}
			m := g.msgs[i]
			if m.state != stateReady {
				break // in flight or delayed: it holds back the rest of its group
			}
			if q.expired(m, nowNanos) {
				q.nReady--
				q.drop(m) // also takes it out of g
				continue
			}
			q.nReady--
			if q.mustDeadLetter(m) {
				q.deadLetter(m) // also takes it out of g
				continue
			}
			q.markInflight(m, visibility, nowNanos, nowMs) // counts g.inflight
			out = append(out, taken{m: m, receiveCount: m.receiveCount, firstRecvAt: m.firstRecvAt})
			k++
		}
		q.checkAvail(g)
		q.forgetGroup(g)
	}
	return out
}

// fifoSend assigns sequence numbers and applies deduplication to the built
// messages of one send, filling results. It returns the messages to
// enqueue. Callers hold mu.
func (q *queue) fifoSend(msgs []*message, keys []dedupKey, results []backend.SendResult, nowNanos int64) {
	f := q.fifo
	for f.dedupOrder.len() > 0 && f.dedupOrder.front().at+int64(dedupWindow) <= nowNanos {
		r := f.dedupOrder.pop()
		if e, ok := f.dedup[r.key]; ok && e.at == r.at {
			delete(f.dedup, r.key)
		}
	}
	for i, m := range msgs {
		if m == nil {
			continue
		}
		key := keys[i]
		if e, ok := f.dedup[key]; ok {
			results[i].MessageID = formatUUID(e.messageID)
			results[i].SequenceNumber = strconv.FormatUint(seqBase+e.seq, 10)
			msgs[i] = nil
			continue
		}
		f.seq++
		m.ext.sequenceNumber = strconv.FormatUint(seqBase+f.seq, 10)
		results[i].SequenceNumber = m.ext.sequenceNumber
		f.dedup[key] = dedupEntry{messageID: parseUUID(m.id), seq: f.seq, at: nowNanos}
		f.dedupOrder.push(dedupRec{key: key, at: nowNanos})
	}
}

// enqueueFIFO appends m to its group. Callers hold mu.
func (q *queue) enqueueFIFO(m *message) {
	f := q.fifo
	g := f.groups[m.ext.groupID]
	if g == nil {
		if n := len(f.free); n > 0 {
			g = f.free[n-1]
			f.free = f.free[:n-1]
		} else {
			g = &group{}
		}
		g.id = m.ext.groupID
		f.groups[g.id] = g
	}
	m.ext.grp = g
	g.push(m)
}

// checkFIFOBatch applies the FIFO rules that fail a send as a whole, as
// SQS's SendMessageBatch does: every entry needs a MessageGroupId, and a
// MessageDeduplicationId unless the queue deduplicates by content. An
// entry that sets either to the empty string fails alone (see
// backend.ValidateSendEntry).
func checkFIFOBatch(entries []backend.SendEntry, contentDedup bool) *backend.Error {
	for i := range entries {
		if e := &entries[i]; e.MessageGroupID == "" && !e.MessageGroupIDSet {
			return backend.NewError(backend.CodeMissingParameter,
				"The request must contain the parameter MessageGroupId.")
		}
	}
	if contentDedup {
		return nil
	}
	for i := range entries {
		if e := &entries[i]; e.MessageDeduplicationID == "" && !e.MessageDeduplicationIDSet {
			return backend.NewError(backend.CodeInvalidParameterValue,
				"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
	}
	return nil
}

// checkFIFOEntry applies the FIFO rules to one send entry (that passed
// checkFIFOBatch and backend.ValidateSendEntry) and fills in the
// content-based deduplication id.
func checkFIFOEntry(e *backend.SendEntry, contentDedup bool) (dedupID string, err *backend.Error) {
	if e.DelaySeconds != nil && *e.DelaySeconds != 0 {
		return "", backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.", *e.DelaySeconds)
	}
	if e.MessageDeduplicationID != "" {
		return e.MessageDeduplicationID, nil
	}
	sum := sha256.Sum256([]byte(e.Body))
	return hex.EncodeToString(sum[:]), nil
}

// retryAttempt returns the messages of an earlier receive with the same
// attempt id, with their visibility reset, when none of them was deleted or
// changed since. Callers hold mu.
func (q *queue) retryAttempt(id string, visibility, nowNanos int64) ([]taken, bool) {
	f := q.fifo
	for f.attemptOrder.len() > 0 && f.attemptOrder.front().at+int64(attemptWindow) <= nowNanos {
		r := f.attemptOrder.pop()
		if a, ok := f.attempts[r.key]; ok && a.at == r.at {
			delete(f.attempts, r.key)
		}
	}
	a, ok := f.attempts[id]
	if !ok {
		return nil, false
	}
	for i, t := range a.got {
		m := t.m
		if m.state != stateInflight || m.receiveCount != t.receiveCount || m.visibleAt != a.vis[i] {
			delete(f.attempts, id)
			return nil, false
		}
	}
	for i, t := range a.got {
		t.m.visibleAt = nowNanos + visibility
		q.pending.fix(int(t.m.heapIdx))
		a.vis[i] = t.m.visibleAt
	}
	return a.got, true
}

// recordAttempt remembers what a receive with an attempt id returned.
// Callers hold mu.
func (q *queue) recordAttempt(id string, got []taken, nowNanos int64) {
	a := &attempt{got: slices.Clone(got), vis: make([]int64, len(got)), at: nowNanos}
	for i, t := range got {
		a.vis[i] = t.m.visibleAt
	}
	q.fifo.attempts[id] = a
	q.fifo.attemptOrder.push(attemptRec{key: id, at: nowNanos})
	q.logAttempt(id, a)
}
