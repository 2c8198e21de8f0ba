package consumer

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// handlerCtx is the context of one handler call. It costs one small
// allocation: the cancelable context behind it (from
// context.WithCancelCause) is made only when something asks for it: Done,
// a context derived from it, a Value lookup after a cancellation, or the
// cancellation itself (a lost lease, a shutdown). A handler that never looks
// at its context, the common fast case, never makes one.
//
// Its parent is the server's base context, which is never cancelled, so
// the handler context is cancelled only through cancel: by the heartbeat
// when the lease is lost, by Shutdown at its deadline, and with
// context.Canceled when the handler has returned.
type handlerCtx struct {
	parent context.Context // never cancelled

	// inner is the cancelable context, once made; it is never replaced.
	inner atomic.Pointer[innerCtx]

	mu        sync.Mutex
	cause     error       // set (under mu) when cancelled before inner was made
	cancelled atomic.Bool // cause is set
}

type innerCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

var _ context.Context = (*handlerCtx)(nil)

func newHandlerCtx(parent context.Context) *handlerCtx { return &handlerCtx{parent: parent} }

// get returns the cancelable context, making it if needed.
func (c *handlerCtx) get() *innerCtx {
	if in := c.inner.Load(); in != nil {
		return in
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.makeLocked()
}

func (c *handlerCtx) makeLocked() *innerCtx {
	if in := c.inner.Load(); in != nil {
		return in
	}
	ctx, cancel := context.WithCancelCause(c.parent)
	in := &innerCtx{ctx: ctx, cancel: cancel}
	if c.cause != nil {
		cancel(c.cause)
	}
	c.inner.Store(in)
	return in
}

// cancel cancels the context with cause (context.Canceled if nil); the
// first cause sticks.
func (c *handlerCtx) cancel(cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	if in := c.inner.Load(); in != nil {
		in.cancel(cause)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in := c.inner.Load(); in != nil {
		in.cancel(cause)
		return
	}
	if c.cause == nil {
		c.cause = cause
		c.cancelled.Store(true)
	}
}

// end cancels the context with context.Canceled once the handler has
// returned, as net/http does with a request's context. If nothing made the
// cancelable context, there is nothing to tell: a later Done or Err makes
// it, already cancelled.
func (c *handlerCtx) end() { c.cancel(nil) }

// Cause returns why the context was cancelled, or nil.
func (c *handlerCtx) Cause() error {
	if in := c.inner.Load(); in != nil {
		return context.Cause(in.ctx)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Deadline is the parent's (none: the parent is never cancelled).
func (c *handlerCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done returns the cancelable context's channel, making the context.
func (c *handlerCtx) Done() <-chan struct{} { return c.get().ctx.Done() }

// Err reports context.Canceled once the context is cancelled.
func (c *handlerCtx) Err() error {
	if in := c.inner.Load(); in != nil {
		return in.ctx.Err()
	}
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

// Value looks key up in the cancelable context once it exists, and in the
// parent before. context.Cause finds the cancel cause through Value: once
// the context is cancelled, Value makes the cancelable context (cancelled
// with the cause); before, the parent (made with context.WithoutCancel)
// reports no cause, which is right.
func (c *handlerCtx) Value(key any) any {
	if in := c.inner.Load(); in != nil {
		return in.ctx.Value(key)
	}
	if c.cancelled.Load() {
		return c.get().ctx.Value(key)
	}
	return c.parent.Value(key)
}
