package consumer

import (
	"sync/atomic"
	"time"
)

// cost is an estimate of how long an operation takes: an exponentially
// weighted average of its timings, read and written without a lock by every
// goroutine that times one (concurrent updates may lose one another, which
// only makes the estimate a little less exact).
//
// The consumer picks between two correct ways to do a thing by such
// estimates: running quick handlers on their poller (handler calls),
// flushing a full batch on the goroutine that filled it (flushes), and
// running fewer receives at once (receives). They are timed on the
// monotonic clock, not on Config.Clock: they are estimates, not deadlines,
// and a fake clock that stands still would make everything look free.
type cost struct {
	ns    atomic.Int64
	limit int64 // the estimate is compared with this
	most  int64 // a sample counts as this much at most (see note)
	shift uint  // each sample moves the estimate by 1/2^shift of the way
}

// init sets the limit, the most one sample counts for (as a multiple of
// the limit) and the weight of a sample, and starts the estimate above the
// limit: slow until measured.
func (c *cost) init(limit time.Duration, most int64, shift uint) {
	c.limit, c.most, c.shift = int64(limit), most*int64(limit), shift
	c.ns.Store(int64(time.Second))
}

// note adds a sample: d for n operations. One sample counts for a few
// times the limit at most, so that one stall among quick operations (the
// goroutine descheduled, a collection) does not tip the estimate for the
// next dozen; slow samples in a row still do.
func (c *cost) note(d time.Duration, n int) {
	if n <= 0 {
		return
	}
	c.add(min(int64(d)/int64(n), c.most))
}

// noteSlow adds a sample that counts in full, however large.
func (c *cost) noteSlow(d time.Duration) { c.add(int64(d)) }

func (c *cost) add(sample int64) {
	old := c.ns.Load()
	c.ns.Store(old + (sample-old)/(int64(1)<<c.shift))
}

// raise makes the estimate at least d at once.
func (c *cost) raise(d time.Duration) {
	for {
		old := c.ns.Load()
		if old >= int64(d) || c.ns.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// quick reports whether the estimate is under the limit.
func (c *cost) quick() bool { return c.ns.Load() < c.limit }

// assumeQuick sets the estimate to zero, as if many quick operations had
// been timed.
func (c *cost) assumeQuick() { c.ns.Store(0) }

// get returns the estimate.
func (c *cost) get() time.Duration { return time.Duration(c.ns.Load()) }
