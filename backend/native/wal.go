package native

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// SyncMode says when the durable engine makes writes stable.
type SyncMode int

const (
	// SyncAlways acknowledges a send, delete, visibility change or queue
	// change only once it is on stable storage (fsync). Concurrent requests
	// share one fsync (group commit).
	SyncAlways SyncMode = iota
	// SyncInterval writes at once but syncs every Config.SyncInterval (100
	// ms by default): faster, and a machine crash (not a process crash)
	// can lose what was acknowledged in the last interval.
	SyncInterval
)

const (
	defaultSegmentBytes = 64 << 20
	defaultSyncInterval = 100 * time.Millisecond
	maxPendingBytes     = 256 << 20 // writes refused past this while the disk fails
	retryEvery          = 200 * time.Millisecond
)

// round is one group commit: every frame appended while it was pending is
// written and synced together.
type round struct {
	done chan struct{}
	err  error
}

func (r *round) wait() error {
	if r == nil {
		return nil
	}
	<-r.done
	return r.err
}

// wal is the engine's write-ahead log: numbered segment files in a data
// directory. Appends are cheap (a copy into a buffer under a short lock);
// one goroutine writes and syncs what accumulated, so an fsync serves every
// request that arrived while the previous one ran.
type wal struct {
	dir     string
	lock    *os.File
	mode    SyncMode
	every   time.Duration
	segSize int64
	log     func(msg string, args ...any)

	mu      sync.Mutex
	lsn     uint64
	buf     []byte
	spare   []byte
	pending *round
	writing *round // the round being written, if any
	failing error  // set while writes fail; new mutations are refused
	closed  bool

	fileMu   sync.Mutex // held while writing, syncing or rotating
	f        *os.File
	segs     []int // segment numbers on disk, oldest first; the last is active
	size     int64 // bytes in the active segment
	written  int64 // bytes written since the last snapshot
	unsynced bool

	syncs syncStats

	kick chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

func segName(n int) string  { return fmt.Sprintf("wal-%010d.log", n) }
func snapName(n int) string { return fmt.Sprintf("snapshot-%010d.snap", n) }

// lockDir takes the data directory's lock file, so that one process at a
// time owns it.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("native: data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("native: data directory lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("native: data directory %s is in use by another process (its LOCK file is held)", dir)
		}
		return nil, fmt.Errorf("native: locking data directory %s: %w", dir, err)
	}
	return f, nil
}

// listFiles returns the numbers of the files in dir named prefix-N.ext,
// sorted.
func listFiles(dir, prefix, ext string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ns []int
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix+"-") || !strings.HasSuffix(name, ext) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, prefix+"-"), ext))
		if err == nil {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns, nil
}

// openWAL starts a new active segment after the existing ones (segs) and
// the writer goroutine.
func openWAL(dir string, lock *os.File, segs []int, lsn uint64, mode SyncMode, every time.Duration, segSize int64, logf func(string, ...any)) (*wal, error) {
	w := &wal{
		dir: dir, lock: lock, mode: mode, every: every, segSize: segSize, log: logf,
		lsn: lsn, segs: segs,
		kick: make(chan struct{}, 1), stop: make(chan struct{}),
	}
	if w.every <= 0 {
		w.every = defaultSyncInterval
	}
	if w.segSize <= 0 {
		w.segSize = defaultSegmentBytes
	}
	if err := w.newSegment(); err != nil {
		return nil, err
	}
	w.wg.Add(1)
	go w.run()
	return w, nil
}

// newSegment opens the next segment file. Callers hold fileMu (or own w).
func (w *wal) newSegment() error {
	n := 1
	if len(w.segs) > 0 {
		n = w.segs[len(w.segs)-1] + 1
	}
	f, err := os.OpenFile(filepath.Join(w.dir, segName(n)), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("native: new log segment: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.size = f, 0
	w.segs = append(w.segs, n)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// errStore is what requests get while the disk refuses writes.
func errStore(cause error) *backend.Error {
	return backend.NewError(backend.CodeServiceUnavailable,
		"The queue store cannot write to disk (%v); the request was not stored. Retry later.", cause)
}

// check returns an error when mutations must be refused: the log is
// failing and too much is waiting to be written.
func (w *wal) check() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return backend.NewError(backend.CodeServiceUnavailable, "The engine is closed.")
	}
	if w.failing != nil {
		// Try again now rather than at the next retry tick: the request
		// that finds the store failing is what notices space has returned.
		select {
		case w.kick <- struct{}{}:
		default:
		}
		return errStore(w.failing)
	}
	if len(w.buf) > maxPendingBytes {
		return backend.NewError(backend.CodeServiceUnavailable, "The queue store is behind; retry later.")
	}
	return nil
}

// append adds a frame and returns the round it will be synced in.
func (w *wal) append(t byte, payload []byte) *round {
	w.mu.Lock()
	w.lsn++
	w.buf = appendFrame(w.buf, t, payload)
	r := w.pending
	if r == nil {
		r = &round{done: make(chan struct{})}
		w.pending = r
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return r
}

// barrier returns a round that completes once every frame appended so far
// is written (and synced, in SyncAlways mode), or nil when all are. An
// answer that shows state (a received message, a deduplicated send, an
// idempotent delete) waits for it, so that nothing a client has seen can be
// lost by a crash.
func (w *wal) barrier() *round {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending != nil {
		return w.pending // completes after the round being written
	}
	return w.writing
}

// nextLSN reserves the LSN of the frame about to be encoded. Records carry
// their LSN in the payload; it is reserved and appended under the same
// queue lock, so per queue the order holds.
func (w *wal) nextLSN() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lsn + 1
}

func (w *wal) currentLSN() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lsn
}

func (w *wal) run() {
	defer w.wg.Done()
	var tick <-chan time.Time
	if w.mode == SyncInterval {
		t := time.NewTicker(w.every)
		defer t.Stop()
		tick = t.C
	}
	var retry <-chan time.Time
	for {
		select {
		case <-w.kick:
		case <-tick:
			w.fileMu.Lock()
			if w.unsynced {
				if err := w.sync(); err == nil {
					w.unsynced = false
				}
			}
			w.fileMu.Unlock()
			continue
		case <-retry:
			retry = nil
		case <-w.stop:
			w.flush()
			return
		}
		if err := w.flush(); err != nil {
			retry = time.After(retryEvery)
		}
	}
}

// flush writes (and in SyncAlways mode syncs) what has accumulated and
// completes its round. On failure the bytes stay queued, ahead of newer
// ones, to be written when the disk works again; the round's requests get
// the error.
func (w *wal) flush() error {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	return w.flushLocked()
}

func (w *wal) flushLocked() error {
	w.mu.Lock()
	b, r := w.buf, w.pending
	w.pending = nil
	if len(b) == 0 {
		w.mu.Unlock()
		if r != nil {
			close(r.done)
		}
		return nil
	}
	// Double buffering: appends go on into the spare buffer while b is
	// written. The two never share an array.
	w.buf, w.spare = w.spare[:0], nil
	w.writing = r
	w.mu.Unlock()
	err := w.writeOut(b)
	w.mu.Lock()
	w.writing = nil
	if err != nil {
		if w.failing == nil {
			w.log("native: writing the queue store failed; refusing changes until it works again", "err", err)
		}
		w.failing = err
		// Keep the bytes, ahead of what arrived meanwhile.
		w.buf = append(b, w.buf...)
	} else {
		if w.failing != nil {
			w.log("native: the queue store writes again")
		}
		w.failing = nil
		w.spare = b[:0]
	}
	w.mu.Unlock()
	if r != nil {
		if err != nil {
			r.err = errStore(err)
		}
		close(r.done)
	}
	return err
}

// writeOut appends b to the active segment and syncs it (SyncAlways). A
// partial write is cut off again, so the segment never holds half a frame
// that a later write would follow.
func (w *wal) writeOut(b []byte) error {
	if w.size >= w.segSize {
		if err := w.newSegment(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(b)
	if err == nil && w.mode == SyncAlways {
		err = w.sync()
	}
	if err != nil {
		if terr := w.f.Truncate(w.size); terr != nil {
			// The file is in an unknown state: continue in a new segment.
			if nerr := w.newSegment(); nerr != nil {
				return errors.Join(err, nerr)
			}
		}
		return err
	}
	w.size += int64(n)
	w.written += int64(n)
	if w.mode == SyncInterval {
		w.unsynced = true
	}
	return nil
}

// rotate writes out what is pending and starts a new segment. It returns
// the segments before the new one and the last LSN they hold.
func (w *wal) rotate() (old []int, lsn uint64, err error) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	if err := w.flushLocked(); err != nil {
		return nil, 0, err
	}
	if w.mode == SyncInterval && w.unsynced {
		if err := w.sync(); err != nil {
			return nil, 0, err
		}
		w.unsynced = false
	}
	lsn = w.currentLSN()
	if err := w.newSegment(); err != nil {
		return nil, 0, err
	}
	old = append(old, w.segs[:len(w.segs)-1]...)
	w.written = 0
	return old, lsn, nil
}

// dropSegments deletes segments a snapshot has made obsolete.
func (w *wal) dropSegments(ns []int) {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	for _, n := range ns {
		if err := os.Remove(filepath.Join(w.dir, segName(n))); err != nil && !os.IsNotExist(err) {
			w.log("native: removing an old log segment", "segment", segName(n), "err", err)
		}
		for i, s := range w.segs {
			if s == n {
				w.segs = append(w.segs[:i], w.segs[i+1:]...)
				break
			}
		}
	}
}

func (w *wal) bytesSinceSnapshot() int64 {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	return w.written
}

// close writes and syncs what is pending, stops the writer and releases
// the directory.
func (w *wal) close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	var err error
	if w.f != nil {
		err = errors.Join(w.sync(), w.f.Close())
	}
	if w.lock != nil {
		err = errors.Join(err, w.lock.Close())
	}
	return err
}
