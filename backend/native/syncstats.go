package native

import (
	"sync/atomic"
	"time"
)

// SyncBuckets are the upper bounds of StorageStats.SyncBuckets, in
// seconds.
var SyncBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// syncStats counts a durable engine's fsyncs and their latency; the
// writer goroutine updates it, readers load it without a lock.
type syncStats struct {
	count   atomic.Int64
	nanos   atomic.Int64
	errors  atomic.Int64
	buckets [12]atomic.Int64 // SyncBuckets, then +Inf
}

// sync fsyncs the active segment, timing it. Callers hold fileMu.
func (w *wal) sync() error {
	start := time.Now() // wall time: this measures the disk, not the engine's clock
	err := w.f.Sync()
	d := time.Since(start)
	s := &w.syncs
	s.count.Add(1)
	s.nanos.Add(int64(d))
	if err != nil {
		s.errors.Add(1)
	}
	sec := d.Seconds()
	i := 0
	for i < len(SyncBuckets) && sec > SyncBuckets[i] {
		i++
	}
	s.buckets[i].Add(1)
	return err
}

// StorageStats describes a durable engine's storage.
type StorageStats struct {
	// DataDir is the data directory ("" for an engine in memory); Sync its
	// sync mode.
	DataDir string
	Sync    SyncMode
	// Syncs is how many fsyncs of the log the engine has made since it
	// started, SyncErrors how many failed, SyncSeconds their total time.
	Syncs       int64
	SyncErrors  int64
	SyncSeconds float64
	// SyncBuckets counts the fsyncs that took at most each of SyncBuckets
	// seconds (not cumulative); its last element counts the slower ones.
	SyncBuckets []int64
}

// Storage returns the engine's storage and, for a durable engine, its
// fsync figures. It is cheap and safe to call at any time.
func (e *Engine) Storage() StorageStats {
	st := StorageStats{DataDir: e.cfg.DataDir, Sync: e.cfg.Sync}
	if e.wal == nil {
		return st
	}
	s := &e.wal.syncs
	st.Syncs, st.SyncErrors = s.count.Load(), s.errors.Load()
	st.SyncSeconds = time.Duration(s.nanos.Load()).Seconds()
	st.SyncBuckets = make([]int64, len(s.buckets))
	for i := range s.buckets {
		st.SyncBuckets[i] = s.buckets[i].Load()
	}
	return st
}

// String returns "always" or "interval".
func (m SyncMode) String() string {
	if m == SyncInterval {
		return "interval"
	}
	return "always"
}
