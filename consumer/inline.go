package consumer

import (
	"sync"
	"time"
)

// Inline runs.
//
// Handing a message from the poller that received it to a worker costs a
// lock, often a goroutine wake-up, and moving the message to another core:
// a microsecond or so, nothing next to a handler that takes milliseconds,
// but more than the whole handler when it takes a few microseconds (and a
// queue in the same process answers in microseconds too). So while the
// queue's handler calls take under inlineHandlerCost on average, a poller
// that receives messages while a worker is idle runs them itself, one after
// the other, in the place of that worker (which stays parked: Concurrency
// still bounds the handler calls running at once), and then receives
// again. That is the loop one would write by hand for fast handlers.
//
// A handler that turns slow must not hold up the rest of its receive while
// workers are free: the watchdog hands the messages a run has not started
// to the workers once the run has taken rescueAfter, and marks the handler
// slow, so that the next receives go to the workers until handler calls are
// quick again.
//
// Handler calls are timed into handlerCost (see cost).

// inlineHandlerCost is the average handler call under which received
// messages may run on their poller: ten of them then take a fraction of a
// millisecond, less than one receive from SQS.
const inlineHandlerCost = 20 * time.Microsecond

// rescueAfter is how long an inline run may last before the messages it has
// not started go to the workers.
const rescueAfter = 5 * time.Millisecond

// watchEvery is how often the watchdog looks at the runs while there are
// runs: a run is rescued between rescueAfter and rescueAfter + watchEvery
// after it began. Any timer pending in a process wakes a thread when it is
// due (the runtime's network poller sleeps until the next timer), and on a
// machine whose cores the pollers keep busy that thread takes a core from
// them for a moment: looking every 2.5 ms cost a no-op handler a tenth of
// its throughput on a 2-core machine, every 10 ms next to nothing.
const watchEvery = 2 * rescueAfter

// runner is a poller's inline run, as the watchdog sees it.
type runner struct {
	mu    sync.Mutex
	rc    *receipt // the receipt being run, nil between runs
	since int64    // monotonic when the run began
	// stuck: the watchdog rescued this run, and it counts in sub.stuck
	// until it ends.
	stuck bool
}

// monoBase anchors monotonic.
var monoBase = time.Now()

// monotonic is the time on the monotonic clock, in nanoseconds.
func monotonic() int64 { return int64(time.Since(monoBase)) }

// runInline runs the jobs of rc on the calling poller, in the place of a
// borrowed worker. The jobs are claimed one at a time through rc.cursor,
// so that the watchdog may take the ones not started yet. It returns how
// many it ran: their slots are the caller's, to receive again with or to
// release.
func (s *sub) runInline(rn *runner, rc *receipt) (ran int) {
	rc.refs.Add(1) // the run's own: rc stays whole while the watchdog may look at it
	s.inlineRuns.Add(1)
	t0 := monotonic()
	rn.mu.Lock()
	rn.rc, rn.since = rc, t0
	rn.mu.Unlock()
	if !s.watching.Load() && s.watching.CompareAndSwap(false, true) {
		select {
		case s.watchKick <- struct{}{}:
		default:
		}
	}
	for {
		i := int(rc.cursor.Add(1)) - 1
		if i >= rc.n {
			break
		}
		j := rc.ptrs[i]
		if s.stopping.Load() {
			s.giveBack(j.self[:])
			continue
		}
		j.gather = true
		s.handle(j)
		ran++
	}
	rn.mu.Lock()
	rn.rc = nil
	if rn.stuck {
		rn.stuck = false
		s.stuck.Add(-1)
	}
	rn.mu.Unlock()
	s.queueAcked(rc, true)
	s.handlerCost.note(time.Duration(monotonic()-t0), ran)
	s.letGo(ran)
	s.dropReceipt(rc)
	return ran
}

// watch is the watchdog of the inline runs: it sleeps while none runs, and
// otherwise looks at them every watchEvery.
func (s *sub) watch() {
	for {
		select {
		case <-s.watchKick:
		case <-s.stopWatch:
			return
		}
		t := time.NewTicker(watchEvery)
		runs := s.inlineRuns.Load()
		for running := true; running; {
			select {
			case <-t.C:
			case <-s.stopWatch:
				t.Stop()
				return
			}
			// Keep watching while runs come one after the other (a
			// poller between two runs is receiving): going to sleep and
			// being kicked at every gap would cost more than the ticks.
			n := s.inlineRuns.Load()
			moved := n != runs
			runs = n
			if s.rescue() || moved {
				continue
			}
			// Nothing runs: sleep until a run kicks. A run that began
			// after the look above and saw watching still set did not
			// kick: look once more.
			s.watching.Store(false)
			if s.rescue() && s.watching.CompareAndSwap(false, true) {
				continue
			}
			running = false
		}
		t.Stop()
	}
}

// rescue hands the jobs not started of every inline run older than
// rescueAfter to the workers (or gives them back, when stopping), and counts
// the run's poller as stuck (see sparesWait) until the run ends. It reports
// whether any run is under way.
func (s *sub) rescue() (running bool) {
	now := monotonic()
	for i := range s.runners {
		rn := &s.runners[i]
		var rest []*job
		stuck := false
		rn.mu.Lock()
		if rc := rn.rc; rc != nil {
			running = true
			if now-rn.since >= int64(rescueAfter) {
				if from := int(rc.cursor.Swap(int32(rc.n))); from < rc.n {
					rest = rc.ptrs[from:rc.n:rc.n] // each holds its job's reference
				}
				s.queueAcked(rc, false) // the deletes of what the run has done
				s.handlerCost.raise(time.Duration(now - rn.since))
				if !rn.stuck {
					rn.stuck, stuck = true, true
					s.stuck.Add(1)
				}
			}
		}
		rn.mu.Unlock()
		if stuck {
			s.spare.open() // a spare poller stands in for this one
		}
		if len(rest) == 0 {
			continue
		}
		if s.stopping.Load() {
			s.giveBack(rest)
		} else {
			s.ready.putJobs(rest)
		}
	}
	return running
}
