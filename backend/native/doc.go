// Package native is postbox's own queue engine: Amazon SQS semantics in
// process, with no network and no AWS account. It serves standard, FIFO and
// fair queues, visibility timeouts, receipt handles, delays, retention,
// dead-letter queues with redrive and message move tasks, and long polling.
// backend/native/server puts it on the network behind the SQS wire protocol
// (postbox serve).
//
// An Engine implements backend.Service; Engine.Queue returns a
// backend.Queue. Programs that pick a backend by URL import this package
// for the mem:// scheme:
//
//	q, svc, err := backend.Open(ctx, "mem://jobs")
//
// mem:// URLs share one process-wide engine (Shared), so a producer and a
// consumer that open the same URL share the queue. Such queues report the
// URL that names them (Queue.URL, CreateQueue, ListQueues): mem://NAME, or
// file:///DIR?queue=NAME for the durable engine of a file:// URL, never an
// http:// URL of a server that is not there (Config.LocalURLs).
//
// # Delivery semantics
//
// Standard queues deliver at least once, in approximately send order; a
// message received and not deleted becomes visible again when its
// visibility timeout ends. FIFO queues deliver each message group strictly
// in order: while a message of a group is in flight, no later message of
// that group is delivered. Deduplication ids (explicit, or the SHA-256 of
// the body with ContentBasedDeduplication) are remembered for five minutes.
// A standard queue whose messages carry a MessageGroupId is a fair queue:
// a noisy group's backlog is held back behind quiet groups' messages (see
// fair.go for the policy).
//
// A receive that finds no message waits up to its wait time and returns as
// soon as one becomes available: sent, released, or out of its delay or
// visibility timeout. Waiting receives cost nothing while idle; a send
// hands messages to them directly.
//
// Receipt handles are new on every receive and name the queue, the message
// and the receive; a handle from another queue, or one not issued by the
// engine, is ReceiptHandleIsInvalid. Deleting a message with a handle from
// an earlier receive succeeds on a standard queue, as in SQS; a FIFO queue
// accepts only the current receive's handle while its visibility holds.
//
// # Errors
//
// Every error is a *backend.Error with SQS's code, so errors.Is works
// against the backend.Err* values. A request rejected as a whole changes
// nothing; in a batch, a failed entry leaves its neighbours unaffected.
//
// # Time
//
// The engine reads time only from Config.Clock, so tests drive delays,
// visibility timeouts, retention and long polls with a fake clock. Nothing
// runs in the background but the timers of waiting receives and running
// message move tasks, which Close stops and waits for.
package native
