package envelope_test

import (
	"context"
	"fmt"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/envelope"
)

// A typed job published through an SNS topic reaches its Job handler as it
// was sent.
func ExampleSNS() {
	const topic = "arn:aws:sns:eu-west-1:123456789012:signups"
	type Welcome struct{ Name string }

	r := middleware.NewRouter()
	r.Handle("welcome", middleware.Job(func(ctx context.Context, w Welcome) error {
		n, _ := envelope.SNSFrom(ctx)
		fmt.Println("welcome,", w.Name, "via", n.TopicARN)
		return nil
	}))
	h := consumer.Chain(r, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topic}}))

	job, _ := middleware.NewJob("welcome", Welcome{Name: "Ada"})
	delivered, _ := envelope.SNSMessage(topic, job) // what SNS puts in the queue
	msg := &consumer.Message{}
	msg.Body = delivered.Body
	fmt.Println(h.HandleMessage(context.Background(), msg))
	// Output:
	// welcome, Ada via arn:aws:sns:eu-west-1:123456789012:signups
	// <nil>
}

// EventBridge events routed by detail type.
func ExampleEventBridge() {
	type Order struct {
		ID string `json:"orderId"`
	}
	r := middleware.NewRouter()
	r.Attribute = envelope.DetailTypeAttribute
	r.Handle("Order Placed", middleware.Job(func(ctx context.Context, o Order) error {
		e, _ := envelope.EventFrom(ctx)
		fmt.Println("order", o.ID, "from", e.Source, "at", e.Time.Format("15:04"))
		return nil
	}))
	h := consumer.Chain(r, envelope.EventBridge(envelope.EventBridgeConfig{Sources: []string{"com.example.shop"}}))
	msg := &consumer.Message{}
	msg.Body = `{"version":"0","id":"e1","detail-type":"Order Placed","source":"com.example.shop","account":"123456789012",
		"time":"2024-05-01T12:30:00Z","region":"eu-west-1","resources":[],"detail":{"orderId":"o-42"}}`
	fmt.Println(h.HandleMessage(context.Background(), msg))
	// Output:
	// order o-42 from com.example.shop at 12:30
	// <nil>
}
