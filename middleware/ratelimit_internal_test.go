package middleware

import (
	"container/list"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"
)

// The keyed buckets stay within MaxKeys, drop idle buckets first and, when
// every bucket is busy, the least recently used.
func TestRateLimitKeyEviction(t *testing.T) {
	clk := clockwork.NewFakeClock()
	l := &limiters{
		cfg:  RateLimitConfig{Limit: rate.Every(time.Second), Burst: 1, MaxKeys: 3, Clock: clk, Key: KeyByGroup},
		keys: map[string]*list.Element{}, lru: list.New(),
	}
	take := func(key string) {
		t.Helper()
		lim := l.limiter(key, clk.Now())
		if !lim.AllowN(clk.Now(), 1) {
			t.Fatalf("key %s has no token", key)
		}
	}
	has := func(keys ...string) {
		t.Helper()
		if l.size() != len(keys) {
			t.Fatalf("%d buckets, want %v", l.size(), keys)
		}
		for _, k := range keys {
			if _, ok := l.keys[k]; !ok {
				t.Fatalf("no bucket for %s", k)
			}
		}
	}
	take("a")
	take("b")
	take("c")
	has("a", "b", "c")
	// All three are busy (empty): d evicts the least recently used, a.
	take("d")
	has("b", "c", "d")
	// A second later every bucket is full again: e drops two idle ones
	// from the back (b, c), leaving d and e.
	clk.Advance(time.Second)
	take("e")
	has("d", "e")
	// Using d moves it to the front; f then drops e only if e is idle:
	// it is not (just used), so nothing is dropped and there is room.
	take("d")
	take("f")
	has("d", "e", "f")
	// A dropped key gets a fresh, full bucket.
	clk.Advance(time.Second)
	take("g")
	take("b")
	if l.size() > 3 {
		t.Fatalf("%d buckets over MaxKeys", l.size())
	}
}
