// Package server is the native engine's network face: an http.Handler that
// speaks Amazon SQS's wire protocols, so that any AWS SDK, the AWS CLI and
// other SQS clients can use a backend.Service (normally the native engine)
// as if it were SQS.
//
//	eng, _ := native.New(native.Config{BaseURL: "http://127.0.0.1:9324"})
//	srv, _ := server.New(server.Config{Service: eng})
//	http.ListenAndServe("127.0.0.1:9324", srv)
//
// # Protocols
//
// A request with an X-Amz-Target header ("AmazonSQS.<Action>") or a JSON
// content type is served with the AWS JSON 1.0 protocol that current SDKs
// send: a POST of an application/x-amz-json-1.0 body, answered with a JSON
// body. Any other request is served with the query protocol that older SDKs
// send: Action=<Action> and its parameters form-encoded in a POST body or
// the URL's query string, answered with XML in the
// http://queue.amazonaws.com/doc/2012-11-05/ namespace. Every one of the
// 23 SQS actions (see Actions) is served in both.
//
// A queue is named by the QueueUrl parameter or, when that is absent, by
// the request path /ACCOUNT/NAME; only the path of a QueueUrl matters, so
// clients may reach the server under any host name. Queue URLs in answers
// carry the host the client used (or Config.Host), whatever host the
// backend put into them. Every answer has an x-amzn-RequestId header and a
// Date header from Config.Clock.
//
// # Authentication and access control
//
// Without Config.Credentials the server is anonymous: signatures are not
// verified and every request acts in the backend's default account. With
// credentials, every request must carry an AWS Signature Version 4 for
// one of them, in its Authorization header or as a presigned URL's
// X-Amz-* query parameters, in either protocol; the signature covers the
// method, path, query, the signed headers and the SHA-256 of the body
// (UNSIGNED-PAYLOAD is accepted only in presigned URLs), and its time must
// be within 15 minutes of Config.Clock (a presigned URL's, within its
// X-Amz-Expires). Any region is accepted in the credential scope; the
// service must be "sqs". The request then acts in the credential's
// account (native.WithAccount): CreateQueue, ListQueues and GetQueueUrl
// work in it. A queue of another account may be used only when its Policy
// attribute (which AddPermission writes to) allows the caller's account
// the action, batch actions counting as their single-message ones, and
// never for the actions SQS keeps to the owner (AddPermission,
// RemovePermission, CreateQueue, DeleteQueue, ListQueues, ListQueueTags,
// SetQueueAttributes, TagQueue, UntagQueue and the move-task actions). The
// policy language is package policy's. DashboardAuthorizer adapts this to
// the dashboard. See docs/security.md.
//
// # Delivery semantics
//
// The server adds none of its own: each request is one call on the
// backend, and the backend's at-least-once delivery, visibility timeouts
// and long polls are what the client sees. Single-message actions
// (SendMessage, DeleteMessage, ChangeMessageVisibility) are batches of one
// whose entry failure becomes the request's error. Drain ends waiting long
// polls with no messages, for a graceful shutdown.
//
// # Errors
//
// Errors are SQS's: the code, HTTP status and fault come from backend's
// error table. The JSON protocol sends {"__type": ..., "message": ...}
// (with the "com.amazonaws.sqs#" namespace for the errors of the SQS API
// model) and an x-amzn-query-error header "<legacy code>;Sender" (or
// ";Receiver"); the query protocol sends an ErrorResponse document with
// Type, Code and Message (in JSON, {"Error": {...}, "RequestId": ...},
// for a query request that accepts application/json, whose answers are
// JSON too). Requests that do not get as far as the backend get the
// errors AWS services give: MissingAction (JSON) or 404
// UnknownOperationException (query) for a missing action, InvalidAction
// for an unknown one or for CreateQueue and ListQueues sent to a queue's
// URL, MissingParameter for a missing required
// parameter, SerializationException for a JSON body that does not decode
// or has the wrong content type, MalformedQueryString for a form that does
// not, and InvalidParameterValue (BatchRequestTooLong for
// SendMessageBatch) for a body over Config.MaxRequestBytes. A failure
// inside the server is an InternalFailure, never a 500 without a code.
//
// With credentials: a request without a signature gets 403
// MissingAuthenticationToken; a malformed Authorization header or
// presigned URL 400 IncompleteSignature; an unknown access key 403
// InvalidClientTokenId; a wrong signature, or a time more than 15 minutes
// off ("Signature expired: ... is now earlier than ..."), 403
// SignatureDoesNotMatch; a queue of another account that its policy does
// not open to the caller 403 AccessDenied. A request whose signature does
// not match gets SignatureDoesNotMatch whatever else is wrong with it.
// The JSON protocol sends these with the x-amzn-query-error codes above
// and the service framework's __type (UnrecognizedClientException,
// InvalidSignatureException, IncompleteSignatureException,
// MissingAuthenticationTokenException, AccessDeniedException).
//
// Past a limit: a ReceiveMessage that would wait while Config.MaxLongPolls
// (or Config.MaxLongPollsPerConn on one connection) polls already wait, or
// a body over 64 KiB while Config.MaxBodyBytesInFlight bytes of bodies are
// being read, gets 403 RequestThrottled, which SDKs retry as throttling.
// Serve with HTTPLimits for the header, read, write and idle timeouts.
package server
