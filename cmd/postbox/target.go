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

// conn is an open connection to an endpoint: the service, and for an
// in-process engine the engine itself.
type conn struct {
	svc      backend.Service
	kind     endpointKind
	endpoint string         // http(s)://host[:port], or the mem:// / file:// spec
	aws      bool           // the endpoint is AWS SQS
	engine   *native.Engine // kindEngine only
	dataDir  string         // file:// only
	close    func() error
}

// Close releases the connection.
func (c *conn) Close() error {
	if c.close == nil {
		return nil
	}
	return c.close()
}

// displayURL is how a queue URL of this connection is shown to users: as
// the service issued it, except that an in-process engine's queues are
// shown as the mem:// or file:// URLs that name them again.
func (c *conn) displayURL(queueURL string) string {
	if c.kind != kindEngine {
		return queueURL
	}
	name := queueURL[strings.LastIndexByte(queueURL, '/')+1:]
	if c.dataDir == "" {
		return "mem://" + name
	}
	return (&url.URL{Scheme: "file", Path: c.dataDir, RawQuery: "queue=" + url.QueryEscape(name)}).String()
}

// target is one queue of a connection.
type target struct {
	*conn
	url  string // the queue URL the service knows
	name string
}

// queue returns the queue's message operations.
func (t *target) queue() (backend.Queue, error) { return t.svc.Queue(t.url) }

// display is the queue URL shown to users.
func (t *target) display() string { return t.displayURL(t.url) }

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
// file:///DIR (a durable engine in DIR) or mem:// (this process's engine).
// A file:// directory must exist unless mayCreate.
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
		return &conn{svc: svc, kind: kindHTTP, endpoint: u.Scheme + "://" + u.Host, aws: isAWSHost(u.Hostname()), close: svc.Close}, nil
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, usageErrorf("endpoint %q names host %q; want file:///absolute/dir", endpoint, u.Host)
		}
		dir := filepath.Clean(u.Path)
		if u.Path == "" || !filepath.IsAbs(dir) {
			return nil, usageErrorf("endpoint %q: want file:///absolute/dir", endpoint)
		}
		if _, err := os.Stat(dir); err != nil && !mayCreate {
			return nil, fmt.Errorf("no postbox data directory at %s: %w", dir, errors.Unwrap(err))
		}
		cfg := native.Config{DataDir: dir}
		if u.Query().Get("sync") == "interval" {
			cfg.Sync = native.SyncInterval
		}
		eng, err := native.New(cfg)
		if err != nil {
			return nil, err
		}
		return &conn{svc: eng, kind: kindEngine, endpoint: endpoint, engine: eng, dataDir: dir, close: eng.Close}, nil
	case "mem":
		eng, err := native.Shared()
		if err != nil {
			return nil, err
		}
		return &conn{svc: eng, kind: kindEngine, endpoint: "mem://", engine: eng}, nil
	}
	// Let backend.Open word the error for schemes it does not know.
	_, _, err = backend.Open(ctx, endpoint)
	if err == nil {
		err = fmt.Errorf("endpoint %q: want http(s)://HOST:PORT, file:///DIR or mem://", endpoint)
	}
	return nil, usageError{err}
}

// splitQueue splits a queue argument into the endpoint spec it names (""
// when it is a bare name) and the queue name; queueURL is set for an
// http(s) queue URL, which is used as it is.
func splitQueue(arg string) (endpoint, name, queueURL string, err error) {
	if !strings.Contains(arg, "://") {
		if arg == "" {
			return "", "", "", usageErrorf("empty queue name")
		}
		return "", arg, "", nil
	}
	u, perr := url.Parse(arg)
	if perr != nil {
		return "", "", "", usageErrorf("queue URL %q: %v", arg, perr)
	}
	switch u.Scheme {
	case "http", "https":
		info, err := awssqs.ParseQueueURL(arg)
		if err != nil {
			return "", "", "", usageError{err}
		}
		return info.Endpoint, info.Name, info.URL, nil
	case "file":
		name := u.Query().Get("queue")
		if name == "" {
			return "", "", "", usageErrorf("queue URL %q needs ?queue=NAME", arg)
		}
		q := u.Query()
		q.Del("queue")
		e := *u
		e.RawQuery = q.Encode()
		return e.String(), name, "", nil
	case "mem":
		name := u.Host + strings.TrimSuffix(u.Path, "/")
		if name == "" || strings.Contains(name, "/") {
			return "", "", "", usageErrorf("queue URL %q: want mem://NAME", arg)
		}
		return "mem://", name, "", nil
	}
	_, _, err = backend.Open(context.Background(), arg)
	if err == nil {
		err = fmt.Errorf("queue URL %q: want http(s)://HOST/ACCOUNT/NAME, file:///DIR?queue=NAME or mem://NAME", arg)
	}
	return "", "", "", usageError{err}
}

// connect opens the endpoint for a queue argument (or, with arg "", the
// endpoint alone) and returns the connection, the queue name and, for an
// http(s) queue URL, the URL.
func connect(ctx context.Context, flags clientFlags, arg string) (*conn, string, string, error) {
	return connectFor(ctx, flags, arg, false)
}

// connectFor is connect; mayCreate lets a file:// endpoint's directory be
// created (by queues create).
func connectFor(ctx context.Context, flags clientFlags, arg string, mayCreate bool) (*conn, string, string, error) {
	endpoint, name, queueURL := "", "", ""
	if arg != "" {
		var err error
		if endpoint, name, queueURL, err = splitQueue(arg); err != nil {
			return nil, "", "", err
		}
	}
	if queueURL != "" {
		// An http(s) queue URL carries its endpoint: open it as
		// backend.Open opens any queue URL.
		_, svc, err := backend.Open(ctx, queueURL)
		if err != nil {
			return nil, "", "", usageError{err}
		}
		info, _ := awssqs.ParseQueueURL(queueURL)
		return &conn{svc: svc, kind: kindHTTP, endpoint: info.Endpoint, aws: info.AWS, close: svc.Close}, name, queueURL, nil
	}
	if endpoint == "" {
		var err error
		if endpoint, err = resolveEndpoint(ctx, flags.endpoint); err != nil {
			return nil, "", "", err
		}
	}
	c, err := dial(ctx, endpoint, mayCreate)
	if err != nil {
		return nil, "", "", err
	}
	return c, name, "", nil
}

// openTarget opens the existing queue that arg names: a queue URL, or a
// name looked up with GetQueueUrl at the endpoint.
func openTarget(ctx context.Context, flags clientFlags, arg string) (*target, error) {
	c, name, queueURL, err := connect(ctx, flags, arg)
	if err != nil {
		return nil, err
	}
	if queueURL == "" {
		if queueURL, err = c.svc.QueueURL(ctx, name, ""); err != nil {
			c.Close()
			return nil, err
		}
	}
	return &target{conn: c, url: queueURL, name: name}, nil
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
