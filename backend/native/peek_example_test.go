package native_test

import (
	"context"
	"fmt"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// Peek lists a queue's messages with their state without receiving them.
func ExampleEngine_Peek() {
	ctx := context.Background()
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "jobs", nil, nil)
	q, _ := eng.Queue(url)
	q.Send(ctx, []backend.SendEntry{{ID: "a", Body: "first"}, {ID: "b", Body: "later", DelaySeconds: new(60)}})

	msgs, _ := eng.Peek(ctx, url, native.PeekRequest{Max: 10})
	for _, m := range msgs {
		fmt.Println(m.Body, m.State, m.ReceiveCount)
	}
	// Output:
	// first visible 0
	// later delayed 0
}

// Stats reports every queue's depth and counters.
func ExampleEngine_Stats() {
	ctx := context.Background()
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "jobs", nil, nil)
	q, _ := eng.Queue(url)
	q.Send(ctx, []backend.SendEntry{{ID: "a", Body: "one"}, {ID: "b", Body: "two"}})
	q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})

	for _, s := range eng.Stats() {
		fmt.Printf("%s visible=%d inflight=%d sent=%d received=%d\n", s.Name, s.Visible, s.InFlight, s.Sent, s.Received)
	}
	// Output:
	// jobs visible=1 inflight=1 sent=2 received=1
}
