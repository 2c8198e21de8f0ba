// Package awssqs is postbox's AWS adapter: a backend.Service and
// backend.Queue over the aws-sdk-go-v2 SQS client, for AWS SQS itself or any
// endpoint that speaks the SQS protocol, such as postbox serve.
//
// # Opening a queue by URL
//
// Importing the package registers the http and https URL schemes with
// backend.Open:
//
//	import _ "github.com/postbox-go/postbox/backend/awssqs"
//
//	q, svc, err := backend.Open(ctx, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders")
//	q, svc, err := backend.Open(ctx, "http://127.0.0.1:9324/000000000000/orders") // postbox serve
//
// An AWS URL (see ParseQueueURL for the host forms recognised) gets its
// region from the host and its credentials from the default aws-sdk-go-v2
// config chain (config.LoadDefaultConfig: environment, shared files, SSO,
// container and instance roles). Any other host is an SQS-compatible
// endpoint: requests go to scheme://host:port, the region is the
// environment's or DefaultRegion, and when the credential chain finds no
// credentials static placeholders are used, so that it works on a machine
// with no AWS setup. Opening does not contact the service; the queue's
// first call does. Close the returned service when done: it ends pending
// long polls and closes idle connections. OpenEndpoint does the same for an
// endpoint alone (http://127.0.0.1:9324), for administering queues before
// there is a queue URL.
//
// # Using your own client
//
// New takes any API, the narrow interface of the SDK calls the adapter
// makes; *sqs.Client satisfies it. Build the client without retries
// (aws.NopRetryer): backends never retry, callers own retries and backoff.
// The SDK's MD5 checks of message bodies stay on; the adapter never turns
// them off. The SDK does not check MD5OfMessageAttributes, which other AWS
// SDKs do, so the adapter checks it itself in SendMessageBatch and
// ReceiveMessage answers (Config.SkipAttributeMD5Check turns that off). A
// failed check is a request error (see # Errors).
//
// # Delivery semantics
//
// Those of the service behind the client: for AWS SQS, at-least-once on
// standard queues and exactly-once processing within the deduplication
// interval on FIFO queues. Every Queue operation is one batch call
// (SendMessageBatch, ReceiveMessage, DeleteMessageBatch,
// ChangeMessageVisibilityBatch) with one result per entry in the order
// given; an empty or oversized batch is refused without a call. An explicit
// 0 for a message's DelaySeconds or a receive's WaitTimeSeconds or
// VisibilityTimeout is sent as 0, overriding the queue's default, although
// the SDK alone would leave it out.
//
// # Request ids
//
// The Queue operations record the request id of each answered call (the
// x-amzn-RequestId SQS or postbox serve sent) on the backend.CallInfo of
// the call's context, for a success and for an error answer alike:
//
//	ctx, info := backend.WithCallInfo(ctx)
//	res, err := q.Send(ctx, entries)
//	// info.RequestID: the SendMessageBatch request's id
//
// A call that got no answer (connection refused, ctx ended, Close ending a
// long poll) leaves it empty. The Service's administrative calls record
// none.
//
// # Errors
//
// Every error a call returns is one of:
//
//   - ctx's error (context.Canceled or context.DeadlineExceeded) when ctx
//     ended and the call failed because of it;
//   - a *backend.Error carrying the SQS code of the service's answer, so
//     that errors.Is(err, backend.ErrQueueDoesNotExist) and backend.Code
//     work the same as with the native engine;
//   - a *TransportError when no usable SQS answer came back: the
//     connection failed (ServiceUnavailable), a 502, 503 or 504 answer was
//     not SQS's (ServiceUnavailable), or the answer could not be decoded or
//     failed an MD5 check of a body or of message attributes
//     (InternalFailure). It matches the *backend.Error of that code with
//     errors.Is and errors.As, and errors.Unwrap returns the cause (the
//     SDK's error, or the attribute checksum mismatch). Unlike the other
//     errors, it does not promise that nothing changed: the request may
//     have been carried out before its answer was lost or failed a check.
//
// The SQS code is found in one table (errors.go), whichever form the
// service sends it in:
//
//   - an error shape of the SQS API model, which the SDK decodes into its
//     own types (types.QueueDoesNotExist, ...): the shape's name;
//   - a JSON "__type", with or without its namespace
//     ("com.amazonaws.sqs#QueueDoesNotExist"), or the code the SDK takes
//     from the x-amzn-query-error header
//     ("AWS.SimpleQueueService.NonExistentQueue;Sender") or from an older
//     query-protocol answer: looked up with backend.LookupQueryCode, which
//     knows both the JSON and the legacy query names;
//   - the Code of a query protocol XML ErrorResponse, from a server that
//     answers a JSON request in the query protocol's shape;
//   - a few other names AWS services use for the same errors
//     (ThrottlingException, AccessDeniedException, InternalError, ...);
//   - any other code is kept as the service sent it.
//
// SenderFault comes from the error table for known codes and from the
// service's fault (the header's Sender or Receiver) otherwise. A failed
// batch entry's Code goes through the same lookup; its SenderFault and
// Message are kept as sent. A request the SDK refuses to send because a
// required parameter is missing is MissingParameter. Calls on a closed
// Service fail with ServiceUnavailable.
package awssqs
