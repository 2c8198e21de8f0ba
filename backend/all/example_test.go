package all_test

import (
	"context"
	"fmt"
	"log"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all"
)

// With every backend linked, the URL alone picks one: mem:// is the
// in-process engine; http://127.0.0.1:9324/000000000000/greetings would be
// postbox serve and https://sqs.eu-west-1.amazonaws.com/123456789012/greetings
// AWS, with no other change.
func Example() {
	ctx := context.Background()
	q, svc, err := backend.Open(ctx, "mem://all-example-greetings")
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "hello"}}); err != nil {
		log.Fatal(err)
	}
	msgs, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		fmt.Println(m.Body)
	}
	// Output: hello
}
