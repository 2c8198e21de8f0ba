package awssqs

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/postbox-go/postbox/backend"
)

// This file is the one table from SDK errors to postbox's error codes. See
// the package documentation's "# Errors" section for the rules.

// modeledCode returns the code of an error shape of the SQS API model, which
// the SDK decodes into its own types whatever code it then reports (with the
// x-amzn-query-error header, ErrorCode() returns the legacy query code).
func modeledCode(err error) (string, bool) {
	switch err.(type) {
	case *types.BatchEntryIdsNotDistinct:
		return backend.CodeBatchEntryIdsNotDistinct, true
	case *types.BatchRequestTooLong:
		return backend.CodeBatchRequestTooLong, true
	case *types.EmptyBatchRequest:
		return backend.CodeEmptyBatchRequest, true
	case *types.InvalidAddress:
		return backend.CodeInvalidAddress, true
	case *types.InvalidAttributeName:
		return backend.CodeInvalidAttributeName, true
	case *types.InvalidAttributeValue:
		return backend.CodeInvalidAttributeValue, true
	case *types.InvalidBatchEntryId:
		return backend.CodeInvalidBatchEntryID, true
	case *types.InvalidIdFormat:
		return backend.CodeInvalidIDFormat, true
	case *types.InvalidMessageContents:
		return backend.CodeInvalidMessageContents, true
	case *types.InvalidSecurity:
		return backend.CodeInvalidSecurity, true
	case *types.KmsAccessDenied:
		return backend.CodeKmsAccessDenied, true
	case *types.KmsDisabled:
		return backend.CodeKmsDisabled, true
	case *types.KmsInvalidKeyUsage:
		return backend.CodeKmsInvalidKeyUsage, true
	case *types.KmsInvalidState:
		return backend.CodeKmsInvalidState, true
	case *types.KmsNotFound:
		return backend.CodeKmsNotFound, true
	case *types.KmsOptInRequired:
		return backend.CodeKmsOptInRequired, true
	case *types.KmsThrottled:
		return backend.CodeKmsThrottled, true
	case *types.MessageNotInflight:
		return backend.CodeMessageNotInflight, true
	case *types.OverLimit:
		return backend.CodeOverLimit, true
	case *types.PurgeQueueInProgress:
		return backend.CodePurgeQueueInProgress, true
	case *types.QueueDeletedRecently:
		return backend.CodeQueueDeletedRecently, true
	case *types.QueueDoesNotExist:
		return backend.CodeQueueDoesNotExist, true
	case *types.QueueNameExists:
		return backend.CodeQueueNameExists, true
	case *types.ReceiptHandleIsInvalid:
		return backend.CodeReceiptHandleIsInvalid, true
	case *types.RequestThrottled:
		return backend.CodeRequestThrottled, true
	case *types.ResourceNotFoundException:
		return backend.CodeResourceNotFoundException, true
	case *types.TooManyEntriesInBatchRequest:
		return backend.CodeTooManyEntriesInBatchRequest, true
	case *types.UnsupportedOperation:
		return backend.CodeUnsupportedOperation, true
	}
	return "", false
}

// codeAliases are codes that AWS services (or SQS-compatible servers) send
// for errors the error table knows under another name. Codes in the error
// table, by JSON or by legacy query name, need no entry here.
var codeAliases = map[string]string{
	"AccessDeniedException":       backend.CodeAccessDenied,
	"InternalError":               backend.CodeInternalFailure,
	"InternalServerError":         backend.CodeInternalFailure,
	"InternalFailureException":    backend.CodeInternalFailure,
	"ServiceUnavailableException": backend.CodeServiceUnavailable,
	"Throttling":                  backend.CodeRequestThrottled,
	"ThrottlingException":         backend.CodeRequestThrottled,
	"UnrecognizedClientException": backend.CodeInvalidClientTokenID,
	"MissingParameterException":   backend.CodeMissingParameter,
	// SQS's JSON "__type" for MissingParameter (the x-amzn-query-error
	// header, which the SDK reads first, says MissingParameter).
	"MissingRequiredParameterException": backend.CodeMissingParameter,
	"InvalidParameterValueException":    backend.CodeInvalidParameterValue,
	"ValidationException":               backend.CodeValidationError,
}

// normalizeCode turns a code as a service sent it (a JSON "__type" with or
// without its "com.amazonaws.sqs#" namespace, a legacy query code such as
// "AWS.SimpleQueueService.NonExistentQueue", or an alias) into the error
// table's code. A code nobody knows is returned as sent, namespace removed.
func normalizeCode(code string) (string, bool) {
	code = strings.TrimSpace(code)
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	// awsJson 1.1 services may append ":http://internal.amazon.com/..." to
	// the type.
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if info, ok := backend.LookupQueryCode(code); ok {
		return info.Code, true
	}
	if alias, ok := codeAliases[code]; ok {
		return alias, true
	}
	return code, false
}

// entryError turns one failed batch entry into its *backend.Error, keeping
// its SenderFault and Message as the service sent them.
func entryError(code, message string, senderFault bool) *backend.Error {
	c, _ := normalizeCode(code)
	if c == "" {
		c = backend.CodeInternalFailure
	}
	return &backend.Error{Code: c, Message: message, SenderFault: senderFault}
}

// fromAPIError turns an error the service answered with into a
// *backend.Error.
func fromAPIError(apiErr smithy.APIError) *backend.Error {
	code, known := modeledCode(apiErr)
	if !known {
		code, known = normalizeCode(apiErr.ErrorCode())
	}
	if code == "" {
		code, known = backend.CodeInternalFailure, true
	}
	e := &backend.Error{Code: code, Message: apiErr.ErrorMessage()}
	if e.Message == "UnknownError" {
		e.Message = "" // the SDK's placeholder when the body had no message
	}
	if known {
		info, _ := backend.LookupError(code)
		e.SenderFault = info.SenderFault
	} else {
		e.SenderFault = apiErr.ErrorFault() != smithy.FaultServer
	}
	return e
}

// queryErrorResponse is the query protocol's error answer:
//
//	<ErrorResponse><Error><Type>Sender</Type><Code>...</Code><Message>...</Message></Error>...</ErrorResponse>
type queryErrorResponse struct {
	Error struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
}

// fromQueryErrorResponse decodes an XML ErrorResponse that the SDK's JSON
// decoder could not read (it keeps the start of the body); nil when body is
// not one.
func fromQueryErrorResponse(body []byte) *backend.Error {
	body = bytes.TrimSpace(body)
	if !bytes.HasPrefix(body, []byte("<")) || !bytes.Contains(body, []byte("<ErrorResponse")) {
		return nil
	}
	var r queryErrorResponse
	if err := xml.Unmarshal(body, &r); err != nil || r.Error.Code == "" {
		return nil
	}
	code, known := normalizeCode(r.Error.Code)
	e := &backend.Error{Code: code, Message: r.Error.Message}
	if known {
		info, _ := backend.LookupError(code)
		e.SenderFault = info.SenderFault
	} else {
		e.SenderFault = r.Error.Type != "Receiver"
	}
	return e
}

// mapError turns an error from an SDK call into postbox's errors:
//   - when ctx has ended and the call failed because of it, ctx's error;
//   - an error the service answered with, a *backend.Error with its code;
//   - an answer in the query protocol's XML ErrorResponse shape (from a
//     server that speaks only the query protocol), a *backend.Error with
//     its code;
//   - a request the SDK refused to send (a required parameter missing), a
//     MissingParameter *backend.Error;
//   - anything else (connection refused or reset, an answer that is not
//     SQS's, a failed MD5 check), a *TransportError: ServiceUnavailable
//     when the request or a 502/503/504 answer failed on the way, else
//     InternalFailure, with the cause kept for errors.Unwrap.
func mapError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil &&
		(errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctxErr
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "UnknownError" {
		return fromAPIError(apiErr)
	}
	var undecodable *smithy.DeserializationError
	if errors.As(err, &undecodable) {
		if e := fromQueryErrorResponse(undecodable.Snapshot); e != nil {
			return e
		}
	}
	var invalid *smithy.InvalidParamsError
	if errors.As(err, &invalid) {
		return backend.NewError(backend.CodeMissingParameter, "%s", invalid.Error())
	}
	return newTransportError(err)
}

// TransportError is an SDK call that failed without an answer from SQS: the
// connection failed, the answer was not one SQS sends, or the SDK's MD5
// check of a message failed. It carries a ServiceUnavailable or
// InternalFailure *backend.Error, so errors.Is(err,
// backend.ErrServiceUnavailable) and backend.Code(err) work, and unwraps to
// the SDK's error.
type TransportError struct {
	// Err is the postbox error this failure counts as.
	Err *backend.Error
	// Cause is the error the SDK returned.
	Cause error
}

func newTransportError(cause error) *TransportError {
	code := backend.CodeInternalFailure
	var status interface{ HTTPStatusCode() int }
	var send interface{ ConnectionError() bool }
	switch {
	case errors.As(cause, &send):
		code = backend.CodeServiceUnavailable // the request did not get through
	case errors.As(cause, &status):
		switch status.HTTPStatusCode() {
		case 502, 503, 504:
			code = backend.CodeServiceUnavailable
		}
	}
	return &TransportError{Err: backend.NewError(code, "%s", cause.Error()), Cause: cause}
}

// Error implements error.
func (e *TransportError) Error() string { return e.Err.Error() }

// Unwrap returns the SDK's error.
func (e *TransportError) Unwrap() error { return e.Cause }

// Is reports whether target is a *backend.Error with e's code.
func (e *TransportError) Is(target error) bool { return e.Err.Is(target) }

// As sets a **backend.Error target to e.Err.
func (e *TransportError) As(target any) bool {
	if p, ok := target.(**backend.Error); ok {
		*p = e.Err
		return true
	}
	return false
}
