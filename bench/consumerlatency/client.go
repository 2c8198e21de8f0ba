package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/postbox-go/postbox/internal/bufferedbody"
)

// newClient returns an aws-sdk-go-v2 SQS client for endpoint configured as
// backend.Open configures the one behind postbox's awssqs adapter for a
// non-AWS endpoint: region us-east-1, placeholder credentials, retries off
// (aws.NopRetryer), the SDK's own transport with 256 idle connections per
// host, request bodies buffered before sending, redirects not followed.
// The gocloud and handloop contenders use it, so the three differ only in
// what they do with the client. deletes, when not nil, is called with the
// number of entries of every DeleteMessageBatch answer that the server
// reported deleted.
func newClient(endpoint string, deletes func(int)) (*sqs.Client, func()) {
	transport := awshttp.NewBuildableClient().GetTransport()
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	opts := sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Retryer:      aws.NopRetryer{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "postbox", SecretAccessKey: "postbox", Source: "bench"}, nil
		}),
		HTTPClient: &http.Client{
			Transport:     bufferedbody.Transport{Next: transport},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if deletes != nil {
		opts.APIOptions = append(opts.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCountDeletes",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if err == nil {
						if o, ok := out.Result.(*sqs.DeleteMessageBatchOutput); ok {
							deletes(len(o.Successful))
						}
					}
					return out, md, err
				}), middleware.After)
		})
	}
	return sqs.New(opts), transport.CloseIdleConnections
}

// acks counts acknowledged deletes and notes when the count reaches target.
type acks struct {
	n      atomic.Int64
	target int64
	done   chan struct{}
	at     atomic.Int64 // UnixNano when target was reached
}

func newAcks(target int) *acks {
	return &acks{target: int64(target), done: make(chan struct{})}
}

func (a *acks) add(k int) {
	if k == 0 {
		return
	}
	after := a.n.Add(int64(k))
	if before := after - int64(k); before < a.target && after >= a.target {
		a.at.Store(time.Now().UnixNano())
		close(a.done)
	}
}
