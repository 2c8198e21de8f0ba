// Package middleware holds postbox's handlers and middleware: Recover,
// Timeout, Retry, Logging and RateLimit, each a consumer.Middleware (the
// net/http shape func(Handler) Handler) in a small file of its own; Job,
// which adapts a typed func(ctx, T) error to a handler by decoding JSON
// bodies, with NewJob for the producer side; and Router, a handler that
// dispatches on a message attribute ("type") to a handler per job type.
// OpenTelemetry tracing and metrics are in middleware/telemetry.
//
// Compose them with consumer.Chain; the first is outermost:
//
//	r := middleware.NewRouter()
//	r.Handle("welcome", middleware.Job(sendWelcome)) // func(ctx, Welcome) error
//	r.Handle("receipt", middleware.Job(sendReceipt))
//	h := consumer.Chain(r,
//		middleware.Logging(logger), // failures at Warn/Error, successes at Debug
//		middleware.Retry(middleware.RetryConfig{Attempts: 3}),
//		middleware.Recover(),       // a panic becomes an error Retry can retry
//		middleware.RateLimit(middleware.RateLimitConfig{Limit: 50}),
//		middleware.Timeout(30*time.Second),
//	)
//
// and send jobs with
//
//	m, err := middleware.NewJob("welcome", Welcome{To: "ada@example.com"})
//	...
//	_, err = producer.Send(ctx, q, m)
//
// # Delivery semantics
//
// Middleware runs inside one delivery of a message. Retry retries a failed
// handler in the same process, while the server's heartbeat keeps the
// message invisible; when its attempts are spent, the error goes back to the
// server, which makes the message visible again after its backoff.
// RateLimit makes a message wait for its turn in the same way. A message is
// deleted only when the whole chain returns nil (or a permanent error, see
// consumer.Permanent).
//
// # Errors
//
// Recover turns a panic into a *consumer.PanicError. Timeout's error
// matches ErrTimeout (errors.Is) when the handler overran. Retry returns the
// last attempt's error; it never retries a consumer.Permanent error or an
// error after the message's context ended. RateLimit's error matches
// ErrRateLimited when the message's context ended before its turn (the
// handler did not run). Job returns a permanent *JobDecodeError for a body
// that does not decode, and Router's default fallback a permanent error
// matching ErrNoHandler for a type without a handler: such messages go to
// QueueConfig.OnPermanent and are deleted, never retried forever.
package middleware
