package envelope_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/envelope"
)

func eventMessage(t *testing.T) *consumer.Message {
	t.Helper()
	raw, err := os.ReadFile("testdata/eventbridge.json")
	if err != nil {
		t.Fatal(err)
	}
	m := sqsMessage(t, nil)
	m.Body = string(raw)
	return m
}

func TestEventBridge(t *testing.T) {
	type stateChange struct {
		InstanceID string `json:"instance-id"`
		State      string `json:"state"`
	}
	var got stateChange
	var ev *envelope.Event
	r := middleware.NewRouter()
	r.Attribute = envelope.DetailTypeAttribute
	r.Handle("EC2 Instance State-change Notification", middleware.Job(func(ctx context.Context, s stateChange) error {
		got = s
		ev, _ = envelope.EventFrom(ctx)
		return nil
	}))
	h := consumer.Chain(r, envelope.EventBridge(envelope.EventBridgeConfig{Sources: []string{"aws.ec2"}}))
	msg := eventMessage(t)
	if err := h.HandleMessage(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got.State != "terminated" || got.InstanceID != " i-1234567890abcdef0" {
		t.Errorf("detail %+v", got)
	}
	if ev == nil || ev.ID != "6a7e8feb-b491-4cf7-a9f1-bf3703467718" || ev.Source != "aws.ec2" || ev.Account != "111122223333" ||
		ev.Region != "us-west-1" || !ev.Time.Equal(time.Date(2017, 12, 22, 18, 43, 48, 0, time.UTC)) ||
		len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0" {
		t.Errorf("event %+v", ev)
	}
	if msg.MessageAttributes != nil {
		t.Error("the server's message changed")
	}
}

func TestEventBridgeAttributes(t *testing.T) {
	var c capture
	if err := consumer.Chain(&c, envelope.EventBridge(envelope.EventBridgeConfig{})).HandleMessage(context.Background(), eventMessage(t)); err != nil {
		t.Fatal(err)
	}
	a := c.msgs[0].MessageAttributes
	if a["detail-type"].StringValue != "EC2 Instance State-change Notification" || a["source"].StringValue != "aws.ec2" {
		t.Errorf("attributes %+v", a)
	}
	if c.msgs[0].Body[0] != '{' {
		t.Errorf("body %q", c.msgs[0].Body)
	}
}

func TestEventBridgeRefuses(t *testing.T) {
	var c capture
	h := consumer.Chain(&c, envelope.EventBridge(envelope.EventBridgeConfig{Sources: []string{"com.example.shop"}}))
	if err := h.HandleMessage(context.Background(), eventMessage(t)); !errors.Is(err, envelope.ErrSourceNotAllowed) || !consumer.IsPermanent(err) {
		t.Errorf("another source: %v", err)
	}
	for _, body := range []string{"hello", `{"id":"1","source":"s","detail-type":"d"}`, `{"detail":{}}`} {
		m := sqsMessage(t, nil)
		m.Body = body
		if err := h.HandleMessage(context.Background(), m); !errors.Is(err, envelope.ErrNotEventBridge) || !consumer.IsPermanent(err) {
			t.Errorf("%s: %v", body, err)
		}
	}
	if c.calls != 0 {
		t.Errorf("the handler ran %d times", c.calls)
	}
	pass := consumer.Chain(&c, envelope.EventBridge(envelope.EventBridgeConfig{PassThrough: true}))
	m := sqsMessage(t, nil)
	m.Body = "plain"
	if err := pass.HandleMessage(context.Background(), m); err != nil || c.msgs[0].Body != "plain" {
		t.Errorf("pass through: %v %+v", err, c.msgs)
	}
}

func FuzzParseEvent(f *testing.F) {
	raw, _ := os.ReadFile("testdata/eventbridge.json")
	f.Add(string(raw))
	f.Fuzz(func(t *testing.T, body string) {
		envelope.ParseEvent(body)
	})
}
