package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/native"
)

// clientFlags are the flags every command that talks to queues shares.
type clientFlags struct {
	endpoint string
}

// add registers the flags on cmd.
func (c *clientFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.endpoint, "endpoint", "",
		"where queue names are looked up: http(s)://HOST:PORT (postbox serve, any SQS endpoint) or file:///DIR "+
			"(default: $AWS_ENDPOINT_URL_SQS, $AWS_ENDPOINT_URL, else AWS SQS in $AWS_REGION)")
}

// endpointKind says what serves a target.
type endpointKind int

const (
	kindHTTP   endpointKind = iota // an SQS endpoint: AWS or postbox serve
	kindEngine                     // an in-process engine (mem://, file://)
)

// conn is an open connection to an endpoint.
type conn struct {
	svc      backend.Service
	kind     endpointKind
	endpoint string // http(s)://host[:port], or the mem:// / file:// spec
	aws      bool   // the endpoint is AWS SQS
}

// Close releases the connection.
func (c *conn) Close() error { return c.svc.Close() }

// enginePeeker is what an in-process engine's service offers peek (the
// services of backend.Open and native.OpenEndpoint are engines).
type enginePeeker interface {
	Peek(ctx context.Context, queueURL string, req native.PeekRequest) ([]native.PeekedMessage, error)
}

// target is one queue of a connection.
type target struct {
	*conn
	url  string // the queue URL the service knows, and shown to users
	name string
}

// queue returns the queue's message operations.
func (t *target) queue() (backend.Queue, error) { return t.svc.Queue(t.url) }

// resolveEndpoint returns the endpoint a bare queue name is looked up at:
// the flag, then AWS_ENDPOINT_URL_SQS, then AWS_ENDPOINT_URL, then AWS SQS
// in the configured region.
func resolveEndpoint(ctx context.Context, flag string) (string, error) {
	for _, e := range []string{flag, os.Getenv("AWS_ENDPOINT_URL_SQS"), os.Getenv("AWS_ENDPOINT_URL")} {
		if e != "" {
			return e, nil
		}
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		// The shared config file (~/.aws/config) may name one.
		cfg, err := config.LoadDefaultConfig(ctx)
		if err == nil {
			region = cfg.Region
		}
	}
	if region == "" {
		return "", usageErrorf("no endpoint: give a queue URL, --endpoint, AWS_ENDPOINT_URL_SQS, or AWS_REGION for AWS SQS")
	}
	host := "sqs." + region + ".amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		host += ".cn"
	}
	return "https://" + host, nil
}

// dial opens the endpoint spec: http(s)://HOST[:PORT] (the AWS adapter),
// file:///DIR (the durable engine in DIR) or mem:// (this process's
// engine); the in-process engines are those backend.Open uses. A file://
// directory must exist unless mayCreate.
func dial(ctx context.Context, endpoint string, mayCreate bool) (*conn, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" {
		return nil, usageErrorf("endpoint %q: want http(s)://HOST:PORT, file:///DIR or mem://", endpoint)
	}
	switch u.Scheme {
	case "http", "https":
		svc, err := awssqs.OpenEndpoint(ctx, endpoint)
		if err != nil {
			return nil, usageError{err}
		}
		return &conn{svc: svc, kind: kindHTTP, endpoint: u.Scheme + "://" + u.Host, aws: isAWSHost(u.Hostname())}, nil
	case "file", "mem":
		if err := checkDataDir(u, mayCreate); err != nil {
			return nil, err
		}
		svc, err := native.OpenEndpoint(ctx, endpoint)
		if err != nil {
			return nil, usageError{err}
		}
		return &conn{svc: svc, kind: kindEngine, endpoint: endpoint}, nil
	}
	// Let backend.Open word the error for schemes it does not know.
	_, _, err = backend.Open(ctx, endpoint)
	if err == nil {
		err = fmt.Errorf("endpoint %q: want http(s)://HOST:PORT, file:///DIR or mem://", endpoint)
	}
	return nil, usageError{err}
}

// checkDataDir refuses a file:// URL whose directory does not exist,
// unless mayCreate: a mistyped path should not leave a new data directory
// behind.
func checkDataDir(u *url.URL, mayCreate bool) error {
	if u.Scheme != "file" || mayCreate || u.Path == "" {
		return nil // other mistakes are worded by native
	}
	dir := filepath.Clean(u.Path)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("no postbox data directory at %s: %w (postbox queues create makes one)", dir, errors.Unwrap(err))
	}
	return nil
}

// splitQueue splits a queue argument into the endpoint spec it names (""
// when it is a bare name) and the queue name; queueURL is set for a queue
// URL (any scheme). attrs are the attributes a mem:// or file:// URL gives
// as query parameters, with which backend.Open creates a missing queue.
func splitQueue(arg string) (endpoint, name, queueURL string, attrs map[string]string, err error) {
	if !strings.Contains(arg, "://") {
		if arg == "" {
			return "", "", "", nil, usageErrorf("empty queue name")
		}
		return "", arg, "", nil, nil
	}
	u, perr := url.Parse(arg)
	if perr != nil {
		return "", "", "", nil, usageErrorf("queue URL %q: %v", arg, perr)
	}
	// localAttrs are the query parameters that are queue attributes.
	localAttrs := func(q url.Values) (map[string]string, error) {
		out := map[string]string{}
		for k, vs := range q {
			if k == "queue" || k == "sync" {
				continue
			}
			if len(vs) != 1 {
				return nil, usageErrorf("queue URL %q gives attribute %s %d times", arg, k, len(vs))
			}
			out[k] = vs[0]
		}
		return out, nil
	}
	switch u.Scheme {
	case "http", "https":
		info, err := awssqs.ParseQueueURL(arg)
		if err != nil {
			return "", "", "", nil, usageError{err}
		}
		return info.Endpoint, info.Name, info.URL, nil, nil
	case "file":
		q := u.Query()
		name := q.Get("queue")
		if name == "" {
			return "", "", "", nil, usageErrorf("queue URL %q needs ?queue=NAME", arg)
		}
		attrs, err := localAttrs(q)
		if err != nil {
			return "", "", "", nil, err
		}
		e := *u
		e.RawQuery = ""
		if s := q.Get("sync"); s != "" {
			e.RawQuery = "sync=" + url.QueryEscape(s)
		}
		return e.String(), name, arg, attrs, nil
	case "mem":
		name := u.Host + strings.TrimSuffix(u.Path, "/")
		if name == "" || strings.Contains(name, "/") {
			return "", "", "", nil, usageErrorf("queue URL %q: want mem://NAME", arg)
		}
		attrs, err := localAttrs(u.Query())
		if err != nil {
			return "", "", "", nil, err
		}
		return "mem://", name, arg, attrs, nil
	}
	_, _, err = backend.Open(context.Background(), arg)
	if err == nil {
		err = fmt.Errorf("queue URL %q: want http(s)://HOST/ACCOUNT/NAME, file:///DIR?queue=NAME or mem://NAME", arg)
	}
	return "", "", "", nil, usageError{err}
}

// connect opens the endpoint where queue names are looked up: --endpoint,
// else the environment's.
func connect(ctx context.Context, flags clientFlags) (*conn, error) {
	endpoint, err := resolveEndpoint(ctx, flags.endpoint)
	if err != nil {
		return nil, err
	}
	return dial(ctx, endpoint, false)
}

// openTarget opens the queue that arg names. A queue URL is opened as
// backend.Open opens it, so that the command and a program given the same
// URL agree: a mem:// or file:// queue is created when missing, with the
// URL's attributes (but a file:// directory must exist unless
// mayCreateDir). A name is looked up with GetQueueUrl at the endpoint.
func openTarget(ctx context.Context, flags clientFlags, arg string) (*target, error) {
	return openTargetIn(ctx, flags, arg, false)
}

func openTargetIn(ctx context.Context, flags clientFlags, arg string, mayCreateDir bool) (*target, error) {
	endpoint, name, queueURL, _, err := splitQueue(arg)
	if err != nil {
		return nil, err
	}
	if queueURL == "" {
		c, err := connect(ctx, flags)
		if err != nil {
			return nil, err
		}
		if queueURL, err = c.svc.QueueURL(ctx, name, ""); err != nil {
			c.Close()
			return nil, err
		}
		return &target{conn: c, url: queueURL, name: name}, nil
	}
	u, _ := url.Parse(queueURL)
	if err := checkDataDir(u, mayCreateDir); err != nil {
		return nil, err
	}
	q, svc, err := backend.Open(ctx, queueURL)
	if err != nil {
		if backend.Code(err) != "" {
			return nil, err // the service refused
		}
		return nil, usageError{err}
	}
	c := &conn{svc: svc, kind: kindEngine, endpoint: endpoint}
	if u.Scheme == "http" || u.Scheme == "https" {
		c.kind, c.aws = kindHTTP, isAWSHost(u.Hostname())
	}
	return &target{conn: c, url: q.URL(), name: name}, nil
}

// queueARN returns the ARN of a queue argument: an ARN as it is, or the
// QueueArn attribute of the queue it names.
func queueARN(ctx context.Context, t *target) (string, error) {
	attrs, err := t.svc.GetAttributes(ctx, t.url, []string{"QueueArn"})
	if err != nil {
		return "", err
	}
	return attrs["QueueArn"], nil
}

// isAWSHost reports whether host is under an AWS domain.
func isAWSHost(host string) bool {
	host = strings.ToLower(host)
	for _, s := range []string{".amazonaws.com", ".amazonaws.com.cn", ".api.aws"} {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}

// connectCreate opens the endpoint where queues create makes the queue arg
// names (a name at --endpoint, or a queue URL's endpoint, whose file://
// directory it may create) and returns the queue's name. The attributes a
// mem:// or file:// URL gives as query parameters, as backend.Open takes
// them, are added to attrs.
func connectCreate(ctx context.Context, flags clientFlags, arg string, attrs map[string]string) (*conn, string, error) {
	endpoint, name, _, urlAttrs, err := splitQueue(arg)
	if err != nil {
		return nil, "", err
	}
	for k, v := range urlAttrs {
		if _, dup := attrs[k]; dup {
			return nil, "", usageErrorf("attribute %s is given by the queue URL and by --attr", k)
		}
		attrs[k] = v
	}
	if endpoint == "" {
		if endpoint, err = resolveEndpoint(ctx, flags.endpoint); err != nil {
			return nil, "", err
		}
	}
	c, err := dial(ctx, endpoint, true)
	if err != nil {
		return nil, "", err
	}
	return c, name, nil
}
