package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/postbox-go/postbox/backend"
)

// Codes of protocol-level errors (in backend's error table).
const (
	codeMissingAction          = backend.CodeMissingAction
	codeMalformedQueryString   = backend.CodeMalformedQueryString
	codeSerializationException = backend.CodeSerializationException
)

// wireError is how an error appears on the wire.
type wireError struct {
	jsonType  string // the JSON protocol's "__type"
	queryCode string // the query protocol's Code and the x-amzn-query-error code
	status    int
	sender    bool
	message   string
}

// toWire turns any error a handler produced into its wire form. Errors
// that are not *backend.Error become InternalFailure (a 500 with a code),
// except a context that ended, which is reported as ServiceUnavailable
// when the server is going away and as a cancelled request otherwise.
func toWire(err error) wireError {
	var be *backend.Error
	if !errors.As(err, &be) {
		code := backend.CodeInternalFailure
		msg := "We encountered an internal error. Please try again."
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			code, msg = backend.CodeServiceUnavailable, "The request was cancelled before it completed."
		}
		be = backend.NewError(code, "%s", msg)
	}
	info, _ := backend.LookupError(be.Code)
	w := wireError{
		jsonType:  info.JSONType,
		queryCode: info.QueryCode,
		status:    info.HTTPStatus,
		sender:    info.SenderFault,
		message:   be.Message,
	}
	if w.status == 0 {
		w.status = http.StatusBadRequest
	}
	if t, ok := authJSONTypes[be.Code]; ok {
		w.jsonType = t
	}
	return w
}

// authJSONTypes are the JSON protocol's "__type" of the authentication
// and authorization errors, which AWS's JSON services send as the service
// framework's exceptions. SDKs of the query-compatible SQS JSON protocol
// take the error code from the x-amzn-query-error header instead
// ("InvalidClientTokenId;Sender", ...), so they see the query codes.
var authJSONTypes = map[string]string{
	backend.CodeInvalidClientTokenID:       "com.amazon.coral.service#UnrecognizedClientException",
	backend.CodeSignatureDoesNotMatch:      "com.amazon.coral.service#InvalidSignatureException",
	backend.CodeIncompleteSignature:        "com.amazon.coral.service#IncompleteSignatureException",
	backend.CodeMissingAuthenticationToken: "com.amazon.coral.service#MissingAuthenticationTokenException",
	backend.CodeAccessDenied:               "com.amazon.coral.service#AccessDeniedException",
}

// queryErrorHeader is the x-amzn-query-error header value.
func (w wireError) queryErrorHeader() string {
	if w.sender {
		return w.queryCode + ";Sender"
	}
	return w.queryCode + ";Receiver"
}

// faultType is the query protocol's Type element.
func (w wireError) faultType() string {
	if w.sender {
		return "Sender"
	}
	return "Receiver"
}

// errMissing is the MissingParameter error for a required parameter.
func errMissing(name string) *backend.Error {
	return backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter %s.", name)
}

// errNotInteger is the error for a query parameter that must be an integer.
func errNotInteger(name, value string) *backend.Error {
	return backend.NewError(backend.CodeInvalidParameterValue,
		"Value %s for parameter %s is invalid. Reason: must be an integer.", strconv.Quote(value), name)
}

// errNoQueue is SQS's answer for a queue that does not exist (the query
// protocol rewords it, see queryMessage).
func errNoQueue() *backend.Error {
	return backend.NewError(backend.CodeQueueDoesNotExist, "The specified queue does not exist.")
}

// queryMessage is the message the query protocol answers we with: SQS
// words a missing queue differently there ("... for this wsdl version.")
// than in its JSON protocol.
func queryMessage(we wireError) string {
	if we.queryCode == queryNonExistentQueue {
		return "The specified queue does not exist for this wsdl version."
	}
	return we.message
}

// queryNonExistentQueue is QueueDoesNotExist's query code.
const queryNonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue"
