// Command fanout shows messages that reach SQS through other AWS services:
// typed jobs published to an SNS topic, fanned out to two subscribed
// queues, and EventBridge events delivered to a third; each queue's
// handler unwraps its envelope (package middleware/envelope) and routes
// the message with a middleware.Router.
//
//	go run ./examples/fanout
//
// Everything runs on the in-process engine, and a small stand-in for SNS
// (topic.Publish) puts into each subscribed queue exactly the notification
// that SNS delivers (raw message delivery off): the Message and
// MessageAttributes of the published job. On AWS, publish the same
// middleware.NewJob body and attributes with the SNS API (Publish's
// MessageAttributes take the same DataType and StringValue) and the
// consumers do not change.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/middleware/envelope"
	"github.com/postbox-go/postbox/producer"
)

const (
	topicARN   = "arn:aws:sns:eu-west-1:123456789012:accounts"
	shopSource = "com.example.shop"
)

// The typed jobs published to the topic.
type (
	Welcome struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	Goodbye struct {
		Email string `json:"email"`
	}
	// OrderPlaced is the detail of an EventBridge event.
	OrderPlaced struct {
		OrderID string  `json:"orderId"`
		Total   float64 `json:"total"`
	}
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

// topic stands in for an SNS topic: Publish delivers the notification to
// every subscribed queue.
type topic struct {
	arn    string
	queues []backend.Queue
}

func (t *topic) Publish(ctx context.Context, m producer.Message) error {
	delivered, err := envelope.SNSMessage(t.arn, m)
	if err != nil {
		return err
	}
	for _, q := range t.queues {
		if _, err := producer.Send(ctx, q, delivered); err != nil {
			return err
		}
	}
	return nil
}

func run(ctx context.Context, w io.Writer) error {
	eng, err := native.New(native.Config{})
	if err != nil {
		return err
	}
	defer eng.Close()
	queues := map[string]backend.Queue{}
	for _, name := range []string{"emails", "crm", "orders"} {
		url, err := eng.CreateQueue(ctx, name, nil, nil)
		if err != nil {
			return err
		}
		if queues[name], err = eng.Queue(url); err != nil {
			return err
		}
	}

	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, format+"\n", args...)
	}
	const expected = 6 // 2 jobs x 2 queues, 2 events
	var handled atomic.Int64
	allDone := make(chan struct{})
	done := func() {
		if handled.Add(1) == expected {
			close(allDone)
		}
	}

	// The emails queue: one route per job type, behind the SNS envelope.
	emails := middleware.NewRouter()
	emails.Handle("welcome", middleware.Job(func(ctx context.Context, j Welcome) error {
		say("emails: welcome mail to %s <%s>", j.Name, j.Email)
		done()
		return nil
	}))
	emails.Handle("goodbye", middleware.Job(func(ctx context.Context, j Goodbye) error {
		say("emails: goodbye mail to %s", j.Email)
		done()
		return nil
	}))
	// The CRM queue gets the same jobs, and reads the notification too.
	crm := middleware.NewRouter()
	crm.Handle("welcome", middleware.Job(func(ctx context.Context, j Welcome) error {
		n, _ := envelope.SNSFrom(ctx)
		say("crm: new contact %s (SNS message from %s)", j.Name, n.TopicARN)
		done()
		return nil
	}))
	crm.Handle("goodbye", middleware.Job(func(ctx context.Context, j Goodbye) error {
		say("crm: contact %s left", j.Email)
		done()
		return nil
	}))
	// The orders queue: EventBridge events, routed by detail type.
	orders := middleware.NewRouter()
	orders.Attribute = envelope.DetailTypeAttribute
	orders.Handle("Order Placed", middleware.Job(func(ctx context.Context, o OrderPlaced) error {
		e, _ := envelope.EventFrom(ctx)
		say("orders: order %s for %.2f placed (event %s from %s)", o.OrderID, o.Total, e.ID, e.Source)
		done()
		return nil
	}))

	sns := envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}})
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{
			{Queue: queues["emails"], Handler: consumer.Chain(emails, sns, middleware.Recover())},
			{Queue: queues["crm"], Handler: consumer.Chain(crm, sns, middleware.Recover())},
			{Queue: queues["orders"], Handler: consumer.Chain(orders,
				envelope.EventBridge(envelope.EventBridgeConfig{Sources: []string{shopSource}}), middleware.Recover())},
		},
		OnError: func(err error) { say("fanout: %v", err) },
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()

	// Publish two jobs to the topic: each subscribed queue gets both.
	accounts := &topic{arn: topicARN, queues: []backend.Queue{queues["emails"], queues["crm"]}}
	welcome, err := middleware.NewJob("welcome", Welcome{Name: "Ada", Email: "ada@example.com"})
	if err == nil {
		err = accounts.Publish(ctx, welcome)
	}
	if err == nil {
		var goodbye producer.Message
		if goodbye, err = middleware.NewJob("goodbye", Goodbye{Email: "ken@example.com"}); err == nil {
			err = accounts.Publish(ctx, goodbye)
		}
	}
	// Two events as an EventBridge rule with an SQS target delivers them.
	for i, id := range []string{"o-1001", "o-1002"} {
		if err != nil {
			break
		}
		detail, _ := json.Marshal(OrderPlaced{OrderID: id, Total: 19.99 * float64(i+1)})
		event, _ := json.Marshal(map[string]any{
			"version": "0", "id": fmt.Sprintf("6a7e8feb-b491-4cf7-a9f1-bf370346771%d", i), "detail-type": "Order Placed",
			"source": shopSource, "account": "123456789012", "time": "2024-05-01T12:30:00Z",
			"region": "eu-west-1", "resources": []string{}, "detail": json.RawMessage(detail),
		})
		_, err = producer.Send(ctx, queues["orders"], producer.Message{Body: string(event)})
	}
	if err != nil {
		stop()
		<-served
		return err
	}
	<-allDone
	stop()
	if err := <-served; err != nil {
		return err
	}
	say("fanout: %d messages handled", handled.Load())
	return nil
}
