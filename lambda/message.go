package lambda

import (
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// Message returns the consumer.Message of one record of an SQS event, filled
// as a receive fills it: the id, receipt handle, body and MD5s; the system
// attributes (ApproximateReceiveCount, SentTimestamp,
// ApproximateFirstReceiveTimestamp, MessageGroupId, MessageDeduplicationId,
// SequenceNumber, AWSTraceHeader, ...) in Attributes and parsed into the
// Message's fields; the message attributes, String, Number and Binary
// (custom types included); and the queue's URL, from queueURL or, when it
// is empty, from the record's eventSourceARN. receivedAt becomes
// ReceivedAt.
func Message(r *events.SQSMessage, queueURL string, receivedAt time.Time) *consumer.Message {
	if queueURL == "" {
		queueURL = QueueURL(r.EventSourceARN)
	}
	bm := &backend.Message{
		MessageID:              r.MessageId,
		ReceiptHandle:          r.ReceiptHandle,
		Body:                   r.Body,
		MD5OfBody:              r.Md5OfBody,
		MD5OfMessageAttributes: r.Md5OfMessageAttributes,
		Attributes:             r.Attributes,
	}
	if len(r.MessageAttributes) > 0 {
		bm.MessageAttributes = make(map[string]backend.MessageAttributeValue, len(r.MessageAttributes))
		for k, v := range r.MessageAttributes {
			av := backend.MessageAttributeValue{DataType: v.DataType, BinaryValue: v.BinaryValue}
			if v.StringValue != nil {
				av.StringValue = *v.StringValue
			}
			bm.MessageAttributes[k] = av
		}
	}
	m := consumer.NewMessage(bm, queueURL, receivedAt)
	return m
}

// QueueURL returns the URL of the SQS queue an ARN names
// (arn:aws:sqs:us-east-1:123456789012:jobs ->
// https://sqs.us-east-1.amazonaws.com/123456789012/jobs), or "" when arn
// is not an SQS queue's ARN.
func QueueURL(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[3] == "" || parts[4] == "" || parts[5] == "" {
		return ""
	}
	domain := "amazonaws.com"
	if strings.HasPrefix(parts[1], "aws-cn") {
		domain = "amazonaws.com.cn"
	}
	return "https://sqs." + parts[3] + "." + domain + "/" + parts[4] + "/" + parts[5]
}
