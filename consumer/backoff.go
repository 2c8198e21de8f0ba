package consumer

import (
	"math/rand/v2"
	"time"
)

// Backoff returns how long to wait after the n-th failed attempt (n >= 1)
// before the next one. For a failed message, n is its ApproximateReceiveCount.
type Backoff func(n int) time.Duration

// ExponentialBackoff returns a Backoff that doubles from initial up to max,
// with "equal jitter": the n-th delay is d/2 plus a random part of d/2, where
// d = min(max, initial * 2^(n-1)). Jitter spreads the retries of messages that
// failed together.
func ExponentialBackoff(initial, max time.Duration) Backoff {
	if initial <= 0 {
		initial = time.Second
	}
	if max < initial {
		max = initial
	}
	return func(n int) time.Duration {
		d := initial
		for i := 1; i < n && d < max; i++ {
			d *= 2
		}
		d = min(d, max)
		half := d / 2
		if half <= 0 {
			return d
		}
		return half + rand.N(d-half+1)
	}
}

// ConstantBackoff returns a Backoff that always waits d.
func ConstantBackoff(d time.Duration) Backoff {
	return func(int) time.Duration { return d }
}
