package awssqs_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/awssqs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// request is one call as the fixture server saw it.
type request struct {
	Action string         // from X-Amz-Target
	Header http.Header    // the request's headers
	Body   map[string]any // the JSON body
	Raw    string
	Ctx    context.Context // the server's request context: done when the client goes away
}

// fixture is an httptest server on 127.0.0.1 that answers SQS JSON 1.0
// requests with whatever its handler writes. It is a stand-in for SQS's
// wire shapes, not the thing under test.
type fixture struct {
	srv  *httptest.Server
	base string // http://127.0.0.1:PORT

	mu       sync.Mutex
	requests []request
}

// newFixture starts a fixture whose handler answers each request, and
// registers its shutdown.
func newFixture(t *testing.T, handle func(w http.ResponseWriter, req request)) *fixture {
	t.Helper()
	f := &fixture{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		var body map[string]any
		if err == nil {
			err = json.Unmarshal(raw, &body)
		}
		if err != nil {
			http.Error(w, "fixture: bad JSON: "+err.Error(), 500)
			return
		}
		req := request{
			Action: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS."),
			Header: r.Header.Clone(),
			Body:   body,
			Raw:    string(raw),
			Ctx:    r.Context(),
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		f.mu.Unlock()
		handle(w, req)
	}))
	t.Cleanup(f.srv.Close)
	f.base = f.srv.URL
	return f
}

// calls returns the requests seen so far.
func (f *fixture) calls() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func (f *fixture) last() request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

// queueURL is the URL of queue name at the fixture.
func (f *fixture) queueURL(name string) string { return f.base + "/000000000000/" + name }

// open opens queue name at the fixture through backend.Open, as a program
// would, and registers the service's Close.
func (f *fixture) open(t *testing.T, name string) (backend.Queue, backend.Service) {
	t.Helper()
	q, svc, err := backend.Open(t.Context(), f.queueURL(name))
	if err != nil {
		t.Fatalf("backend.Open(%s): %v", f.queueURL(name), err)
	}
	t.Cleanup(func() { svc.Close() })
	return q, svc
}

// queueName is the last path segment of the request's QueueUrl (or its
// QueueName).
func (r request) queueName() string {
	if u, ok := r.Body["QueueUrl"].(string); ok {
		return u[strings.LastIndexByte(u, '/')+1:]
	}
	s, _ := r.Body["QueueName"].(string)
	return s
}

// writeJSON answers with status and a JSON document, as SQS does.
func writeJSON(w http.ResponseWriter, status int, v any, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// isolateAWSConfig points the AWS config chain at nothing, as on a fresh
// machine, and restores the environment after the test.
func isolateAWSConfig(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
