package consumer

import "context"

// Handler processes one message. HandleMessage returning nil means success:
// the message is deleted. An error means failure: the message becomes
// visible again after a backoff, unless the error is Permanent. The context
// is cancelled when the message's lease is lost (see ErrLeaseLost) or when a
// shutdown's deadline passes (see ErrServerShutdown); context.Cause tells
// which. It carries the values of the context given to Server.Run, and ends
// (context.Canceled) when HandleMessage returns, so that work the handler
// started and left running sees it end.
//
// Handlers run concurrently, up to the configured concurrency, and must be
// safe for that. A panic in a handler is recovered and treated as an error
// (a *PanicError).
type Handler interface {
	HandleMessage(ctx context.Context, msg *Message) error
}

// HandlerFunc adapts a function to a Handler, as http.HandlerFunc does.
type HandlerFunc func(ctx context.Context, msg *Message) error

// HandleMessage calls f(ctx, msg).
func (f HandlerFunc) HandleMessage(ctx context.Context, msg *Message) error { return f(ctx, msg) }

// Middleware wraps a Handler with behaviour of its own: recovery, timeouts,
// retries, logging, tracing. It has net/http's middleware shape.
type Middleware func(Handler) Handler

// Chain returns h wrapped in mws, the first of mws outermost: Chain(h, a, b)
// is a(b(h)), so a message passes through a, then b, then h.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// BatchHandler processes the messages of one receive together, as an AWS
// Lambda function with partial batch responses does. It returns one error per
// message, in order (nil for success); a result of another length fails the
// whole batch. Returning nil (a nil slice) means every message succeeded.
//
// On FIFO queues the messages are in queue order, and once a message of a
// group fails, the later messages of that group in the batch are given back
// to the queue whatever their result, so the handler should stop processing
// a group at its first failure.
type BatchHandler interface {
	HandleBatch(ctx context.Context, msgs []*Message) []error
}

// BatchHandlerFunc adapts a function to a BatchHandler.
type BatchHandlerFunc func(ctx context.Context, msgs []*Message) []error

// HandleBatch calls f(ctx, msgs).
func (f BatchHandlerFunc) HandleBatch(ctx context.Context, msgs []*Message) []error {
	return f(ctx, msgs)
}
