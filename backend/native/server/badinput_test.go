package server_test

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend/native/server"
)

// TestBadInput sends malformed and incomplete requests in both protocols
// and checks that each gets an SQS error with a code, in the protocol's
// shape, never a panic or a code-less 500.
func TestBadInput(t *testing.T) {
	e := newEnv(t, server.Config{MaxRequestBytes: 4096})
	q := e.createQueue(t, "bad", nil)
	missing := e.hs.URL + "/000000000000/missing"
	big := strings.Repeat("x", 5000)

	const (
		jsonCT = "application/x-amz-json-1.0"
		formCT = "application/x-www-form-urlencoded"
	)
	cases := []struct {
		name    string
		method  string
		path    string
		target  string // X-Amz-Target; "" for none
		ct      string
		body    string
		json    bool // the answer is in the JSON shape
		status  int
		code    string // JSON __type, or the query Code
		qheader string // x-amzn-query-error
	}{
		// JSON protocol.
		{"json no target", "POST", "/", "", jsonCT, `{}`, true, 400, "MissingAction", "MissingAction;Sender"},
		{"json unknown action", "POST", "/", "AmazonSQS.Frobnicate", jsonCT, `{}`, true, 400, "InvalidAction", "InvalidAction;Sender"},
		{"json other service", "POST", "/", "DynamoDB_20120810.ListTables", jsonCT, `{}`, true, 400, "InvalidAction", "InvalidAction;Sender"},
		{"json GET", "GET", "/", "AmazonSQS.ListQueues", jsonCT, ``, true, 400, "InvalidAction", "InvalidAction;Sender"},
		{"json wrong content type", "POST", "/", "AmazonSQS.ListQueues", "text/plain", `{}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json no content type", "POST", "/", "AmazonSQS.ListQueues", "", `{}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json malformed", "POST", "/", "AmazonSQS.CreateQueue", jsonCT, `{"QueueName":`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json not an object", "POST", "/", "AmazonSQS.CreateQueue", jsonCT, `["x"]`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json wrong type", "POST", "/", "AmazonSQS.CreateQueue", jsonCT, `{"QueueName":5}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json fractional int", "POST", "/", "AmazonSQS.ReceiveMessage", jsonCT, `{"QueueUrl":"` + q + `","MaxNumberOfMessages":1.5}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json huge int", "POST", "/", "AmazonSQS.ReceiveMessage", jsonCT, `{"QueueUrl":"` + q + `","WaitTimeSeconds":1e99}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json bad base64", "POST", "/", "AmazonSQS.SendMessage", jsonCT, `{"QueueUrl":"` + q + `","MessageBody":"x","MessageAttributes":{"b":{"DataType":"Binary","BinaryValue":"!!"}}}`, true, 400, "com.amazon.coral.service#SerializationException", "SerializationException;Sender"},
		{"json missing QueueName", "POST", "/", "AmazonSQS.CreateQueue", jsonCT, `{}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing QueueUrl", "POST", "/", "AmazonSQS.SendMessage", jsonCT, `{"MessageBody":"x"}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing MessageBody", "POST", "/", "AmazonSQS.SendMessage", jsonCT, `{"QueueUrl":"` + q + `"}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing ReceiptHandle", "POST", "/", "AmazonSQS.DeleteMessage", jsonCT, `{"QueueUrl":"` + q + `"}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing VisibilityTimeout", "POST", "/", "AmazonSQS.ChangeMessageVisibility", jsonCT, `{"QueueUrl":"` + q + `","ReceiptHandle":"x"}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing SourceArn", "POST", "/", "AmazonSQS.StartMessageMoveTask", jsonCT, `{}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json missing TaskHandle", "POST", "/", "AmazonSQS.CancelMessageMoveTask", jsonCT, `{}`, true, 400, "com.amazonaws.sqs#MissingRequiredParameterException", "MissingParameter;Sender"},
		{"json zero MaxNumberOfMessages", "POST", "/", "AmazonSQS.ReceiveMessage", jsonCT, `{"QueueUrl":"` + q + `","MaxNumberOfMessages":0}`, true, 400, "com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue;Sender"},
		{"json MaxNumberOfMessages 11", "POST", "/", "AmazonSQS.ReceiveMessage", jsonCT, `{"QueueUrl":"` + q + `","MaxNumberOfMessages":11}`, true, 400, "com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue;Sender"},
		{"json MaxResults 0", "POST", "/", "AmazonSQS.ListQueues", jsonCT, `{"MaxResults":0}`, true, 400, "com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue;Sender"},
		{"json missing queue", "POST", "/", "AmazonSQS.GetQueueAttributes", jsonCT, `{"QueueUrl":"` + missing + `"}`, true, 400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{"json empty batch", "POST", "/", "AmazonSQS.DeleteMessageBatch", jsonCT, `{"QueueUrl":"` + q + `","Entries":[]}`, true, 400, "com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest;Sender"},
		{"json oversized send", "POST", "/", "AmazonSQS.SendMessage", jsonCT, `{"QueueUrl":"` + q + `","MessageBody":"` + big + `"}`, true, 400, "com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue;Sender"},
		{"json oversized batch", "POST", "/", "AmazonSQS.SendMessageBatch", jsonCT, `{"QueueUrl":"` + q + `","Entries":[{"Id":"a","MessageBody":"` + big + `"}]}`, true, 400, "com.amazonaws.sqs#BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong;Sender"},
		{"json invalid queue name", "POST", "/", "AmazonSQS.CreateQueue", jsonCT, `{"QueueName":"no spaces"}`, true, 400, "com.amazonaws.sqs#InvalidParameterValueException", "InvalidParameterValue;Sender"},

		// Query protocol.
		// Real SQS: 404 UnknownOperationException (recorded for issue 19).
		{"query no action", "POST", "/", "", formCT, `QueueName=x`, false, 404, "UnknownOperationException", "UnknownOperationException;Sender"},
		{"query empty", "GET", "/", "", "", ``, false, 404, "UnknownOperationException", "UnknownOperationException;Sender"},
		{"query CreateQueue to a queue URL", "POST", "/000000000000/x", "", formCT, `Action=CreateQueue&QueueName=y`, false, 400, "InvalidAction", "InvalidAction;Sender"},
		{"query ListQueues to a queue URL", "GET", "/000000000000/x?Action=ListQueues", "", "", ``, false, 400, "InvalidAction", "InvalidAction;Sender"},
		{"query unknown action", "POST", "/", "", formCT, `Action=Frobnicate`, false, 400, "InvalidAction", "InvalidAction;Sender"},
		{"query malformed form", "POST", "/", "", formCT, `Action=ListQueues&x=%zz`, false, 404, "MalformedQueryString", "MalformedQueryString;Sender"},
		{"query malformed query string", "GET", "/?Action=ListQueues&%", "", "", ``, false, 404, "MalformedQueryString", "MalformedQueryString;Sender"},
		{"query wrong content type", "POST", "/", "", "text/plain", `Action=ListQueues`, false, 400, "MissingAction", "MissingAction;Sender"},
		{"query not an integer", "POST", "/", "", formCT, `Action=ReceiveMessage&QueueUrl=` + q + `&MaxNumberOfMessages=ten`, false, 400, "InvalidParameterValue", "InvalidParameterValue;Sender"},
		{"query missing QueueName", "POST", "/", "", formCT, `Action=CreateQueue`, false, 400, "MissingParameter", "MissingParameter;Sender"},
		{"query attribute without name", "POST", "/", "", formCT, `Action=CreateQueue&QueueName=a&Attribute.1.Value=3`, false, 400, "MissingParameter", "MissingParameter;Sender"},
		{"query message attribute without name", "POST", "/", "", formCT, `Action=SendMessage&QueueUrl=` + q + `&MessageBody=x&MessageAttribute.1.Value.DataType=String`, false, 400, "MissingParameter", "MissingParameter;Sender"},
		{"query bad base64", "POST", "/", "", formCT, `Action=SendMessage&QueueUrl=` + q + `&MessageBody=x&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=%21%21`, false, 400, "InvalidParameterValue", "InvalidParameterValue;Sender"},
		{"query missing queue", "POST", "/", "", formCT, `Action=PurgeQueue&QueueUrl=` + missing, false, 400, "AWS.SimpleQueueService.NonExistentQueue", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{"query missing QueueUrl", "POST", "/", "", formCT, `Action=PurgeQueue`, false, 400, "MissingParameter", "MissingParameter;Sender"},
		{"query too many entries", "POST", "/", "", formCT, manyDeleteEntries(q, 11), false, 400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender"},
		{"query oversized batch", "POST", "/", "", formCT, `Action=SendMessageBatch&QueueUrl=` + q + `&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=` + big, false, 400, "AWS.SimpleQueueService.BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong;Sender"},
		{"query oversized other", "POST", "/", "", formCT, `Action=CreateQueue&QueueName=` + big, false, 400, "InvalidParameterValue", "InvalidParameterValue;Sender"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, e.hs.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
			}
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, c.status, b)
			}
			if got := resp.Header.Get("X-Amzn-Query-Error"); got != c.qheader {
				t.Errorf("x-amzn-query-error = %q, want %q", got, c.qheader)
			}
			if resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if c.json {
				var body struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(b, &body); err != nil {
					t.Fatalf("body %q: %v", b, err)
				}
				if body.Type != c.code || body.Message == "" {
					t.Errorf("body = %s, want __type %q and a message", b, c.code)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
					t.Errorf("Content-Type = %q", ct)
				}
				return
			}
			var er xmlErrorResponse
			if err := xml.Unmarshal(b, &er); err != nil {
				t.Fatalf("body %q: %v", b, err)
			}
			if er.Code != c.code || er.Type != "Sender" || er.Message == "" || er.ID != resp.Header.Get("X-Amzn-Requestid") {
				t.Errorf("error = %+v, want code %q", er, c.code)
			}
		})
	}
}

func manyDeleteEntries(q string, n int) string {
	var b strings.Builder
	b.WriteString("Action=DeleteMessageBatch&QueueUrl=" + q)
	for i := 1; i <= n; i++ {
		id := string(rune('a' + i))
		b.WriteString("&DeleteMessageBatchRequestEntry." + itoa(i) + ".Id=" + id)
		b.WriteString("&DeleteMessageBatchRequestEntry." + itoa(i) + ".ReceiptHandle=h")
	}
	return b.String()
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
