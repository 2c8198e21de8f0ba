package native_test

import (
	"context"
	"fmt"
	"os"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// An engine in process: create a queue, send a batch, receive and delete.
func ExampleNew() {
	ctx := context.Background()
	eng, err := native.New(native.Config{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()

	url, _ := eng.CreateQueue(ctx, "thumbnails", backend.Attributes{"VisibilityTimeout": "60"}, nil)
	q, _ := eng.Queue(url)
	res, _ := q.Send(ctx, []backend.SendEntry{
		{ID: "a", Body: `{"image":"cat.png"}`},
		{ID: "b", Body: `{"image":"dog.png"}`},
	})
	fmt.Println("sent:", len(res), "errors:", res[0].Err, res[1].Err)

	msgs, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(1)})
	var del []backend.DeleteEntry
	for i, m := range msgs {
		fmt.Println("got:", m.Body)
		del = append(del, backend.DeleteEntry{ID: fmt.Sprint(i), ReceiptHandle: m.ReceiptHandle})
	}
	out, _ := q.Delete(ctx, del)
	fmt.Println("deleted:", len(out))
	// Output:
	// sent: 2 errors: <nil> <nil>
	// got: {"image":"cat.png"}
	// got: {"image":"dog.png"}
	// deleted: 2
}

// A queue by URL: mem:// names a queue of the shared in-process engine,
// created on first open.
func ExampleShared() {
	ctx := context.Background()
	q, svc, err := backend.Open(ctx, "mem://example-emails?VisibilityTimeout=120")
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	attrs, _ := svc.GetAttributes(ctx, q.URL(), []string{"VisibilityTimeout"})
	fmt.Println(attrs["VisibilityTimeout"])
	// Output: 120
}

// A FIFO queue keeps each message group in order and deduplicates sends.
func ExampleEngine_fifo() {
	ctx := context.Background()
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	url, _ := eng.CreateQueue(ctx, "orders.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil)
	q, _ := eng.Queue(url)
	q.Send(ctx, []backend.SendEntry{
		{ID: "1", Body: "order 1: created", MessageGroupID: "order-1"},
		{ID: "2", Body: "order 1: paid", MessageGroupID: "order-1"},
		{ID: "3", Body: "order 1: created", MessageGroupID: "order-1"}, // a duplicate
	})
	msgs, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	for _, m := range msgs {
		fmt.Println(m.Body)
	}
	// Output:
	// order 1: created
	// order 1: paid
}

// A durable queue by URL: file:///DIR?queue=NAME keeps the queue in DIR,
// so messages survive a restart.
func Example_file() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "postbox-example")
	defer os.RemoveAll(dir)

	q, svc, err := backend.Open(ctx, "file://"+dir+"?queue=emails")
	if err != nil {
		panic(err)
	}
	q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "welcome mail for ada@example.com"}})
	svc.Close() // the process could stop here

	q, svc, _ = backend.Open(ctx, "file://"+dir+"?queue=emails")
	defer svc.Close()
	msgs, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	fmt.Println(msgs[0].Body)
	// Output: welcome mail for ada@example.com
}
