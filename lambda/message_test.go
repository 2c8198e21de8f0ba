package lambda_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/lambda"
)

// A record becomes the Message a receive would give: the MD5s that SQS
// computed over the body and the attributes match what the Message holds.
func TestMessage(t *testing.T) {
	_, std := fixture(t, "standard.json")
	at := time.Unix(1700000000, 0)
	for i := range std.Records {
		r := &std.Records[i]
		m := lambda.Message(r, "", at)
		if got := backend.MD5OfBody(m.Body); got != r.Md5OfBody {
			t.Errorf("%s: MD5 of the body %s, the record says %s", r.MessageId, got, r.Md5OfBody)
		}
		if len(m.MessageAttributes) > 0 {
			if got := backend.MD5OfMessageAttributes(m.MessageAttributes); got != r.Md5OfMessageAttributes {
				t.Errorf("%s: MD5 of the attributes %s, the record says %s", r.MessageId, got, r.Md5OfMessageAttributes)
			}
		}
		if m.MessageID != r.MessageId || m.ReceiptHandle != r.ReceiptHandle || !m.ReceivedAt.Equal(at) ||
			m.QueueURL != "https://sqs.us-east-2.amazonaws.com/123456789012/my-queue" {
			t.Errorf("%s: %+v", r.MessageId, m)
		}
	}
	m := lambda.Message(&std.Records[2], "", at)
	if m.ReceiveCount != 3 || !m.SentAt.Equal(time.UnixMilli(1545082650636)) || !m.FirstReceivedAt.Equal(time.UnixMilli(1545082650649)) {
		t.Errorf("receive count %d, sent %v, first received %v", m.ReceiveCount, m.SentAt, m.FirstReceivedAt)
	}
	if m.Attributes["AWSTraceHeader"] != "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1" {
		t.Errorf("AWSTraceHeader %q", m.Attributes["AWSTraceHeader"])
	}
	a := m.MessageAttributes
	if a["type"].DataType != "String" || a["type"].StringValue != "resize" ||
		a["width"].DataType != "Number" || a["width"].StringValue != "640" ||
		a["thumb"].DataType != "Binary.png" || !bytes.Equal(a["thumb"].BinaryValue, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("message attributes %+v", a)
	}

	_, fifo := fixture(t, "fifo.json")
	m = lambda.Message(&fifo.Records[0], "http://127.0.0.1:9324/000000000000/fifo.fifo", at)
	if m.GroupID != "a" || m.DeduplicationID != "1" || m.SequenceNumber != "18849496460467696128" ||
		m.QueueURL != "http://127.0.0.1:9324/000000000000/fifo.fifo" {
		t.Errorf("FIFO fields: %+v", m)
	}
}

func TestQueueURL(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sqs:us-east-2:123456789012:my-queue":     "https://sqs.us-east-2.amazonaws.com/123456789012/my-queue",
		"arn:aws:sqs:us-east-2:123456789012:fifo.fifo":    "https://sqs.us-east-2.amazonaws.com/123456789012/fifo.fifo",
		"arn:aws-cn:sqs:cn-north-1:123456789012:jobs":     "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/jobs",
		"arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q": "https://sqs.us-gov-west-1.amazonaws.com/123456789012/q",
		"arn:aws:sns:us-east-2:123456789012:topic":        "",
		"arn:aws:sqs:us-east-2:123456789012":              "",
		"":                                                "",
	} {
		if got := lambda.QueueURL(arn); got != want {
			t.Errorf("QueueURL(%q) = %q, want %q", arn, got, want)
		}
	}
}
