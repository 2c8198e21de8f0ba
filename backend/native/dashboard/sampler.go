package dashboard

import (
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend/native"
)

// sample is one queue's figures at one instant.
type sample struct {
	at                         time.Time
	visible, inflight, delayed int
	sent, received, deleted    int64
	deadLettered               int64
}

func sampleOf(at time.Time, s *native.QueueStats) sample {
	return sample{
		at: at, visible: s.Visible, inflight: s.InFlight, delayed: s.Delayed,
		sent: s.Sent, received: s.Received, deleted: s.Deleted, deadLettered: s.DeadLettered,
	}
}

// sampler keeps each queue's recent samples, taken at most once per
// interval when someone asks for figures.
type sampler struct {
	interval, window time.Duration
	keep             int

	mu     sync.Mutex
	last   time.Time
	series map[string][]sample // by queue ARN, oldest first
}

func newSampler(interval, window time.Duration, keep int) *sampler {
	return &sampler{interval: interval, window: window, keep: keep, series: map[string][]sample{}}
}

// observe records stats taken at now when a sample is due, and forgets
// queues that are gone.
func (s *sampler) observe(now time.Time, stats []native.QueueStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && now.Sub(s.last) < s.interval {
		return
	}
	s.last = now
	seen := make(map[string]bool, len(stats))
	for i := range stats {
		st := &stats[i]
		seen[st.ARN] = true
		ser := append(s.series[st.ARN], sampleOf(now, st))
		if len(ser) > s.keep {
			ser = append(ser[:0:0], ser[len(ser)-s.keep:]...)
		}
		s.series[st.ARN] = ser
	}
	for arn := range s.series {
		if !seen[arn] {
			delete(s.series, arn)
		}
	}
}

// Rates are messages per second.
type Rates struct {
	Send    float64 `json:"send"`
	Receive float64 `json:"receive"`
	Delete  float64 `json:"delete"`
}

// perSecond returns the rates between two samples (0 when the counters
// went backwards: the queue was deleted and created again).
func perSecond(from, to sample) Rates {
	dt := to.at.Sub(from.at).Seconds()
	if dt <= 0 {
		return Rates{}
	}
	r := func(a, b int64) float64 {
		if b < a {
			return 0
		}
		return float64(b-a) / dt
	}
	return Rates{Send: r(from.sent, to.sent), Receive: r(from.received, to.received), Delete: r(from.deleted, to.deleted)}
}

// rates returns a queue's rates over the window ending at cur, from the
// oldest sample inside the window. It is zero until there are two samples
// apart in time.
func (s *sampler) rates(arn string, cur sample) Rates {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.series[arn] {
		if cur.at.Sub(b.at) <= s.window && b.at.Before(cur.at) {
			return perSecond(b, cur)
		}
	}
	return Rates{}
}

// Point is one point of a queue's chart: the figures of a sample and the
// rates since the previous one.
type Point struct {
	Time     int64 `json:"t"` // unix milliseconds
	Visible  int   `json:"visible"`
	InFlight int   `json:"inflight"`
	Delayed  int   `json:"delayed"`
	Rates
}

// history returns a queue's chart points, oldest first.
func (s *sampler) history(arn string) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	ser := s.series[arn]
	out := make([]Point, 0, len(ser))
	for i, sm := range ser {
		p := Point{Time: sm.at.UnixMilli(), Visible: sm.visible, InFlight: sm.inflight, Delayed: sm.delayed}
		if i > 0 {
			p.Rates = perSecond(ser[i-1], sm)
		}
		out = append(out, p)
	}
	return out
}
