package native

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// queueCounters are a queue's cumulative message counts for Stats. They are
// updated with one atomic add per batch, after the queue's lock is
// released, and are not stored: they start at zero whenever the engine (or
// the queue) is created, also when a durable engine reopens.
type queueCounters struct {
	sent         atomic.Int64
	received     atomic.Int64
	deleted      atomic.Int64
	deadLettered atomic.Int64
}

// QueueStats is a snapshot of one queue for monitoring (the dashboard,
// postbox queues). Counts are approximate in the way SQS's are: they are
// read at one instant and messages past their retention period may still
// be counted until the queue next looks at them.
type QueueStats struct {
	Name string
	URL  string
	ARN  string
	FIFO bool

	// Visible, InFlight and Delayed are the queue's messages by state at
	// the engine clock's now (SQS's ApproximateNumberOfMessages,
	// ...NotVisible and ...Delayed).
	Visible  int
	InFlight int
	Delayed  int
	// OldestSentAt is the sent time of the queue's first message in queue
	// order (for a message dead-lettered from a standard queue, its first
	// send to the source queue); zero when the queue is empty. Now minus it
	// is the age of the oldest message.
	OldestSentAt time.Time
	// CreatedAt is when the queue was created (second precision).
	CreatedAt time.Time

	// Cumulative counts since the engine started (not kept across
	// restarts): messages sent (SendMessage; duplicates a FIFO queue drops
	// and messages moved in by redrive are not counted), received
	// (returned by receives, each receive counting again), deleted (by
	// receipt handle; purges are not counted) and dead-lettered (moved out
	// to the dead-letter queue after maxReceiveCount receives).
	Sent         int64
	Received     int64
	Deleted      int64
	DeadLettered int64

	// DeadLetterTargetARN and MaxReceiveCount are the queue's
	// RedrivePolicy ("" and 0 without one).
	DeadLetterTargetARN string
	MaxReceiveCount     int
	// DeadLetterSourceARNs are the queues whose RedrivePolicy names this
	// queue as their dead-letter queue, sorted.
	DeadLetterSourceARNs []string
}

// Stats returns a snapshot of every queue of the engine, sorted by name.
// It changes nothing, takes each queue's lock briefly in turn (never two
// at once), and costs O(queues + due messages); it returns nil once the
// engine is closed.
func (e *Engine) Stats() []QueueStats {
	if e.closed.Load() {
		return nil
	}
	qs := e.allQueues()
	nowNanos := e.clock.Now().UnixNano()
	out := make([]QueueStats, 0, len(qs))
	for _, q := range qs {
		if s, ok := q.stats(nowNanos); ok {
			out = append(out, s)
		}
	}
	sources := map[string][]string{}
	for _, s := range out {
		if s.DeadLetterTargetARN != "" {
			sources[s.DeadLetterTargetARN] = append(sources[s.DeadLetterTargetARN], s.ARN)
		}
	}
	for i := range out {
		if src := sources[out[i].ARN]; len(src) > 0 {
			slices.Sort(src)
			out[i].DeadLetterSourceARNs = src
		}
	}
	slices.SortFunc(out, func(a, b QueueStats) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.URL, b.URL)
	})
	return out
}

// QueueStats returns the snapshot of one queue (see Stats). A missing queue
// is QueueDoesNotExist.
func (e *Engine) QueueStats(queueURL string) (QueueStats, error) {
	q, err := e.lookupURL(queueURL)
	if err != nil {
		return QueueStats{}, err
	}
	s, ok := q.stats(e.clock.Now().UnixNano())
	if !ok {
		return QueueStats{}, errNoQueue()
	}
	for _, src := range e.sourcesOf(q.arn) {
		s.DeadLetterSourceARNs = append(s.DeadLetterSourceARNs, src.arn)
	}
	slices.Sort(s.DeadLetterSourceARNs)
	return s, nil
}

// stats reads one queue's snapshot without changing it; ok is false when
// the queue has been deleted.
func (q *queue) stats(nowNanos int64) (QueueStats, bool) {
	s := QueueStats{
		Name:         q.name,
		URL:          q.url(),
		ARN:          q.arn,
		CreatedAt:    time.Unix(q.created, 0),
		Sent:         q.counters.sent.Load(),
		Received:     q.counters.received.Load(),
		Deleted:      q.counters.deleted.Load(),
		DeadLettered: q.counters.deadLettered.Load(),
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.deleted.Load() {
		return QueueStats{}, false
	}
	s.FIFO = q.cfg.fifo
	if rp := q.cfg.redrive; rp != nil {
		s.DeadLetterTargetARN = rp.DeadLetterTargetArn
		s.MaxReceiveCount = rp.MaxReceiveCount
	}
	s.Visible, s.InFlight, s.Delayed = q.nReady, q.nInflight, q.nDelayed
	// Pending messages whose time has come are visible, although the queue
	// moves them only when it next needs to: count them as such without
	// moving them. The heap is walked only where it holds due messages.
	var stack [64]int
	todo := stack[:0]
	if len(q.pending) > 0 {
		todo = append(todo, 0)
	}
	for len(todo) > 0 {
		i := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		m := q.pending[i]
		if m.visibleAt > nowNanos {
			continue
		}
		s.Visible++
		if m.state == stateInflight {
			s.InFlight--
		} else {
			s.Delayed--
		}
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(q.pending) {
				todo = append(todo, c)
			}
		}
	}
	if m := q.msgs.first(); m != nil {
		s.OldestSentAt = time.UnixMilli(m.sentAt)
	}
	return s, true
}
