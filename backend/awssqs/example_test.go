package awssqs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// Opening a queue by URL picks the backend: this one is postbox serve (or
// any SQS-compatible endpoint) on the local machine; an
// https://sqs.REGION.amazonaws.com/ACCOUNT/NAME URL would be AWS itself.
func Example_open() {
	ctx := context.Background()
	q, svc, err := backend.Open(ctx, "http://127.0.0.1:9324/000000000000/orders")
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	results, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: `{"order": 42}`}})
	if err != nil {
		log.Fatal(err) // the request as a whole failed
	}
	if results[0].Err != nil {
		log.Fatal(results[0].Err) // this entry failed
	}
	fmt.Println("sent", results[0].MessageID)
}

// New wraps an SQS client you build yourself. Turn the SDK's retries off:
// callers own retries.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("eu-west-1"),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := awssqs.New(awssqs.Config{Client: sqs.NewFromConfig(cfg)})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()

	url, err := svc.CreateQueue(ctx, "orders", backend.Attributes{"VisibilityTimeout": "60"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	q, err := svc.Queue(url)
	if err != nil {
		log.Fatal(err)
	}
	msgs, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: aws.Int(20)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(msgs), "messages")
}

func ExampleParseQueueURL() {
	for _, u := range []string{
		"https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo",
		"https://queue.amazonaws.com/123456789012/legacy",
		"http://127.0.0.1:9324/000000000000/orders",
		"http://127.0.0.1:9324/orders",
	} {
		info, err := awssqs.ParseQueueURL(u)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("aws=%v region=%q endpoint=%s account=%s name=%s fifo=%v\n",
			info.AWS, info.Region, info.Endpoint, info.AccountID, info.Name, info.FIFO)
	}
	// Output:
	// aws=true region="eu-west-1" endpoint=https://sqs.eu-west-1.amazonaws.com account=123456789012 name=orders.fifo fifo=true
	// aws=true region="us-east-1" endpoint=https://sqs.us-east-1.amazonaws.com account=123456789012 name=legacy fifo=false
	// aws=false region="" endpoint=http://127.0.0.1:9324 account=000000000000 name=orders fifo=false
	// awssqs: queue URL "http://127.0.0.1:9324/orders" has one path segment ("orders"); want /ACCOUNT/NAME
}

// OpenEndpoint gives a Service where there is no queue URL yet, for
// example to create queues on postbox serve.
func ExampleOpenEndpoint() {
	ctx := context.Background()
	svc, err := awssqs.OpenEndpoint(ctx, "http://127.0.0.1:9324")
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	url, err := svc.CreateQueue(ctx, "orders", nil, map[string]string{"team": "checkout"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(url)
}
