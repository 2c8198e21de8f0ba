package middleware

import (
	"context"
	"runtime/debug"

	"github.com/postbox-go/postbox/consumer"
)

// Recover turns a panic in the handlers it wraps into a *consumer.PanicError
// (with the panic value and the stack), so that the middleware outside it,
// Retry or Logging, sees an error like any other. The server recovers
// panics by itself as well; Recover is for chains that want to handle them.
func Recover() consumer.Middleware {
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = &consumer.PanicError{Value: r, Stack: debug.Stack()}
				}
			}()
			return next.HandleMessage(ctx, msg)
		})
	}
}
