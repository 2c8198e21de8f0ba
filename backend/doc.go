// Package backend is the ground floor of postbox: the contract every queue
// backend implements, the SQS error codes they all speak, SQS's limits and
// validation rules, and the URL scheme registry that picks a backend.
//
// # The contract
//
// [Queue] is one queue's message operations and [Service] administers the
// queues of one account or endpoint. Both are safe for concurrent use. Every
// message operation is batch-first, like SQS's batch actions: it takes 1-10
// entries ([MaxBatchEntries]) and returns exactly one result per entry, in
// order; an entry's failure is carried on its result and never affects its
// neighbours. The error return is for the request as a whole (the queue does
// not exist, the batch is malformed, ctx ended); when it is not nil nothing
// was changed. Backends never retry: the consumer and producer packages own
// retries and backoff.
//
// Backends share this package's validators, so that every backend rejects
// exactly what SQS rejects, with SQS's code: [ValidateQueueName],
// [ValidateSendEntry] (body, attributes, size, delay, group and
// deduplication ids), [ValidateBatchIDs], [ValidateSendBatchSize],
// [ValidateReceiveRequest], [ValidateVisibilityTimeout], [ValidateTags] and
// [ValidateTagKeys]. They allocate nothing when the input is valid. The
// digests SQS returns, which the AWS SDKs verify, come from [MD5OfBody] and
// [MD5OfMessageAttributes]; [SelectMessageAttributes] and
// [WantsSystemAttribute] pick what a receive asked for. The limits are
// constants ([MaxMessageSize], [MaxVisibilityTimeout], ...).
//
// # Delivery semantics
//
// Every backend delivers as SQS does. Standard queues deliver at least once,
// in no guaranteed order: a message may be received more than once, so
// handlers must be idempotent. FIFO queues (names ending in ".fifo", see
// [IsFIFOName]) deliver in order within a message group and deduplicate
// sends by MessageDeduplicationId for five minutes, so that a retried send
// enqueues once.
//
// A received message is invisible for its visibility timeout (the queue's
// VisibilityTimeout, default [DefaultVisibilityTimeout] seconds, or
// [ReceiveRequest].VisibilityTimeout, at most [MaxVisibilityTimeout]); it is
// delivered again unless it is deleted, with its receipt handle, before the
// timeout ends. ChangeVisibility extends or ends the timeout, counted from
// now. Deleting a message that is already gone succeeds. A message is kept
// for the queue's retention period (default [DefaultRetentionPeriod]
// seconds) and may be delayed up to [MaxDelaySeconds] before its first
// delivery. Receive long-polls for up to [MaxWaitTimeSeconds] seconds and
// returns as soon as a message is available.
//
// # Errors
//
// Errors are [*Error] values carrying SQS's own error code (the Code*
// constants, as the JSON protocol names them), a message, and whether the
// sender is at fault. The same code comes back whichever backend produced
// it, so callers compare with errors.Is against the Err* sentinels, which
// match by code through any wrapping:
//
//	if errors.Is(err, backend.ErrQueueDoesNotExist) { ... }
//
// or extract the code with [Code]. A batch entry's result ([SendResult],
// [EntryResult]) has an Err of type error: nil on success, such an error on
// failure. [LookupError] gives a code's wire form (the legacy query
// protocol's code and the HTTP status), the one table that the wire server
// and the AWS adapter both use. Bad input gets
// InvalidParameterValue, MissingParameter, InvalidMessageContents,
// InvalidAttributeName or a batch error (EmptyBatchRequest,
// TooManyEntriesInBatchRequest, InvalidBatchEntryId,
// BatchEntryIdsNotDistinct, BatchRequestTooLong), as SQS gives them, and
// changes nothing.
//
// # Call information
//
// A caller may learn what a backend knows about one call, such as the
// service's request id, with [WithCallInfo]; backends record it with
// [SetRequestID]. It is optional: the AWS adapter records request ids, the
// native engine in process has none.
//
// # URL schemes
//
// A queue URL picks the backend, so that moving between AWS and a local
// engine is configuration, not code. [Open] serves any scheme a linked
// backend registered with [Register]:
//
//	mem://NAME                                   in-process engine (backend/native)
//	file:///DIR?queue=NAME                       durable in-process engine (backend/native)
//	https://sqs.REGION.amazonaws.com/ACCT/NAME   AWS SQS (backend/awssqs)
//	http://127.0.0.1:9324/ACCT/NAME              an SQS endpoint such as postbox serve (backend/awssqs)
//
// Programs link the backends they want with a blank import, or import
// backend/all for every one; an unregistered scheme gets an error naming
// the import to add.
package backend
