package awssqs_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// cannedFixture answers each action with the document answers[action]
// (or, when that is a func(request) any, with what it returns).
func cannedFixture(t *testing.T, answers map[string]any) *fixture {
	return newFixture(t, func(w http.ResponseWriter, req request) {
		a, ok := answers[req.Action]
		if !ok {
			writeJSON(w, 400, map[string]string{"__type": "com.amazonaws.sqs#InvalidAction", "message": req.Action})
			return
		}
		if fn, ok := a.(func(request) any); ok {
			a = fn(req)
		}
		writeJSON(w, 200, a)
	})
}

// jsonOf re-encodes v as the fixture would have decoded it, for comparing
// with request bodies.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// MD5OfMessageAttributes of the attributes the tests send and receive,
// computed independently (Python, from the SQS Developer Guide's
// description of the algorithm).
const (
	attrsMD5A        = "26ae311fd6d1356728266315c1eb9586" // s=String v, n=Number.int 42, b=Binary.png 00 01 02
	attrsMD5Received = "61bd5a5bdf1596afbeb45f87b55d1445" // s=String v, b=Binary "raw"
)

func TestSendRequestAndPerEntryResults(t *testing.T) {
	bodies := map[string]string{"a": "alpha", "b": "bravo <&>", "c": "charlie", "d": "delta"}
	f := cannedFixture(t, map[string]any{
		"SendMessageBatch": map[string]any{
			// Out of order, an entry nobody sent, and no word on "d".
			"Failed": []map[string]any{
				{"Id": "c", "Code": "InvalidMessageContents", "SenderFault": true, "Message": "Invalid binary character"},
				{"Id": "zzz", "Code": "InternalFailure", "SenderFault": false, "Message": "?"},
			},
			"Successful": []map[string]any{
				{"Id": "b", "MessageId": "mid-b", "MD5OfMessageBody": md5Hex(bodies["b"]), "SequenceNumber": "18"},
				{"Id": "a", "MessageId": "mid-a", "MD5OfMessageBody": md5Hex(bodies["a"]),
					"MD5OfMessageAttributes": attrsMD5A, "MD5OfMessageSystemAttributes": "sys-md5"},
			},
		},
	})
	q, _ := f.open(t, "orders.fifo")

	entries := []backend.SendEntry{
		{ID: "a", Body: bodies["a"], DelaySeconds: new(0),
			MessageAttributes: map[string]backend.MessageAttributeValue{
				"s": {DataType: "String", StringValue: "v"},
				"n": {DataType: "Number.int", StringValue: "42"},
				"b": {DataType: "Binary.png", BinaryValue: []byte{0, 1, 2}},
			},
			MessageSystemAttributes: map[string]backend.MessageAttributeValue{
				"AWSTraceHeader": {DataType: "String", StringValue: "Root=1-5759e988-bd862e3fe1be46a994272793"},
			},
			MessageGroupID: "g1", MessageDeduplicationID: "d1"},
		{ID: "b", Body: bodies["b"]},
		{ID: "c", Body: bodies["c"], DelaySeconds: new(5)},
		{ID: "d", Body: bodies["d"], DelaySeconds: new(0)},
	}
	results, err := q.Send(t.Context(), entries)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	want := []backend.SendResult{
		{ID: "a", MessageID: "mid-a", MD5OfMessageBody: md5Hex(bodies["a"]),
			MD5OfMessageAttributes: attrsMD5A, MD5OfMessageSystemAttributes: "sys-md5"},
		{ID: "b", MessageID: "mid-b", MD5OfMessageBody: md5Hex(bodies["b"]), SequenceNumber: "18"},
		{ID: "c", Err: &backend.Error{Code: backend.CodeInvalidMessageContents, Message: "Invalid binary character", SenderFault: true}},
		{ID: "d"},
	}
	if len(results) != len(want) {
		t.Fatalf("got %d results; want %d", len(results), len(want))
	}
	for i := range want {
		got := results[i]
		if i == 3 {
			if got.ID != "d" || !errors.Is(got.Err, backend.ErrInternalFailure) {
				t.Errorf("result 3 = %+v; want d with InternalFailure (the answer left it out)", got)
			}
			continue
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("result %d = %+v (err %v); want %+v (err %v)", i, got, got.Err, want[i], want[i].Err)
		}
	}

	req := f.last()
	if req.Action != "SendMessageBatch" {
		t.Fatalf("action = %s; want SendMessageBatch", req.Action)
	}
	if req.Body["QueueUrl"] != f.queueURL("orders.fifo") {
		t.Errorf("QueueUrl = %v; want %s", req.Body["QueueUrl"], f.queueURL("orders.fifo"))
	}
	sent := req.Body["Entries"].([]any)
	wantA := jsonOf(t, map[string]any{
		"Id": "a", "MessageBody": "alpha", "DelaySeconds": 0,
		"MessageAttributes": map[string]any{
			"s": map[string]any{"DataType": "String", "StringValue": "v"},
			"n": map[string]any{"DataType": "Number.int", "StringValue": "42"},
			"b": map[string]any{"DataType": "Binary.png", "BinaryValue": base64.StdEncoding.EncodeToString([]byte{0, 1, 2})},
		},
		"MessageSystemAttributes": map[string]any{
			"AWSTraceHeader": map[string]any{"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"},
		},
		"MessageGroupId": "g1", "MessageDeduplicationId": "d1",
	})
	if !reflect.DeepEqual(sent[0], wantA) {
		t.Errorf("entry a went out as\n%v\nwant\n%v", sent[0], wantA)
	}
	for i, wantDelay := range []any{0.0, nil, 5.0, 0.0} {
		if got := sent[i].(map[string]any)["DelaySeconds"]; got != wantDelay {
			t.Errorf("entry %d DelaySeconds = %v; want %v (nil: left out for the queue's default)", i, got, wantDelay)
		}
	}
	if got := sent[1].(map[string]any)["MessageBody"]; got != "bravo <&>" {
		t.Errorf("entry b body = %q; want it unchanged", got)
	}
}

func TestSendFailsWhenTheSDKsMD5CheckFails(t *testing.T) {
	f := cannedFixture(t, map[string]any{
		"SendMessageBatch": map[string]any{
			"Successful": []map[string]any{{"Id": "1", "MessageId": "m", "MD5OfMessageBody": md5Hex("something else")}},
		},
	})
	q, _ := f.open(t, "q")
	results, err := q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "hello"}})
	if results != nil || !errors.Is(err, backend.ErrInternalFailure) {
		t.Fatalf("Send = %v, %v; want nil results and InternalFailure", results, err)
	}
	var te *awssqs.TransportError
	if !errors.As(err, &te) || !strings.Contains(errors.Unwrap(err).Error(), "checksum") {
		t.Errorf("err = %v; want a *TransportError unwrapping to the SDK's checksum error", err)
	}
}

func TestReceiveRequestAndMessages(t *testing.T) {
	body := `{"order": 7}`
	f := cannedFixture(t, map[string]any{
		"ReceiveMessage": map[string]any{
			"Messages": []map[string]any{{
				"MessageId": "m1", "ReceiptHandle": "rh1", "Body": body, "MD5OfBody": md5Hex(body),
				"MD5OfMessageAttributes": attrsMD5Received,
				"Attributes":             map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
				"MessageAttributes": map[string]any{
					"s": map[string]any{"DataType": "String", "StringValue": "v"},
					"b": map[string]any{"DataType": "Binary", "BinaryValue": base64.StdEncoding.EncodeToString([]byte("raw"))},
				},
			}},
		},
	})
	q, _ := f.open(t, "q")

	msgs, err := q.Receive(t.Context(), backend.ReceiveRequest{
		MaxMessages:             10,
		WaitTimeSeconds:         new(0),
		VisibilityTimeout:       new(0),
		SystemAttributeNames:    []string{"All"},
		MessageAttributeNames:   []string{"s", "b.*"},
		ReceiveRequestAttemptID: "attempt-1",
	})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	want := []*backend.Message{{
		MessageID: "m1", ReceiptHandle: "rh1", Body: body, MD5OfBody: md5Hex(body), MD5OfMessageAttributes: attrsMD5Received,
		Attributes: map[string]string{"ApproximateReceiveCount": "2", "SentTimestamp": "1700000000000"},
		MessageAttributes: map[string]backend.MessageAttributeValue{
			"s": {DataType: "String", StringValue: "v"},
			"b": {DataType: "Binary", BinaryValue: []byte("raw")},
		},
	}}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("messages = %+v; want %+v", msgs[0], want[0])
	}
	got := f.last().Body
	wantReq := jsonOf(t, map[string]any{
		"QueueUrl": f.queueURL("q"), "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0, "VisibilityTimeout": 0,
		"MessageSystemAttributeNames": []string{"All"}, "MessageAttributeNames": []string{"s", "b.*"},
		"ReceiveRequestAttemptId": "attempt-1",
	})
	if !reflect.DeepEqual(any(got), wantReq) {
		t.Errorf("ReceiveMessage request = %v; want %v", got, wantReq)
	}

	// Without overrides the queue's defaults apply: nothing is sent.
	if _, err := q.Receive(t.Context(), backend.ReceiveRequest{}); err != nil {
		t.Fatal(err)
	}
	got = f.last().Body
	for _, k := range []string{"WaitTimeSeconds", "VisibilityTimeout", "MaxNumberOfMessages", "ReceiveRequestAttemptId"} {
		if v, ok := got[k]; ok {
			t.Errorf("request without overrides sent %s = %v", k, v)
		}
	}
	// Non-zero overrides go out as the SDK writes them.
	if _, err := q.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(20), VisibilityTimeout: new(60)}); err != nil {
		t.Fatal(err)
	}
	if got = f.last().Body; got["WaitTimeSeconds"] != 20.0 || got["VisibilityTimeout"] != 60.0 {
		t.Errorf("request = %v; want WaitTimeSeconds 20 and VisibilityTimeout 60", got)
	}
}

func TestDeleteAndChangeVisibilityPerEntryResults(t *testing.T) {
	answer := map[string]any{
		"Successful": []map[string]any{{"Id": "3"}, {"Id": "1"}},
		"Failed": []map[string]any{
			{"Id": "2", "Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "The input receipt handle is invalid."},
		},
	}
	f := cannedFixture(t, map[string]any{"DeleteMessageBatch": answer, "ChangeMessageVisibilityBatch": answer})
	q, _ := f.open(t, "q")
	want := []backend.EntryResult{
		{ID: "1"},
		{ID: "2", Err: &backend.Error{Code: backend.CodeReceiptHandleIsInvalid, Message: "The input receipt handle is invalid.", SenderFault: true}},
		{ID: "3"},
	}

	del, err := q.Delete(t.Context(), []backend.DeleteEntry{{ID: "1", ReceiptHandle: "h1"}, {ID: "2", ReceiptHandle: "h2"}, {ID: "3", ReceiptHandle: "h3"}})
	if err != nil || !reflect.DeepEqual(del, want) {
		t.Errorf("Delete = %+v, %v; want %+v", del, err, want)
	}
	if got, wantBody := f.last().Body["Entries"], jsonOf(t, []map[string]string{
		{"Id": "1", "ReceiptHandle": "h1"}, {"Id": "2", "ReceiptHandle": "h2"}, {"Id": "3", "ReceiptHandle": "h3"},
	}); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("DeleteMessageBatch entries = %v; want %v", got, wantBody)
	}

	vis, err := q.ChangeVisibility(t.Context(), []backend.VisibilityEntry{
		{ID: "1", ReceiptHandle: "h1", VisibilityTimeout: 0},
		{ID: "2", ReceiptHandle: "h2", VisibilityTimeout: 30},
		{ID: "3", ReceiptHandle: "h3", VisibilityTimeout: 43200},
	})
	if err != nil || !reflect.DeepEqual(vis, want) {
		t.Errorf("ChangeVisibility = %+v, %v; want %+v", vis, err, want)
	}
	if got, wantBody := f.last().Body["Entries"], jsonOf(t, []map[string]any{
		{"Id": "1", "ReceiptHandle": "h1", "VisibilityTimeout": 0},
		{"Id": "2", "ReceiptHandle": "h2", "VisibilityTimeout": 30},
		{"Id": "3", "ReceiptHandle": "h3", "VisibilityTimeout": 43200},
	}); !reflect.DeepEqual(got, wantBody) {
		t.Errorf("ChangeMessageVisibilityBatch entries = %v; want %v", got, wantBody)
	}
}

// TestOneEntryUsesTheBatchCall: the contract is batch-first, so one entry is
// a batch of one, never DeleteMessage or SendMessage.
func TestOneEntryUsesTheBatchCall(t *testing.T) {
	f := cannedFixture(t, map[string]any{
		"DeleteMessageBatch":           map[string]any{"Successful": []map[string]any{{"Id": "x"}}},
		"ChangeMessageVisibilityBatch": map[string]any{"Successful": []map[string]any{{"Id": "x"}}},
		"SendMessageBatch": map[string]any{"Successful": []map[string]any{
			{"Id": "x", "MessageId": "m", "MD5OfMessageBody": md5Hex("b")}}},
	})
	q, _ := f.open(t, "q")
	if r, err := q.Delete(t.Context(), []backend.DeleteEntry{{ID: "x", ReceiptHandle: "h"}}); err != nil || r[0].Err != nil {
		t.Fatalf("Delete = %v, %v", r, err)
	}
	if r, err := q.ChangeVisibility(t.Context(), []backend.VisibilityEntry{{ID: "x", ReceiptHandle: "h", VisibilityTimeout: 5}}); err != nil || r[0].Err != nil {
		t.Fatalf("ChangeVisibility = %v, %v", r, err)
	}
	if r, err := q.Send(t.Context(), []backend.SendEntry{{ID: "x", Body: "b"}}); err != nil || r[0].Err != nil {
		t.Fatalf("Send = %v, %v", r, err)
	}
	var actions []string
	for _, c := range f.calls() {
		actions = append(actions, c.Action)
	}
	if want := []string{"DeleteMessageBatch", "ChangeMessageVisibilityBatch", "SendMessageBatch"}; !reflect.DeepEqual(actions, want) {
		t.Errorf("actions = %v; want %v", actions, want)
	}
}

func TestEmptyAndOversizedBatchesAreRefusedWithoutACall(t *testing.T) {
	f := cannedFixture(t, map[string]any{})
	q, _ := f.open(t, "q")
	eleven := make([]backend.DeleteEntry, 11)
	for i := range eleven {
		eleven[i] = backend.DeleteEntry{ID: string(rune('a' + i)), ReceiptHandle: "h"}
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"send-empty", func() error { _, err := q.Send(t.Context(), nil); return err }, backend.CodeEmptyBatchRequest},
		{"delete-empty", func() error { _, err := q.Delete(t.Context(), []backend.DeleteEntry{}); return err }, backend.CodeEmptyBatchRequest},
		{"visibility-empty", func() error { _, err := q.ChangeVisibility(t.Context(), nil); return err }, backend.CodeEmptyBatchRequest},
		{"delete-eleven", func() error { _, err := q.Delete(t.Context(), eleven); return err }, backend.CodeTooManyEntriesInBatchRequest},
		{"send-eleven", func() error {
			_, err := q.Send(t.Context(), make([]backend.SendEntry, 11))
			return err
		}, backend.CodeTooManyEntriesInBatchRequest},
	}
	for _, tt := range tests {
		if err := tt.call(); backend.Code(err) != tt.code {
			t.Errorf("%s: err = %v; want %s", tt.name, err, tt.code)
		}
	}
	if n := len(f.calls()); n != 0 {
		t.Errorf("%d requests reached the service; want 0", n)
	}
}

// TestCloseEndsLongPolls: Close ends a pending receive, which returns no
// messages and no error; later calls fail with ServiceUnavailable.
func TestCloseEndsLongPolls(t *testing.T) {
	arrived := make(chan struct{}, 1)
	f := newFixture(t, func(w http.ResponseWriter, req request) {
		arrived <- struct{}{}
		<-req.Ctx.Done() // a long poll that only ends when the client leaves
	})
	q, svc := f.open(t, "q")

	closed := make(chan error, 1)
	go func() {
		<-arrived
		closed <- svc.Close()
	}()
	msgs, err := q.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(20)})
	if err != nil || msgs == nil || len(msgs) != 0 {
		t.Fatalf("Receive ended by Close = %v, %v; want an empty slice and nil", msgs, err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := svc.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "x"}}); !errors.Is(err, backend.ErrServiceUnavailable) {
		t.Errorf("Send after Close = %v; want ServiceUnavailable", err)
	}
	if _, err := svc.ListQueues(t.Context(), backend.ListQueuesRequest{}); !errors.Is(err, backend.ErrServiceUnavailable) {
		t.Errorf("ListQueues after Close = %v; want ServiceUnavailable", err)
	}
}

func TestServiceQueueRejectsNonURLs(t *testing.T) {
	f := cannedFixture(t, map[string]any{})
	_, svc := f.open(t, "q")
	for _, bad := range []string{"", "orders", "/000000000000/orders", "http//x/1/q"} {
		if _, err := svc.Queue(bad); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("Queue(%q) = %v; want QueueDoesNotExist", bad, err)
		}
	}
	q, err := svc.Queue("http://elsewhere:1234/123456789012/other")
	if err != nil || q.URL() != "http://elsewhere:1234/123456789012/other" {
		t.Errorf("Queue(valid URL) = %v, %v", q, err)
	}
}

func TestNewNeedsAClient(t *testing.T) {
	if _, err := awssqs.New(awssqs.Config{}); err == nil {
		t.Fatal("New(Config{}) succeeded; want an error for the missing Client")
	}
}

// TestAttributeMD5Checks: the adapter checks MD5OfMessageAttributes, which
// the SDK does not, unless told not to.
func TestAttributeMD5Checks(t *testing.T) {
	attrs := map[string]backend.MessageAttributeValue{
		"s": {DataType: "String", StringValue: "v"},
		"b": {DataType: "Binary", BinaryValue: []byte("raw")},
	}
	var sendMD5, receiveMD5 string // what the fixture answers with
	var receiveAttrs any
	f := cannedFixture(t, map[string]any{
		"SendMessageBatch": func(req request) any {
			e := map[string]any{"Id": "1", "MessageId": "m", "MD5OfMessageBody": md5Hex("x")}
			if sendMD5 != "" {
				e["MD5OfMessageAttributes"] = sendMD5
			}
			return map[string]any{"Successful": []any{e}}
		},
		"ReceiveMessage": func(req request) any {
			m := map[string]any{"MessageId": "m", "ReceiptHandle": "h", "Body": "x", "MD5OfBody": md5Hex("x")}
			if receiveMD5 != "" {
				m["MD5OfMessageAttributes"] = receiveMD5
			}
			if receiveAttrs != nil {
				m["MessageAttributes"] = receiveAttrs
			}
			return map[string]any{"Messages": []any{m}}
		},
	})
	q, _ := f.open(t, "q")
	wireAttrs := map[string]any{
		"s": map[string]any{"DataType": "String", "StringValue": "v"},
		"b": map[string]any{"DataType": "Binary", "BinaryValue": base64.StdEncoding.EncodeToString([]byte("raw"))},
	}
	send := func(a map[string]backend.MessageAttributeValue) error {
		_, err := q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "x", MessageAttributes: a}})
		return err
	}
	receive := func() error {
		_, err := q.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(0), MessageAttributeNames: []string{"All"}})
		return err
	}
	tests := []struct {
		name        string
		send        map[string]backend.MessageAttributeValue
		md5         string // answered by the fixture
		recvAttrs   any
		sendOK, rOK bool
	}{
		{"matching", attrs, attrsMD5Received, wireAttrs, true, true},
		{"left-out", attrs, "", wireAttrs, true, true},
		{"wrong", attrs, md5Hex("nope"), wireAttrs, false, false},
		// A checksum for a message that has no attributes (a known bug of
		// other SQS emulators) is a mismatch when sending; on receiving
		// there is nothing to check it against.
		{"checksum-without-attributes", nil, attrsMD5Received, nil, false, true},
	}
	for _, tt := range tests {
		sendMD5, receiveMD5, receiveAttrs = tt.md5, tt.md5, tt.recvAttrs
		if err := send(tt.send); (err == nil) != tt.sendOK {
			t.Errorf("%s: Send = %v; want ok %v", tt.name, err, tt.sendOK)
		} else if err != nil && !errors.Is(err, backend.ErrInternalFailure) {
			t.Errorf("%s: Send = %v; want InternalFailure", tt.name, err)
		}
		if err := receive(); (err == nil) != tt.rOK {
			t.Errorf("%s: Receive = %v; want ok %v", tt.name, err, tt.rOK)
		}
	}

	// With the check off, a wrong checksum goes through.
	sendMD5, receiveMD5, receiveAttrs = md5Hex("nope"), md5Hex("nope"), wireAttrs
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(f.base),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
	})
	svc, err := awssqs.New(awssqs.Config{Client: client, SkipAttributeMD5Check: true})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	unchecked, _ := svc.Queue(f.queueURL("q"))
	if _, err := unchecked.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "x", MessageAttributes: attrs}}); err != nil {
		t.Errorf("unchecked Send: %v", err)
	}
	if msgs, err := unchecked.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(0)}); err != nil || len(msgs) != 1 {
		t.Errorf("unchecked Receive = %v, %v", msgs, err)
	}
}

// TestUnsendableEntriesFailAlone: a body or attribute that is not valid
// UTF-8 cannot be carried by the JSON protocol (the SDK would replace the
// bad bytes), so its entry fails without being sent, as SQS would fail it,
// and its neighbours are sent.
func TestUnsendableEntriesFailAlone(t *testing.T) {
	f := cannedFixture(t, map[string]any{
		"SendMessageBatch": func(req request) any {
			var ok []any
			for _, e := range req.Body["Entries"].([]any) {
				e := e.(map[string]any)
				ok = append(ok, map[string]any{"Id": e["Id"], "MessageId": "m-" + e["Id"].(string),
					"MD5OfMessageBody": md5Hex(e["MessageBody"].(string))})
			}
			return map[string]any{"Successful": ok}
		},
	})
	q, _ := f.open(t, "q")
	res, err := q.Send(t.Context(), []backend.SendEntry{
		{ID: "before", Body: "fine"},
		{ID: "bad-body", Body: "a\xffb"},
		{ID: "surrogate", Body: "\xed\xa0\x80"},
		{ID: "bad-attr", Body: "x", MessageAttributes: map[string]backend.MessageAttributeValue{
			"a": {DataType: "String", StringValue: "\xe2\x82"}}},
		{ID: "after", Body: "also fine"},
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	wantCodes := []string{"", backend.CodeInvalidMessageContents, backend.CodeInvalidMessageContents, backend.CodeInvalidParameterValue, ""}
	for i, r := range res {
		if backend.Code(r.Err) != wantCodes[i] {
			t.Errorf("result %d (%s) = %v; want code %q", i, r.ID, r.Err, wantCodes[i])
		}
	}
	if res[0].MessageID != "m-before" || res[4].MessageID != "m-after" {
		t.Errorf("results = %+v, %+v; want the sent entries' message ids", res[0], res[4])
	}
	sent := f.last().Body["Entries"].([]any)
	if len(sent) != 2 {
		t.Errorf("sent %d entries; want the 2 valid ones", len(sent))
	}

	// Nothing valid: no request at all.
	n := len(f.calls())
	res, err = q.Send(t.Context(), []backend.SendEntry{{ID: "a", Body: "\xff"}})
	if err != nil || res[0].Err == nil || res[0].ID != "a" {
		t.Errorf("Send of one unsendable entry = %+v, %v", res, err)
	}
	if len(f.calls()) != n {
		t.Error("an all-invalid batch was sent")
	}
	// The ids are still checked as SQS checks them.
	for _, tt := range []struct {
		entries []backend.SendEntry
		code    string
	}{
		{[]backend.SendEntry{{ID: "a", Body: "\xff"}, {ID: "a", Body: "ok"}}, backend.CodeBatchEntryIdsNotDistinct},
		{[]backend.SendEntry{{ID: "a b", Body: "\xff"}}, backend.CodeInvalidBatchEntryID},
	} {
		if _, err := q.Send(t.Context(), tt.entries); backend.Code(err) != tt.code {
			t.Errorf("Send(%v) = %v; want %s", tt.entries, err, tt.code)
		}
	}
}
