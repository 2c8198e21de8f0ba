package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
