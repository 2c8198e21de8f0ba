package awssqs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/internal/bufferedbody"
)

const importPath = "github.com/postbox-go/postbox/backend/awssqs"

func init() {
	backend.Register("http", importPath, openURL)
	backend.Register("https", importPath, openURL)
}

// DefaultRegion is the region of an SQS-compatible endpoint when neither
// the environment (AWS_REGION, AWS_DEFAULT_REGION) nor the shared AWS
// config names one.
const DefaultRegion = "us-east-1"

// PlaceholderAccessKeyID is the access key of the static credentials used
// for an SQS-compatible endpoint when the default credential chain finds
// none (its secret key is the same string). postbox serve accepts any
// signature.
const PlaceholderAccessKeyID = "postbox"

// maxIdleConns is how many idle keep-alive connections the opener's HTTP
// client keeps per host: enough for many concurrent pollers and senders,
// where net/http's default of 2 would make each call open a connection.
const maxIdleConns = 256

// openURL is the backend.OpenFunc of http and https URLs.
func openURL(ctx context.Context, u *url.URL) (backend.Queue, backend.Service, error) {
	info, err := parseURL(u)
	if err != nil {
		return nil, nil, err
	}
	svc, err := openService(ctx, info)
	if err != nil {
		return nil, nil, err
	}
	q, err := svc.Queue(info.URL)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return q, svc, nil
}

// OpenEndpoint returns a Service for the SQS endpoint that rawURL names:
// an endpoint alone (https://sqs.eu-west-1.amazonaws.com,
// http://127.0.0.1:9324) or any queue URL that ParseQueueURL accepts. It is
// configured as backend.Open configures the services it returns
// (credentials, region, no retries), for administering queues where there
// is no queue URL yet. Close the service when done.
func OpenEndpoint(ctx context.Context, rawURL string) (*Service, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("awssqs: malformed endpoint URL %q: %w", rawURL, err)
	}
	info, err := parse(u, true)
	if err != nil {
		return nil, err
	}
	return openService(ctx, info)
}

func openService(ctx context.Context, info QueueURLInfo) (*Service, error) {
	client, closeIdle, err := newClient(ctx, info)
	if err != nil {
		return nil, err
	}
	return New(Config{Client: client, OnClose: closeIdle})
}

// newClient builds the SQS client for a parsed queue URL: credentials and
// settings from the default aws-sdk-go-v2 config chain (the environment,
// the shared config and credentials files, and for AWS hosts the
// container and instance roles), requests to info.Endpoint, no retries,
// MD5 checks on. For a non-AWS endpoint the region defaults to
// DefaultRegion and the credentials to static placeholders when the chain
// has none, and the instance metadata service is not asked.
func newClient(ctx context.Context, info QueueURLInfo) (*sqs.Client, func() error, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if info.AWS {
		opts = append(opts, config.WithRegion(info.Region))
	} else {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("awssqs: loading the AWS config for %s: %w", info.Endpoint, err)
	}
	if !info.AWS {
		if cfg.Region == "" {
			cfg.Region = DefaultRegion
		}
		if !hasCredentials(ctx, cfg.Credentials) {
			cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{
					AccessKeyID:     PlaceholderAccessKeyID,
					SecretAccessKey: PlaceholderAccessKeyID,
					Source:          "postbox placeholder credentials",
				}, nil
			})
		}
	}

	// The SDK's transport as the config made it (custom CA bundle and all),
	// with a bigger idle pool, in a client whose idle connections Close can
	// close. SQS never redirects; a redirect is returned as the answer.
	closeIdle := func() error { return nil }
	var transport *http.Transport
	switch c := cfg.HTTPClient.(type) {
	case nil:
		transport = awshttp.NewBuildableClient().GetTransport()
	case *awshttp.BuildableClient:
		transport = c.GetTransport()
	}
	if transport != nil {
		transport.MaxIdleConns = maxIdleConns
		transport.MaxIdleConnsPerHost = maxIdleConns
		cfg.HTTPClient = &http.Client{
			Transport:     bufferedbody.Transport{Next: transport}, // aws-sdk-go-v2#2737: see bufferedbody
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		closeIdle = func() error { transport.CloseIdleConnections(); return nil }
	}

	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(info.Endpoint)
	})
	return client, closeIdle, nil
}

// hasCredentials reports whether the credential chain finds credentials.
// Only called for non-AWS endpoints, whose chain does not include the
// instance metadata service, so a fresh machine answers at once.
func hasCredentials(ctx context.Context, p aws.CredentialsProvider) bool {
	if p == nil {
		return false
	}
	creds, err := p.Retrieve(ctx)
	return err == nil && creds.HasKeys()
}
