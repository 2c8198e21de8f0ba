package consumer

import (
	"strconv"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Message is a received message as a handler sees it: the backend message
// (id, receipt handle, body, system and message attributes) plus the queue it
// came from and the system attributes postbox parses for you.
//
// A handler may read a Message freely; it must not keep it, or change it,
// after it returns.
type Message struct {
	backend.Message

	// QueueURL is the URL of the queue the message was received from.
	QueueURL string
	// ReceiveCount is the message's ApproximateReceiveCount: 1 on its first
	// delivery, 2 on the first retry, and so on (0 if the backend did not
	// return it).
	ReceiveCount int
	// SentAt is the message's SentTimestamp (zero if not returned).
	SentAt time.Time
	// FirstReceivedAt is the message's ApproximateFirstReceiveTimestamp
	// (zero if not returned).
	FirstReceivedAt time.Time
	// ReceivedAt is the time, on the consumer's clock, at which the receive
	// call that returned the message began. The 12-hour limit on its
	// visibility (and QueueConfig.MaxExtension) is counted from it.
	ReceivedAt time.Time
	// GroupID is the MessageGroupId (FIFO queues, and fair standard queues).
	GroupID string
	// DeduplicationID is the MessageDeduplicationId (FIFO queues).
	DeduplicationID string
	// SequenceNumber is the FIFO sequence number (FIFO queues).
	SequenceNumber string
}

// systemAttributeNames are the system attributes every receive asks for.
var systemAttributeNames = []string{"All"}

// messageAttributeNames are the message attributes every receive asks for.
var messageAttributeNames = []string{"All"}

// NewMessage returns the Message a handler sees for m, received from the
// queue at queueURL by a receive that began at receivedAt: the system
// attributes postbox parses (receive count, timestamps, FIFO fields) are
// filled from m.Attributes. The server makes its messages this way; it is
// exported for other runtimes of the same handlers (package lambda) and
// for tests of handlers.
func NewMessage(m *backend.Message, queueURL string, receivedAt time.Time) *Message {
	msg := new(Message)
	msg.fill(m, queueURL, receivedAt)
	return msg
}

// fill sets msg from the received message m, parsing the system
// attributes it carries.
func (msg *Message) fill(m *backend.Message, queueURL string, receivedAt time.Time) {
	*msg = Message{Message: *m, QueueURL: queueURL, ReceivedAt: receivedAt}
	a := m.Attributes
	if n, err := strconv.ParseInt(a["ApproximateReceiveCount"], 10, 32); err == nil && n >= 0 {
		msg.ReceiveCount = int(n)
	}
	msg.SentAt = millis(a["SentTimestamp"])
	msg.FirstReceivedAt = millis(a["ApproximateFirstReceiveTimestamp"])
	msg.GroupID = a["MessageGroupId"]
	msg.DeduplicationID = a["MessageDeduplicationId"]
	msg.SequenceNumber = a["SequenceNumber"]
}

// millis parses an SQS timestamp (milliseconds since the epoch); the zero
// time if s is not one.
func millis(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}
