package server_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// fuzzServer is the server over a fresh engine, served in process.
func fuzzServer(f *testing.F) *server.Server {
	eng, err := native.New(native.Config{Clock: clockwork.NewFakeClock()})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng, MaxRequestBytes: 64 << 10})
	if err != nil {
		f.Fatal(err)
	}
	srv.Drain() // no receive may wait
	f.Cleanup(func() { eng.Close() })
	// A queue for the seeds to name.
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/?Action=CreateQueue&QueueName=q", nil))
	if rec.Code != 200 {
		f.Fatalf("CreateQueue: %d %s", rec.Code, rec.Body)
	}
	return srv
}

// checkAnswer asserts the invariants of every answer: a request id, never
// a 5xx, and a well-formed success or error body in the protocol's shape.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, isJSON bool) {
	if rec.Header().Get("X-Amzn-Requestid") == "" {
		t.Fatal("no request id")
	}
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if isJSON {
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not a JSON object: %q", rec.Body)
		}
		if rec.Code != 200 {
			if typ, _ := m["__type"].(string); typ == "" || rec.Header().Get("X-Amzn-Query-Error") == "" {
				t.Fatalf("error without __type or x-amzn-query-error: %q", rec.Body)
			}
		}
		return
	}
	dec := xml.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	for {
		_, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("answer is not well-formed XML (%v): %q", err, rec.Body)
		}
	}
	if rec.Code != 200 {
		var er xmlErrorResponse
		if err := xml.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Code == "" {
			t.Fatalf("error without Code: %q", rec.Body)
		}
	}
}

func FuzzJSONRequest(f *testing.F) {
	srv := fuzzServer(f)
	actions := server.Actions()
	slices.Sort(actions)
	q := `"QueueUrl":"http://x/000000000000/q"`
	seeds := map[string]string{
		"CreateQueue":                  `{"QueueName":"a","Attributes":{"VisibilityTimeout":"5"},"tags":{"k":"v"}}`,
		"GetQueueUrl":                  `{"QueueName":"q","QueueOwnerAWSAccountId":"000000000000"}`,
		"ListQueues":                   `{"QueueNamePrefix":"q","MaxResults":5,"NextToken":"x"}`,
		"GetQueueAttributes":           `{` + q + `,"AttributeNames":["All"]}`,
		"SetQueueAttributes":           `{` + q + `,"Attributes":{"DelaySeconds":"1"}}`,
		"SendMessage":                  `{` + q + `,"MessageBody":"hi","DelaySeconds":0,"MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"AAE="},"b":{"DataType":"String","StringValue":"x"}},"MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1"}}}`,
		"SendMessageBatch":             `{` + q + `,"Entries":[{"Id":"1","MessageBody":"a"},{"Id":"2","MessageBody":"b","DelaySeconds":3}]}`,
		"ReceiveMessage":               `{` + q + `,"MaxNumberOfMessages":10,"WaitTimeSeconds":1,"VisibilityTimeout":3,"AttributeNames":["All"],"MessageSystemAttributeNames":["SentTimestamp"],"MessageAttributeNames":["All"]}`,
		"DeleteMessage":                `{` + q + `,"ReceiptHandle":"x"}`,
		"DeleteMessageBatch":           `{` + q + `,"Entries":[{"Id":"1","ReceiptHandle":"x"}]}`,
		"ChangeMessageVisibility":      `{` + q + `,"ReceiptHandle":"x","VisibilityTimeout":5}`,
		"ChangeMessageVisibilityBatch": `{` + q + `,"Entries":[{"Id":"1","ReceiptHandle":"x","VisibilityTimeout":5}]}`,
		"TagQueue":                     `{` + q + `,"Tags":{"a":"b"}}`,
		"UntagQueue":                   `{` + q + `,"TagKeys":["a"]}`,
		"ListQueueTags":                `{` + q + `}`,
		"PurgeQueue":                   `{` + q + `}`,
		"ListDeadLetterSourceQueues":   `{` + q + `,"MaxResults":1}`,
		"StartMessageMoveTask":         `{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:q","MaxNumberOfMessagesPerSecond":5}`,
		"ListMessageMoveTasks":         `{"SourceArn":"arn:aws:sqs:us-east-1:000000000000:q","MaxResults":3}`,
		"CancelMessageMoveTask":        `{"TaskHandle":"x"}`,
		"AddPermission":                `{` + q + `,"Label":"l","AWSAccountIds":["1"],"Actions":["SendMessage"]}`,
		"RemovePermission":             `{` + q + `,"Label":"l"}`,
		"DeleteQueue":                  `{` + q + `}`,
	}
	for i, a := range actions {
		f.Add(uint8(i), []byte(seeds[a]))
	}
	f.Add(uint8(0), []byte(`{"QueueName":`))
	f.Add(uint8(3), []byte(`[1,2,3]`))
	f.Add(uint8(200), []byte(`{}`))
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		target := "AmazonSQS.Unknown"
		if int(action) < len(actions) {
			target = "AmazonSQS." + actions[action]
		}
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec, true)
	})
}

func FuzzQueryRequest(f *testing.F) {
	srv := fuzzServer(f)
	q := "QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq"
	for _, s := range []string{
		"Action=CreateQueue&QueueName=a&Attribute.1.Name=DelaySeconds&Attribute.1.Value=1&Tag.1.Key=k&Tag.1.Value=v",
		"Action=ListQueues&MaxResults=2",
		"Action=SendMessage&" + q + "&MessageBody=hi&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Binary&MessageAttribute.1.Value.BinaryValue=AAE%3D",
		"Action=SendMessageBatch&" + q + "&SendMessageBatchRequestEntry.1.Id=1&SendMessageBatchRequestEntry.1.MessageBody=a&SendMessageBatchRequestEntry.2.Id=2&SendMessageBatchRequestEntry.2.MessageBody=%3C%26%3E",
		"Action=ReceiveMessage&" + q + "&MaxNumberOfMessages=10&AttributeName.1=All&MessageAttributeName.1=All",
		"Action=DeleteMessageBatch&" + q + "&DeleteMessageBatchRequestEntry.1.Id=1&DeleteMessageBatchRequestEntry.1.ReceiptHandle=x",
		"Action=ChangeMessageVisibilityBatch&" + q + "&ChangeMessageVisibilityBatchRequestEntry.1.Id=1&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=x&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=4",
		"Action=GetQueueAttributes&" + q + "&AttributeName.1=All",
		"Action=TagQueue&" + q + "&Tag.1.Key=a&Tag.1.Value=b",
		"Action=UntagQueue&" + q + "&TagKey.1=a",
		"Action=AddPermission&" + q + "&Label=l&AWSAccountId.1=1&ActionName.1=SendMessage",
		"Action=ListMessageMoveTasks&SourceArn=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aq",
		"Action=ListQueues&%zz",
		"Action=SendMessageBatch&SendMessageBatchRequestEntry.99999999999999999999.Id=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec, false)
	})
}

// FuzzQueryURLAndForm fuzzes the query protocol's two parameter sources
// at once, the URL's query string and the form body (which wins for a
// parameter in both), with the method: GET, POST and PUT. A request that
// fails must change nothing: the queue's attributes (its message counts
// among them) are the same after it.
func FuzzQueryURLAndForm(f *testing.F) {
	srv := fuzzServer(f)
	q := "QueueUrl=http%3A%2F%2Fx%2F000000000000%2Fq"
	seeds := []struct {
		method      uint8
		query, body string
	}{
		{0, "Action=ListQueues", ""},
		{1, "Action=SendMessage", q + "&MessageBody=hi"},
		{1, "Action=PurgeQueue&" + q, "Action=GetQueueAttributes&AttributeName.1=All"},
		{1, "", "Action=SendMessageBatch&" + q + "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x&SendMessageBatchRequestEntry.1.Id=b"},
		{2, "Action=DeleteMessage&" + q + "&ReceiptHandle=x", "x=%"},
		{0, "Action=ReceiveMessage&" + q + "&WaitTimeSeconds=20&MaxNumberOfMessages=10&VisibilityTimeout=0", ""},
		{1, "Action=SetQueueAttributes&" + q, "Attribute.1.Name=RedrivePolicy&Attribute.1.Value=%7B%22maxReceiveCount%22%3A0%7D"},
		{1, "Action=TagQueue", q + "&Tag.1.Key=&Tag.1.Value=v&Tag.0.Key=k&Tag.-1.Key=k"},
		{0, "Action=ChangeMessageVisibilityBatch&" + q + "&ChangeMessageVisibilityBatchRequestEntry.1.Id=a&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=-1", ""},
		{1, "Action=StartMessageMoveTask", "SourceArn=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aq&DestinationArn=arn%3Ax"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.query, s.body)
	}
	attrs := func() string {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/000000000000/q?Action=GetQueueAttributes&AttributeName.1=All", nil))
		// Timestamps and the counts are all that may differ; a failed
		// request must leave them alone.
		b := rec.Body.String()
		if i := strings.Index(b, "<ResponseMetadata>"); i >= 0 {
			return b[:i]
		}
		// The queue is gone (a DeleteQueue the fuzzer made): the code
		// without the request id.
		if i, j := strings.Index(b, "<Code>"), strings.Index(b, "</Code>"); i >= 0 && j > i {
			return b[i:j]
		}
		return b
	}
	f.Fuzz(func(t *testing.T, method uint8, query, body string) {
		m := [...]string{"GET", "POST", "PUT"}[int(method)%3]
		before := attrs()
		req := httptest.NewRequest(m, "/", strings.NewReader(body))
		req.URL.RawQuery = query // as sent, however malformed
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		checkAnswer(t, rec, false)
		if rec.Code != http.StatusOK {
			if after := attrs(); after != before {
				t.Fatalf("a failed request (%d %s) changed the queue:\nbefore %s\nafter  %s", rec.Code, rec.Body, before, after)
			}
		}
	})
}

var _ http.Handler = (*server.Server)(nil)
