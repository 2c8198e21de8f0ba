package middleware_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/consumer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testMessage() *consumer.Message {
	m := &consumer.Message{QueueURL: "http://localhost:9324/000000000000/jobs", ReceiveCount: 2, GroupID: "g1"}
	m.MessageID = "id-1"
	m.Body = "body"
	return m
}
