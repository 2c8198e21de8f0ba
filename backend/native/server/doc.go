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
// backend put into them. Every answer has an x-amzn-RequestId header.
// SigV4 signatures are accepted without being verified.
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
// Type, Code and Message. Requests that do not get as far as the backend
// get the errors AWS services give: MissingAction and InvalidAction for a
// missing or unknown action, MissingParameter for a missing required
// parameter, SerializationException for a JSON body that does not decode
// or has the wrong content type, MalformedQueryString for a form that does
// not, and InvalidParameterValue (BatchRequestTooLong for
// SendMessageBatch) for a body over Config.MaxRequestBytes. A failure
// inside the server is an InternalFailure, never a 500 without a code.
package server
