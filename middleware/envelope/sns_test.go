package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/envelope"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

func TestSNSUnwraps(t *testing.T) {
	n := notification(t)
	msg := sqsMessage(t, n)
	var c capture
	h := consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{"arn:aws:sns:us-west-2:123456789012:Other", topicARN}}))
	if err := h.HandleMessage(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := c.msgs[0]
	if got.Body != "Hello world!" || got.MessageID != "sqs-message-1" || got.ReceiptHandle != "handle-1" ||
		got.Attributes["AWSTraceHeader"] == "" || got.QueueURL != msg.QueueURL {
		t.Errorf("the handler got %+v", got)
	}
	a := got.MessageAttributes
	if a["type"].DataType != "String" || a["type"].StringValue != "welcome" ||
		a["priority"].DataType != "Number" || a["priority"].StringValue != "3" ||
		a["tags"].DataType != "String.Array" || a["tags"].StringValue != `["new","vip"]` ||
		a["thumbnail"].DataType != "Binary" || !bytes.Equal(a["thumbnail"].BinaryValue, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("attributes %+v", a)
	}
	if !strings.HasPrefix(msg.Body, "{") || msg.MessageAttributes != nil {
		t.Error("the middleware changed the server's message")
	}
	sn, ok := envelope.SNSFrom(c.ctxs[0])
	if !ok || sn.TopicARN != topicARN || sn.Subject != "My First Message" || sn.MessageID != "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324" ||
		sn.Time().Format("2006-01-02T15:04:05.000Z07:00") != "2012-05-02T00:54:06.655Z" {
		t.Errorf("SNSFrom: %+v %v", sn, ok)
	}
	if _, ok := envelope.SNSFrom(context.Background()); ok {
		t.Error("SNSFrom outside the middleware")
	}
}

// The SQS message's own attributes stay, the notification's win.
func TestSNSMergesAttributes(t *testing.T) {
	msg := sqsMessage(t, notification(t))
	msg.MessageAttributes = map[string]backend.MessageAttributeValue{
		"type":   {DataType: "String", StringValue: "outer"},
		"tenant": {DataType: "String", StringValue: "acme"},
	}
	var c capture
	consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}})).HandleMessage(context.Background(), msg)
	a := c.msgs[0].MessageAttributes
	if a["type"].StringValue != "welcome" || a["tenant"].StringValue != "acme" || len(a) != 6 {
		t.Errorf("attributes %+v", a)
	}
	if msg.MessageAttributes["type"].StringValue != "outer" {
		t.Error("the server's attributes changed")
	}
}

func TestSNSRefuses(t *testing.T) {
	confirm := notification(t)
	confirm.Type = "SubscriptionConfirmation"
	confirm.SubscribeURL = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=2336412f37"
	other := notification(t)
	other.TopicARN = "arn:aws:sns:us-west-2:999999999999:Evil"
	badBinary := notification(t)
	badBinary.MessageAttributes["thumbnail"] = envelope.SNSAttribute{Type: "Binary", Value: "not base64!"}
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"not JSON", "hello", envelope.ErrNotSNS},
		{"another JSON", `{"order": 1}`, envelope.ErrNotSNS},
		{"topic not allowed", sqsMessage(t, other).Body, envelope.ErrTopicNotAllowed},
		{"subscription confirmation", sqsMessage(t, confirm).Body, envelope.ErrNotSNS},
		{"bad binary attribute", sqsMessage(t, badBinary).Body, envelope.ErrNotSNS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c capture
			msg := sqsMessage(t, nil)
			msg.Body = tc.body
			err := consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}})).HandleMessage(context.Background(), msg)
			if !errors.Is(err, tc.want) || !consumer.IsPermanent(err) || c.calls != 0 {
				t.Errorf("err %v (permanent %v), handler called %d times; want a permanent %v", err, consumer.IsPermanent(err), c.calls, tc.want)
			}
		})
	}
}

func TestSNSPassThrough(t *testing.T) {
	var c capture
	h := consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}, PassThrough: true}))
	msg := sqsMessage(t, nil)
	msg.Body = "raw message delivery"
	if err := h.HandleMessage(context.Background(), msg); err != nil || c.msgs[0].Body != "raw message delivery" {
		t.Errorf("err %v, handler got %+v", err, c.msgs)
	}
	other := notification(t)
	other.TopicARN = "arn:aws:sns:us-west-2:999999999999:Evil"
	if err := h.HandleMessage(context.Background(), sqsMessage(t, other)); !errors.Is(err, envelope.ErrTopicNotAllowed) {
		t.Errorf("a notification from another topic passed: %v", err)
	}
}

func TestSNSPanicsWithoutTopics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	envelope.SNS(envelope.SNSConfig{})
}

// A typed job published through SNS is the same job on the consumer side.
func TestSNSMessageRoundTrip(t *testing.T) {
	type Welcome struct{ To, Name string }
	m, err := middleware.NewJob("welcome", Welcome{To: "ada@example.com", Name: "Ada <&>"})
	if err != nil {
		t.Fatal(err)
	}
	m.Attributes["avatar"] = backend.MessageAttributeValue{DataType: "Binary.png", BinaryValue: []byte{0, 1, 2, 255}}
	m.GroupID = "g"
	wrapped, err := envelope.SNSMessage(topicARN, m)
	if err != nil {
		t.Fatal(err)
	}
	if wrapped.Attributes != nil || wrapped.GroupID != "g" {
		t.Errorf("wrapped %+v", wrapped)
	}
	var got Welcome
	var avatar []byte
	r := middleware.NewRouter()
	r.Handle("welcome", middleware.Job(func(ctx context.Context, w Welcome) error {
		got = w
		msg, _ := middleware.MessageFromContext(ctx)
		avatar = msg.MessageAttributes["avatar"].BinaryValue
		return nil
	}))
	msg := sqsMessage(t, nil)
	msg.Body = wrapped.Body
	if err := consumer.Chain(r, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}})).HandleMessage(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if got != (Welcome{To: "ada@example.com", Name: "Ada <&>"}) || !bytes.Equal(avatar, []byte{0, 1, 2, 255}) {
		t.Errorf("got %+v, avatar %v", got, avatar)
	}
	n, err := envelope.ParseSNS(wrapped.Body)
	if err != nil || len(n.MessageID) != 36 || n.Time().IsZero() || n.Type != "Notification" {
		t.Errorf("%+v %v", n, err)
	}
}

// A trace context published as SNS message attributes is continued by the
// telemetry middleware after the SNS middleware.
func TestSNSTraceContext(t *testing.T) {
	tel, err := telemetry.New(telemetry.Config{TracerProvider: sdktrace.NewTracerProvider(), ParentMode: telemetry.ChildOfProducer, DisableAWSTraceHeader: true})
	if err != nil {
		t.Fatal(err)
	}
	var c capture
	h := consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}}), tel.Middleware())
	if err := h.HandleMessage(context.Background(), sqsMessage(t, notification(t))); err != nil {
		t.Fatal(err)
	}
	if got := trace.SpanContextFromContext(c.ctxs[0]).TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("handled in trace %s", got)
	}
}

func FuzzParseSNS(f *testing.F) {
	f.Add(`{"Type":"Notification","MessageId":"1","TopicArn":"t","Message":"m","MessageAttributes":{"a":{"Type":"Binary","Value":"AA=="}}}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		n, err := envelope.ParseSNS(body)
		if err != nil {
			return
		}
		n.Attributes()
		n.Time()
		envelope.Canonical(n)
	})
}
