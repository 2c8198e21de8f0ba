package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// With Credentials, requests must be signed with one of them (as every
// AWS SDK does with its access key and secret) and act in its account.
func ExampleConfig_credentials() {
	eng, err := native.New(native.Config{})
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	srv, err := server.New(server.Config{
		Service: eng,
		Credentials: []server.Credential{
			{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "example-secret", AccountID: "111122223333"},
		},
	})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Drain()

	client := func(key, secret string) *sqs.Client {
		return sqs.New(sqs.Options{
			BaseEndpoint: aws.String(hs.URL),
			Region:       "us-east-1",
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
			}),
			HTTPClient: hs.Client(),
			Retryer:    aws.NopRetryer{},
		})
	}
	ctx := context.Background()
	q, err := client("AKIDEXAMPLE", "example-secret").CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.TrimPrefix(*q.QueueUrl, hs.URL))

	_, err = client("AKIDEXAMPLE", "wrong-secret").ListQueues(ctx, &sqs.ListQueuesInput{})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		fmt.Println(ae.ErrorCode())
	}
	// Output:
	// /111122223333/jobs
	// SignatureDoesNotMatch
}
