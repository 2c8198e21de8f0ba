package server_test

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// The query protocol's response shapes, as older SDKs decode them.
type xmlNameValue struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

type xmlMessage struct {
	MessageID              string         `xml:"MessageId"`
	ReceiptHandle          string         `xml:"ReceiptHandle"`
	MD5OfBody              string         `xml:"MD5OfBody"`
	Body                   string         `xml:"Body"`
	Attributes             []xmlNameValue `xml:"Attribute"`
	MD5OfMessageAttributes string         `xml:"MD5OfMessageAttributes"`
	MessageAttributes      []struct {
		Name  string `xml:"Name"`
		Value struct {
			StringValue string `xml:"StringValue"`
			BinaryValue string `xml:"BinaryValue"`
			DataType    string `xml:"DataType"`
		} `xml:"Value"`
	} `xml:"MessageAttribute"`
}

type xmlBatchError struct {
	ID          string `xml:"Id"`
	SenderFault bool   `xml:"SenderFault"`
	Code        string `xml:"Code"`
	Message     string `xml:"Message"`
}

type xmlResponse struct {
	XMLName xml.Name
	Result  struct {
		QueueURLs                    []string                      `xml:"QueueUrl"`
		Attributes                   []xmlNameValue                `xml:"Attribute"`
		Tags                         []struct{ Key, Value string } `xml:"Tag"`
		MD5OfMessageBody             string                        `xml:"MD5OfMessageBody"`
		MD5OfMessageAttributes       string                        `xml:"MD5OfMessageAttributes"`
		MD5OfMessageSystemAttributes string                        `xml:"MD5OfMessageSystemAttributes"`
		MessageID                    string                        `xml:"MessageId"`
		Messages                     []xmlMessage                  `xml:"Message"`
		SendEntries                  []struct {
			ID                     string `xml:"Id"`
			MessageID              string `xml:"MessageId"`
			MD5OfMessageBody       string `xml:"MD5OfMessageBody"`
			MD5OfMessageAttributes string `xml:"MD5OfMessageAttributes"`
		} `xml:"SendMessageBatchResultEntry"`
		DeleteEntries []struct {
			ID string `xml:"Id"`
		} `xml:"DeleteMessageBatchResultEntry"`
		VisibilityEntries []struct {
			ID string `xml:"Id"`
		} `xml:"ChangeMessageVisibilityBatchResultEntry"`
		Failed []xmlBatchError `xml:"BatchResultErrorEntry"`
	} `xml:",any"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type xmlErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

// queryCall posts a query-protocol form to path and decodes the answer.
func queryCall(t *testing.T, e *env, path string, form url.Values) (*http.Response, *xmlResponse, *xmlErrorResponse) {
	t.Helper()
	resp, body := rawPost(t, e.hs.URL+path, map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, form.Encode())
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("%s answer lacks x-amzn-RequestId", form.Get("Action"))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml" {
		t.Fatalf("%s answer has Content-Type %q", form.Get("Action"), ct)
	}
	if resp.StatusCode != http.StatusOK {
		var er xmlErrorResponse
		if err := xml.Unmarshal([]byte(body), &er); err != nil {
			t.Fatalf("error answer %q: %v", body, err)
		}
		return resp, nil, &er
	}
	var r xmlResponse
	if err := xml.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	if r.XMLName.Local != form.Get("Action")+"Response" || r.XMLName.Space != "http://queue.amazonaws.com/doc/2012-11-05/" {
		t.Fatalf("root element %v", r.XMLName)
	}
	if r.RequestID != resp.Header.Get("X-Amzn-Requestid") {
		t.Fatalf("RequestId %q differs from header %q", r.RequestID, resp.Header.Get("X-Amzn-Requestid"))
	}
	return resp, &r, nil
}

func mustQuery(t *testing.T, e *env, path string, kv ...string) *xmlResponse {
	t.Helper()
	form := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	_, r, er := queryCall(t, e, path, form)
	if er != nil {
		t.Fatalf("%s: %s: %s", form.Get("Action"), er.Code, er.Message)
	}
	return r
}

func TestQueryProtocol(t *testing.T) {
	e := newEnv(t)
	r := mustQuery(t, e, "/", "Action", "CreateQueue", "Version", "2012-11-05", "QueueName", "q1",
		"Attribute.1.Name", "VisibilityTimeout", "Attribute.1.Value", "40",
		"Tag.1.Key", "team", "Tag.1.Value", "x")
	u := r.Result.QueueURLs[0]
	if u != e.hs.URL+"/000000000000/q1" {
		t.Fatalf("QueueUrl = %q", u)
	}
	if r := mustQuery(t, e, "/", "Action", "GetQueueUrl", "QueueName", "q1"); r.Result.QueueURLs[0] != u {
		t.Fatalf("GetQueueUrl = %q", r.Result.QueueURLs)
	}
	if r := mustQuery(t, e, "/", "Action", "ListQueues"); len(r.Result.QueueURLs) != 1 || r.Result.QueueURLs[0] != u {
		t.Fatalf("ListQueues = %v", r.Result.QueueURLs)
	}
	r = mustQuery(t, e, "/", "Action", "GetQueueAttributes", "QueueUrl", u, "AttributeName.1", "VisibilityTimeout", "AttributeName.2", "QueueArn")
	if len(r.Result.Attributes) != 2 {
		t.Fatalf("attributes = %v", r.Result.Attributes)
	}
	if r := mustQuery(t, e, "/", "Action", "ListQueueTags", "QueueUrl", u); len(r.Result.Tags) != 1 || r.Result.Tags[0].Key != "team" {
		t.Fatalf("tags = %v", r.Result.Tags)
	}

	attrs := map[string]backend.MessageAttributeValue{
		"s": {DataType: "String", StringValue: "v"},
		"b": {DataType: "Binary", BinaryValue: []byte{1, 2, 3}},
	}
	body := "line1\r\nline2 <&> \t end"
	// The action may come on the queue's path, without a QueueUrl.
	r = mustQuery(t, e, "/000000000000/q1", "Action", "SendMessage", "MessageBody", body,
		"MessageAttribute.1.Name", "s", "MessageAttribute.1.Value.DataType", "String", "MessageAttribute.1.Value.StringValue", "v",
		"MessageAttribute.2.Name", "b", "MessageAttribute.2.Value.DataType", "Binary",
		"MessageAttribute.2.Value.BinaryValue", base64.StdEncoding.EncodeToString([]byte{1, 2, 3}))
	if r.Result.MD5OfMessageBody != backend.MD5OfBody(body) || r.Result.MD5OfMessageAttributes != backend.MD5OfMessageAttributes(attrs) {
		t.Fatalf("send digests = %q %q", r.Result.MD5OfMessageBody, r.Result.MD5OfMessageAttributes)
	}
	r = mustQuery(t, e, "/", "Action", "SendMessageBatch", "QueueUrl", u,
		"SendMessageBatchRequestEntry.1.Id", "a", "SendMessageBatchRequestEntry.1.MessageBody", "A",
		"SendMessageBatchRequestEntry.2.Id", "b", "SendMessageBatchRequestEntry.2.MessageBody", "B",
		"SendMessageBatchRequestEntry.2.DelaySeconds", "5000",
		"SendMessageBatchRequestEntry.10.Id", "c", "SendMessageBatchRequestEntry.10.MessageBody", "C")
	if len(r.Result.SendEntries) != 2 || r.Result.SendEntries[0].ID != "a" || r.Result.SendEntries[1].ID != "c" ||
		len(r.Result.Failed) != 1 || r.Result.Failed[0].ID != "b" || r.Result.Failed[0].Code != backend.CodeInvalidParameterValue || !r.Result.Failed[0].SenderFault {
		t.Fatalf("SendMessageBatch = %+v / %+v", r.Result.SendEntries, r.Result.Failed)
	}
	if r.Result.SendEntries[0].MD5OfMessageAttributes != "" {
		t.Fatalf("MD5OfMessageAttributes without attributes")
	}

	r = mustQuery(t, e, "/", "Action", "ReceiveMessage", "QueueUrl", u, "MaxNumberOfMessages", "10",
		"AttributeName.1", "All", "MessageAttributeName.1", "All")
	if len(r.Result.Messages) != 3 {
		t.Fatalf("received %d", len(r.Result.Messages))
	}
	var withAttrs *xmlMessage
	for i := range r.Result.Messages {
		if r.Result.Messages[i].Body == body {
			withAttrs = &r.Result.Messages[i]
		} else if r.Result.Messages[i].MD5OfMessageAttributes != "" {
			t.Fatalf("MD5OfMessageAttributes on a message without attributes")
		}
	}
	if withAttrs == nil {
		t.Fatalf("body not round-tripped: %+v", r.Result.Messages)
	}
	if withAttrs.MD5OfBody != backend.MD5OfBody(body) || withAttrs.MD5OfMessageAttributes != backend.MD5OfMessageAttributes(attrs) || len(withAttrs.MessageAttributes) != 2 {
		t.Fatalf("message = %+v", withAttrs)
	}
	if len(withAttrs.Attributes) < 4 {
		t.Fatalf("system attributes = %v", withAttrs.Attributes)
	}
	msgs := r.Result.Messages
	mustQuery(t, e, "/", "Action", "ChangeMessageVisibility", "QueueUrl", u, "ReceiptHandle", msgs[0].ReceiptHandle, "VisibilityTimeout", "120")
	r = mustQuery(t, e, "/", "Action", "ChangeMessageVisibilityBatch", "QueueUrl", u,
		"ChangeMessageVisibilityBatchRequestEntry.1.Id", "x", "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle", msgs[1].ReceiptHandle,
		"ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout", "120")
	if len(r.Result.VisibilityEntries) != 1 || len(r.Result.Failed) != 0 {
		t.Fatalf("ChangeMessageVisibilityBatch = %+v", r.Result)
	}
	mustQuery(t, e, "/", "Action", "DeleteMessage", "QueueUrl", u, "ReceiptHandle", msgs[0].ReceiptHandle)
	r = mustQuery(t, e, "/", "Action", "DeleteMessageBatch", "QueueUrl", u,
		"DeleteMessageBatchRequestEntry.1.Id", "x", "DeleteMessageBatchRequestEntry.1.ReceiptHandle", msgs[1].ReceiptHandle,
		"DeleteMessageBatchRequestEntry.2.Id", "y", "DeleteMessageBatchRequestEntry.2.ReceiptHandle", msgs[2].ReceiptHandle,
		"DeleteMessageBatchRequestEntry.3.Id", "z", "DeleteMessageBatchRequestEntry.3.ReceiptHandle", "bogus")
	if len(r.Result.DeleteEntries) != 2 || len(r.Result.Failed) != 1 || r.Result.Failed[0].Code != backend.CodeReceiptHandleIsInvalid {
		t.Fatalf("DeleteMessageBatch = %+v", r.Result)
	}
	mustQuery(t, e, "/", "Action", "PurgeQueue", "QueueUrl", u)
	mustQuery(t, e, "/", "Action", "UntagQueue", "QueueUrl", u, "TagKey.1", "team")
	mustQuery(t, e, "/", "Action", "DeleteQueue", "QueueUrl", u)

	// The query protocol's error shape.
	_, _, er := queryCall(t, e, "/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"q1"}})
	if er == nil || er.Code != "AWS.SimpleQueueService.NonExistentQueue" || er.Type != "Sender" || er.Message == "" || er.ID == "" {
		t.Fatalf("error = %+v", er)
	}

	// A GET with the parameters in the query string works too.
	resp, err := http.Get(e.hs.URL + "/?Action=ListQueues")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET ListQueues = %d", resp.StatusCode)
	}
}

func TestQueryXMLEscaping(t *testing.T) {
	e := newEnv(t)
	u := mustQuery(t, e, "/", "Action", "CreateQueue", "QueueName", "esc").Result.QueueURLs[0]
	body := "a]]>b\"c'd&e<f>\u00e9\U0001F600\r\r\n"
	mustQuery(t, e, "/", "Action", "SendMessage", "QueueUrl", u, "MessageBody", body)
	r := mustQuery(t, e, "/", "Action", "ReceiveMessage", "QueueUrl", u)
	if len(r.Result.Messages) != 1 || r.Result.Messages[0].Body != body {
		t.Fatalf("round trip = %q", r.Result.Messages)
	}
	if !strings.EqualFold(r.Result.Messages[0].MD5OfBody, backend.MD5OfBody(body)) {
		t.Fatal("MD5OfBody")
	}
}
