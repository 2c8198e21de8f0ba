package backend

import (
	"errors"
	"fmt"
)

// Error codes, as SQS names them in its JSON protocol (the part of the
// "__type" after '#', and the Code of a batch result entry).
const (
	CodeAccessDenied                 = "AccessDenied"
	CodeBatchEntryIdsNotDistinct     = "BatchEntryIdsNotDistinct"
	CodeBatchRequestTooLong          = "BatchRequestTooLong"
	CodeEmptyBatchRequest            = "EmptyBatchRequest"
	CodeIncompleteSignature          = "IncompleteSignature"
	CodeInternalFailure              = "InternalFailure"
	CodeInvalidAction                = "InvalidAction"
	CodeInvalidAddress               = "InvalidAddress"
	CodeInvalidAttributeName         = "InvalidAttributeName"
	CodeInvalidAttributeValue        = "InvalidAttributeValue"
	CodeInvalidBatchEntryID          = "InvalidBatchEntryId"
	CodeInvalidClientTokenID         = "InvalidClientTokenId"
	CodeInvalidIDFormat              = "InvalidIdFormat"
	CodeInvalidMessageContents       = "InvalidMessageContents"
	CodeInvalidParameterValue        = "InvalidParameterValue"
	CodeInvalidSecurity              = "InvalidSecurity"
	CodeKmsAccessDenied              = "KmsAccessDenied"
	CodeKmsDisabled                  = "KmsDisabled"
	CodeKmsInvalidKeyUsage           = "KmsInvalidKeyUsage"
	CodeKmsInvalidState              = "KmsInvalidState"
	CodeKmsNotFound                  = "KmsNotFound"
	CodeKmsOptInRequired             = "KmsOptInRequired"
	CodeKmsThrottled                 = "KmsThrottled"
	CodeMessageNotInflight           = "MessageNotInflight"
	CodeMalformedQueryString         = "MalformedQueryString"
	CodeMissingAction                = "MissingAction"
	CodeMissingAuthenticationToken   = "MissingAuthenticationToken"
	CodeMissingParameter             = "MissingParameter"
	CodeOverLimit                    = "OverLimit"
	CodePurgeQueueInProgress         = "PurgeQueueInProgress"
	CodeQueueDeletedRecently         = "QueueDeletedRecently"
	CodeQueueDoesNotExist            = "QueueDoesNotExist"
	CodeQueueNameExists              = "QueueNameExists"
	CodeReceiptHandleIsInvalid       = "ReceiptHandleIsInvalid"
	CodeRequestThrottled             = "RequestThrottled"
	CodeResourceNotFoundException    = "ResourceNotFoundException"
	CodeSerializationException       = "SerializationException"
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeSignatureDoesNotMatch        = "SignatureDoesNotMatch"
	CodeTooManyEntriesInBatchRequest = "TooManyEntriesInBatchRequest"
	CodeUnknownOperation             = "UnknownOperationException"
	CodeUnsupportedOperation         = "UnsupportedOperation"
	CodeValidationError              = "ValidationError"
)

// ErrorInfo is how one error code appears on the wire.
type ErrorInfo struct {
	// Code is the JSON protocol's name; its "__type" is
	// "com.amazonaws.sqs#" + Code for SQS's own shapes.
	Code string
	// QueryCode is the legacy query protocol's code, also sent by the JSON
	// protocol in the x-amzn-query-error header.
	QueryCode string
	// HTTPStatus is the status code of a response carrying this error.
	HTTPStatus int
	// SenderFault is true when the caller is at fault.
	SenderFault bool
	// Modeled is true for the error shapes of the SQS API model, whose JSON
	// "__type" carries the "com.amazonaws.sqs#" namespace; common AWS
	// errors (InvalidParameterValue, MissingParameter, ...) are sent bare.
	Modeled bool
	// JSONType is the JSON protocol's "__type" for the code.
	JSONType string
}

// errorTable is the one table of error codes, taken from the SQS API model
// (botocore's sqs/2012-11-05 and aws-sdk-go-v2/service/sqs) and the SQS API
// Reference's common errors. The wire server and the AWS adapter both use it.
var errorTable = map[string]ErrorInfo{}

func init() {
	for _, e := range []ErrorInfo{
		// Shapes of the SQS API model.
		{CodeBatchEntryIdsNotDistinct, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, true, true, ""},
		{CodeBatchRequestTooLong, "AWS.SimpleQueueService.BatchRequestTooLong", 400, true, true, ""},
		{CodeEmptyBatchRequest, "AWS.SimpleQueueService.EmptyBatchRequest", 400, true, true, ""},
		{CodeInvalidAddress, "InvalidAddress", 404, true, true, ""},
		{CodeInvalidAttributeName, "InvalidAttributeName", 400, true, true, ""},
		{CodeInvalidAttributeValue, "InvalidAttributeValue", 400, true, true, ""},
		{CodeInvalidBatchEntryID, "AWS.SimpleQueueService.InvalidBatchEntryId", 400, true, true, ""},
		{CodeInvalidIDFormat, "InvalidIdFormat", 400, true, true, ""},
		{CodeInvalidMessageContents, "InvalidMessageContents", 400, true, true, ""},
		{CodeInvalidSecurity, "InvalidSecurity", 403, true, true, ""},
		{CodeKmsAccessDenied, "KMS.AccessDeniedException", 400, true, true, ""},
		{CodeKmsDisabled, "KMS.DisabledException", 400, true, true, ""},
		{CodeKmsInvalidKeyUsage, "KMS.InvalidKeyUsageException", 400, true, true, ""},
		{CodeKmsInvalidState, "KMS.InvalidStateException", 400, true, true, ""},
		{CodeKmsNotFound, "KMS.NotFoundException", 400, true, true, ""},
		{CodeKmsOptInRequired, "KMS.OptInRequired", 403, true, true, ""},
		{CodeKmsThrottled, "KMS.ThrottlingException", 400, true, true, ""},
		{CodeMessageNotInflight, "AWS.SimpleQueueService.MessageNotInflight", 400, true, true, ""},
		{CodeOverLimit, "OverLimit", 403, true, true, ""},
		{CodePurgeQueueInProgress, "AWS.SimpleQueueService.PurgeQueueInProgress", 403, true, true, ""},
		{CodeQueueDeletedRecently, "AWS.SimpleQueueService.QueueDeletedRecently", 400, true, true, ""},
		{CodeQueueDoesNotExist, "AWS.SimpleQueueService.NonExistentQueue", 400, true, true, ""},
		{CodeQueueNameExists, "QueueAlreadyExists", 400, true, true, ""},
		{CodeReceiptHandleIsInvalid, "ReceiptHandleIsInvalid", 404, true, true, ""},
		{CodeRequestThrottled, "RequestThrottled", 403, true, true, ""},
		{CodeResourceNotFoundException, "ResourceNotFoundException", 404, true, true, ""},
		{CodeTooManyEntriesInBatchRequest, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, true, true, ""},
		{CodeUnsupportedOperation, "AWS.SimpleQueueService.UnsupportedOperation", 400, true, true, ""},
		// Common errors of every AWS query/JSON service.
		{CodeAccessDenied, "AccessDenied", 403, true, false, ""},
		{CodeIncompleteSignature, "IncompleteSignature", 400, true, false, ""},
		{CodeInternalFailure, "InternalFailure", 500, false, false, ""},
		{CodeInvalidAction, "InvalidAction", 400, true, false, ""},
		{CodeInvalidClientTokenID, "InvalidClientTokenId", 403, true, false, ""},
		// SQS's JSON answers name these two as exceptions (recorded for
		// issue 19); the x-amzn-query-error header and the query
		// protocol keep the common codes.
		{CodeInvalidParameterValue, "InvalidParameterValue", 400, true, false, "com.amazonaws.sqs#InvalidParameterValueException"},
		{CodeMissingAuthenticationToken, "MissingAuthenticationToken", 403, true, false, ""},
		{CodeMissingParameter, "MissingParameter", 400, true, false, "com.amazonaws.sqs#MissingRequiredParameterException"},
		{CodeServiceUnavailable, "ServiceUnavailable", 503, false, false, ""},
		{CodeSignatureDoesNotMatch, "SignatureDoesNotMatch", 403, true, false, ""},
		{CodeValidationError, "ValidationError", 400, true, false, ""},
		// Protocol errors: a request with no action, a form that does not
		// decode, a JSON body that does not decode (the last in the
		// service framework's namespace).
		{CodeMissingAction, "MissingAction", 400, true, false, ""},
		// A query protocol request that names no action (real SQS,
		// recorded for issue 19).
		{CodeUnknownOperation, "UnknownOperationException", 404, true, false, "com.amazon.coral.service#UnknownOperationException"},
		{CodeMalformedQueryString, "MalformedQueryString", 404, true, false, ""},
		{CodeSerializationException, "SerializationException", 400, true, false, "com.amazon.coral.service#SerializationException"},
	} {
		if e.JSONType == "" {
			e.JSONType = e.Code
			if e.Modeled {
				e.JSONType = "com.amazonaws.sqs#" + e.Code
			}
		}
		errorTable[e.Code] = e
	}
}

// LookupError returns the wire description of code. An unknown code is
// reported as a 400 sender fault whose query code is the code itself.
func LookupError(code string) (ErrorInfo, bool) {
	info, ok := errorTable[code]
	if !ok {
		return ErrorInfo{Code: code, QueryCode: code, HTTPStatus: 400, SenderFault: true, JSONType: code}, false
	}
	return info, true
}

// LookupQueryCode finds the error whose legacy query code (or JSON code) is
// queryCode.
func LookupQueryCode(queryCode string) (ErrorInfo, bool) {
	if info, ok := errorTable[queryCode]; ok {
		return info, true
	}
	for _, info := range errorTable {
		if info.QueryCode == queryCode {
			return info, true
		}
	}
	return ErrorInfo{}, false
}

// ErrorCodes returns every code of the error table.
func ErrorCodes() []string {
	codes := make([]string, 0, len(errorTable))
	for c := range errorTable {
		codes = append(codes, c)
	}
	return codes
}

// Error is an SQS error. It is what every backend returns for a request that
// SQS would reject, and what a failed batch entry carries. Compare with
// errors.Is against the Err* values, which match by Code:
//
//	if errors.Is(err, backend.ErrQueueDoesNotExist) { ... }
type Error struct {
	// Code is the SQS error code, one of the Code* constants (or, from a
	// remote service, any code it sent).
	Code string
	// Message is the human-readable explanation.
	Message string
	// SenderFault is true when the caller is at fault.
	SenderFault bool
	// SingleCode, when set, is the code that a single-message action
	// (DeleteMessage, ChangeMessageVisibility) reports for this failure,
	// where SQS reports it differently from a batch entry: a visibility
	// change with an expired receipt handle is ReceiptHandleIsInvalid in
	// ChangeMessageVisibilityBatch but InvalidParameterValue in
	// ChangeMessageVisibility.
	SingleCode string
	// SingleMessage, when set, is the message a single-message action
	// (SendMessage) reports for this failure, where SQS words it
	// differently from a batch entry: a message over the size limit
	// "cannot be validated" in SendMessageBatch but "is invalid" in
	// SendMessage.
	SingleMessage string
}

// NewError returns an Error with code and a formatted message; its
// SenderFault comes from the error table.
func NewError(code, format string, args ...any) *Error {
	info, _ := LookupError(code)
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg, SenderFault: info.SenderFault}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// HTTPStatus returns the HTTP status of a response carrying e.
func (e *Error) HTTPStatus() int {
	info, _ := LookupError(e.Code)
	return info.HTTPStatus
}

// AsSingle returns the error that a single-message action reports for a
// failed batch entry e.
func (e *Error) AsSingle() *Error {
	if (e.SingleCode == "" || e.SingleCode == e.Code) && e.SingleMessage == "" {
		return e
	}
	c := *e
	if e.SingleCode != "" {
		c.Code = e.SingleCode
		info, _ := LookupError(c.Code)
		c.SenderFault = info.SenderFault
	}
	if e.SingleMessage != "" {
		c.Message = e.SingleMessage
	}
	c.SingleCode, c.SingleMessage = "", ""
	return &c
}

// Code returns the SQS error code carried by err, or "" when err carries
// none (a nil *Error held in a non-nil error carries none).
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e.Code
	}
	return ""
}

// Sentinel errors for errors.Is. Each matches any *Error with its code.
var (
	ErrAccessDenied                 = &Error{Code: CodeAccessDenied}
	ErrBatchEntryIdsNotDistinct     = &Error{Code: CodeBatchEntryIdsNotDistinct}
	ErrBatchRequestTooLong          = &Error{Code: CodeBatchRequestTooLong}
	ErrEmptyBatchRequest            = &Error{Code: CodeEmptyBatchRequest}
	ErrInternalFailure              = &Error{Code: CodeInternalFailure}
	ErrInvalidAttributeName         = &Error{Code: CodeInvalidAttributeName}
	ErrInvalidAttributeValue        = &Error{Code: CodeInvalidAttributeValue}
	ErrInvalidBatchEntryID          = &Error{Code: CodeInvalidBatchEntryID}
	ErrInvalidMessageContents       = &Error{Code: CodeInvalidMessageContents}
	ErrInvalidParameterValue        = &Error{Code: CodeInvalidParameterValue}
	ErrMessageNotInflight           = &Error{Code: CodeMessageNotInflight}
	ErrMissingParameter             = &Error{Code: CodeMissingParameter}
	ErrOverLimit                    = &Error{Code: CodeOverLimit}
	ErrPurgeQueueInProgress         = &Error{Code: CodePurgeQueueInProgress}
	ErrQueueDeletedRecently         = &Error{Code: CodeQueueDeletedRecently}
	ErrQueueDoesNotExist            = &Error{Code: CodeQueueDoesNotExist}
	ErrQueueNameExists              = &Error{Code: CodeQueueNameExists}
	ErrReceiptHandleIsInvalid       = &Error{Code: CodeReceiptHandleIsInvalid}
	ErrRequestThrottled             = &Error{Code: CodeRequestThrottled}
	ErrResourceNotFound             = &Error{Code: CodeResourceNotFoundException}
	ErrServiceUnavailable           = &Error{Code: CodeServiceUnavailable}
	ErrTooManyEntriesInBatchRequest = &Error{Code: CodeTooManyEntriesInBatchRequest}
	ErrUnsupportedOperation         = &Error{Code: CodeUnsupportedOperation}
)
