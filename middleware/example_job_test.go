package middleware_test

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

// Welcome is a typed job.
type Welcome struct {
	To   string `json:"to"`
	Name string `json:"name"`
}

// Receipt is another.
type Receipt struct {
	To      string `json:"to"`
	OrderID string `json:"order_id"`
}

func sendWelcome(ctx context.Context, w Welcome) error {
	msg, _ := middleware.MessageFromContext(ctx)
	fmt.Printf("welcome %s <%s> (delivery %d)\n", w.Name, w.To, msg.ReceiveCount)
	return nil
}

func sendReceipt(ctx context.Context, r Receipt) error {
	fmt.Printf("receipt for order %s to %s\n", r.OrderID, r.To)
	return nil
}

// received turns a producer message into the consumer message a worker
// would receive, for the examples.
func received(typ string, v any) *consumer.Message {
	m, err := middleware.NewJob(typ, v)
	if err != nil {
		panic(err)
	}
	msg := &consumer.Message{ReceiveCount: 1}
	msg.MessageID, msg.Body, msg.MessageAttributes = "m-1", m.Body, m.Attributes
	return msg
}

func ExampleJob() {
	h := middleware.Job(sendWelcome)
	ctx := context.Background()

	msg := received("", Welcome{To: "ada@example.com", Name: "Ada"})
	fmt.Println(h.HandleMessage(ctx, msg))

	// A body that does not decode is a permanent failure: not retried.
	msg.Body = `{"to": 42}`
	err := h.HandleMessage(ctx, msg)
	fmt.Println(consumer.IsPermanent(err))
	fmt.Println(err)
	// Output:
	// welcome Ada <ada@example.com> (delivery 1)
	// <nil>
	// true
	// permanent: middleware: message m-1: body does not decode as JSON into middleware_test.Welcome: json: cannot unmarshal number into Go struct field Welcome.to of type string
}

func ExampleNewJob() {
	// The producer side: a JSON body and the "type" attribute.
	m, err := middleware.NewJob("welcome", Welcome{To: "ada@example.com", Name: "Ada"})
	if err != nil {
		panic(err)
	}
	m.GroupID = "ada" // set other fields as usual, then producer.Send(ctx, q, m)
	fmt.Println(m.Body)
	fmt.Println(m.Attributes["type"].StringValue)
	// Output:
	// {"to":"ada@example.com","name":"Ada"}
	// welcome
}

func ExampleRouter() {
	r := middleware.NewRouter()
	r.Handle("welcome", middleware.Job(sendWelcome))
	// Per-route middleware: wrap the route's handler.
	r.Handle("receipt", consumer.Chain(middleware.Job(sendReceipt), middleware.Timeout(time.Minute)))
	// Middleware for every type: wrap the router.
	h := consumer.Chain(r, middleware.Recover())

	ctx := context.Background()
	h.HandleMessage(ctx, received("receipt", Receipt{To: "ada@example.com", OrderID: "A-17"}))
	h.HandleMessage(ctx, received("welcome", Welcome{To: "ken@example.com", Name: "Ken"}))
	err := h.HandleMessage(ctx, received("newsletter", Welcome{}))
	fmt.Println(err)
	// Output:
	// receipt for order A-17 to ada@example.com
	// welcome Ken <ken@example.com> (delivery 1)
	// permanent: middleware: no handler for type "newsletter" (message attribute "type")
}

func ExampleRateLimit() {
	// At most 20 calls a second in this process, and 2 a second per
	// tenant (the "tenant" message attribute).
	h := consumer.Chain(consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		return nil // call the rate-limited API
	}),
		middleware.RateLimit(middleware.RateLimitConfig{Limit: rate.Every(50 * time.Millisecond), Burst: 5}),
		middleware.RateLimit(middleware.RateLimitConfig{Limit: 2, Key: middleware.KeyByAttribute("tenant")}),
	)
	_ = consumer.QueueConfig{Handler: h, Concurrency: 20}
}
