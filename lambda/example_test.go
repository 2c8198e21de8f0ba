package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/lambda"
	"github.com/postbox-go/postbox/middleware"
)

// One handler, a Router of typed jobs, as a Lambda function: main calls
// f.Start(); here the event is handed to HandleEvent directly.
func ExampleFunction_HandleEvent() {
	type Welcome struct{ Name string }
	r := middleware.NewRouter()
	r.Handle("welcome", middleware.Job(func(ctx context.Context, w Welcome) error {
		if w.Name == "" {
			return fmt.Errorf("no name") // retried: reported in batchItemFailures
		}
		fmt.Println("welcome,", w.Name)
		return nil
	}))
	f, err := lambda.New(lambda.Config{Handler: consumer.Chain(r, middleware.Recover()), OnError: func(error) {}})
	if err != nil {
		panic(err)
	}
	// f.Start() in main; an SQS event as Lambda delivers it:
	var ev events.SQSEvent
	json.Unmarshal([]byte(`{"Records": [
		{"messageId": "m1", "body": "{\"Name\":\"Ada\"}", "messageAttributes": {"type": {"stringValue": "welcome", "dataType": "String"}},
		 "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs", "awsRegion": "us-east-1"},
		{"messageId": "m2", "body": "{}", "messageAttributes": {"type": {"stringValue": "welcome", "dataType": "String"}},
		 "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs", "awsRegion": "us-east-1"}
	]}`), &ev)
	resp, _ := f.HandleEvent(context.Background(), ev)
	out, _ := json.Marshal(resp)
	fmt.Println(string(out))
	// Output:
	// welcome, Ada
	// {"batchItemFailures":[{"itemIdentifier":"m2"}]}
}

func ExampleQueueURL() {
	fmt.Println(lambda.QueueURL("arn:aws:sqs:eu-west-1:123456789012:jobs.fifo"))
	// Output: https://sqs.eu-west-1.amazonaws.com/123456789012/jobs.fifo
}
