package largepayload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/postbox-go/postbox/consumer"
)

// DefaultMaxPayload is ResolveConfig.MaxPayload's default: 2 GiB, the
// Extended Clients' limit.
const DefaultMaxPayload = 2 << 30

// ResolveConfig configures Resolve. The zero value of each option but
// Store is its documented default.
type ResolveConfig struct {
	// Store holds the payloads (as the producer's Config.Store). Required.
	Store Store
	// Buckets, when not empty, are the buckets pointers may name; a
	// pointer to another bucket is a permanent failure (a body can claim
	// anything).
	Buckets []string
	// DeleteAfterSuccess deletes a payload from the store once its
	// message's handler returned nil. Default false: the payload stays
	// (an S3 lifecycle rule can expire it); a message handled twice then
	// still finds it.
	DeleteAfterSuccess bool
	// MaxPayload is the largest payload read; a larger one is a permanent
	// failure. Default DefaultMaxPayload.
	MaxPayload int64
	// OnError receives the failures to delete a payload after success,
	// which leave the message handled. Default: logged with slog.Default()
	// at level Warn.
	OnError func(err error)
}

// ErrPayloadGone is matched (errors.Is) by the permanent error of a message
// whose payload is no longer in the store.
var ErrPayloadGone = errors.New("largepayload: the message's payload is gone from the store")

type pointerKey struct{}

// PointerFrom returns the pointer whose payload the handler is handling,
// and false when the message carried its body itself.
func PointerFrom(ctx context.Context) (Pointer, bool) {
	p, ok := ctx.Value(pointerKey{}).(Pointer)
	return p, ok
}

// Resolve returns middleware that gives handlers the payload of a pointer
// message (one with SizeAttribute or LegacySizeAttribute, from an Offloader
// or a Java or Python Extended Client): the next handler gets a copy of the
// message whose Body is the payload, read from the store (streamed, and
// ended when the message's context ends), and whose MessageAttributes lack
// the size attribute. Other messages pass unchanged. After the handler
// returns nil, the payload is deleted when cfg.DeleteAfterSuccess is set.
//
// A payload that is gone (a second delivery after the first deleted it, an
// expired object) is a permanent failure matching ErrPayloadGone; so are
// a malformed pointer (ErrBadPointer), a bucket not in cfg.Buckets and a
// payload over cfg.MaxPayload. The store's other errors are ordinary
// failures: the message is retried.
//
// It panics if cfg.Store is nil.
func Resolve(cfg ResolveConfig) consumer.Middleware {
	if cfg.Store == nil {
		panic("largepayload: Resolve needs a Store")
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = DefaultMaxPayload
	}
	if cfg.OnError == nil {
		cfg.OnError = func(err error) { slog.Default().Warn("postbox largepayload", "err", err) }
	}
	buckets := slices.Clone(cfg.Buckets)
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			size, marked := PayloadSize(msg.MessageAttributes)
			if !marked {
				return next.HandleMessage(ctx, msg)
			}
			p, err := ParsePointer(msg.Body)
			if err != nil {
				return consumer.Permanent(fmt.Errorf("message %s: %w", msg.MessageID, err))
			}
			if len(buckets) > 0 && !slices.Contains(buckets, p.Bucket) {
				return consumer.Permanent(fmt.Errorf("largepayload: message %s points to %s, a bucket not allowed", msg.MessageID, p))
			}
			if size > cfg.MaxPayload {
				return consumer.Permanent(fmt.Errorf("largepayload: message %s: payload %s of %d bytes is over the limit of %d", msg.MessageID, p, size, cfg.MaxPayload))
			}
			body, err := read(ctx, cfg.Store, p, size, cfg.MaxPayload)
			if err != nil {
				return fmt.Errorf("message %s: %w", msg.MessageID, err)
			}
			inner := *msg
			inner.Body = body
			inner.MessageAttributes = maps.Clone(msg.MessageAttributes)
			delete(inner.MessageAttributes, SizeAttribute)
			delete(inner.MessageAttributes, LegacySizeAttribute)
			if err := next.HandleMessage(context.WithValue(ctx, pointerKey{}, p), &inner); err != nil {
				return err
			}
			if cfg.DeleteAfterSuccess {
				if err := cfg.Store.Delete(context.WithoutCancel(ctx), p.Bucket, p.Key); err != nil {
					cfg.OnError(fmt.Errorf("largepayload: message %s handled, but deleting its payload %s failed: %w", msg.MessageID, p, err))
				}
			}
			return nil
		})
	}
}

// maxGrow bounds the buffer allocated up front from a declared size.
const maxGrow = 64 << 20

// read reads the payload at p, sized hint bytes (when not -1), at most max.
func read(ctx context.Context, s Store, p Pointer, hint, max int64) (string, error) {
	rc, err := s.Get(ctx, p.Bucket, p.Key)
	if errors.Is(err, ErrNotFound) {
		return "", consumer.Permanent(fmt.Errorf("%w: %s does not exist (deleted after an earlier delivery, or expired)", ErrPayloadGone, p))
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var b strings.Builder
	if hint > 0 {
		b.Grow(int(min(hint, maxGrow))) // the attribute is the sender's word
	}
	n, err := io.Copy(&b, io.LimitReader(rc, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("largepayload: reading %s: %w", p, context.Cause(ctx))
		}
		return "", fmt.Errorf("largepayload: reading %s: %w", p, err)
	}
	if n > max {
		return "", consumer.Permanent(fmt.Errorf("largepayload: payload %s is over the limit of %d bytes", p, max))
	}
	return b.String(), nil
}
