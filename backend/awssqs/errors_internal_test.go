package awssqs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/postbox-go/postbox/backend"
)

// TestEveryModeledErrorMaps builds every error shape of the SDK's SQS model,
// as the SDK does when it decodes an answer, with and without the
// x-amzn-query-error override of its code, and checks that the table maps
// it to the error table's code of the same name.
func TestEveryModeledErrorMaps(t *testing.T) {
	seen := map[string]bool{}
	for typeName, entry := range sqs.TypeRegistry.Entries {
		apiErr, ok := entry.New().(smithy.APIError)
		if !ok {
			continue
		}
		name := typeName[strings.LastIndexByte(typeName, '#')+1:]
		info, known := backend.LookupError(name)
		if !known || !info.Modeled {
			t.Errorf("SDK error shape %s is not a modeled code of backend's error table", name)
			continue
		}
		seen[name] = true
		for _, override := range []string{"", info.QueryCode} {
			if override != "" {
				reflect.ValueOf(apiErr).Elem().FieldByName("ErrorCodeOverride").Set(reflect.ValueOf(&override))
			}
			got := fromAPIError(apiErr)
			if got.Code != name || got.SenderFault != info.SenderFault {
				t.Errorf("%s (ErrorCode() %q): got code %q sender %v; want %q sender %v",
					name, apiErr.ErrorCode(), got.Code, got.SenderFault, name, info.SenderFault)
			}
		}
	}
	for _, code := range backend.ErrorCodes() {
		if info, _ := backend.LookupError(code); info.Modeled && !seen[code] {
			t.Errorf("modeled code %s has no SDK error shape", code)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		in, want string
		known    bool
	}{
		{"QueueDoesNotExist", backend.CodeQueueDoesNotExist, true},
		{"com.amazonaws.sqs#QueueDoesNotExist", backend.CodeQueueDoesNotExist, true},
		{"AWS.SimpleQueueService.NonExistentQueue", backend.CodeQueueDoesNotExist, true},
		{"QueueAlreadyExists", backend.CodeQueueNameExists, true},
		{"AWS.SimpleQueueService.MessageNotInflight", backend.CodeMessageNotInflight, true},
		{"KMS.ThrottlingException", backend.CodeKmsThrottled, true},
		{"InvalidParameterValue", backend.CodeInvalidParameterValue, true},
		{"com.amazonaws.sqs#InvalidParameterValueException", backend.CodeInvalidParameterValue, true},
		{"com.amazonaws.sqs#MissingRequiredParameterException", backend.CodeMissingParameter, true},
		{"ReceiptHandleIsInvalid:http://internal.amazon.com/coral/com.amazonaws.sqs/", backend.CodeReceiptHandleIsInvalid, true},
		{"com.amazonaws.coral.availability#ThrottlingException", backend.CodeRequestThrottled, true},
		{"AccessDeniedException", backend.CodeAccessDenied, true},
		{"UnrecognizedClientException", backend.CodeInvalidClientTokenID, true},
		{"InternalError", backend.CodeInternalFailure, true},
		{" MissingParameter ", backend.CodeMissingParameter, true},
		{"com.example#Unheard", "Unheard", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, known := normalizeCode(tt.in)
		if got != tt.want || known != tt.known {
			t.Errorf("normalizeCode(%q) = %q, %v; want %q, %v", tt.in, got, known, tt.want, tt.known)
		}
	}
	// Every alias names a code of the error table.
	for alias, code := range codeAliases {
		if _, ok := backend.LookupError(code); !ok {
			t.Errorf("alias %s maps to %s, which the error table does not know", alias, code)
		}
	}
}

func TestEntryErrorKeepsWhatTheServiceSent(t *testing.T) {
	tests := []struct {
		code, msg string
		sender    bool
		want      backend.Error
	}{
		{"ReceiptHandleIsInvalid", "bad", true, backend.Error{Code: backend.CodeReceiptHandleIsInvalid, Message: "bad", SenderFault: true}},
		{"AWS.SimpleQueueService.MessageNotInflight", "m", true, backend.Error{Code: backend.CodeMessageNotInflight, Message: "m", SenderFault: true}},
		{"InternalError", "x", false, backend.Error{Code: backend.CodeInternalFailure, Message: "x"}},
		// A sender fault where the table says receiver: kept as sent.
		{"InternalFailure", "y", true, backend.Error{Code: backend.CodeInternalFailure, Message: "y", SenderFault: true}},
		{"NewCode", "z", false, backend.Error{Code: "NewCode", Message: "z"}},
		{"", "no code", true, backend.Error{Code: backend.CodeInternalFailure, Message: "no code", SenderFault: true}},
	}
	for _, tt := range tests {
		if got := entryError(tt.code, tt.msg, tt.sender); *got != tt.want {
			t.Errorf("entryError(%q, %q, %v) = %+v; want %+v", tt.code, tt.msg, tt.sender, *got, tt.want)
		}
	}
}

// TestAttributesMD5 checks the MD5OfMessageAttributes algorithm against
// values computed independently (Python, from the SQS Developer Guide).
func TestAttributesMD5(t *testing.T) {
	tests := []struct {
		attrs map[string]backend.MessageAttributeValue
		want  string
	}{
		{nil, ""},
		{map[string]backend.MessageAttributeValue{
			"s": {DataType: "String", StringValue: "v"},
			"n": {DataType: "Number.int", StringValue: "42"},
			"b": {DataType: "Binary.png", BinaryValue: []byte{0, 1, 2}},
		}, "26ae311fd6d1356728266315c1eb9586"},
		{map[string]backend.MessageAttributeValue{
			"kind":  {DataType: "String", StringValue: "order"},
			"count": {DataType: "Number", StringValue: "3"},
			"blob":  {DataType: "Binary", BinaryValue: []byte{0xde, 0xad}},
		}, "e568e1429cc0dc392bfcba602f37b994"},
		{map[string]backend.MessageAttributeValue{"ünï": {DataType: "String", StringValue: "ẅ"}}, "b431c758cb18532712919fa038747115"},
	}
	for _, tt := range tests {
		if got := attributesMD5(tt.attrs); got != tt.want {
			t.Errorf("attributesMD5(%v) = %q; want %q", tt.attrs, got, tt.want)
		}
	}
}
