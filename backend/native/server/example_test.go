package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// Serve the native engine over the SQS wire protocol and use it with the
// AWS SDK for Go v2, as with SQS itself.
func Example() {
	eng, err := native.New(native.Config{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv) // or http.ListenAndServe("127.0.0.1:9324", srv)
	defer hs.Close()
	defer srv.Drain() // answer waiting long polls before closing

	client := sqs.New(sqs.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local"}, nil
		}),
		HTTPClient: hs.Client(),
	})
	ctx := context.Background()
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		panic(err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("hello")}); err != nil {
		panic(err)
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.TrimPrefix(*q.QueueUrl, hs.URL))
	fmt.Println(*out.Messages[0].Body)
	// Output:
	// /000000000000/jobs
	// hello
}
