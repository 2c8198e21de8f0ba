package native

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/postbox-go/postbox/backend"
)

// Durability. With Config.DataDir set, every change to a queue is appended
// to a write-ahead log in that directory before it is acknowledged, and
// the engine rebuilds its state from the log (and the latest snapshot) when
// it opens. Snapshots, written when the log has grown, make older log
// segments obsolete, so deleted and expired messages do not grow the
// directory without bound.
//
// Records name queues by their incarnation number (gen) and carry a log
// sequence number (LSN). A snapshot records, per queue, the LSN its state is
// current to; replay applies only later records of that queue. Records of a
// queue are appended under the queue's lock, so per queue the LSN order is
// the order of the changes.

// compactEvery is how much log a snapshot makes obsolete at the least.
const compactEvery = 64 << 20

// ---- appending records (callers hold q.mu unless said otherwise) ----

func (q *queue) begin(t byte) (*wal, *enc) {
	w := q.eng.wal
	if w == nil {
		return nil, nil
	}
	q.scratch.b = q.scratch.b[:0]
	q.scratch.u(w.nextLSN())
	q.scratch.u(uint64(q.gen))
	return w, &q.scratch
}

func (q *queue) logSend(msgs []*message) *round {
	w, e := q.begin(recSend)
	if w == nil {
		return nil
	}
	n := 0
	for _, m := range msgs {
		if m != nil {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	e.u(uint64(n))
	for _, m := range msgs {
		if m != nil {
			encMsg(e, m)
		}
	}
	return w.append(recSend, e.b)
}

func encMsg(e *enc, m *message) {
	e.u(m.seq)
	e.s(m.id)
	e.s(m.body)
	e.s(m.md5Body)
	e.attrMap(m.attrs)
	e.s(m.md5Attrs)
	e.i(m.sentAt)
	e.u(m.nonce)
	e.flag(m.ext != nil)
	if x := m.ext; x != nil {
		e.s(x.traceHeader)
		e.s(x.md5SysAttrs)
		e.s(x.groupID)
		e.s(x.dedupID)
		e.s(x.sequenceNumber)
		e.s(x.dlqSourceArn)
	}
	e.u(uint64(m.state))
	e.i(m.visibleAt)
	e.i(m.receivedAt)
	e.i(m.firstRecvAt)
	e.u(uint64(m.receiveCount))
}

func decMsg(d *dec) *message {
	m := &message{heapIdx: -1}
	m.seq = d.u()
	// The strings are read as views of the record, then copied together
	// into one allocation (pack): recovery of a million messages is then
	// a million allocations, not six million.
	m.id = d.view()
	m.body = d.view()
	m.md5Body = d.view()
	m.attrs = d.attrMap()
	m.md5Attrs = d.view()
	m.sentAt = d.i()
	m.nonce = d.u()
	if d.flag() {
		m.ext = &msgExt{
			traceHeader: d.view(), md5SysAttrs: d.view(), groupID: d.view(), dedupID: d.view(),
			sequenceNumber: d.view(), dlqSourceArn: d.view(),
		}
	}
	pack(m)
	m.state = uint8(d.u())
	m.visibleAt = d.i()
	m.receivedAt = d.i()
	m.firstRecvAt = d.i()
	m.receiveCount = int32(d.u())
	return m
}

// logReceive records what a receive handed out. Receives do not wait for
// the sync: after a crash, receive counts may lag by what was not yet
// synced.
func (q *queue) logReceive(got []taken) {
	if len(got) == 0 {
		return
	}
	w, e := q.begin(recReceive)
	if w == nil {
		return
	}
	e.u(uint64(len(got)))
	for _, t := range got {
		m := t.m
		e.u(m.seq)
		e.u(uint64(t.receiveCount))
		e.i(t.firstRecvAt)
		e.i(m.receivedAt)
		e.i(m.visibleAt)
	}
	w.append(recReceive, e.b)
}

// logVisibility records the state and visibility deadline of messages.
func (q *queue) logVisibility(ms []*message) *round {
	if len(ms) == 0 {
		return nil
	}
	w, e := q.begin(recVisibility)
	if w == nil {
		return nil
	}
	e.u(uint64(len(ms)))
	for _, m := range ms {
		e.u(m.seq)
		e.u(uint64(m.state))
		e.i(m.visibleAt)
	}
	return w.append(recVisibility, e.b)
}

// logDelete records deleted messages. It may be called without q.mu for
// messages already gone from memory (moved elsewhere), with its own buffer.
func (q *queue) logDelete(seqs []uint64, locked bool) *round {
	w := q.eng.wal
	if w == nil || len(seqs) == 0 {
		return nil
	}
	var e *enc
	if locked {
		_, e = q.begin(recDelete)
	} else {
		e = &enc{}
		e.u(w.nextLSN())
		e.u(uint64(q.gen))
	}
	e.u(uint64(len(seqs)))
	for _, s := range seqs {
		e.u(s)
	}
	return w.append(recDelete, e.b)
}

func (q *queue) logPurge(at int64) *round {
	w, e := q.begin(recPurge)
	if w == nil {
		return nil
	}
	e.i(at)
	return w.append(recPurge, e.b)
}

func (q *queue) logAttempt(id string, a *attempt) {
	w, e := q.begin(recAttempt)
	if w == nil {
		return
	}
	encAttempt(e, id, a)
	w.append(recAttempt, e.b)
}

func encAttempt(e *enc, id string, a *attempt) {
	e.s(id)
	e.i(a.at)
	e.u(uint64(len(a.got)))
	for i, t := range a.got {
		e.u(t.m.seq)
		e.u(uint64(t.receiveCount))
		e.i(t.firstRecvAt)
		e.i(a.vis[i])
	}
}

// queueSettings are a queue's settable attributes as strings, enough to
// rebuild its queueConfig.
func (c *queueConfig) settings() map[string]string {
	out := map[string]string{}
	for name := range settableAttrs {
		if name == attrFifoQueue {
			continue
		}
		if v, ok := c.value(name); ok {
			out[name] = v
		}
	}
	return out
}

func (q *queue) encCreate(e *enc) {
	e.s(q.account)
	e.s(q.name)
	e.i(q.created)
	e.i(q.lastModified)
	e.strMap(q.cfg.settings())
	e.strMap(q.tags)
}

func (q *queue) logCreate() *round {
	w, e := q.begin(recCreateQueue)
	if w == nil {
		return nil
	}
	q.encCreate(e)
	return w.append(recCreateQueue, e.b)
}

func (q *queue) logSetAttrs(attrs backend.Attributes) *round {
	w, e := q.begin(recSetAttrs)
	if w == nil {
		return nil
	}
	e.i(q.lastModified)
	e.strMap(attrs)
	return w.append(recSetAttrs, e.b)
}

func (q *queue) logTags() *round {
	w, e := q.begin(recTags)
	if w == nil {
		return nil
	}
	e.strMap(q.tags)
	return w.append(recTags, e.b)
}

func (q *queue) logDeleteQueue(at int64) *round {
	w, e := q.begin(recDeleteQueue)
	if w == nil {
		return nil
	}
	e.s(q.account)
	e.s(q.name)
	e.i(at)
	return w.append(recDeleteQueue, e.b)
}

func (e *Engine) logTask(t *moveTask) *round {
	w := e.wal
	if w == nil {
		return nil
	}
	var x enc
	x.u(w.nextLSN())
	x.u(0)
	encTask(&x, t)
	return w.append(recTask, x.b)
}

func encTask(x *enc, t *moveTask) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x.s(t.id)
	x.s(t.handle)
	x.s(t.sourceArn)
	x.s(t.destArn)
	x.i(int64(t.rate))
	x.i(t.started.UnixNano())
	x.s(t.status)
	x.i(t.moved)
	x.i(t.toMove)
	x.s(t.failure)
}

// change runs f under the queue's lock and then, with the lock released,
// waits for what f logged to be stable.
func (q *queue) change(f func() (*round, error)) error {
	r, err := func() (*round, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		return f()
	}()
	if err != nil {
		return err
	}
	return r.wait()
}

// barrier waits until everything logged so far is stable: see wal.barrier.
func (e *Engine) barrier() error {
	if e.wal == nil {
		return nil
	}
	return e.wal.barrier().wait()
}

// storeCheck refuses a change up front while the store cannot write.
func (e *Engine) storeCheck() error {
	if e.wal == nil {
		return nil
	}
	return e.wal.check()
}

// ---- snapshots ----

// Compact writes a snapshot of the whole engine and deletes the log
// segments and the snapshot it makes obsolete. The engine does it on its
// own as the log grows; it is exported for tools and tests. It does nothing
// for an engine without a data directory.
func (e *Engine) Compact() error {
	if e.wal == nil {
		return nil
	}
	e.compactMu.Lock()
	defer e.compactMu.Unlock()
	old, _, err := e.wal.rotate()
	if err != nil {
		return err
	}
	w := e.wal
	num := w.segs[len(w.segs)-1] // the snapshot is current to the start of this segment
	tmp := filepath.Join(w.dir, snapName(num)+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("native: snapshot: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = e.writeSnapshot(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Rename(tmp, filepath.Join(w.dir, snapName(num)))
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("native: snapshot: %w", err)
	}
	snaps, _ := listFiles(w.dir, "snapshot", ".snap")
	for _, n := range snaps {
		if n < num {
			os.Remove(filepath.Join(w.dir, snapName(n)))
		}
	}
	w.dropSegments(old)
	return nil
}

func (e *Engine) writeSnapshot(bw *bufio.Writer) error {
	var frame []byte
	put := func(t byte, p []byte) error {
		frame = appendFrame(frame[:0], t, p)
		_, err := bw.Write(frame)
		return err
	}
	qs := e.allQueues()
	e.mu.RLock()
	deleted := make(map[string]time.Time, len(e.deleted))
	for k, v := range e.deleted {
		deleted[k] = v
	}
	e.mu.RUnlock()
	slices.SortFunc(qs, func(a, b *queue) int { return int(a.gen) - int(b.gen) })
	var x enc
	for _, q := range qs {
		if err := q.writeSnapshot(put); err != nil {
			return err
		}
	}
	for key, at := range deleted {
		x.b = x.b[:0]
		x.u(0)
		x.u(0)
		account, name, _ := cutKey(key)
		x.s(account)
		x.s(name)
		x.i(at.UnixNano())
		if err := put(recDeleteQueue, x.b); err != nil {
			return err
		}
	}
	e.tasksMu.Lock()
	var tasks []*moveTask
	for _, hist := range e.tasks {
		tasks = append(tasks, hist...)
	}
	e.tasksMu.Unlock()
	for _, t := range tasks {
		x.b = x.b[:0]
		x.u(0)
		x.u(0)
		encTask(&x, t)
		if err := put(recTask, x.b); err != nil {
			return err
		}
	}
	x.b = x.b[:0]
	x.u(uint64(e.nextGen.Load()))
	return put(recEnd, x.b)
}

func cutKey(key string) (account, name string, ok bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

// writeSnapshot writes one queue: its mark, settings, messages, and FIFO
// history. It holds the queue's lock throughout, so the queue's state and
// its mark agree.
func (q *queue) writeSnapshot(put func(byte, []byte) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted.Load() {
		return nil
	}
	var x enc
	x.u(q.eng.wal.currentLSN())
	x.u(uint64(q.gen))
	x.u(q.nextSeq)
	fifoSeq := uint64(0)
	if q.fifo != nil {
		fifoSeq = q.fifo.seq
	}
	x.u(fifoSeq)
	x.i(q.purgedAt)
	x.u(uint64(q.msgs.len()))
	if err := put(recQueueMark, x.b); err != nil {
		return err
	}
	x.b = x.b[:0]
	x.u(0)
	x.u(uint64(q.gen))
	q.encCreate(&x)
	if err := put(recCreateQueue, x.b); err != nil {
		return err
	}
	const chunk = 256
	batch := make([]*message, 0, chunk)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		x.b = x.b[:0]
		x.u(0)
		x.u(uint64(q.gen))
		x.u(uint64(len(batch)))
		for _, m := range batch {
			encMsg(&x, m)
		}
		batch = batch[:0]
		return put(recSend, x.b)
	}
	// In sequence order, so that recovery finds them sorted.
	all := make([]*message, 0, q.msgs.len())
	q.msgs.each(func(m *message) { all = append(all, m) })
	slices.SortFunc(all, func(a, b *message) int {
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
	for _, m := range all {
		batch = append(batch, m)
		if len(batch) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if f := q.fifo; f != nil {
		x.b = x.b[:0]
		x.u(0)
		x.u(uint64(q.gen))
		x.u(uint64(len(f.dedup)))
		for k, d := range f.dedup {
			x.u(k[0])
			x.u(k[1])
			x.b = append(x.b, d.messageID[:]...)
			x.u(d.seq)
			x.i(d.at)
		}
		if err := put(recDedup, x.b); err != nil {
			return err
		}
		for id, a := range f.attempts {
			x.b = x.b[:0]
			x.u(0)
			x.u(uint64(q.gen))
			encAttempt(&x, id, a)
			if err := put(recAttempt, x.b); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- recovery ----

// replayer rebuilds the engine from a snapshot and the log.
type replayer struct {
	e        *Engine
	byGen    map[uint32]*queue
	marks    map[uint32]uint64
	attempts map[uint32]map[string]pendingAttempt
	maxLSN   uint64
	maxGen   uint32
	tasks    []*moveTask
	taskByID map[string]*moveTask
	// pendingMark is a snapshot's mark, waiting for its queue's record.
	pendingMark *markState
	// order lists each queue's messages as they were read (a snapshot
	// writes them in sequence order), so finish rarely needs to sort.
	order map[uint32][]*message
}

type pendingAttempt struct {
	at   int64
	seqs []uint64
	rcs  []int32
	frs  []int64
	vis  []int64
}

func newReplayer(e *Engine) *replayer {
	return &replayer{
		e: e, byGen: map[uint32]*queue{}, marks: map[uint32]uint64{},
		attempts: map[uint32]map[string]pendingAttempt{}, taskByID: map[string]*moveTask{},
		order: map[uint32][]*message{},
	}
}

// apply applies one record. snapshot is true for records of a snapshot,
// which are state, not changes.
func (r *replayer) apply(f frame, snapshot bool) error {
	d := &dec{b: f.payload}
	if f.typ == recEnd {
		if g := uint32(d.u()); g > r.maxGen {
			r.maxGen = g
		}
		return d.err
	}
	lsn := d.u()
	gen := uint32(d.u())
	if lsn > r.maxLSN {
		r.maxLSN = lsn
	}
	if gen > r.maxGen {
		r.maxGen = gen
	}
	if !snapshot && gen != 0 && lsn <= r.marks[gen] {
		return nil // the snapshot already has it
	}
	q := r.byGen[gen]
	switch f.typ {
	case recQueueMark:
		r.marks[gen] = lsn
		nextSeq, fifoSeq, purgedAt := d.u(), d.u(), d.i()
		count := int(d.u())
		r.pendingMark = &markState{gen: gen, nextSeq: nextSeq, fifoSeq: fifoSeq, purgedAt: purgedAt, count: count}
	case recCreateQueue:
		account, name := d.s(), d.s()
		created, lastModified := d.i(), d.i()
		settings, tags := d.strMap(), d.strMap()
		if d.err != nil {
			return d.err
		}
		fifo := backend.IsFIFOName(name)
		cfg, aerr := applyAttrs(defaultConfig(fifo), backend.Attributes(settings), false)
		if aerr != nil {
			return fmt.Errorf("queue %s: %v", name, aerr)
		}
		q = newQueue(r.e, account, name, cfg, time.Unix(created, 0))
		q.gen = gen
		q.lastModified = lastModified
		q.tags = tags
		if pm := r.pendingMark; pm != nil && pm.gen == gen {
			q.nextSeq = pm.nextSeq
			if q.fifo != nil {
				q.fifo.seq = pm.fifoSeq
			}
			q.purgedAt = pm.purgedAt
			r.order[gen] = make([]*message, 0, pm.count)
			r.pendingMark = nil
		}
		r.byGen[gen] = q
		r.e.queues[account+"/"+name] = q
	case recDeleteQueue:
		account, name, at := d.s(), d.s(), d.i()
		key := account + "/" + name
		if q != nil && r.e.queues[key] == q {
			delete(r.e.queues, key)
		}
		delete(r.byGen, gen)
		r.e.deleted[key] = time.Unix(0, at)
	case recTask:
		t := decTask(d)
		if d.err != nil {
			return d.err
		}
		if old := r.taskByID[t.id]; old != nil {
			old.status, old.moved, old.failure = t.status, t.moved, t.failure
		} else {
			r.taskByID[t.id] = t
			r.tasks = append(r.tasks, t)
		}
	default:
		if q == nil {
			return nil // a queue deleted later, or damaged history
		}
		r.applyQueue(q, f.typ, d, snapshot)
	}
	return d.err
}

type markState struct {
	gen              uint32
	nextSeq, fifoSeq uint64
	purgedAt         int64
	count            int
}

func (r *replayer) applyQueue(q *queue, typ byte, d *dec, snapshot bool) {
	switch typ {
	case recSetAttrs:
		q.lastModified = d.i()
		attrs := d.strMap()
		if cfg, err := applyAttrs(q.cfg, backend.Attributes(attrs), false); err == nil {
			q.cfg = cfg
		}
	case recTags:
		q.tags = d.strMap()
	case recPurge:
		q.purgedAt = d.i()
		q.msgs.reset()
		q.oldestBound = 0
		if q.fifo != nil {
			clear(q.fifo.dedup)
			delete(r.attempts, q.gen)
		}
	case recSend:
		n := d.n()
		for i := 0; i < n && d.err == nil; i++ {
			m := decMsg(d)
			if d.err != nil {
				return
			}
			q.msgs.put(m)
			q.noteSent(m)
			r.order[q.gen] = append(r.order[q.gen], m)
			if m.seq >= q.nextSeq {
				q.nextSeq = m.seq + 1
			}
			if q.fifo != nil && m.ext != nil {
				if sn, err := strconv.ParseUint(m.ext.sequenceNumber, 10, 64); err == nil && sn > seqBase && sn-seqBase > q.fifo.seq {
					q.fifo.seq = sn - seqBase
				}
				if !snapshot && m.ext.dlqSourceArn == "" {
					key := dedupKeyOf(m.ext.groupID, m.ext.dedupID, q.cfg.dedupScope == "messageGroup")
					if _, ok := q.fifo.dedup[key]; !ok {
						q.fifo.dedup[key] = dedupEntry{messageID: parseUUID(m.id), seq: parseSeq(m.ext.sequenceNumber), at: m.sentAt * 1e6}
					}
				}
			}
		}
	case recReceive:
		n := d.n()
		for i := 0; i < n && d.err == nil; i++ {
			seq, rc, fr, ra, va := d.u(), int32(d.u()), d.i(), d.i(), d.i()
			if m := q.msgs.get(seq); m != nil {
				m.receiveCount, m.firstRecvAt, m.receivedAt, m.visibleAt = rc, fr, ra, va
				m.state = stateInflight
			}
		}
	case recVisibility:
		n := d.n()
		for i := 0; i < n && d.err == nil; i++ {
			seq, st, va := d.u(), uint8(d.u()), d.i()
			if m := q.msgs.get(seq); m != nil {
				m.state, m.visibleAt = st, va
			}
		}
	case recDelete:
		n := d.n()
		for i := 0; i < n && d.err == nil; i++ {
			q.msgs.del(d.u())
		}
	case recAttempt:
		id, at := d.s(), d.i()
		n := d.n()
		pa := pendingAttempt{at: at}
		for i := 0; i < n && d.err == nil; i++ {
			pa.seqs = append(pa.seqs, d.u())
			pa.rcs = append(pa.rcs, int32(d.u()))
			pa.frs = append(pa.frs, d.i())
			pa.vis = append(pa.vis, d.i())
		}
		if r.attempts[q.gen] == nil {
			r.attempts[q.gen] = map[string]pendingAttempt{}
		}
		r.attempts[q.gen][id] = pa
	case recDedup:
		if q.fifo == nil {
			return
		}
		n := d.n()
		for i := 0; i < n && d.err == nil; i++ {
			var k dedupKey
			k[0], k[1] = d.u(), d.u()
			var id [16]byte
			if len(d.b) < 16 {
				d.fail()
				return
			}
			copy(id[:], d.b[:16])
			d.b = d.b[16:]
			seq, at := d.u(), d.i()
			q.fifo.dedup[k] = dedupEntry{messageID: id, seq: seq, at: at}
		}
	}
}

func parseSeq(s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < seqBase {
		return 0
	}
	return n - seqBase
}

func decTask(d *dec) *moveTask {
	t := &moveTask{
		id: d.s(), handle: d.s(), sourceArn: d.s(), destArn: d.s(),
		rate: int(d.i()),
	}
	t.started = time.Unix(0, d.i())
	t.status = d.s()
	t.moved = d.i()
	t.toMove = d.i()
	t.failure = d.s()
	t.cancel = make(chan struct{})
	t.done = make(chan struct{})
	return t
}

// finish builds every queue's structures from its replayed messages, as of
// now: in flight and delayed messages whose time has passed are visible,
// expired ones are gone.
func (r *replayer) finish(now time.Time) {
	nowNanos := now.UnixNano()
	for _, q := range r.byGen {
		// The messages still present, in the order they were read.
		ms := r.order[q.gen][:0]
		for _, m := range r.order[q.gen] {
			if q.msgs.get(m.seq) == m {
				ms = append(ms, m)
			}
		}
		delete(r.order, q.gen)
		bySeq := func(a, b *message) int {
			switch {
			case a.seq < b.seq:
				return -1
			case a.seq > b.seq:
				return 1
			}
			return 0
		}
		if !slices.IsSortedFunc(ms, bySeq) {
			slices.SortFunc(ms, bySeq)
		}
		for _, m := range ms {
			if q.expired(m, nowNanos) {
				q.msgs.del(m.seq)
				continue
			}
			if m.seq >= q.nextSeq {
				q.nextSeq = m.seq + 1
			}
			state := m.state
			if q.fifo != nil {
				q.enqueueFIFO(m)
			} else if m.ext != nil && m.ext.groupID != "" {
				q.joinTenant(m, nowNanos)
			}
			switch {
			case state == stateInflight && m.visibleAt > nowNanos:
				m.state = stateInflight
				q.pending.push(m)
				q.nInflight++
				if g := m.group(); g != nil {
					g.inflight++
				}
			case state == stateDelayed && m.visibleAt > nowNanos:
				m.state = stateDelayed
				q.pending.push(m)
				q.nDelayed++
				if g := m.group(); g != nil && q.fifo == nil {
					q.tenantEnter(m)
				}
			default:
				q.makeReady(m)
			}
		}
		if q.fifo != nil {
			for k, d := range q.fifo.dedup {
				if d.at+int64(dedupWindow) <= nowNanos {
					delete(q.fifo.dedup, k)
				} else {
					q.fifo.dedupOrder.push(dedupRec{key: k, at: d.at})
				}
			}
			slices.SortFunc(q.fifo.dedupOrder.buf[:q.fifo.dedupOrder.size], func(a, b dedupRec) int {
				return int(a.at - b.at)
			})
			for id, pa := range r.attempts[q.gen] {
				if pa.at+int64(attemptWindow) <= nowNanos {
					continue
				}
				a := &attempt{at: pa.at}
				ok := true
				for i, seq := range pa.seqs {
					m := q.msgs.get(seq)
					if m == nil {
						ok = false
						break
					}
					a.got = append(a.got, taken{m: m, receiveCount: pa.rcs[i], firstRecvAt: pa.frs[i]})
					a.vis = append(a.vis, pa.vis[i])
				}
				if ok {
					q.fifo.attempts[id] = a
					q.fifo.attemptOrder.push(attemptRec{key: id, at: pa.at})
				}
			}
		}
	}
	for _, q := range r.byGen {
		if q.cfg.redrive != nil {
			q.dlq = r.e.lookupARNLocked(q.cfg.redrive.DeadLetterTargetArn)
		}
	}
	r.e.nextGen.Store(r.maxGen)
	for _, t := range r.tasks {
		if t.status == backend.MoveTaskRunning || t.status == backend.MoveTaskCancelling {
			t.status = backend.MoveTaskFailed
			t.failure = fmt.Sprintf("The engine restarted while the task ran, after moving %d messages; start a new task to move the rest.", t.moved)
		}
		close(t.done)
		hist := r.e.tasks[t.sourceArn]
		hist = append(hist, t)
		if len(hist) > maxTaskHistory {
			hist = hist[len(hist)-maxTaskHistory:]
		}
		r.e.tasks[t.sourceArn] = hist
	}
}

// recover opens the data directory: it loads the newest complete snapshot,
// replays the log after it, and starts a new log segment. Damaged records
// are skipped and reported; every intact one is kept.
func (e *Engine) recover() error {
	dir := e.cfg.DataDir
	lock, err := lockDir(dir)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		lock.Close()
		return err
	}
	r := newReplayer(e)
	snaps, err := listFiles(dir, "snapshot", ".snap")
	if err != nil {
		return fail(err)
	}
	snapNum := 0
	for i := len(snaps) - 1; i >= 0; i-- {
		ok, err := r.loadSnapshot(filepath.Join(dir, snapName(snaps[i])))
		if err != nil {
			return fail(err)
		}
		if ok {
			snapNum = snaps[i]
			break
		}
		e.cfg.Logger.Warn("native: snapshot incomplete or damaged; using an older one", "snapshot", snapName(snaps[i]))
		r = newReplayer(e)
		clear(e.queues)
		clear(e.deleted)
	}
	segs, err := listFiles(dir, "wal", ".log")
	if err != nil {
		return fail(err)
	}
	var keep []int
	for _, n := range segs {
		if n < snapNum {
			continue // made obsolete by the snapshot; removed after it was written
		}
		keep = append(keep, n)
		path := filepath.Join(dir, segName(n))
		buf, release, err := mapFile(path)
		if err != nil {
			return fail(fmt.Errorf("native: reading %s: %w", path, err))
		}
		skipped := scanFramesAhead(buf, func(f frame) {
			if err := r.apply(f, false); err != nil {
				e.cfg.Logger.Warn("native: skipping an unreadable record", "segment", segName(n), "err", err)
			}
		})
		release()
		for _, s := range skipped {
			e.cfg.Logger.Warn("native: skipped damaged bytes in the log (a torn write at the end, or corruption)",
				"segment", segName(n), "offset", s.at, "bytes", s.n)
		}
	}
	r.finish(e.clock.Now())
	w, err := openWAL(dir, lock, keep, r.maxLSN, e.cfg.Sync, e.cfg.SyncInterval, e.cfg.SegmentBytes, func(msg string, args ...any) {
		e.cfg.Logger.Warn(msg, args...)
	})
	if err != nil {
		return fail(err)
	}
	e.wal = w
	return nil
}

// loadSnapshot applies a snapshot; ok is false when it is damaged or has no
// end record (a crash while it was written).
func (r *replayer) loadSnapshot(path string) (ok bool, err error) {
	buf, release, err := mapFile(path)
	if err != nil {
		return false, fmt.Errorf("native: reading %s: %w", path, err)
	}
	defer release()
	complete := false
	skipped := scanFramesAhead(buf, func(f frame) {
		if f.typ == recEnd {
			complete = true
		}
		if err := r.apply(f, true); err != nil {
			r.e.cfg.Logger.Warn("native: skipping an unreadable snapshot record", "snapshot", filepath.Base(path), "err", err)
		}
	})
	if len(skipped) > 0 {
		for _, s := range skipped {
			r.e.cfg.Logger.Warn("native: skipped damaged bytes in a snapshot", "snapshot", filepath.Base(path), "offset", s.at, "bytes", s.n)
		}
	}
	return complete, nil
}

// pack copies a decoded message's strings, which are views of the record
// being read, into one allocation of its own.
func pack(m *message) {
	fields := []*string{&m.id, &m.body, &m.md5Body, &m.md5Attrs}
	if x := m.ext; x != nil {
		fields = append(fields, &x.traceHeader, &x.md5SysAttrs, &x.groupID, &x.dedupID, &x.sequenceNumber, &x.dlqSourceArn)
	}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	buf := make([]byte, 0, n)
	for _, f := range fields {
		buf = append(buf, *f...)
	}
	all := unsafe.String(unsafe.SliceData(buf), len(buf))
	off := 0
	for _, f := range fields {
		l := len(*f)
		*f = all[off : off+l]
		off += l
	}
}

// mapFile maps a file read-only into memory (no copy, no zeroing of a
// buffer the size of the file). Decoding copies everything it keeps (pack,
// dec.s), so nothing refers to the mapping after release.
func mapFile(path string) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		data, err = os.ReadFile(path)
		return data, func() {}, err
	}
	return data, func() { syscall.Munmap(data) }, nil
}

// scanFramesAhead is scanFrames with the checking of frames (their CRCs)
// on one goroutine and fn on the caller's, so recovery uses two cores. It
// returns the damaged stretches skipped.
func scanFramesAhead(buf []byte, fn func(f frame)) []skip {
	const batch = 512
	ch := make(chan []frame, 8)
	var skipped []skip
	go func() {
		defer close(ch)
		b := make([]frame, 0, batch)
		skipped, _, _ = scanFrames(buf, func(f frame) error {
			b = append(b, f)
			if len(b) == batch {
				ch <- b
				b = make([]frame, 0, batch)
			}
			return nil
		})
		if len(b) > 0 {
			ch <- b
		}
	}()
	for b := range ch {
		for _, f := range b {
			fn(f)
		}
	}
	return skipped // written before ch closed
}
