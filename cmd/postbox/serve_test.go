package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testConfig = `{
  "queues": [
    {"name": "jobs",
     "attributes": {"VisibilityTimeout": 60, "DelaySeconds": "0"},
     "deadLetter": {"queue": "jobs-dlq", "maxReceiveCount": 5},
     "tags": {"team": "payments"}},
    {"name": "jobs-dlq"},
    {"name": "events.fifo", "attributes": {"FifoQueue": true, "ContentBasedDeduplication": true}}
  ]
}`

// startServe runs postbox serve on a free loopback port until the test
// ends, and returns a client for it.
func startServe(t *testing.T, o serveOptions) (*sqs.Client, serving, func() error, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	readyCh := make(chan serving, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, o, logs, func(s serving) { readyCh <- s }) }()
	var s serving
	select {
	case s = <-readyCh:
	case err := <-done:
		cancel()
		t.Fatalf("serve failed: %v\n%s", err, logs)
	}
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { stop() })
	client := sqs.New(sqs.Options{
		BaseEndpoint: aws.String("http://" + s.addr.String()),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "x", SecretAccessKey: "y"}, nil
		}),
		Retryer: aws.NopRetryer{},
	})
	t.Cleanup(func() {
		if tr, ok := client.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
			tr.CloseIdleConnections()
		}
	})
	return client, s, stop, logs
}

func defaultOptions() serveOptions {
	return serveOptions{
		addr: "127.0.0.1:0", accountID: "000000000000", region: "us-east-1",
		logLevel: "debug", logFormat: "text", shutdownTimeout: 5 * time.Second,
	}
}

func TestServeConfigAndGracefulShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postbox.json")
	if err := os.WriteFile(path, []byte(testConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	o := defaultOptions()
	o.configFile = path
	client, s, stop, logs := startServe(t, o)
	ctx := t.Context()
	base := "http://" + s.addr.String() + "/000000000000/"

	lq, err := client.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{base + "events.fifo", base + "jobs", base + "jobs-dlq"}; !slices.Equal(lq.QueueUrls, want) {
		t.Fatalf("queues = %v, want %v", lq.QueueUrls, want)
	}
	ga, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "jobs"), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if ga.Attributes["VisibilityTimeout"] != "60" || !strings.Contains(ga.Attributes["RedrivePolicy"], "arn:aws:sqs:us-east-1:000000000000:jobs-dlq") {
		t.Fatalf("jobs attributes = %v", ga.Attributes)
	}
	tags, err := client.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(base + "jobs")})
	if err != nil || tags.Tags["team"] != "payments" {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	fifo, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(base + "events.fifo"), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || fifo.Attributes["FifoQueue"] != "true" || fifo.Attributes["ContentBasedDeduplication"] != "true" {
		t.Fatalf("fifo attributes = %v, %v", fifo.Attributes, err)
	}

	// A long poll parked when the shutdown starts is answered, empty.
	type result struct {
		n   int
		err error
	}
	polled := make(chan result, 1)
	go func() {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(base + "jobs"), WaitTimeSeconds: 20})
		if err != nil {
			polled <- result{err: err}
			return
		}
		polled <- result{n: len(out.Messages)}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the long poll never parked")
		}
		runtime.Gosched()
	}
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v", err)
	}
	r := <-polled
	if r.err != nil || r.n != 0 {
		t.Fatalf("long poll during shutdown = %d messages, %v", r.n, r.err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown took %v, the long poll held it up", took)
	}
	for _, want := range []string{"queue created", "dead-letter queue set", "postbox serve listening", "sqs request", "postbox serve stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestServeHostFlag(t *testing.T) {
	o := defaultOptions()
	o.host = "sqs.local:4566"
	client, _, _, _ := startServe(t, o)
	out, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("x")})
	if err != nil || aws.ToString(out.QueueUrl) != "http://sqs.local:4566/000000000000/x" {
		t.Fatalf("QueueUrl = %v, %v", aws.ToString(out.QueueUrl), err)
	}
}

func TestServeDurableRestart(t *testing.T) {
	o := defaultOptions()
	o.dataDir = t.TempDir()
	client, _, stop, _ := startServe(t, o)
	u, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("kept")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: u.QueueUrl, MessageBody: aws.String("survives")}); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	client, s, _, _ := startServe(t, o)
	out, err := client.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String("http://" + s.addr.String() + "/000000000000/kept"),
	})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "survives" {
		t.Fatalf("after restart: %+v, %v", out, err)
	}
}

func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name string
		mod  func(*serveOptions)
		want string
	}{
		{"bad log level", func(o *serveOptions) { o.logLevel = "loud" }, "--log-level"},
		{"bad log format", func(o *serveOptions) { o.logFormat = "xml" }, "--log-format"},
		{"missing config", func(o *serveOptions) { o.configFile = filepath.Join(dir, "nope.json") }, "nope.json"},
		{"bad address", func(o *serveOptions) { o.addr = "127.0.0.1:notaport" }, "listen"},
		{"bad host", func(o *serveOptions) { o.host = "http://x" }, "Host"},
		{"bad sync", func(o *serveOptions) { o.sync = "sometimes" }, "--sync"},
		{"invalid queue", func(o *serveOptions) { o.configFile = write("q.json", `{"queues":[{"name":"bad name"}]}`) }, "bad name"},
		{"unknown dead-letter queue", func(o *serveOptions) {
			o.configFile = write("d.json", `{"queues":[{"name":"a","deadLetter":{"queue":"zzz","maxReceiveCount":1}}]}`)
		}, "zzz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := defaultOptions()
			c.mod(&o)
			err := runServe(t.Context(), o, &syncBuffer{}, func(serving) { t.Error("served") })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name, text, want string // want: "" for success, else a fragment of the error
	}{
		{"ok", testConfig, ""},
		{"empty", `{}`, ""},
		{"unknown key", `{"queues":[{"name":"a","visibility":3}]}`, "unknown field"},
		{"no name", `{"queues":[{}]}`, "no name"},
		{"twice", `{"queues":[{"name":"a"},{"name":"a"}]}`, "twice"},
		{"bad attribute type", `{"queues":[{"name":"a","attributes":{"DelaySeconds":[1]}}]}`, "want a string"},
		{"both redrives", `{"queues":[{"name":"a","attributes":{"RedrivePolicy":"{}"},"deadLetter":{"queue":"b","maxReceiveCount":1}}]}`, "not both"},
		{"zero receive count", `{"queues":[{"name":"a","deadLetter":{"queue":"b"}}]}`, "maxReceiveCount"},
		{"trailing text", `{} {}`, "after"},
		{"not json", `queues: []`, "invalid character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig("f.json", []byte(c.text))
			if c.want == "" && err != nil {
				t.Fatal(err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	cfg, err := parseConfig("f.json", []byte(`{"queues":[{"name":"a","attributes":{"FifoQueue":true,"DelaySeconds":5,"Policy":{"Version":"2012-10-17"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := cfg.Queues[0].attributes()
	if attrs["FifoQueue"] != "true" || attrs["DelaySeconds"] != "5" || attrs["Policy"] != `{"Version":"2012-10-17"}` {
		t.Fatalf("attributes = %v", attrs)
	}
}

func TestRootCommand(t *testing.T) {
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"serve", "--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--addr", "--host", "--config", "--log-level", "127.0.0.1:9324"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("serve --help lacks %s", flag)
		}
	}
	cmd = newRootCmd()
	cmd.SetArgs([]string{"serve", "extra"})
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	if err := cmd.Execute(); err == nil {
		t.Error("serve with an argument succeeded")
	}
}

// authClient is an SQS client for a running postbox serve, signing with
// key and secret, over hc (nil: the default client).
func authClient(endpoint, key, secret string, hc *http.Client) *sqs.Client {
	o := sqs.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
		}),
		Retryer: aws.NopRetryer{},
	}
	if hc != nil {
		o.HTTPClient = hc
	}
	return sqs.New(o)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestServeCredentialsFromEnvFileAndConfig(t *testing.T) {
	dir := t.TempDir()
	credFile := filepath.Join(dir, "creds.json")
	if err := os.WriteFile(credFile, []byte(`{"credentials": [{"accessKeyId": "AKIDFILE", "secretAccessKey": "file-secret", "accountId": "222222222222"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "postbox.json")
	if err := os.WriteFile(cfgFile, []byte(`{"queues": [{"name": "jobs"}], "credentials": [{"accessKeyId": "AKIDCFG", "secretAccessKey": "cfg-secret"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envAccessKeyID: "AKIDENV", envSecretAccessKey: "env-secret", envAccountID: "333333333333"}
	o := defaultOptions()
	o.configFile = cfgFile
	o.credentialsFile = credFile
	o.getenv = func(k string) string { return env[k] }
	_, s, _, logs := startServe(t, o)
	endpoint := "http://" + s.addr.String()
	ctx := t.Context()

	for _, tc := range []struct {
		key, secret, account string
	}{
		{"AKIDCFG", "cfg-secret", "000000000000"}, // no accountId: --account-id
		{"AKIDFILE", "file-secret", "222222222222"},
		{"AKIDENV", "env-secret", "333333333333"},
	} {
		c := authClient(endpoint, tc.key, tc.secret, nil)
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("mine")})
		if err != nil {
			t.Fatalf("%s: %v", tc.key, err)
		}
		if want := endpoint + "/" + tc.account + "/mine"; aws.ToString(out.QueueUrl) != want {
			t.Fatalf("%s: queue URL %s, want %s", tc.key, aws.ToString(out.QueueUrl), want)
		}
	}
	// The config file's queues belong to --account-id.
	if _, err := authClient(endpoint, "AKIDCFG", "cfg-secret", nil).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, secret, code string }{
		{"AKIDENV", "wrong", "SignatureDoesNotMatch"},
		{"AKIDNOBODY", "env-secret", "InvalidClientTokenId"},
	} {
		_, err := authClient(endpoint, tc.key, tc.secret, nil).ListQueues(ctx, &sqs.ListQueuesInput{})
		if errorCode(err) != tc.code {
			t.Fatalf("%s/%s: %v, want %s", tc.key, tc.secret, err, tc.code)
		}
	}
	if !strings.Contains(logs.String(), "readable by others") || !strings.Contains(logs.String(), `auth="sigv4 (3 credentials)"`) {
		t.Fatalf("logs lack the file-mode warning or the auth mode:\n%s", logs)
	}
}

func TestServeCredentialErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		o    func(*serveOptions)
		want string
	}{
		{"key without secret", func(o *serveOptions) {
			o.getenv = func(k string) string { return map[string]string{envAccessKeyID: "A"}[k] }
		}, "set both"},
		{"bad env account", func(o *serveOptions) {
			o.getenv = func(k string) string {
				return map[string]string{envAccessKeyID: "A", envSecretAccessKey: "s", envAccountID: "12"}[k]
			}
		}, "12 digits"},
		{"duplicate key", func(o *serveOptions) {
			o.credentialsFile = write("dup.json", `{"credentials": [{"accessKeyId": "A", "secretAccessKey": "s"}]}`)
			o.getenv = func(k string) string { return map[string]string{envAccessKeyID: "A", envSecretAccessKey: "t"}[k] }
		}, "given twice"},
		{"queues in credentials file", func(o *serveOptions) {
			o.credentialsFile = write("q.json", `{"queues": [{"name": "x"}], "credentials": [{"accessKeyId": "A", "secretAccessKey": "s"}]}`)
		}, "only \"credentials\""},
		{"empty secret", func(o *serveOptions) {
			o.credentialsFile = write("e.json", `{"credentials": [{"accessKeyId": "A", "secretAccessKey": ""}]}`)
		}, "secretAccessKey is empty"},
		{"tls cert without key", func(o *serveOptions) { o.tlsCert = "cert.pem" }, "go together"},
		{"anonymous on all interfaces", func(o *serveOptions) {
			o.addr = "0.0.0.0:9324"
			o.listen = func(string, string) (net.Listener, error) { t.Error("listened"); return nil, errors.New("no") }
		}, "refusing to serve anonymously"},
		{"anonymous on an empty host", func(o *serveOptions) {
			o.addr = ":9324"
			o.listen = func(string, string) (net.Listener, error) { t.Error("listened"); return nil, errors.New("no") }
		}, "refusing to serve anonymously"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			tc.o(&o)
			err := runServe(t.Context(), o, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("runServe = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestServeAllowAnonymousWarns(t *testing.T) {
	o := defaultOptions()
	o.addr = "0.0.0.0:9324"
	o.allowAnonymous = true
	// The listener is on loopback all the same: tests use only 127.0.0.1.
	o.listen = func(network, _ string) (net.Listener, error) { return net.Listen(network, "127.0.0.1:0") }
	client, _, _, logs := startServe(t, o)
	if _, err := client.ListQueues(t.Context(), &sqs.ListQueuesInput{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "serving WITHOUT authentication") {
		t.Fatalf("no warning:\n%s", logs)
	}
	for _, addr := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1"} {
		if exp, err := exposedAddr(t.Context(), addr); err != nil || exp {
			t.Errorf("exposedAddr(%s) = %v, %v", addr, exp, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:1", "[::]:1", ":1", "192.0.2.1:1"} {
		if exp, err := exposedAddr(t.Context(), addr); err != nil || !exp {
			t.Errorf("exposedAddr(%s) = %v, %v", addr, exp, err)
		}
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "postbox test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	o := defaultOptions()
	o.tlsCert, o.tlsKey = certFile, keyFile
	o.getenv = func(k string) string {
		return map[string]string{envAccessKeyID: "AKIDTLS", envSecretAccessKey: "tls-secret"}[k]
	}
	_, s, _, logs := startServe(t, o)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	endpoint := "https://" + s.addr.String()
	c := authClient(endpoint, "AKIDTLS", "tls-secret", &http.Client{Transport: tr})
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("secure")})
	if err != nil {
		t.Fatalf("over TLS: %v\n%s", err, logs)
	}
	if want := endpoint + "/000000000000/secure"; aws.ToString(out.QueueUrl) != want {
		t.Fatalf("queue URL %s, want %s", aws.ToString(out.QueueUrl), want)
	}
	// Plain HTTP to the TLS port gets no SQS answer.
	resp, err := http.Post("http://"+s.addr.String()+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListQueues"))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}
	// A bad key pair fails at start.
	o2 := defaultOptions()
	o2.tlsCert, o2.tlsKey = certFile, certFile
	if err := runServe(t.Context(), o2, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("bad key pair: %v", err)
	}
}

// FuzzParseConfig feeds arbitrary files to the config parser (queues,
// attributes, dead-letter wiring and credentials): it must never panic, and
// what it accepts must give attributes and credentials without error.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(testConfig))
	f.Add([]byte(`{"credentials": [{"accessKeyId": "AKID", "secretAccessKey": "s", "accountId": "111122223333"}]}`))
	f.Add([]byte(`{"queues": [{"name": "q", "attributes": {"Policy": {"Version": "2012-10-17", "Statement": []}}}]}`))
	f.Add([]byte(`{"queues": [{"name": "a", "deadLetter": {"queue": "arn:aws:sqs:us-east-1:000000000000:b", "maxReceiveCount": 3}}]}`))
	f.Add([]byte(`{"queues": [{"name": "a"}, {"name": "a"}]}`))
	f.Add([]byte(`{} {}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := parseConfig("fuzz.json", b)
		if err != nil {
			if cfg != nil {
				t.Fatal("a config with an error")
			}
			return
		}
		for i := range cfg.Queues {
			if _, err := cfg.Queues[i].attributes(); err != nil {
				t.Fatalf("accepted queue %q has bad attributes: %v", cfg.Queues[i].Name, err)
			}
		}
		creds, err := serveCredentials(cfg, "", func(string) string { return "" }, "000000000000")
		if err != nil {
			t.Fatalf("accepted credentials fail: %v", err)
		}
		for _, c := range creds {
			if c.AccessKeyID == "" || c.SecretAccessKey == "" || !backend.IsAccountID(c.AccountID) {
				t.Fatalf("bad credential accepted: %+v", c)
			}
		}
	})
}

func TestServeDashboardWithCredentials(t *testing.T) {
	o := defaultOptions()
	o.ui = true
	o.getenv = func(k string) string {
		return map[string]string{envAccessKeyID: "AKIDUI", envSecretAccessKey: "ui-secret"}[k]
	}
	_, s, _, _ := startServe(t, o)
	base := "http://" + s.addr.String()
	// The dashboard, which browsers cannot sign for, answers loopback
	// clients; the SQS API still wants a signature.
	resp, err := http.Get(base + "/_postbox/api/queues")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard API from loopback: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/?Action=ListQueues")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned SQS request: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
}

// --max-long-polls bounds the long polls that wait at once: one past it is
// RequestThrottled, a short poll still goes through, and the parked one is
// answered at shutdown.
func TestServeMaxLongPolls(t *testing.T) {
	o := defaultOptions()
	o.maxLongPolls = 1
	client, s, stop, _ := startServe(t, o)
	ctx := t.Context()
	cq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("polls")})
	if err != nil {
		t.Fatal(err)
	}
	parked := make(chan error, 1)
	go func() {
		_, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, WaitTimeSeconds: 20})
		parked <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for s.waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the long poll never parked")
		}
		runtime.Gosched()
	}
	_, err = client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, WaitTimeSeconds: 20})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "RequestThrottled" {
		t.Fatalf("second long poll: %v, want RequestThrottled", err)
	}
	// A receive that names no wait time, on a queue whose default wait is
	// 0, is a short poll: the bound does not refuse it.
	if _, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl}); err != nil {
		t.Fatalf("short poll past the bound: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-parked; err != nil {
		t.Fatalf("parked poll at shutdown: %v", err)
	}
}

// The config file's "server" object sets serve's flags by name; the command
// line wins; a name that is no flag, or a value the flag rejects, is an
// error naming the file.
func TestServeConfigServerSettings(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "postbox.json")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	parse := func(args ...string) (*cobra.Command, error) {
		cmd := newServeCmd()
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		path, _ := cmd.Flags().GetString("config")
		cfg, err := loadConfig(path)
		if err != nil {
			return cmd, err
		}
		return cmd, applyServerSettings(cmd.Flags(), cfg, path)
	}
	path := write(`{"server": {"addr": "127.0.0.1:0", "data-dir": "/srv/q", "ui": false,
		"max-long-polls": 5000, "sync-interval": "50ms", "log-level": "debug"},
		"queues": [{"name": "jobs"}]}`)
	cmd, err := parse("--config", path, "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	fs := cmd.Flags()
	for name, want := range map[string]string{
		"addr": "127.0.0.1:0", "data-dir": "/srv/q", "ui": "false", "max-long-polls": "5000",
		"sync-interval": "50ms", "log-level": "warn", // the command line wins
		"region": "us-east-1", // not in the file: the default
	} {
		if got := fs.Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
	for _, tc := range []struct{ body, want string }{
		{`{"server": {"adress": "x"}}`, `"adress" is not a setting`},
		{`{"server": {"config": "other.json"}}`, `"config" is not a setting`},
		{`{"server": {"max-long-polls": "many"}}`, "server: max-long-polls"},
		{`{"server": {"ui": {"on": true}}}`, "want a string, a number or a boolean"},
	} {
		if _, err := parse("--config", write(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "postbox.json") {
			t.Errorf("%s: error %v, want one containing %q and the file name", tc.body, err, tc.want)
		}
	}
}
