package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/internal/bufferedbody"
)

// bufferedBody is an http.RoundTripper that reads each request body into
// memory and sends a copy, so that nothing the SDK does with its own body
// after the answer arrives can reach the connection. It was the
// "postbox-buffered" contender's only difference from backend.Open: with
// aws-sdk-go-v2's client as backend.Open built it, a few ReceiveMessage
// answers in a thousand failed on loopback while their body was read ("use
// of closed network connection", see README.md), and the messages of such
// a receive stayed invisible for the visibility timeout. backend/awssqs has
// sent buffered bodies the same way since; this copy is kept so that the
// earlier runs can be repeated as they were.
// openBuffered opens queueURL (on a local endpoint) with the awssqs
// adapter over an SDK client configured as backend.Open configures it (no
// retries, placeholder credentials, the SDK's transport with 100 idle
// connections) but sending buffered request bodies.
func openBuffered(queueURL string) (backend.Queue, func() error, error) {
	info, err := awssqs.ParseQueueURL(queueURL)
	if err != nil {
		return nil, nil, err
	}
	transport := awshttp.NewBuildableClient().GetTransport()
	transport.MaxIdleConns = 100
	transport.MaxIdleConnsPerHost = 100
	client := sqs.New(sqs.Options{
		Region:       awssqs.DefaultRegion,
		BaseEndpoint: aws.String(info.Endpoint),
		Retryer:      aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench"}, nil
		}),
		HTTPClient: &http.Client{Transport: bufferedbody.Transport{Next: transport}},
	})
	svc, err := awssqs.New(awssqs.Config{Client: client, OnClose: func() error { transport.CloseIdleConnections(); return nil }})
	if err != nil {
		return nil, nil, err
	}
	q, err := svc.Queue(queueURL)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return q, svc.Close, nil
}
