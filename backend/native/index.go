package native

// msgIndex finds a queue's messages by sequence number, for receipt handles.
// Sequence numbers are handed out in order and messages mostly leave in
// order, so instead of a hash map it keeps pages of 1,024 slots keyed by
// seq/1,024: an insert or a delete is an array store in the page of the
// last access, and a page is freed when its last message leaves. (The cost
// is a page per 1,024 sequence numbers that still hold a message, 8 KiB at
// worst for one long-lived message among 1,023 gone ones.)
type msgIndex struct {
	pages   map[uint64]*msgPage
	n       int
	lastKey uint64
	last    *msgPage
}

const (
	pageBits = 10
	pageSize = 1 << pageBits
)

type msgPage struct {
	slots [pageSize]*message
	n     int
}

func (x *msgIndex) page(seq uint64, create bool) *msgPage {
	key := seq >> pageBits
	if x.last != nil && x.lastKey == key {
		return x.last
	}
	p := x.pages[key]
	if p == nil {
		if !create {
			return nil
		}
		if x.pages == nil {
			x.pages = make(map[uint64]*msgPage)
		}
		p = &msgPage{}
		x.pages[key] = p
	}
	x.last, x.lastKey = p, key
	return p
}

// get returns the message with sequence number seq, or nil.
func (x *msgIndex) get(seq uint64) *message {
	p := x.page(seq, false)
	if p == nil {
		return nil
	}
	return p.slots[seq&(pageSize-1)]
}

// put adds (or replaces) m under m.seq.
func (x *msgIndex) put(m *message) {
	p := x.page(m.seq, true)
	s := &p.slots[m.seq&(pageSize-1)]
	if *s == nil {
		p.n++
		x.n++
	}
	*s = m
}

// del removes the message with sequence number seq, if any.
func (x *msgIndex) del(seq uint64) {
	p := x.page(seq, false)
	if p == nil {
		return
	}
	s := &p.slots[seq&(pageSize-1)]
	if *s == nil {
		return
	}
	*s = nil
	p.n--
	x.n--
	if p.n == 0 {
		delete(x.pages, seq>>pageBits)
		if x.last == p {
			x.last = nil
		}
	}
}

// len returns how many messages the index holds.
func (x *msgIndex) len() int { return x.n }

// each calls fn for every message, in no particular order.
func (x *msgIndex) each(fn func(m *message)) {
	for _, p := range x.pages {
		for _, m := range p.slots {
			if m != nil {
				fn(m)
			}
		}
	}
}

// reset empties the index.
func (x *msgIndex) reset() { *x = msgIndex{} }
