package backend

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// modelErrors is the SQS API model's error shapes with their awsQueryError
// code and HTTP status (aws-sdk-js-v3's generated schema of
// com.amazonaws.sqs; shapes without the trait default to their own name
// and 400), and the SQS API Reference's common errors that SQS sends.
var modelErrors = []struct {
	code, query string
	status      int
	modeled     bool
}{
	{CodeBatchEntryIdsNotDistinct, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400, true},
	{CodeBatchRequestTooLong, "AWS.SimpleQueueService.BatchRequestTooLong", 400, true},
	{CodeEmptyBatchRequest, "AWS.SimpleQueueService.EmptyBatchRequest", 400, true},
	{CodeInvalidAddress, "InvalidAddress", 404, true},
	{CodeInvalidAttributeName, "InvalidAttributeName", 400, true},
	{CodeInvalidAttributeValue, "InvalidAttributeValue", 400, true},
	{CodeInvalidBatchEntryID, "AWS.SimpleQueueService.InvalidBatchEntryId", 400, true},
	{CodeInvalidIDFormat, "InvalidIdFormat", 400, true},
	{CodeInvalidMessageContents, "InvalidMessageContents", 400, true},
	{CodeInvalidSecurity, "InvalidSecurity", 403, true},
	{CodeKmsAccessDenied, "KMS.AccessDeniedException", 400, true},
	{CodeKmsDisabled, "KMS.DisabledException", 400, true},
	{CodeKmsInvalidKeyUsage, "KMS.InvalidKeyUsageException", 400, true},
	{CodeKmsInvalidState, "KMS.InvalidStateException", 400, true},
	{CodeKmsNotFound, "KMS.NotFoundException", 400, true},
	{CodeKmsOptInRequired, "KMS.OptInRequired", 403, true},
	{CodeKmsThrottled, "KMS.ThrottlingException", 400, true},
	{CodeMessageNotInflight, "AWS.SimpleQueueService.MessageNotInflight", 400, true},
	{CodeOverLimit, "OverLimit", 403, true},
	{CodePurgeQueueInProgress, "AWS.SimpleQueueService.PurgeQueueInProgress", 403, true},
	{CodeQueueDeletedRecently, "AWS.SimpleQueueService.QueueDeletedRecently", 400, true},
	{CodeQueueDoesNotExist, "AWS.SimpleQueueService.NonExistentQueue", 400, true},
	{CodeQueueNameExists, "QueueAlreadyExists", 400, true},
	{CodeReceiptHandleIsInvalid, "ReceiptHandleIsInvalid", 404, true},
	{CodeRequestThrottled, "RequestThrottled", 403, true},
	{CodeResourceNotFoundException, "ResourceNotFoundException", 404, true},
	{CodeTooManyEntriesInBatchRequest, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, true},
	{CodeUnsupportedOperation, "AWS.SimpleQueueService.UnsupportedOperation", 400, true},
	{CodeAccessDenied, "AccessDenied", 403, false},
	{CodeIncompleteSignature, "IncompleteSignature", 400, false},
	{CodeInternalFailure, "InternalFailure", 500, false},
	{CodeInvalidAction, "InvalidAction", 400, false},
	{CodeInvalidClientTokenID, "InvalidClientTokenId", 403, false},
	{CodeInvalidParameterValue, "InvalidParameterValue", 400, false},
	{CodeMissingAuthenticationToken, "MissingAuthenticationToken", 403, false},
	{CodeMissingParameter, "MissingParameter", 400, false},
	{CodeServiceUnavailable, "ServiceUnavailable", 503, false},
	{CodeSignatureDoesNotMatch, "SignatureDoesNotMatch", 403, false},
	{CodeValidationError, "ValidationError", 400, false},
	{CodeMissingAction, "MissingAction", 400, false},
	{CodeUnknownOperation, "UnknownOperationException", 404, false},
	{CodeMalformedQueryString, "MalformedQueryString", 404, false},
	{CodeSerializationException, "SerializationException", 400, false},
}

func TestErrorTableMatchesModel(t *testing.T) {
	if got, want := len(ErrorCodes()), len(modelErrors); got != want {
		t.Errorf("error table has %d codes, want %d", got, want)
	}
	for _, m := range modelErrors {
		info, ok := LookupError(m.code)
		if !ok {
			t.Errorf("%s: not in the table", m.code)
			continue
		}
		if info.Code != m.code || info.QueryCode != m.query || info.HTTPStatus != m.status || info.Modeled != m.modeled {
			t.Errorf("%s: got %+v, want query %s, status %d, modeled %v", m.code, info, m.query, m.status, m.modeled)
		}
		wantType := m.code
		switch {
		case m.modeled:
			wantType = "com.amazonaws.sqs#" + m.code
		case m.code == CodeSerializationException || m.code == CodeUnknownOperation:
			wantType = "com.amazon.coral.service#" + m.code
		// Real SQS's JSON answers (recorded for issue 19).
		case m.code == CodeInvalidParameterValue:
			wantType = "com.amazonaws.sqs#InvalidParameterValueException"
		case m.code == CodeMissingParameter:
			wantType = "com.amazonaws.sqs#MissingRequiredParameterException"
		}
		if info.JSONType != wantType {
			t.Errorf("%s: JSONType %q, want %q", m.code, info.JSONType, wantType)
		}
		// Only the server's own failures are not the sender's fault.
		wantSender := m.status != 500 && m.status != 503
		if info.SenderFault != wantSender {
			t.Errorf("%s: SenderFault = %v, want %v", m.code, info.SenderFault, wantSender)
		}
		if byQuery, ok := LookupQueryCode(m.query); !ok || byQuery.Code != m.code {
			t.Errorf("LookupQueryCode(%s) = %+v, %v", m.query, byQuery, ok)
		}
		if byCode, ok := LookupQueryCode(m.code); !ok || byCode.Code != m.code {
			t.Errorf("LookupQueryCode(%s) = %+v, %v", m.code, byCode, ok)
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	for _, code := range ErrorCodes() {
		info, _ := LookupError(code)
		if !slices.Contains([]int{400, 403, 404, 500, 503}, info.HTTPStatus) {
			t.Errorf("%s: status %d", code, info.HTTPStatus)
		}
		if got := NewError(code, "x").HTTPStatus(); got != info.HTTPStatus {
			t.Errorf("%s: Error.HTTPStatus = %d, want %d", code, got, info.HTTPStatus)
		}
	}
}

func TestLookupUnknownError(t *testing.T) {
	info, ok := LookupError("Whatever")
	if ok || info.Code != "Whatever" || info.QueryCode != "Whatever" || info.HTTPStatus != 400 || !info.SenderFault {
		t.Errorf("LookupError(unknown) = %+v, %v", info, ok)
	}
	if _, ok := LookupQueryCode("AWS.SimpleQueueService.Nope"); ok {
		t.Error("LookupQueryCode found an unknown code")
	}
}

func TestNewError(t *testing.T) {
	e := NewError(CodeQueueDoesNotExist, "The specified queue %s does not exist.", "q")
	if e.Code != CodeQueueDoesNotExist || e.Message != "The specified queue q does not exist." || !e.SenderFault {
		t.Errorf("NewError = %#v", e)
	}
	if got := e.Error(); got != "QueueDoesNotExist: The specified queue q does not exist." {
		t.Errorf("Error() = %q", got)
	}
	if e := NewError(CodeInternalFailure, ""); e.SenderFault || e.Error() != "InternalFailure" {
		t.Errorf("NewError(InternalFailure) = %#v, %q", e, e.Error())
	}
}

func TestErrorsIsAcrossWrapping(t *testing.T) {
	sentinels := []*Error{
		ErrAccessDenied, ErrBatchEntryIdsNotDistinct, ErrBatchRequestTooLong, ErrEmptyBatchRequest,
		ErrInternalFailure, ErrInvalidAttributeName, ErrInvalidAttributeValue, ErrInvalidBatchEntryID,
		ErrInvalidMessageContents, ErrInvalidParameterValue, ErrMessageNotInflight, ErrMissingParameter,
		ErrOverLimit, ErrPurgeQueueInProgress, ErrQueueDeletedRecently, ErrQueueDoesNotExist,
		ErrQueueNameExists, ErrReceiptHandleIsInvalid, ErrRequestThrottled, ErrResourceNotFound,
		ErrServiceUnavailable, ErrTooManyEntriesInBatchRequest, ErrUnsupportedOperation,
	}
	for _, s := range sentinels {
		if _, ok := LookupError(s.Code); !ok {
			t.Errorf("sentinel %s is not in the table", s.Code)
		}
		err := NewError(s.Code, "boom")
		wrapped := fmt.Errorf("send: %w", fmt.Errorf("batch: %w", err))
		joined := errors.Join(errors.New("other"), wrapped)
		for _, e := range []error{err, wrapped, joined} {
			if !errors.Is(e, s) {
				t.Errorf("errors.Is(%v, Err%s) = false", e, s.Code)
			}
			if Code(e) != s.Code {
				t.Errorf("Code(%v) = %q", e, Code(e))
			}
			var target *Error
			if !errors.As(e, &target) || target != err {
				t.Errorf("errors.As(%v) did not find the *Error", e)
			}
		}
		for _, other := range sentinels {
			if other != s && errors.Is(wrapped, other) {
				t.Errorf("%s matches %s", s.Code, other.Code)
			}
		}
	}
	if Code(errors.New("plain")) != "" || Code(nil) != "" {
		t.Error("Code of a non-SQS error is not empty")
	}
	if errors.Is(errors.New(CodeQueueDoesNotExist), ErrQueueDoesNotExist) {
		t.Error("a plain error with the code's text matches the sentinel")
	}
}

func TestCodeOfNilError(t *testing.T) {
	// A nil *Error in an error interface is a non-nil error holding nil.
	var e *Error
	var err error = e
	if got := Code(err); got != "" {
		t.Errorf("Code(nil *Error) = %q, want \"\"", got)
	}
	if got := Code(fmt.Errorf("wrapped: %w", err)); got != "" {
		t.Errorf("Code(wrapped nil *Error) = %q, want \"\"", got)
	}
}

func TestResultErrMatches(t *testing.T) {
	sent := SendResult{ID: "a", Err: NewError(CodeInvalidMessageContents, "Invalid binary character")}
	deleted := EntryResult{ID: "b", Err: NewError(CodeReceiptHandleIsInvalid, "The input receipt handle is invalid.")}
	if !errors.Is(sent.Err, ErrInvalidMessageContents) || Code(sent.Err) != CodeInvalidMessageContents {
		t.Errorf("SendResult.Err %v does not match ErrInvalidMessageContents", sent.Err)
	}
	if !errors.Is(deleted.Err, ErrReceiptHandleIsInvalid) || Code(deleted.Err) != CodeReceiptHandleIsInvalid {
		t.Errorf("EntryResult.Err %v does not match ErrReceiptHandleIsInvalid", deleted.Err)
	}
	var be *Error
	if !errors.As(deleted.Err, &be) || be.Message != "The input receipt handle is invalid." {
		t.Errorf("errors.As(EntryResult.Err) = %v", be)
	}
	// Success is a nil error, not a nil *Error in a non-nil one.
	var ok EntryResult
	if err := error(ok.Err); err != nil || Code(err) != "" {
		t.Errorf("a successful result's Err = %#v", err)
	}
}

func TestAsSingle(t *testing.T) {
	// A visibility change with an expired handle: ReceiptHandleIsInvalid in
	// a batch, InvalidParameterValue from ChangeMessageVisibility.
	e := NewError(CodeReceiptHandleIsInvalid, "expired")
	e.SingleCode = CodeInvalidParameterValue
	s := e.AsSingle()
	if s.Code != CodeInvalidParameterValue || s.SingleCode != "" || s.Message != "expired" || !s.SenderFault {
		t.Errorf("AsSingle = %#v", s)
	}
	if e.Code != CodeReceiptHandleIsInvalid || e.SingleCode != CodeInvalidParameterValue {
		t.Errorf("AsSingle modified its receiver: %#v", e)
	}
	if !errors.Is(s, ErrInvalidParameterValue) || errors.Is(s, ErrReceiptHandleIsInvalid) {
		t.Error("AsSingle's result matches the wrong sentinel")
	}
	// Without a SingleCode, or with the same code, it is the error itself.
	plain := NewError(CodeMessageNotInflight, "x")
	if plain.AsSingle() != plain {
		t.Error("AsSingle without SingleCode made a copy")
	}
	same := NewError(CodeMessageNotInflight, "x")
	same.SingleCode = CodeMessageNotInflight
	if same.AsSingle() != same {
		t.Error("AsSingle with the same code made a copy")
	}
	// SenderFault follows the new code.
	f := NewError(CodeInvalidParameterValue, "x")
	f.SingleCode = CodeInternalFailure
	if f.AsSingle().SenderFault {
		t.Error("InternalFailure from AsSingle is a sender fault")
	}
}

func TestValidationErrorsAreInTable(t *testing.T) {
	// Every code the validators return is one the wire knows.
	for _, err := range []*Error{
		ValidateBody(""), ValidateBody("\x00"), ValidateQueueName(""),
		ValidateBatchIDs(nil), ValidateBatchIDs(make([]string, 11)), ValidateBatchIDs([]string{""}),
		ValidateBatchIDs([]string{"a", "a"}), ValidateSendBatchSize([]SendEntry{{Body: string(make([]byte, MaxMessageSize+1))}}),
		ValidateReceiveRequest(&ReceiveRequest{SystemAttributeNames: []string{"x"}}),
	} {
		if err == nil {
			t.Fatal("validator accepted bad input")
		}
		if _, ok := LookupError(err.Code); !ok {
			t.Errorf("code %s is not in the error table", err.Code)
		}
	}
}
