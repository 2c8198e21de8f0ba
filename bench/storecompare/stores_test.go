package storecompare

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// trafficQueue is one durable queue as the workload drives it. Receipts
// name received messages for delete. Safe for concurrent use.
type trafficQueue interface {
	// send enqueues a batch of ten messages with body and returns once
	// they are durable (when the queue was opened durable).
	send(ctx context.Context, body string) error
	// receive marks up to ten ready messages received (receive count,
	// visibility deadline) without waiting for them to be durable, and
	// returns their receipts.
	receive(ctx context.Context) ([]string, error)
	// delete deletes received messages and returns once that is durable.
	delete(ctx context.Context, receipts []string) error
	// count returns how many messages the store holds.
	count(ctx context.Context) (int, error)
	// reclaim runs the store's own compaction or space reclamation.
	reclaim(ctx context.Context) error
	close() error
}

// store opens a trafficQueue in dir. durable false relaxes the syncs (used
// only to measure space, which does not depend on them).
type store struct {
	name string
	open func(dir string, durable bool) (trafficQueue, error)
}

var stores = []store{
	{"postbox", openPostbox},
	{"pebble", openPebble},
	{"bbolt", func(dir string, durable bool) (trafficQueue, error) { return openBbolt(dir, durable, 0) }},
	// bbolt-delay1ms is bbolt with DB.MaxBatchDelay cut from its default
	// 10 ms to 1 ms, about the fsync latency of the disk measured here:
	// Batch waits that long for more callers before it commits, and with
	// few clients the default delay, not the disk, sets the pace.
	{"bbolt-delay1ms", func(dir string, durable bool) (trafficQueue, error) {
		return openBbolt(dir, durable, time.Millisecond)
	}},
}

// visibility is the visibility timeout receives set.
const visibility = 30 * time.Second

// ---- postbox: the native engine through backend.Queue ----

type postboxQueue struct {
	e *native.Engine
	q backend.Queue
}

var entryIDs = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func openPostbox(dir string, durable bool) (trafficQueue, error) {
	mode := native.SyncAlways
	if !durable {
		mode = native.SyncInterval
	}
	e, err := native.New(native.Config{DataDir: dir, Sync: mode})
	if err != nil {
		return nil, err
	}
	u, err := e.CreateQueue(context.Background(), "traffic", nil, nil)
	if err == nil {
		var q backend.Queue
		if q, err = e.Queue(u); err == nil {
			return &postboxQueue{e: e, q: q}, nil
		}
	}
	return nil, errors.Join(err, e.Close())
}

func (p *postboxQueue) send(ctx context.Context, body string) error {
	var entries [10]backend.SendEntry
	for i := range entries {
		entries[i] = backend.SendEntry{ID: entryIDs[i], Body: body}
	}
	res, err := p.q.Send(ctx, entries[:])
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func (p *postboxQueue) receive(ctx context.Context) ([]string, error) {
	got, err := p.q.Receive(ctx, backend.ReceiveRequest{
		MaxMessages:       10,
		WaitTimeSeconds:   new(0),
		VisibilityTimeout: new(int(visibility / time.Second)),
	})
	if err != nil {
		return nil, err
	}
	rs := make([]string, len(got))
	for i, m := range got {
		rs[i] = m.ReceiptHandle
	}
	return rs, nil
}

func (p *postboxQueue) delete(ctx context.Context, receipts []string) error {
	var entries [10]backend.DeleteEntry
	for i, r := range receipts {
		entries[i] = backend.DeleteEntry{ID: entryIDs[i], ReceiptHandle: r}
	}
	res, err := p.q.Delete(ctx, entries[:len(receipts)])
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

func (p *postboxQueue) count(ctx context.Context) (int, error) {
	names := []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}
	a, err := p.e.GetAttributes(ctx, p.q.URL(), names)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		v, err := strconv.Atoi(a[name])
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		n += v
	}
	return n, nil
}

func (p *postboxQueue) reclaim(context.Context) error { return p.e.Compact() }
func (p *postboxQueue) close() error                  { return p.e.Close() }

// ---- a queue on a key-value store ----

// kv is what the queue layer needs of a key-value store. sync says whether
// the write must be durable before it returns.
type kv interface {
	// set writes the pairs in one atomic batch.
	set(keys, values [][]byte, sync bool) error
	// modify replaces the value of each key with fn(its value) in one
	// atomic batch; fn must not keep old.
	modify(keys [][]byte, fn func(old []byte) ([]byte, error), sync bool) error
	// del deletes the keys in one atomic batch.
	del(keys [][]byte, sync bool) error
	// scan calls fn for every key with the prefix, in order.
	scan(prefix []byte, fn func(key, value []byte) error) error
	reclaim(ctx context.Context, prefix []byte) error
	close() error
}

// kvQueue is a queue built on a kv the way one would be: a message is kept
// under prefix + 8-byte big-endian sequence number, its value the encoded
// message with its state; the order of ready messages is kept in memory,
// rebuilt by a scan on open; receives read the message from the store and
// write it back with its new state.
type kvQueue struct {
	db      kv
	prefix  []byte
	durable bool
	nextSeq atomic.Uint64

	mu    sync.Mutex
	ready []uint64 // ready[head:] in send order
	head  int
}

var queuePrefix = []byte("q/000000000000/traffic/")

func newKVQueue(db kv, durable bool) (*kvQueue, error) {
	q := &kvQueue{db: db, prefix: queuePrefix, durable: durable}
	last := uint64(0)
	err := db.scan(q.prefix, func(k, _ []byte) error {
		if len(k) != len(q.prefix)+8 {
			return fmt.Errorf("bad key %q", k)
		}
		seq := binary.BigEndian.Uint64(k[len(q.prefix):])
		q.ready = append(q.ready, seq)
		last = max(last, seq)
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, db.close())
	}
	q.nextSeq.Store(last + 1)
	return q, nil
}

func (q *kvQueue) key(seq uint64) []byte {
	k := make([]byte, len(q.prefix)+8)
	copy(k, q.prefix)
	binary.BigEndian.PutUint64(k[len(q.prefix):], seq)
	return k
}

func (q *kvQueue) send(_ context.Context, body string) error {
	first := q.nextSeq.Add(10) - 10
	now := time.Now().UnixNano()
	keys := make([][]byte, 10)
	values := make([][]byte, 10)
	for i := range keys {
		sum := md5.Sum([]byte(body))
		m := kvMessage{
			seq:    first + uint64(i),
			id:     newMessageID(),
			body:   body,
			md5:    hex.EncodeToString(sum[:]),
			sentAt: now,
			nonce:  rand.Uint64(),
		}
		keys[i] = q.key(m.seq)
		values[i] = m.encode(nil)
	}
	if err := q.db.set(keys, values, q.durable); err != nil {
		return err
	}
	q.mu.Lock()
	for i := range keys {
		q.ready = append(q.ready, first+uint64(i))
	}
	q.mu.Unlock()
	return nil
}

func (q *kvQueue) receive(context.Context) ([]string, error) {
	q.mu.Lock()
	n := min(10, len(q.ready)-q.head)
	seqs := make([]uint64, n)
	copy(seqs, q.ready[q.head:])
	q.head += n
	if q.head > 1024 && q.head > len(q.ready)/2 {
		q.ready = append(q.ready[:0], q.ready[q.head:]...)
		q.head = 0
	}
	q.mu.Unlock()
	if n == 0 {
		return nil, nil
	}
	keys := make([][]byte, n)
	for i, s := range seqs {
		keys[i] = q.key(s)
	}
	now := time.Now().UnixNano()
	err := q.db.modify(keys, func(old []byte) ([]byte, error) {
		m, err := decodeKVMessage(old)
		if err != nil {
			return nil, err
		}
		m.state = stateInFlight
		m.receiveCount++
		if m.firstRecvAt == 0 {
			m.firstRecvAt = now
		}
		m.receivedAt = now
		m.visibleAt = now + int64(visibility)
		return m.encode(nil), nil
	}, false)
	if err != nil {
		return nil, err
	}
	rs := make([]string, n)
	for i, k := range keys {
		rs[i] = string(k)
	}
	return rs, nil
}

func (q *kvQueue) delete(_ context.Context, receipts []string) error {
	keys := make([][]byte, len(receipts))
	for i, r := range receipts {
		keys[i] = []byte(r)
	}
	return q.db.del(keys, q.durable)
}

func (q *kvQueue) count(context.Context) (int, error) {
	n := 0
	err := q.db.scan(q.prefix, func(_, _ []byte) error { n++; return nil })
	return n, err
}

func (q *kvQueue) reclaim(ctx context.Context) error { return q.db.reclaim(ctx, q.prefix) }
func (q *kvQueue) close() error                      { return q.db.close() }

// prefixEnd returns the least key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// ---- the message record, with the fields postbox's log keeps ----

const (
	stateReady    = 0
	stateInFlight = 1
)

type kvMessage struct {
	seq          uint64
	id           string
	body         string
	md5          string
	attrs        uint64 // number of message attributes (always 0 here)
	md5Attrs     string
	sentAt       int64
	nonce        uint64
	state        uint8
	visibleAt    int64
	receivedAt   int64
	firstRecvAt  int64
	receiveCount uint32
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (m *kvMessage) encode(b []byte) []byte {
	b = binary.AppendUvarint(b, m.seq)
	b = appendString(b, m.id)
	b = appendString(b, m.body)
	b = appendString(b, m.md5)
	b = binary.AppendUvarint(b, m.attrs)
	b = appendString(b, m.md5Attrs)
	b = binary.AppendVarint(b, m.sentAt)
	b = binary.AppendUvarint(b, m.nonce)
	b = append(b, 0) // no FIFO or dead-letter extension
	b = append(b, m.state)
	b = binary.AppendVarint(b, m.visibleAt)
	b = binary.AppendVarint(b, m.receivedAt)
	b = binary.AppendVarint(b, m.firstRecvAt)
	return binary.AppendUvarint(b, uint64(m.receiveCount))
}

var errCorrupt = errors.New("corrupt message record")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) i() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) s() string {
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) byte1() byte {
	if len(d.b) == 0 {
		d.err = errCorrupt
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func decodeKVMessage(b []byte) (kvMessage, error) {
	d := decoder{b: b}
	var m kvMessage
	m.seq = d.u()
	m.id = d.s()
	m.body = d.s()
	m.md5 = d.s()
	m.attrs = d.u()
	m.md5Attrs = d.s()
	m.sentAt = d.i()
	m.nonce = d.u()
	if d.byte1() != 0 {
		d.err = errCorrupt
	}
	m.state = d.byte1()
	m.visibleAt = d.i()
	m.receivedAt = d.i()
	m.firstRecvAt = d.i()
	m.receiveCount = uint32(d.u())
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	return m, d.err
}

// newMessageID returns a random version 4 UUID, as postbox makes them.
func newMessageID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rand.Uint64())
	binary.BigEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ---- pebble ----

type pebbleKV struct{ db *pebble.DB }

func openPebble(dir string, durable bool) (trafficQueue, error) {
	db, err := pebble.Open(dir, &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{},
	})
	if err != nil {
		return nil, err
	}
	return newKVQueue(&pebbleKV{db: db}, durable)
}

func writeOpts(sync bool) *pebble.WriteOptions {
	if sync {
		return pebble.Sync
	}
	return pebble.NoSync
}

func (p *pebbleKV) set(keys, values [][]byte, sync bool) error {
	b := p.db.NewBatch()
	defer b.Close()
	for i, k := range keys {
		if err := b.Set(k, values[i], nil); err != nil {
			return err
		}
	}
	return b.Commit(writeOpts(sync))
}

func (p *pebbleKV) modify(keys [][]byte, fn func([]byte) ([]byte, error), sync bool) error {
	b := p.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		old, closer, err := p.db.Get(k)
		if err != nil {
			return fmt.Errorf("get %x: %w", k, err)
		}
		v, err := fn(old)
		closer.Close()
		if err != nil {
			return err
		}
		if err := b.Set(k, v, nil); err != nil {
			return err
		}
	}
	return b.Commit(writeOpts(sync))
}

func (p *pebbleKV) del(keys [][]byte, sync bool) error {
	b := p.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		if err := b.Delete(k, nil); err != nil {
			return err
		}
	}
	return b.Commit(writeOpts(sync))
}

func (p *pebbleKV) scan(prefix []byte, fn func(k, v []byte) error) error {
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return errors.Join(err, it.Close())
		}
	}
	return it.Close()
}

func (p *pebbleKV) reclaim(ctx context.Context, prefix []byte) error {
	return p.db.Compact(ctx, prefix, prefixEnd(prefix), true)
}

func (p *pebbleKV) close() error { return p.db.Close() }

// quietLogger keeps pebble's informational lines out of benchmark output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Printf("pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// ---- bbolt ----

// boltKV uses db.Batch for every write: it coalesces concurrent writers into
// one transaction, committed (and fsynced, unless the DB was opened NoSync)
// once. bbolt has no per-transaction sync option, so the sync argument is
// ignored: receives are synced too.
type boltKV struct {
	db     *bolt.DB
	bucket []byte
}

// openBbolt opens the queue's bbolt file in dir; a maxBatchDelay of 0
// keeps bbolt's default (10 ms).
func openBbolt(dir string, durable bool, maxBatchDelay time.Duration) (trafficQueue, error) {
	db, err := bolt.Open(filepath.Join(dir, "queue.db"), 0o600, &bolt.Options{
		Timeout: time.Second,
		NoSync:  !durable,
	})
	if err != nil {
		return nil, err
	}
	if maxBatchDelay > 0 {
		db.MaxBatchDelay = maxBatchDelay
	}
	k := &boltKV{db: db, bucket: []byte("traffic")}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(k.bucket)
		return err
	})
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return newKVQueue(k, durable)
}

func (k *boltKV) set(keys, values [][]byte, _ bool) error {
	return k.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(k.bucket)
		for i, key := range keys {
			if err := b.Put(key, values[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (k *boltKV) modify(keys [][]byte, fn func([]byte) ([]byte, error), _ bool) error {
	return k.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(k.bucket)
		for _, key := range keys {
			old := b.Get(key)
			if old == nil {
				return fmt.Errorf("get %x: not found", key)
			}
			v, err := fn(old)
			if err != nil {
				return err
			}
			if err := b.Put(key, v); err != nil {
				return err
			}
		}
		return nil
	})
}

func (k *boltKV) del(keys [][]byte, _ bool) error {
	return k.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(k.bucket)
		for _, key := range keys {
			if err := b.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
}

func (k *boltKV) scan(prefix []byte, fn func(k, v []byte) error) error {
	return k.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(k.bucket).Cursor()
		for key, v := c.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
			if err := fn(key, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// reclaim: bbolt frees pages to its freelist as transactions commit and
// reuses them; it never shrinks the file (only an offline copy, bbolt
// compact, does). There is nothing to run.
func (k *boltKV) reclaim(context.Context, []byte) error { return nil }

func (k *boltKV) close() error { return k.db.Close() }
