// Package consumer runs handlers over the messages of one or more queues:
// you write func(ctx, *Message) error, and a Server long-polls the queue,
// runs your handler in a bounded worker pool, deletes what succeeded in
// batches, keeps long jobs invisible while they run, backs failures off, and
// shuts down without losing or stranding a message.
//
//	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
//		Queue:       q, // any backend.Queue: AWS SQS, postbox serve, the in-process engine
//		Handler:     consumer.HandlerFunc(resize),
//		Concurrency: 50,
//	}}})
//	...
//	err = srv.Run(ctx) // until ctx ends; then a graceful shutdown
//
// Handlers have net/http's shape: Handler, HandlerFunc and Middleware
// (func(Handler) Handler), composed with Chain; package middleware has
// Recover, Timeout, Retry, Logging, RateLimit, typed JSON jobs (Job) and a
// Router, and middleware/telemetry traces and measures with OpenTelemetry.
// BatchHandler takes the messages of one receive at once and answers per
// message, like an AWS Lambda partial batch response.
//
// # How it works
//
// Pollers receive (up to 10 messages a call, asking for every system and
// message attribute and for QueueConfig.VisibilityTimeout) only while there
// are free slots: the server never holds more received, unfinished messages
// than Concurrency + Prefetch, so no message waits out its visibility
// timeout in a local buffer. Several receives run at once when the workers
// can take more than 10 messages (no more than GOMAXPROCS while receives
// take microseconds, as from a queue in the same process). An empty queue
// costs one long poll (20 s by default) per poller; a failing receive is
// retried after a growing backoff (QueueConfig.ReceiveBackoff) and reported
// to Config.OnError.
//
// Workers run the handler; a panic becomes a *PanicError. Successes are
// deleted with DeleteMessageBatch, 10 to a call, flushed when full or after
// QueueConfig.AckMaxDelay (100 ms), or at once when nothing is left in hand
// and the queue looks drained; failed entries are retried when the failure
// is the service's, and reported otherwise.
//
// While handler calls take under 20 µs on average (the server times them),
// a poller that receives messages while a worker is idle runs them itself,
// one after the other, in that worker's place, so Concurrency still bounds
// the handler calls at once: handing each message to another goroutine
// would cost more than handling it. If such a run lasts over 5 ms (a
// handler turned slow), the messages it has not started go to the workers
// (within 15 ms: a watchdog looks every 10 ms).
// Delete batches are likewise sent by the goroutine that fills them while
// delete calls take microseconds (a queue in the same process).
//
// A heartbeat extends the visibility of every received, unfinished message
// before it runs out (ChangeMessageVisibilityBatch, 10 to a call) until the
// handler ends, up to QueueConfig.MaxExtension and never past SQS's limit of
// 12 hours after the receive. If an extension fails because the lease is
// lost (ReceiptHandleIsInvalid, MessageNotInflight, or InvalidParameterValue
// for a stale handle), or the lease runs out at the limit, the handler's
// context is cancelled and context.Cause returns an error matching
// ErrLeaseLost.
//
// # FIFO queues
//
// A queue whose URL ends in ".fifo" is consumed in order: the messages of
// one group are handled one at a time, in the order received, while
// different groups run in parallel. When a message fails, the messages of
// its group already received are released (visibility 0) rather than run,
// so nothing is handled out of order; SQS then holds the group until the
// failed message comes back. A receive retried after an error reuses its
// ReceiveRequestAttemptId, so that messages taken by a receive whose
// response was lost come back at once.
//
// # Delivery semantics
//
// At least once. A message is deleted only after its handler returned nil
// (or a Permanent error, after QueueConfig.OnPermanent); a failed message is
// never deleted: it becomes visible again after the backoff for its receive
// count (QueueConfig.Backoff, exponential with jitter, capped, and never
// reaching past 12 hours from the receive), and SQS's RedrivePolicy moves it
// to a dead-letter queue after maxReceiveCount receives. A message can be
// handled twice: when a delete fails, when the lease is lost, or when the
// process dies; handlers must be idempotent. A message whose lease was lost
// is neither deleted nor changed afterwards.
//
// # Shutdown
//
// Shutdown (or the end of Run's context) stops receiving, releases what was
// received but not started, waits for running handlers until the deadline
// (keeping their leases alive), then cancels them (cause ErrServerShutdown)
// and releases their messages, flushes pending deletes and visibility
// changes, and returns when every goroutine it started has ended.
//
// # Errors
//
// New validates the configuration and reports the first bad option. Run
// returns ErrServerClosed after Shutdown, and ErrShutdownTimeout when the
// deadline forced handlers to be cancelled. Everything that goes wrong while
// running (receives, handler errors, deletes, visibility changes, lost
// leases) is reported to Config.OnError as an *Error naming the operation
// (Op*), the queue and the message; its Err is, for backend failures, a
// *backend.Error that matches the backend.Err* values with errors.Is.
package consumer
