// Package telemetry traces and measures postbox with OpenTelemetry,
// following the OpenTelemetry messaging semantic conventions for aws_sqs.
// It keeps the OpenTelemetry SDK-facing code out of the core packages:
// consumer and producer know nothing of it.
//
//	tel, err := telemetry.New(telemetry.Config{
//		TracerProvider: tp, // default: the global providers
//		MeterProvider:  mp,
//	})
//	q = tel.Queue(q) // traces and measures every queue call
//	p := producer.New(q, producer.Config{Prepare: tel.PrepareMessage})
//	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
//		Queue:   q,
//		Handler: consumer.Chain(h, tel.Middleware(), middleware.Logging(logger)),
//	}}})
//
// # Spans
//
// Every span has messaging.system=aws_sqs, messaging.destination.name (the
// queue's name), messaging.operation.name and messaging.operation.type,
// aws.sqs.queue.url, and server.address and server.port when the queue URL
// is http(s). Span names are "{messaging.operation.name} {queue}":
//
//	create {queue}             PRODUCER  create   Telemetry.PrepareMessage, one per Producer.Send
//	send {queue}               PRODUCER  send     SendMessageBatch (Queue)
//	receive {queue}            CLIENT    receive  ReceiveMessage (Queue)
//	process {queue}            CONSUMER  process  the handler (Middleware)
//	delete {queue}             CLIENT    settle   DeleteMessageBatch: acknowledgements (Queue)
//	change_visibility {queue}  CLIENT    settle   ChangeMessageVisibilityBatch: heartbeats, backoffs, releases (Queue)
//
// Batch calls carry messaging.batch.message_count (when they hold other
// than one message) and single-message ones messaging.message.id. A send
// span links to the creation context of each message that has one, and
// writes its own context into the others; a receive span links to the
// producer context of each message received; a process span links to its
// message's producer context, or has it as its parent (Config.ParentMode).
// The delete and change_visibility calls of a consumer.Server carry its
// consumer.Purpose (ack, heartbeat, release) as postbox.consumer.purpose,
// on the span and on the call's metrics.
//
// The spans of queue calls (send, receive, delete, change_visibility) carry
// aws.request_id, whether the call succeeded or failed, when the backend
// reports the call's request id through backend.CallInfo: the AWS adapter
// does (the x-amzn-RequestId that SQS or postbox serve answered with); the
// native engine in process has no requests, and its spans no request id.
//
// # Propagation
//
// A message carries its producer's context in two places: as message
// attributes written by Config.Propagator (W3C traceparent and tracestate by
// default), and as the AWSTraceHeader message system attribute (the X-Ray
// header, through go.opentelemetry.io/contrib/propagators/aws/xray), which
// AWS services read and write, so that traces from them join in. When a
// message carries both, the message attributes win, unless
// Config.PreferAWSTraceHeader is set; an invalid one never wins over a
// valid one. A message that already carries a context keeps it.
//
// SQS allows at most 10 message attributes per message, and the trace
// context's attributes count against that limit (and against the 1 MiB
// size limit). When writing them would pass either limit (a message with 10
// attributes, or with 9 when tracestate must be written too), they are not
// written and the send goes on: the message then carries its context in
// AWSTraceHeader only, which counts against neither limit.
//
// # Metrics
//
// messaging.client.operation.duration (every queue call),
// messaging.client.sent.messages, messaging.client.consumed.messages and
// messaging.process.duration follow the conventions; the rest are
// postbox.*: postbox.consumer.retries, postbox.consumer.last_attempts,
// postbox.consumer.in_flight, postbox.consumer.queue_time,
// postbox.client.receive.batch_size, postbox.client.entry_errors and, for
// the native engine, postbox.engine.dead_letter_moves (ObserveDeadLetters).
// docs/metrics.md describes each.
//
// # Errors
//
// New fails only when an instrument cannot be created. Nothing here changes
// an operation's outcome: a failed call or handler is recorded (span status
// Error, error.type as ErrorType gives it) and its error returned unchanged.
package telemetry
