package consumer

import (
	"context"
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
	// cause is the first cancellation's cause. It is set before inner is
	// looked at, and inner is set before cause is looked at, so that one
	// of a cancel and a get running at once sees the other: no lock.
	cause atomic.Pointer[error]
}

type innerCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

var _ context.Context = (*handlerCtx)(nil)

// errEnded is the cause of a context ended by its handler's return.
var errEnded error = context.Canceled

func newHandlerCtx(parent context.Context) *handlerCtx { return &handlerCtx{parent: parent} }

// get returns the cancelable context, making it if needed.
func (c *handlerCtx) get() *innerCtx {
	if in := c.inner.Load(); in != nil {
		return in
	}
	// The parent is never cancelled, so a context made here and lost to
	// another get is only garbage: nothing registers it.
	ctx, cancel := context.WithCancelCause(c.parent)
	in := &innerCtx{ctx: ctx, cancel: cancel}
	if !c.inner.CompareAndSwap(nil, in) {
		return c.inner.Load()
	}
	if cause := c.cause.Load(); cause != nil {
		cancel(*cause)
	}
	return in
}

// cancel cancels the context with cause (context.Canceled if nil); the
// first cause sticks.
func (c *handlerCtx) cancel(cause error) {
	if cause == nil {
		c.setCause(&errEnded)
		return
	}
	c.setCause(&cause)
}

// setCause records cause unless a cause is set already, and cancels the
// cancelable context, if it is made, with the first cause. It returns the
// cause that was set before, if any.
func (c *handlerCtx) setCause(cause *error) (before *error) {
	if !c.cause.CompareAndSwap(nil, cause) {
		before = c.cause.Load()
	}
	if in := c.inner.Load(); in != nil {
		in.cancel(*c.cause.Load())
	}
	return before
}

// end cancels the context with context.Canceled once the handler has
// returned, as net/http does with a request's context. If nothing made the
// cancelable context, there is nothing to tell: a later Done or Err makes
// it, already cancelled.
func (c *handlerCtx) end() { c.cancel(nil) }

// finish is Cause and end in one step: it ends the context and returns why
// it was cancelled before, or nil.
func (c *handlerCtx) finish() error {
	if before := c.setCause(&errEnded); before != nil {
		return *before
	}
	return nil
}

// Cause returns why the context was cancelled, or nil.
func (c *handlerCtx) Cause() error {
	if cause := c.cause.Load(); cause != nil {
		return *cause
	}
	return nil
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
	if c.cause.Load() != nil {
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
	if c.cause.Load() != nil {
		return c.get().ctx.Value(key)
	}
	return c.parent.Value(key)
}
