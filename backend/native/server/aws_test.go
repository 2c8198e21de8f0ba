package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Wire behaviours of real SQS that its documentation does not give,
// recorded from the service for issue 19.

// receiveTrace receives every message of q with its AWSTraceHeader and
// returns the headers by body.
func receiveTrace(t *testing.T, e *env, q string) map[string]string {
	t.Helper()
	_, m := jsonCall(t, e, "ReceiveMessage", `{"QueueUrl":"`+q+`","MaxNumberOfMessages":10,"MessageSystemAttributeNames":["AWSTraceHeader"]}`)
	out := map[string]string{}
	msgs, _ := m["Messages"].([]any)
	for _, x := range msgs {
		msg := x.(map[string]any)
		attrs, _ := msg["Attributes"].(map[string]any)
		h, _ := attrs["AWSTraceHeader"].(string)
		out[msg["Body"].(string)] = h
	}
	return out
}

// TestTraceHeaderFromHTTP: the X-Amzn-Trace-Id header of a SendMessage or
// SendMessageBatch request becomes the AWSTraceHeader of its messages,
// unless the request gives one.
func TestTraceHeaderFromHTTP(t *testing.T) {
	e := newEnv(t)
	q := e.createQueue(t, "traced", nil)
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
	send := func(action, body string) map[string]any {
		t.Helper()
		resp, b := rawPost(t, e.hs.URL+"/", map[string]string{
			"X-Amz-Target": "AmazonSQS." + action, "Content-Type": "application/x-amz-json-1.0",
			"X-Amzn-Trace-Id": trace,
		}, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", action, resp.StatusCode, b)
		}
		return decodeObject(t, b)
	}
	out := send("SendMessage", `{"QueueUrl":"`+q+`","MessageBody":"single"}`)
	if _, ok := out["MD5OfMessageSystemAttributes"]; ok {
		t.Errorf("SendMessage answered an MD5OfMessageSystemAttributes for a system attribute the client did not send: %v", out)
	}
	send("SendMessageBatch", `{"QueueUrl":"`+q+`","Entries":[{"Id":"a","MessageBody":"batch"},`+
		`{"Id":"b","MessageBody":"own","MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=own"}}}]}`)
	// The query protocol too.
	resp, b := rawPost(t, e.hs.URL+"/", map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "X-Amzn-Trace-Id": trace,
	}, "Action=SendMessage&QueueUrl="+q+"&MessageBody=query")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query SendMessage: %d %s", resp.StatusCode, b)
	}
	_, plain := jsonCall(t, e, "SendMessage", `{"QueueUrl":"`+q+`","MessageBody":"untraced"}`)
	if plain["MessageId"] == nil {
		t.Fatalf("SendMessage: %v", plain)
	}
	got := receiveTrace(t, e, q)
	want := map[string]string{"single": trace, "batch": trace, "own": "Root=own", "query": trace, "untraced": ""}
	for body, h := range want {
		if got[body] != h {
			t.Errorf("message %q has AWSTraceHeader %q, want %q", body, got[body], h)
		}
	}
}

// decodeObject decodes a JSON object answer.
func decodeObject(t *testing.T, b string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("answer %q is not a JSON object: %v", b, err)
	}
	return m
}

// TestMessageTextsByProtocol: SQS words a missing queue differently in its
// two protocols, and a message over the size limit differently in
// SendMessage and SendMessageBatch.
func TestMessageTextsByProtocol(t *testing.T) {
	e := newEnv(t)
	missing := e.hs.URL + "/000000000000/missing"
	resp, b := rawPost(t, e.hs.URL+"/", map[string]string{
		"X-Amz-Target": "AmazonSQS.GetQueueAttributes", "Content-Type": "application/x-amz-json-1.0",
	}, `{"QueueUrl":"`+missing+`"}`)
	if m := decodeObject(t, b); resp.StatusCode != 400 || m["message"] != "The specified queue does not exist." {
		t.Errorf("JSON: %d %s", resp.StatusCode, b)
	}
	_, _, er := queryCall(t, e, "/", url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {missing}})
	if er == nil || er.Code != "AWS.SimpleQueueService.NonExistentQueue" || er.Message != "The specified queue does not exist for this wsdl version." {
		t.Errorf("query: %+v", er)
	}

	q := e.createQueue(t, "small", map[string]string{"MaximumMessageSize": "1024"})
	big := strings.Repeat("x", 1025)
	resp, b = rawPost(t, e.hs.URL+"/", map[string]string{
		"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0",
	}, `{"QueueUrl":"`+q+`","MessageBody":"`+big+`"}`)
	if m := decodeObject(t, b); resp.StatusCode != 400 || m["message"] != "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes." {
		t.Errorf("SendMessage over MaximumMessageSize: %d %s", resp.StatusCode, b)
	}
	_, m := jsonCall(t, e, "SendMessageBatch", `{"QueueUrl":"`+q+`","Entries":[{"Id":"a","MessageBody":"`+big+`"}]}`)
	failed, _ := m["Failed"].([]any)
	if len(failed) != 1 || failed[0].(map[string]any)["Message"] != "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes." {
		t.Errorf("SendMessageBatch over MaximumMessageSize: %v", m)
	}
}

// get sends a GET request with the Accept header (none when empty).
func get(t *testing.T, u, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestQueryOverGET: the query API over HTTP GET, as SQS answers it: in
// JSON for Accept: application/json, 404 UnknownOperationException
// without an Action, InvalidAction for CreateQueue or ListQueues sent to
// a queue's URL.
func TestQueryOverGET(t *testing.T) {
	e := newEnv(t)
	q := e.createQueue(t, "gets", nil)
	const js = "application/json"

	resp, b := get(t, e.hs.URL+"/?Action=ListQueues", js)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != js {
		t.Fatalf("ListQueues for JSON: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	m := decodeObject(t, b)
	r, _ := m["ListQueuesResponse"].(map[string]any)
	res, _ := r["ListQueuesResult"].(map[string]any)
	urls, _ := res["QueueUrls"].([]any)
	md, _ := r["ResponseMetadata"].(map[string]any)
	if len(urls) != 1 || urls[0] != q || md["RequestId"] != resp.Header.Get("X-Amzn-Requestid") {
		t.Fatalf("ListQueues for JSON = %s", b)
	}

	resp, b = get(t, q+"?Action=SendMessage&MessageBody=hi", "text/plain, application/json;q=0.9")
	if m := decodeObject(t, b); resp.StatusCode != 200 || m["SendMessageResponse"].(map[string]any)["SendMessageResult"].(map[string]any)["MessageId"] == nil {
		t.Fatalf("SendMessage for JSON: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, q+"?Action=GetQueueAttributes&AttributeName.1=ApproximateNumberOfMessages", js)
	if m := decodeObject(t, b); resp.StatusCode != 200 ||
		m["GetQueueAttributesResponse"].(map[string]any)["GetQueueAttributesResult"].(map[string]any)["Attributes"].(map[string]any)["ApproximateNumberOfMessages"] != "1" {
		t.Fatalf("GetQueueAttributes for JSON: %d %s", resp.StatusCode, b)
	}
	// An action without a result has only the metadata.
	resp, b = get(t, q+"?Action=PurgeQueue", js)
	if m := decodeObject(t, b); resp.StatusCode != 200 || len(m["PurgeQueueResponse"].(map[string]any)) != 1 {
		t.Fatalf("PurgeQueue for JSON: %d %s", resp.StatusCode, b)
	}
	// Errors in JSON.
	resp, b = get(t, e.hs.URL+"/?Action=GetQueueUrl&QueueName=missing", js)
	var er struct {
		Error     struct{ Type, Code, Message string }
		RequestID string `json:"RequestId"`
	}
	if err := json.Unmarshal([]byte(b), &er); err != nil || resp.StatusCode != 400 || er.Error.Code != "AWS.SimpleQueueService.NonExistentQueue" ||
		er.Error.Type != "Sender" || er.Error.Message != "The specified queue does not exist for this wsdl version." || er.RequestID == "" {
		t.Fatalf("GetQueueUrl of a missing queue for JSON: %d %s", resp.StatusCode, b)
	}
	// Without Accept: application/json, XML as before.
	resp, b = get(t, e.hs.URL+"/?Action=ListQueues", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml" || !strings.Contains(b, "<ListQueuesResponse") {
		t.Fatalf("ListQueues: %d %s", resp.StatusCode, b)
	}

	// No Action: 404 UnknownOperationException, in either shape.
	for _, accept := range []string{"", js, "*/*"} {
		resp, b = get(t, e.hs.URL+"/", accept)
		if resp.StatusCode != 404 || !strings.Contains(b, "UnknownOperationException") ||
			resp.Header.Get("X-Amzn-Query-Error") != "UnknownOperationException;Sender" {
			t.Errorf("GET / (Accept %q): %d %s", accept, resp.StatusCode, b)
		}
	}
	resp, b = get(t, q, js)
	if resp.StatusCode != 404 || !strings.Contains(b, "UnknownOperationException") {
		t.Errorf("GET of a queue URL: %d %s", resp.StatusCode, b)
	}

	// CreateQueue and ListQueues name no queue: sent to a queue's URL they
	// are InvalidAction.
	for _, action := range []string{"CreateQueue&QueueName=other", "ListQueues"} {
		resp, b = get(t, q+"?Action="+action, "")
		if resp.StatusCode != 400 || !strings.Contains(b, "<Code>InvalidAction</Code>") {
			t.Errorf("%s to a queue URL: %d %s", action, resp.StatusCode, b)
		}
	}
	if _, err := e.client.GetQueueUrl(e.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("other")}); err == nil {
		t.Error("CreateQueue sent to a queue URL created a queue")
	}
}
