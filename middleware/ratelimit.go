package middleware

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/postbox-go/postbox/consumer"
)

// ErrRateLimited is matched (errors.Is) by the error RateLimit returns when
// a message's context ended while it waited for its turn; the handler was
// not run.
var ErrRateLimited = errors.New("middleware: rate limited")

// DefaultRateLimitMaxKeys is RateLimitConfig.MaxKeys's default.
const DefaultRateLimitMaxKeys = 10000

// RateLimitConfig configures RateLimit. The zero value of each field but
// Limit is its documented default.
type RateLimitConfig struct {
	// Limit is how many handler calls may start per second, on average
	// (a golang.org/x/time/rate token bucket): rate.Every(100*time.
	// Millisecond) is 10 a second, rate.Inf no limit. It must be positive.
	Limit rate.Limit
	// Burst is how many calls may start at once after a quiet spell.
	// Default 1: calls are spaced evenly.
	Burst int
	// Key, if set, gives each message a key, and each key a bucket of its
	// own, with the same Limit and Burst: one tenant, one customer, one
	// FIFO group (KeyByGroup) or the value of an attribute
	// (KeyByAttribute). Nil means one bucket shared by every message that
	// passes through the middleware.
	Key func(msg *consumer.Message) string
	// MaxKeys bounds the buckets kept for Key. When a new key would exceed
	// it, the least recently used bucket is dropped. A bucket that has
	// been idle long enough to be full again is no different from a new
	// one, so dropping it changes nothing; only when more than MaxKeys
	// keys are busy at once can a dropped key start a little more than
	// its rate allows. Idle buckets are also dropped as new keys arrive,
	// so memory follows the keys in use. Default
	// DefaultRateLimitMaxKeys.
	MaxKeys int
	// Clock times the waits. Default: the real clock.
	Clock clockwork.Clock
}

// KeyByGroup is a RateLimitConfig.Key that limits each message group
// (MessageGroupId) by itself. Messages without a group share the key "".
func KeyByGroup(msg *consumer.Message) string { return msg.GroupID }

// KeyByAttribute returns a RateLimitConfig.Key that limits each value of
// the String message attribute name by itself, for example a tenant id.
// Messages without the attribute share the key "".
func KeyByAttribute(name string) func(*consumer.Message) string {
	return func(msg *consumer.Message) string { return msg.MessageAttributes[name].StringValue }
}

// RateLimit starts the handler at most cfg.Limit times a second (with
// bursts of cfg.Burst), for every message together or, with cfg.Key, for
// each key. A message over the limit waits for its turn before the handler
// starts; meanwhile it holds a worker slot, and the server keeps it
// invisible as it does for a running handler.
//
// Waiting honours the message's context: when the context ends while the
// message waits (lease lost, shutdown, an outer Timeout), or has a
// deadline earlier than the message's turn, the handler is not run and
// RateLimit returns an error matching ErrRateLimited and the context's
// cause, so the message comes back after its backoff. The turn it had
// reserved is given back.
//
// It panics if cfg.Limit is not positive.
func RateLimit(cfg RateLimitConfig) consumer.Middleware {
	if cfg.Limit <= 0 {
		panic("middleware: RateLimit needs a positive Limit")
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 1
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultRateLimitMaxKeys
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	return func(next consumer.Handler) consumer.Handler {
		// One set of buckets per wrapped handler, so that the same
		// middleware value used twice gives each handler its own limit.
		l := &limiters{cfg: cfg, keys: make(map[string]*list.Element), lru: list.New()}
		if cfg.Key == nil {
			l.shared = rate.NewLimiter(cfg.Limit, cfg.Burst)
		}
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			key := ""
			if cfg.Key != nil {
				key = cfg.Key(msg)
			}
			if err := l.wait(ctx, key); err != nil {
				return err
			}
			return next.HandleMessage(ctx, msg)
		})
	}
}

// limiters holds the token buckets of one RateLimit handler.
type limiters struct {
	cfg    RateLimitConfig
	shared *rate.Limiter // without a Key

	mu   sync.Mutex
	keys map[string]*list.Element // of *keyed, most recently used at the front
	lru  *list.List
}

type keyed struct {
	key string
	lim *rate.Limiter
}

// idleSweep is how many idle buckets at the back of the LRU list a new key
// drops at most.
const idleSweep = 2

// limiter returns key's bucket at now, making it if needed.
func (l *limiters) limiter(key string, now time.Time) *rate.Limiter {
	if l.shared != nil {
		return l.shared
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*keyed).lim
	}
	// Drop a few buckets that are full again (idle), then the least
	// recently used one if there is still no room.
	for range idleSweep {
		back := l.lru.Back()
		if back == nil {
			break
		}
		k := back.Value.(*keyed)
		if k.lim.TokensAt(now) < float64(l.cfg.Burst) {
			break
		}
		l.lru.Remove(back)
		delete(l.keys, k.key)
	}
	if len(l.keys) >= l.cfg.MaxKeys {
		back := l.lru.Back()
		l.lru.Remove(back)
		delete(l.keys, back.Value.(*keyed).key)
	}
	k := &keyed{key: key, lim: rate.NewLimiter(l.cfg.Limit, l.cfg.Burst)}
	l.keys[key] = l.lru.PushFront(k)
	return k.lim
}

// size returns how many keyed buckets are kept.
func (l *limiters) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// wait waits for key's turn, or until ctx ends.
func (l *limiters) wait(ctx context.Context, key string) error {
	if ctx.Err() != nil {
		return l.failed(key, "ended before its turn", context.Cause(ctx))
	}
	now := l.cfg.Clock.Now()
	lim := l.limiter(key, now)
	r := lim.ReserveN(now, 1)
	if !r.OK() { // cannot happen with Burst >= 1
		return fmt.Errorf("%w: burst %d admits no call", ErrRateLimited, l.cfg.Burst)
	}
	delay := r.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(now.Add(delay)) {
		r.CancelAt(now)
		return l.failed(key, fmt.Sprintf("ends in %v, before its turn in %v", dl.Sub(now), delay), context.DeadlineExceeded)
	}
	t := l.cfg.Clock.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-ctx.Done():
		r.CancelAt(l.cfg.Clock.Now())
		return l.failed(key, "ended while it waited for its turn", context.Cause(ctx))
	}
}

// failed is the error of a message whose context ended, or will end,
// before its turn.
func (l *limiters) failed(key, what string, cause error) error {
	if l.cfg.Key != nil {
		what += fmt.Sprintf(" (key %q)", key)
	}
	return fmt.Errorf("%w: handler not run: the message's context %s: %w", ErrRateLimited, what, cause)
}
