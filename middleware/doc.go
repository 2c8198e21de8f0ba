// Package middleware holds the core middleware of postbox handlers:
// Recover, Timeout, Retry and Logging. Each is a consumer.Middleware, the
// net/http shape func(Handler) Handler, in a small file of its own.
//
// Compose them with consumer.Chain; the first is outermost:
//
//	h := consumer.Chain(handler,
//		middleware.Logging(logger), // sees the final outcome of every message
//		middleware.Retry(middleware.RetryConfig{Attempts: 3}),
//		middleware.Recover(),       // a panic becomes an error Retry can retry
//		middleware.Timeout(30*time.Second),
//	)
//
// # Delivery semantics
//
// Middleware runs inside one delivery of a message. Retry retries a failed
// handler in the same process, while the server's heartbeat keeps the
// message invisible; when its attempts are spent, the error goes back to the
// server, which makes the message visible again after its backoff. A message
// is deleted only when the whole chain returns nil (or a permanent error,
// see consumer.Permanent).
//
// # Errors
//
// Recover turns a panic into a *consumer.PanicError. Timeout's error
// matches ErrTimeout (errors.Is) when the handler overran. Retry returns the
// last attempt's error; it never retries a consumer.Permanent error or an
// error after the message's context ended.
package middleware
