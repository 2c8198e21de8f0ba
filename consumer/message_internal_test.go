package consumer

import (
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

func TestFillParsesSystemAttributes(t *testing.T) {
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		want  Message
	}{
		{"none", nil, Message{}},
		{"standard", map[string]string{
			"ApproximateReceiveCount": "3", "SentTimestamp": "1764061200000",
			"ApproximateFirstReceiveTimestamp": "1764061201000", "SenderId": "x",
		}, Message{ReceiveCount: 3, SentAt: time.UnixMilli(1764061200000), FirstReceivedAt: time.UnixMilli(1764061201000)}},
		{"fifo", map[string]string{
			"ApproximateReceiveCount": "1", "MessageGroupId": "g", "MessageDeduplicationId": "d", "SequenceNumber": "18890",
		}, Message{ReceiveCount: 1, GroupID: "g", DeduplicationID: "d", SequenceNumber: "18890"}},
		{"garbage", map[string]string{
			"ApproximateReceiveCount": "-1", "SentTimestamp": "12a", "ApproximateFirstReceiveTimestamp": "9999999999999999999",
		}, Message{}},
		{"too large a count", map[string]string{"ApproximateReceiveCount": "99999999999"}, Message{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var msg Message
			msg.fill(&backend.Message{MessageID: "m", Attributes: tc.attrs}, "mem://q", at)
			want := tc.want
			want.MessageID, want.Attributes, want.QueueURL, want.ReceivedAt = "m", tc.attrs, "mem://q", at
			if msg.ReceiveCount != want.ReceiveCount || !msg.SentAt.Equal(want.SentAt) ||
				!msg.FirstReceivedAt.Equal(want.FirstReceivedAt) || msg.GroupID != want.GroupID ||
				msg.DeduplicationID != want.DeduplicationID || msg.SequenceNumber != want.SequenceNumber ||
				msg.QueueURL != want.QueueURL || !msg.ReceivedAt.Equal(want.ReceivedAt) || msg.MessageID != "m" {
				t.Errorf("got %+v\nwant %+v", msg, want)
			}
		})
	}
}
