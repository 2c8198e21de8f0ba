package server

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// fastInputs makes a fresh value of every input type with a fast decoder.
var fastInputs = []func() any{
	func() any { return new(sendMessageBatchInput) },
	func() any { return new(sendMessageInput) },
	func() any { return new(receiveMessageInput) },
	func() any { return new(deleteMessageInput) },
	func() any { return new(deleteMessageBatchInput) },
	func() any { return new(changeVisibilityInput) },
	func() any { return new(changeVisibilityBatchInput) },
}

// checkFastDecode holds the fast decoder to encoding/json: whatever it
// accepts, encoding/json accepts with the same result.
func checkFastDecode(t *testing.T, kind int, body []byte) bool {
	fast := fastInputs[kind]()
	if !decodeFast(fast.(fastDecoder), body) {
		return false
	}
	slow := fastInputs[kind]()
	if err := json.Unmarshal(body, slow); err != nil {
		t.Fatalf("fast decoder accepted %q, encoding/json rejects it: %v", body, err)
	}
	scrubStorage(fast)
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decoders differ on %q:\nfast %#v\nslow %#v", body, fast, slow)
	}
	return true
}

// scrubStorage moves the integers the fast decoder keeps in an input's
// own storage out of it, and zeroes the storage, so that the input
// compares equal to encoding/json's.
func scrubStorage(v any) {
	rehome := func(p **int) {
		if *p != nil {
			n := **p
			*p = &n
		}
	}
	switch in := v.(type) {
	case *receiveMessageInput:
		rehome(&in.MaxNumberOfMessages)
		rehome(&in.VisibilityTimeout)
		rehome(&in.WaitTimeSeconds)
		in.ints = [3]int{}
	case *sendMessageBatchInput:
		for i := range in.Entries {
			rehome(&in.Entries[i].DelaySeconds)
			in.Entries[i].delay = 0
		}
	}
}

var fastSeeds = []struct {
	kind int
	body string
	fast bool // expected to take the fast path
}{
	{0, `{"QueueUrl":"http://h/1/q","Entries":[{"Id":"a","MessageBody":"x","DelaySeconds":3,"MessageGroupId":"g","MessageDeduplicationId":"d"},{"Id":"b","MessageBody":"ü😀","MessageAttributes":{"s":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AAH/"}}}]}`, true},
	{0, ` { "QueueUrl" : "u" , "Entries" : [ ] } `, true},
	{1, `{"QueueUrl":"u","MessageBody":"hi","DelaySeconds":-0,"MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1"}}}`, true},
	{2, `{"QueueUrl":"u","MaxNumberOfMessages":10,"WaitTimeSeconds":20,"VisibilityTimeout":0,"AttributeNames":["All"],"MessageSystemAttributeNames":[],"MessageAttributeNames":["a.*"],"ReceiveRequestAttemptId":"x"}`, true},
	{3, `{"QueueUrl":"u","ReceiptHandle":"h"}`, true},
	{4, `{"QueueUrl":"u","Entries":[{"Id":"1","ReceiptHandle":"h"}]}`, true},
	{5, `{"QueueUrl":"u","ReceiptHandle":"h","VisibilityTimeout":30}`, true},
	{6, `{"QueueUrl":"u","Entries":[{"Id":"1","ReceiptHandle":"h","VisibilityTimeout":5}]}`, true},
	// Outside the fast subset: encoding/json decides.
	{3, `{"queueurl":"u"}`, false},
	{3, `{"QueueUrl":"u","QueueUrl":"v"}`, false},
	{3, `{"QueueUrl":null}`, false},
	{3, `{"QueueUrl":"a\"b"}`, false},
	{3, `{"QueueUrl":"u","Other":1}`, false},
	{3, "{\"QueueUrl\":\"\xff\"}", false},
	{5, `{"VisibilityTimeout":1.0}`, false},
	{5, `{"VisibilityTimeout":1e3}`, false},
	{5, `{"VisibilityTimeout":01}`, false},
	{5, `{"VisibilityTimeout":99999999999999999999}`, false},
	{1, `{"MessageAttributes":{"a":{"DataType":"String"},"a":{"DataType":"Number"}}}`, false},
	{1, `{"MessageAttributes":{"a":{"DataType":"Binary","BinaryValue":"!!"}}}`, false},
	{4, `{"Entries":[{"Id":"1"},]}`, false},
	{4, `{"Entries":[1]}`, false},
	{0, `{"QueueUrl":"u"} x`, false},
}

func TestFastDecode(t *testing.T) {
	for _, s := range fastSeeds {
		if got := checkFastDecode(t, s.kind, []byte(s.body)); got != s.fast {
			t.Errorf("fast path taken = %v for %s, want %v", got, s.body, s.fast)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(uint8(s.kind), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		checkFastDecode(t, int(kind)%len(fastInputs), body)
	})
}

// checkFastEncode holds the hand-written encoders to encoding/json: the
// same JSON value, and valid JSON.
func checkFastEncode(t *testing.T, v fastEncoder) {
	fast := v.appendJSON(nil)
	if !json.Valid(fast) {
		t.Fatalf("invalid JSON: %q", fast)
	}
	slow, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(fast, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(slow, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("encoders differ:\nfast %s\nslow %s", fast, slow)
	}
}

func FuzzFastEncode(f *testing.F) {
	f.Add("id", "body <&> \"q\" \\ \n\r\t\x01 \u2028 ü 😀", "k", "v", []byte{0, 1, 255}, true)
	f.Add("", "", "", "", []byte(nil), false)
	f.Add("\xff\xfe", "a\x00b", "\u2029", "\x7f", []byte{}, true)
	f.Fuzz(func(t *testing.T, id, body, k, v string, bin []byte, flag bool) {
		checkFastEncode(t, &sendMessageBatchOutput{
			Successful: []sendBatchResultEntry{{ID: id, MessageID: body, MD5OfMessageBody: k, MD5OfMessageAttributes: v, SequenceNumber: id}},
			Failed:     []batchErrorEntry{{ID: id, SenderFault: flag, Code: k, Message: body}},
		})
		checkFastEncode(t, &sendMessageBatchOutput{Successful: []sendBatchResultEntry{}, Failed: []batchErrorEntry{}})
		checkFastEncode(t, &batchOutput{Successful: []idEntry{{ID: id}, {ID: body}}, Failed: []batchErrorEntry{{ID: k, Code: v}}})
		checkFastEncode(t, &sendMessageOutput{MD5OfMessageBody: body, MessageID: id, MD5OfMessageSystemAttributes: k})
		checkFastEncode(t, &empty{})
		checkFastEncode(t, &receiveMessageOutput{})
		out := &receiveMessageOutput{Messages: []messageOut{{MessageID: id, ReceiptHandle: k, MD5OfBody: v, Body: body}}}
		if flag {
			// Map keys: distinct invalid UTF-8 keys would collide as U+FFFD.
			k, id := strings.ToValidUTF8(k, "?"), strings.ToValidUTF8(id, "?")
			out.Messages[0].Attributes = map[string]string{k: v, "SentTimestamp": body}
			out.Messages[0].MD5OfMessageAttributes = v
			out.Messages[0].MessageAttributes = map[string]attrValueOut{
				k:   {StringValue: v, DataType: "String"},
				id:  {BinaryValue: bin, DataType: "Binary"},
				"x": {StringValue: body, DataType: "Number"},
			}
		}
		checkFastEncode(t, out)
	})
}

func TestMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"application/x-amz-json-1.0":                      "application/x-amz-json-1.0",
		" Application/X-Amz-JSON-1.0 ; charset=utf-8":     "application/x-amz-json-1.0",
		"application/x-www-form-urlencoded;charset=utf-8": "application/x-www-form-urlencoded",
		"": "",
	} {
		if got := mediaType(in); got != want {
			t.Errorf("mediaType(%q) = %q, want %q", in, got, want)
		}
	}
}
