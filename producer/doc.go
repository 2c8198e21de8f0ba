// Package producer sends messages to a queue: Send and SendBatch for
// one-off calls, and Producer, which merges concurrent sends into
// SendMessageBatch calls.
//
// Everything here works on a backend.Queue, so the same code sends to AWS
// SQS, to postbox serve, or to the in-process engine.
//
//	p := producer.New(q, producer.Config{})
//	defer p.Close()
//	res, err := p.Send(ctx, producer.Message{Body: `{"image":"cat.png"}`})
//
// # Batching
//
// SendBatch splits its messages into SendMessageBatch calls of at most 10
// messages and at most 1 MiB (SQS's limits), sent up to 4 at once, and
// returns one Result per message. Producer runs up to Config.MaxInFlight
// calls at once (8 by default) and batches the way gocloud.dev's
// pubsub/batcher does: a Send that finds a call free goes out at once,
// with whatever else is waiting, so a program that sends one message at a
// time pays one round trip per message and never waits for company; while
// every call is busy, Sends wait, and each call that ends takes up to a
// full batch of them. Batches grow only while calls are in flight: the
// busier the producer, the fuller they are. No timer runs. Close sends
// what is waiting and waits.
//
// # Tracing
//
// Config.Prepare runs in each Producer.Send with that call's context, before
// the message joins a batch: package middleware/telemetry uses it to write
// each Send's trace context into its own message, so that a batch call
// merging messages from many requests still links every message to the
// request that produced it.
//
// # Delivery semantics
//
// A message is sent when its Result has no error. SQS stores a message that
// it acknowledged; a send whose request failed (a network error, a context
// that ended) may or may not have been stored, and a retry may store it
// twice on a standard queue: consumers must be idempotent. On FIFO queues a
// DeduplicationID (or content-based deduplication) makes a retry within 5
// minutes harmless. Messages of one FIFO group keep their order only within
// one batch, or across Send calls that do not overlap in time.
//
// # Errors
//
// A message's own failure is a *backend.Error with SQS's code (for example
// InvalidParameterValue for a bad body or a message over 1 MiB,
// InvalidMessageContents); compare with errors.Is against the backend.Err*
// values. A request that failed as a whole gives every message in it that
// error. SendBatch returns a *BatchError when any message failed; Send and
// Producer.Send return the message's own error. Producer.Send after Close
// returns ErrClosed. Nothing here retries: callers decide.
package producer
