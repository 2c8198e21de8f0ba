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
// Each queue has four parts, each a file of this package: a receiver, a
// worker pool, an acknowledger and a heartbeat.
//
// The receiver asks for messages (up to 10 a call, asking for every system
// and message attribute and for QueueConfig.VisibilityTimeout) ahead of
// demand: it keeps enough receives in flight that the messages in hand
// and on their way cover what the workers finish during one receive's
// round trip, on top of one message per worker (Little's law, with the
// finish rate and the round trip measured as it goes). So no worker waits
// on the network, whether the queue is in the same process or an ocean
// away, and a no-op handler is limited by the queue, not by round trips.
// It never holds more than Concurrency + Prefetch messages received and
// unfinished, or asked for. An empty queue costs one long poll (20 s by
// default) at a time, however large Concurrency is: as SQS bills every
// request, an idle server makes three a minute per queue; when messages
// arrive it ramps up within a few round trips. A failing receive is
// retried, one at a time, after a growing backoff
// (QueueConfig.ReceiveBackoff) and reported to Config.OnError.
//
// Workers, Concurrency goroutines, run the handler; a panic becomes a
// *PanicError. The acknowledger deletes successes with DeleteMessageBatch,
// 10 to a call, sent when full or after QueueConfig.AckMaxDelay (100 ms),
// or at once when nothing is left in hand and the queue looks drained;
// calls run in parallel, and batches grow while they are all busy. Failed
// entries are retried when the failure is the service's, and reported
// otherwise. Visibility changes (a failure's backoff, a release) go the
// same way with ChangeMessageVisibilityBatch.
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
// Shutdown (or the end of Run's context, or Config.StopWhenIdle) stops
// receiving and gives back what was received but not started; it gives
// the receives already sent a second to answer and gives back what they
// bring (a receive cancelled with messages on their way back would leave
// them invisible for the visibility timeout); it waits for running
// handlers until the deadline (keeping their leases alive), then cancels
// them (cause ErrServerShutdown) and gives their messages back; it sends
// the pending deletes and visibility changes, and returns when every
// goroutine it started has ended. Config.ShutdownTimeout bounds it all:
// the handlers get the deadline less a fifth (at most 2 s), kept for the
// last deletes and releases.
//
// # Errors
//
// New validates the configuration and reports the first bad option. Run
// returns nil after a graceful shutdown (its context ended, or
// StopWhenIdle), ErrShutdownTimeout when the deadline forced handlers to be
// cancelled, and ErrServerClosed after Shutdown (see Server.Run). Everything that goes wrong while
// running (receives, handler errors, deletes, visibility changes, lost
// leases) is reported to Config.OnError as an *Error naming the operation
// (Op*), the queue and the message; its Err is, for backend failures, a
// *backend.Error that matches the backend.Err* values with errors.Is.
//
// # Health
//
// Server.HealthHandler is an http.Handler for Kubernetes probes: not ready
// until the first receive from every queue succeeded, unhealthy once
// receives have failed for Config.UnhealthyAfter, and 503 once stopped.
package consumer
