package native

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"unsafe"

	"github.com/postbox-go/postbox/backend"
)

// Message states.
const (
	stateReady    uint8 = iota // visible, in q.ready (or a FIFO group)
	stateInflight              // received, invisible until visibleAt
	stateDelayed               // sent with a delay, invisible until visibleAt
	stateGone                  // deleted, purged or expired
)

// message is one stored message. The fields above the line never change
// after the message is enqueued, so they may be read without the queue's
// lock once the message has been handed out under it; the rest belong to the
// queue's lock.
type message struct {
	seq      uint64 // queue-local sequence, the key of q.msgs and of receipt handles
	id       string
	body     string
	md5Body  string
	attrs    map[string]backend.MessageAttributeValue
	md5Attrs string
	sentAt   int64 // unix milliseconds of the original enqueue
	nonce    uint64
	ext      *msgExt // FIFO, tracing and dead-letter fields; nil for most messages
	// ----
	visibleAt    int64 // unix nanoseconds: end of delay or visibility timeout
	receivedAt   int64 // unix nanoseconds of the receive that issued the current handle
	firstRecvAt  int64 // unix milliseconds
	receiveCount int32
	heapIdx      int32
	state        uint8
	// inRing is true while a slot of q.ready or of a tenant's held-back
	// ring holds the message (standard queues). A visible message hidden
	// by a visibility change keeps its slot, as a tombstone while it is
	// invisible; when it becomes visible again before the slot is reached,
	// the slot serves it and it is not pushed twice.
	inRing bool
}

// msgExt holds the fields only some messages have.
type msgExt struct {
	traceHeader    string
	md5SysAttrs    string
	groupID        string
	dedupID        string
	sequenceNumber string
	dlqSourceArn   string
	grp            *group // FIFO: the message's group (guarded by the queue's lock)
}

// group returns the message's FIFO group or fair-queueing tenant, or nil.
func (m *message) group() *group {
	if m.ext == nil {
		return nil
	}
	return m.ext.grp
}

// newMessageID returns a random version 4 UUID. math/rand/v2's global source
// is a per-thread ChaCha8 generator: fast, safe for concurrent use, and
// seeded from the operating system.
func newMessageID() string {
	return formatUUID(newMessageUUID())
}

// newMessageUUID returns the bytes of a new random (version 4) UUID.
func newMessageUUID() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rand.Uint64())
	binary.BigEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return b
}

// formatUUID writes 16 bytes in the 8-4-4-4-12 hex form.
func formatUUID(b [16]byte) string {
	var s [36]byte
	putUUID(&s, b)
	return string(s[:])
}

// putUUID writes 16 bytes in the 8-4-4-4-12 hex form into s.
func putUUID(s *[36]byte, b [16]byte) {
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
}

// idTextLen is the length of a message's id and the hex MD5 of its body,
// which a send writes side by side (see textOf).
const idTextLen = 36 + 32

// putIDText writes a new message id and the hex MD5 of body into t, and
// returns them as strings that share t's memory: a send allocates the
// text of all its messages at once, and t is never written again.
func putIDText(t []byte, body string) (id, md5Body string) {
	t = t[:idTextLen]
	putUUID((*[36]byte)(t[:36]), newMessageUUID())
	sum := md5.Sum(unsafe.Slice(unsafe.StringData(body), len(body)))
	hex.Encode(t[36:], sum[:])
	return unsafe.String(&t[0], 36), unsafe.String(&t[36], 32)
}

// parseUUID reads what formatUUID wrote (message ids are always in that
// form).
func parseUUID(s string) [16]byte {
	var b [16]byte
	var h [32]byte
	copy(h[0:8], s[0:8])
	copy(h[8:12], s[9:13])
	copy(h[12:16], s[14:18])
	copy(h[16:20], s[19:23])
	copy(h[20:32], s[24:36])
	hex.Decode(b[:], h[:])
	return b
}

// Receipt handles are base64url(queueGen[4] | seq[8] | receiveCount[4] |
// tag[8]): they name the queue incarnation, the message and the receive that
// issued them; the tag, derived from the message's random nonce, makes them
// unforgeable without having received the message.
const (
	handleRawLen = 24
	handleLen    = 32 // base64 of 24 bytes, no padding needed
)

func handleTag(nonce uint64, receiveCount int32) uint64 {
	x := nonce ^ uint64(receiveCount)*0x9e3779b97f4a7c15
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

func appendHandle(dst []byte, gen uint32, seq uint64, receiveCount int32, nonce uint64) []byte {
	var raw [handleRawLen]byte
	binary.BigEndian.PutUint32(raw[0:4], gen)
	binary.BigEndian.PutUint64(raw[4:12], seq)
	binary.BigEndian.PutUint32(raw[12:16], uint32(receiveCount))
	binary.BigEndian.PutUint64(raw[16:24], handleTag(nonce, receiveCount))
	return base64.RawURLEncoding.AppendEncode(dst, raw[:])
}

type handle struct {
	gen          uint32
	seq          uint64
	receiveCount int32
	tag          uint64
}

func parseHandle(s string) (handle, bool) {
	if len(s) != handleLen {
		return handle{}, false
	}
	var raw [handleRawLen]byte
	n, err := base64.RawURLEncoding.Decode(raw[:], []byte(s))
	if err != nil || n != handleRawLen {
		return handle{}, false
	}
	return handle{
		gen:          binary.BigEndian.Uint32(raw[0:4]),
		seq:          binary.BigEndian.Uint64(raw[4:12]),
		receiveCount: int32(binary.BigEndian.Uint32(raw[12:16])),
		tag:          binary.BigEndian.Uint64(raw[16:24]),
	}, true
}

// timeHeap is a min-heap of messages by visibleAt, with O(log n) removal by
// the index each message keeps (as nsqd's in-flight queue does).
type timeHeap []*message

func (h *timeHeap) push(m *message) {
	m.heapIdx = int32(len(*h))
	*h = append(*h, m)
	h.up(int(m.heapIdx))
}

func (h timeHeap) peek() *message {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h *timeHeap) remove(i int) *message {
	old := *h
	n := len(old) - 1
	m := old[i]
	if i != n {
		old[i] = old[n]
		old[i].heapIdx = int32(i)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	m.heapIdx = -1
	return m
}

// fix restores the heap after h[i].visibleAt changed.
func (h timeHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timeHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h[p].visibleAt <= h[i].visibleAt {
			break
		}
		h[p], h[i] = h[i], h[p]
		h[p].heapIdx, h[i].heapIdx = int32(p), int32(i)
		i = p
	}
}

func (h timeHeap) down(i0 int) bool {
	i, n := i0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].visibleAt < h[l].visibleAt {
			j = r
		}
		if h[i].visibleAt <= h[j].visibleAt {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].heapIdx, h[j].heapIdx = int32(i), int32(j)
		i = j
	}
	return i > i0
}

// ring is a growable FIFO.
type ring[T any] struct {
	buf        []T
	head, size int
}

func (r *ring[T]) len() int { return r.size }

// popSlot takes the first slot of a ring of messages and returns its
// message, which no slot holds any more.
func popSlot(r *ring[*message]) *message {
	m := r.pop()
	m.inRing = false
	return m
}

func (r *ring[T]) push(v T) {
	if r.size == len(r.buf) {
		n := 2 * len(r.buf)
		if n == 0 {
			n = 16
		}
		nb := make([]T, n)
		k := copy(nb, r.buf[r.head:])
		copy(nb[k:], r.buf[:r.head])
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

// front returns the oldest element without removing it; r must not be empty.
func (r *ring[T]) front() T { return r.buf[r.head] }

func (r *ring[T]) pop() T {
	var zero T
	if r.size == 0 {
		return zero
	}
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	if r.size == 0 {
		r.head = 0
	}
	if len(r.buf) > 64 && r.size < len(r.buf)/4 {
		r.resize(len(r.buf) / 2)
	}
	return v
}

func (r *ring[T]) resize(n int) {
	nb := make([]T, n)
	for i := 0; i < r.size; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

// filter keeps the elements for which keep returns true, in order.
func (r *ring[T]) filter(keep func(T) bool) {
	var zero T
	n := r.size
	w := 0
	for i := 0; i < n; i++ {
		v := r.buf[(r.head+i)%len(r.buf)]
		if keep(v) {
			r.buf[(r.head+w)%len(r.buf)] = v
			w++
		}
	}
	for i := w; i < n; i++ {
		r.buf[(r.head+i)%len(r.buf)] = zero
	}
	r.size = w
}

func randUint64() uint64 { return rand.Uint64() }
