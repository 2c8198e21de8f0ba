package consumer_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
)

func ExampleServer() {
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(context.Background(), "jobs", nil, nil)
	q, _ := eng.Queue(url)
	q.Send(context.Background(), []backend.SendEntry{{ID: "1", Body: "hello"}, {ID: "2", Body: "world"}})

	var handled atomic.Int64
	both := make(chan struct{})
	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
		Queue: q,
		Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			if handled.Add(1) == 2 {
				close(both)
			}
			return nil // success: the message is deleted
		}),
		Concurrency: 4,
	}}})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()
	<-both
	cancel() // graceful shutdown: flushes the pending deletes
	fmt.Println(<-done, handled.Load(), srv.Stats().Deleted)
	// Output: <nil> 2 2
}

// A batch job: drain a queue, then stop.
func ExampleConfig_stopWhenIdle() {
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(context.Background(), "reports", nil, nil)
	q, _ := eng.Queue(url)
	q.Send(context.Background(), []backend.SendEntry{{ID: "1", Body: "march"}, {ID: "2", Body: "april"}})

	var handled atomic.Int64
	srv, _ := consumer.New(consumer.Config{
		StopWhenIdle: time.Second, // Run returns once the queue has been empty for a second
		Queues: []consumer.QueueConfig{{
			Queue: q,
			Handler: consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				handled.Add(1)
				return nil
			}),
		}},
	})
	err := srv.Run(context.Background())
	fmt.Println(err, handled.Load(), srv.Stats().Deleted)
	// Output: <nil> 2 2
}

func ExampleChain() {
	logMW := func(name string) consumer.Middleware {
		return func(next consumer.Handler) consumer.Handler {
			return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				fmt.Println("enter", name)
				return next.HandleMessage(ctx, msg)
			})
		}
	}
	h := consumer.Chain(consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
		fmt.Println("handler")
		return nil
	}), logMW("outer"), logMW("inner"))
	h.HandleMessage(context.Background(), &consumer.Message{})
	// Output:
	// enter outer
	// enter inner
	// handler
}

func ExamplePermanent() {
	h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		if msg.Body == "" {
			// Retrying cannot help: report it and delete the message.
			return consumer.Permanent(fmt.Errorf("empty job"))
		}
		return nil
	})
	err := h.HandleMessage(context.Background(), &consumer.Message{})
	fmt.Println(consumer.IsPermanent(err))
	// Output: true
}

// A handler's test builds its message as the server would.
func ExampleNewMessage() {
	msg := consumer.NewMessage(&backend.Message{
		MessageID:  "m-1",
		Body:       `{"to":"ada@example.com"}`,
		Attributes: map[string]string{"ApproximateReceiveCount": "3", "MessageGroupId": "ada"},
	}, "mem://emails.fifo", time.Now())
	fmt.Println(msg.ReceiveCount, msg.GroupID, msg.QueueURL)
	// Output: 3 ada mem://emails.fifo
}
