package main

import (
	"testing"
	"time"
)

func TestLiveRate(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := newLiveRate(start, 5*time.Second, time.Second)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	// The first moments: no rate, however many messages came at once (the
	// old counter showed 2,780 messages in 1 ms as 2,780,000 msg/s).
	if v, ok := r.observe(at(time.Millisecond), 2780); ok {
		t.Errorf("rate after 1 ms = %v, want none yet", v)
	}
	if v, ok := r.observe(at(500*time.Millisecond), 5000); ok {
		t.Errorf("rate after 500 ms = %v, want none yet", v)
	}
	// Over the first second: 10,000 messages in 2 s.
	if v, ok := r.observe(at(2*time.Second), 10000); !ok || v != 5000 {
		t.Errorf("rate at 2 s = %v, %v; want 5000", v, ok)
	}
	// Later, over the last 5 s or so only: 2,000 msg/s since 3 s.
	r.observe(at(3*time.Second), 12000)
	r.observe(at(6*time.Second), 18000)
	if v, ok := r.observe(at(8*time.Second), 22000); !ok || v != 2000 {
		t.Errorf("rate at 8 s = %v, %v; want 2000 (the last 5 s)", v, ok)
	}
	// A stall shows as a falling rate, not as the average since the start.
	if v, ok := r.observe(at(14*time.Second), 22000); !ok || v != 0 {
		t.Errorf("rate at 14 s after a stall = %v, %v; want 0", v, ok)
	}
}
