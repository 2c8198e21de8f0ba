package envelope

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/producer"
)

// SNSAttributes returns message attributes in the form an SNS notification
// carries them: String and Number types (custom suffixes included) keep
// their StringValue, Binary types become "Binary" with the value in
// base64. Publishing with the SNS API takes the same attributes as SQS
// (DataType, StringValue, BinaryValue); SNS writes them in this form.
func SNSAttributes(attrs map[string]backend.MessageAttributeValue) map[string]SNSAttribute {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]SNSAttribute, len(attrs))
	for k, v := range attrs {
		if strings.HasPrefix(v.DataType, "Binary") {
			out[k] = SNSAttribute{Type: "Binary", Value: base64.StdEncoding.EncodeToString(v.BinaryValue)}
		} else {
			out[k] = SNSAttribute{Type: v.DataType, Value: v.StringValue}
		}
	}
	return out
}

// SNSMessage returns the message that SNS delivers to a subscribed SQS
// queue (raw message delivery off) when m is published to topicARN: a
// Notification whose Message is m's body and whose MessageAttributes are
// m's, with a new SNS message id and the current time, unsigned. The
// result keeps m's GroupID, DeduplicationID and TraceHeader, and has no
// SQS message attributes. It stands in for SNS where there is none (the
// in-process engine, postbox serve, tests): the SNS middleware unwraps it
// into m again, so typed jobs (middleware.NewJob) published through SNS
// are the same jobs on the consumer side.
//
// The error is for a notification over SQS's size limit.
func SNSMessage(topicARN string, m producer.Message) (producer.Message, error) {
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	n := SNSNotification{
		Type:              "Notification",
		MessageID:         fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		TopicARN:          topicARN,
		Message:           m.Body,
		Timestamp:         time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		MessageAttributes: SNSAttributes(m.Attributes),
	}
	body, err := json.Marshal(n)
	if err != nil {
		return producer.Message{}, err
	}
	if len(body) > backend.MaxMessageSize {
		return producer.Message{}, fmt.Errorf("envelope: the SNS notification is %d bytes, over SQS's limit of %d", len(body), backend.MaxMessageSize)
	}
	return producer.Message{
		Body:            string(body),
		GroupID:         m.GroupID,
		DeduplicationID: m.DeduplicationID,
		Delay:           m.Delay,
		TraceHeader:     m.TraceHeader,
	}, nil
}
