package awssqs_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// errorAnswer is how the fixture answers one request with an error.
type errorAnswer struct {
	status      int
	headers     []string // name, value, ...
	contentType string   // default application/x-amz-json-1.0
	body        string
}

// TestErrorMapping drives the real SDK over real HTTP against answers in
// every shape SQS (or an SQS-compatible server) sends errors in, and checks
// the *backend.Error the adapter makes of each.
func TestErrorMapping(t *testing.T) {
	const queryNonExistent = "AWS.SimpleQueueService.NonExistentQueue;Sender"
	tests := []struct {
		name      string
		answer    errorAnswer
		code      string
		sender    bool
		message   string // checked when not empty
		transport bool   // a *awssqs.TransportError
	}{
		{
			name: "json-modeled-type-with-query-header",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", queryNonExistent},
				body: `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`},
			code: backend.CodeQueueDoesNotExist, sender: true, message: "The specified queue does not exist.",
		},
		{
			name:   "json-modeled-type-without-header",
			answer: errorAnswer{status: 400, body: `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"gone"}`},
			code:   backend.CodeQueueDoesNotExist, sender: true, message: "gone",
		},
		{
			name:   "json-bare-modeled-type",
			answer: errorAnswer{status: 400, body: `{"__type":"ReceiptHandleIsInvalid","message":"bad handle"}`},
			code:   backend.CodeReceiptHandleIsInvalid, sender: true, message: "bad handle",
		},
		{
			name: "json-query-header-renames-modeled-type",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", "QueueAlreadyExists;Sender"},
				body: `{"__type":"com.amazonaws.sqs#QueueNameExists","message":"exists"}`},
			code: backend.CodeQueueNameExists, sender: true,
		},
		{
			name: "json-common-error",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", "InvalidParameterValue;Sender"},
				body: `{"__type":"InvalidParameterValue","message":"Value -1 for parameter MaxNumberOfMessages is invalid."}`},
			code: backend.CodeInvalidParameterValue, sender: true, message: "Value -1 for parameter MaxNumberOfMessages is invalid.",
		},
		// Real SQS's JSON types of the two common errors (recorded for
		// issue 19), with and without the header that renames them.
		{
			name: "json-invalid-parameter-value-exception",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", "InvalidParameterValue;Sender"},
				body: `{"__type":"com.amazonaws.sqs#InvalidParameterValueException","message":"bad value"}`},
			code: backend.CodeInvalidParameterValue, sender: true, message: "bad value",
		},
		{
			name:   "json-invalid-parameter-value-exception-without-header",
			answer: errorAnswer{status: 400, body: `{"__type":"com.amazonaws.sqs#InvalidParameterValueException","message":"bad value"}`},
			code:   backend.CodeInvalidParameterValue, sender: true, message: "bad value",
		},
		{
			name: "json-missing-required-parameter-exception",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", "MissingParameter;Sender"},
				body: `{"__type":"com.amazonaws.sqs#MissingRequiredParameterException","message":"missing"}`},
			code: backend.CodeMissingParameter, sender: true, message: "missing",
		},
		{
			name:   "json-missing-required-parameter-exception-without-header",
			answer: errorAnswer{status: 400, body: `{"__type":"MissingRequiredParameterException","message":"missing"}`},
			code:   backend.CodeMissingParameter, sender: true, message: "missing",
		},
		{
			name: "query-header-names-an-unmodeled-type",
			answer: errorAnswer{status: 400, headers: []string{"x-amzn-query-error", queryNonExistent},
				body: `{"__type":"com.amazonaws.sqs#SomethingNewer","message":"m"}`},
			code: backend.CodeQueueDoesNotExist, sender: true, message: "m",
		},
		{
			name:   "legacy-query-code-as-type",
			answer: errorAnswer{status: 400, body: `{"__type":"AWS.SimpleQueueService.PurgeQueueInProgress","message":"wait"}`},
			code:   backend.CodePurgeQueueInProgress, sender: true,
		},
		{
			name: "x-amzn-errortype-header",
			answer: errorAnswer{status: 400,
				headers: []string{"X-Amzn-ErrorType", "OverLimit:http://internal.amazon.com/coral/com.amazonaws.sqs/"},
				body:    `{"message":"too many in flight"}`},
			code: backend.CodeOverLimit, sender: true, message: "too many in flight",
		},
		{
			name:   "json-code-field",
			answer: errorAnswer{status: 400, body: `{"code":"AWS.SimpleQueueService.TooManyEntriesInBatchRequest","message":"11"}`},
			code:   backend.CodeTooManyEntriesInBatchRequest, sender: true,
		},
		{
			// The SDK's MessageNotInflight shape has no message member, so
			// the service's message is lost; the code is not.
			name:   "json-modeled-type-without-message-member",
			answer: errorAnswer{status: 400, body: `{"__type":"com.amazonaws.sqs#MessageNotInflight","message":"lost"}`},
			code:   backend.CodeMessageNotInflight, sender: true,
		},
		{
			name:   "aws-alias-throttling",
			answer: errorAnswer{status: 400, body: `{"__type":"com.amazonaws.coral.availability#ThrottlingException","message":"Rate exceeded"}`},
			code:   backend.CodeRequestThrottled, sender: true, message: "Rate exceeded",
		},
		{
			name: "unknown-code-receiver-fault",
			answer: errorAnswer{status: 500, headers: []string{"x-amzn-query-error", "Brandnew;Receiver"},
				body: `{"__type":"com.amazonaws.sqs#Brandnew","message":"new"}`},
			code: "Brandnew", sender: false, message: "new",
		},
		{
			name: "internal-failure",
			answer: errorAnswer{status: 500, headers: []string{"x-amzn-query-error", "InternalFailure;Receiver"},
				body: `{"__type":"InternalFailure","message":"oops"}`},
			code: backend.CodeInternalFailure, sender: false, message: "oops",
		},
		{
			name: "query-xml-error-response",
			answer: errorAnswer{status: 400, contentType: "text/xml",
				body: `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>` +
					`<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>` +
					`<Message>The specified queue does not exist for this wsdl version.</Message><Detail/></Error>` +
					`<RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>`},
			code: backend.CodeQueueDoesNotExist, sender: true, message: "The specified queue does not exist for this wsdl version.",
		},
		{
			name: "query-xml-unknown-code-receiver",
			answer: errorAnswer{status: 500, contentType: "text/xml",
				body: `<ErrorResponse><Error><Type>Receiver</Type><Code>Odd</Code><Message>odd</Message></Error></ErrorResponse>`},
			code: "Odd", sender: false, message: "odd",
		},
		{
			name:   "gateway-html-503",
			answer: errorAnswer{status: 503, contentType: "text/html", body: "<html><body>Service Unavailable</body></html>"},
			code:   backend.CodeServiceUnavailable, transport: true,
		},
		{
			name:   "empty-502",
			answer: errorAnswer{status: 502, contentType: "text/plain"},
			code:   backend.CodeServiceUnavailable, transport: true,
		},
		{
			name:   "garbage-400",
			answer: errorAnswer{status: 400, contentType: "text/plain", body: "this is not JSON"},
			code:   backend.CodeInternalFailure, transport: true,
		},
	}
	answers := map[string]errorAnswer{}
	for _, tt := range tests {
		answers[tt.name] = tt.answer
	}
	f := newFixture(t, func(w http.ResponseWriter, req request) {
		a := answers[req.queueName()]
		for i := 0; i+1 < len(a.headers); i += 2 {
			w.Header().Set(a.headers[i], a.headers[i+1])
		}
		ct := a.contentType
		if ct == "" {
			ct = "application/x-amz-json-1.0"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	})
	_, svc := f.open(t, "any")

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.GetAttributes(t.Context(), f.queueURL(tt.name), []string{"All"})
			var be *backend.Error
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T); want a *backend.Error", err, err)
			}
			if be.Code != tt.code || backend.Code(err) != tt.code {
				t.Errorf("code = %q, backend.Code = %q; want %q (err: %v)", be.Code, backend.Code(err), tt.code, err)
			}
			if !errors.Is(err, &backend.Error{Code: tt.code}) {
				t.Errorf("errors.Is(err, code %s) = false", tt.code)
			}
			if !tt.transport && be.SenderFault != tt.sender {
				t.Errorf("SenderFault = %v; want %v", be.SenderFault, tt.sender)
			}
			if tt.message != "" && be.Message != tt.message {
				t.Errorf("Message = %q; want %q", be.Message, tt.message)
			}
			var te *awssqs.TransportError
			if got := errors.As(err, &te); got != tt.transport {
				t.Fatalf("errors.As(*TransportError) = %v; want %v (err: %v)", got, tt.transport, err)
			}
			if tt.transport && errors.Unwrap(err) == nil {
				t.Errorf("errors.Unwrap(%v) = nil; want the SDK's error", err)
			}
			if !tt.transport {
				if _, plain := err.(*backend.Error); !plain {
					t.Errorf("err is %T; want a plain *backend.Error for an answer from the service", err)
				}
			}
		})
	}
}

// TestConnectionRefusedIsServiceUnavailable: nothing listens at the
// endpoint, so the call fails without an answer.
func TestConnectionRefusedIsServiceUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	q, svc, err := backend.Open(t.Context(), "http://"+addr+"/000000000000/nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	_, err = q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "x"}})
	if !errors.Is(err, backend.ErrServiceUnavailable) {
		t.Fatalf("err = %v; want ServiceUnavailable", err)
	}
	var te *awssqs.TransportError
	if !errors.As(err, &te) || errors.Unwrap(err) == nil {
		t.Fatalf("err = %#v; want a *TransportError that unwraps to the SDK's error", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("the cause chain of %v has no *net.OpError", err)
	}
}

// TestContextCancelDuringLongPoll: a call that ctx ends returns ctx's error
// itself, not an SDK error wrapping it.
func TestContextCancelDuringLongPoll(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	f := newFixture(t, func(w http.ResponseWriter, req request) {
		arrived <- struct{}{}
		<-release
		writeJSON(w, 200, map[string]any{})
	})
	defer close(release) // before the server's Close, which waits for handlers
	q, _ := f.open(t, "slow")

	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-arrived; cancel() }()
	msgs, err := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(20)})
	if err != context.Canceled {
		t.Fatalf("Receive = %v, %v; want context.Canceled itself", msgs, err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if _, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "a", ReceiptHandle: "h"}}); err != context.Canceled {
		t.Fatalf("Delete with an ended ctx = %v; want context.Canceled", err)
	}
}
