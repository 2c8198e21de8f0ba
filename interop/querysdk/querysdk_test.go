package querysdk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/backendtest"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/interop/querysdk/awssqs24"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// formContentType is the Content-Type of a query-protocol request.
const formContentType = "application/x-www-form-urlencoded"

// protocolCheck wraps the wire server and records every request that is
// not a query-protocol request (a form-encoded POST with no X-Amz-Target
// header, which JSON requests carry), so that a test can fail if the
// pinned SDK ever speaks JSON.
type protocolCheck struct {
	next http.Handler

	mu    sync.Mutex
	total int
	other []string // "Content-Type / X-Amz-Target" of the others
}

func (p *protocolCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	p.mu.Lock()
	p.total++
	if !strings.HasPrefix(ct, formContentType) || r.Header.Get("X-Amz-Target") != "" {
		p.other = append(p.other, ct+" / "+r.Header.Get("X-Amz-Target"))
	}
	p.mu.Unlock()
	p.next.ServeHTTP(w, r)
}

// newEnv builds one backend for one scenario: a native engine on a fake
// clock, postbox's wire server in front of it on a loopback httptest
// server, and the generated query-protocol adapter pointed at it. It fails
// the test at cleanup if any request was not form-encoded.
func newEnv(t *testing.T) *backendtest.Env {
	clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	eng, err := native.New(native.Config{Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	check := &protocolCheck{next: srv}
	hs := httptest.NewServer(check)
	svc, err := awssqs24.OpenEndpoint(context.Background(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		eng.Close() // answers parked long polls, so the HTTP server can close
		hs.Close()
		check.mu.Lock()
		defer check.mu.Unlock()
		if len(check.other) > 0 {
			t.Errorf("%d of %d requests were not query-protocol requests, e.g. %q", len(check.other), check.total, check.other[0])
		}
	})
	return &backendtest.Env{Service: svc, Clock: clk, WaitingReceives: eng.WaitingReceives}
}

// TestConformanceOverQuery runs the backend conformance suite through
// aws-sdk-go-v2/service/sqs v1.24.5, which speaks the query protocol,
// against postbox's wire server over real HTTP on loopback: the same
// harness as backend/awssqs's TestConformanceOverHTTP, so the same inputs
// must give the same results and error codes as there and in process.
func TestConformanceOverQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite over HTTP")
	}
	backendtest.Run(t, backendtest.Harness{
		New:        newEnv,
		FIFO:       true,
		DeadLetter: true,
		MoveTasks:  true,
		FairQueues: true,
		SkipSlow:   true, // 100,000-message scenarios: covered in process
		Remote:     true,
	})
}

// wireRequest is one request as the server received it.
type wireRequest struct{ contentType, target, userAgent, body string }

// recordingServer starts a wire server on a native engine behind a handler
// that records every request, and the generated adapter pointed at it.
func recordingServer(t *testing.T) (*awssqs24.Service, func() []wireRequest) {
	t.Helper()
	eng, err := native.New(native.Config{Clock: clockwork.NewFakeClock(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		reqs []wireRequest
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		reqs = append(reqs, wireRequest{r.Header.Get("Content-Type"), r.Header.Get("X-Amz-Target"), r.Header.Get("User-Agent"), string(body)})
		mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	svc, err := awssqs24.OpenEndpoint(context.Background(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		eng.Close()
		hs.Close()
	})
	return svc, func() []wireRequest {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

// TestRequestsAreQueryProtocol shows what the server receives from the
// pinned SDK: form-encoded bodies with Action=..., not JSON (it logs the
// Content-Type and body of each request). It also checks the generated
// adapter's query-protocol patches on the wire: explicit zeros that
// v1.24.5 alone would leave out, and error messages that it alone would
// drop. The User-Agent shows the SDK versions that sent the requests.
func TestRequestsAreQueryProtocol(t *testing.T) {
	ctx := context.Background()
	svc, requests := recordingServer(t)

	// A queue that long-polls by default: only an explicit
	// WaitTimeSeconds=0 makes the receive below return at once (the
	// engine's clock is fake and never advances here).
	qurl, err := svc.CreateQueue(ctx, "wire", backend.Attributes{"ReceiveMessageWaitTimeSeconds": "20", "DelaySeconds": "5"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := svc.Queue(qurl)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Send(ctx, []backend.SendEntry{{ID: "a", Body: "hello", DelaySeconds: new(0)}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Send: %v, %+v", err, res)
	}
	msgs, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"SentTimestamp"}})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive of a message sent with DelaySeconds 0 = %d messages, %v; want 1", len(msgs), err)
	}
	if msgs[0].Attributes["SentTimestamp"] == "" {
		t.Errorf("Receive asking for SentTimestamp (as AttributeNames) got attributes %v", msgs[0].Attributes)
	}
	ch, err := q.ChangeVisibility(ctx, []backend.VisibilityEntry{{ID: "c", ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0}})
	if err != nil || ch[0].Err != nil {
		t.Fatalf("ChangeVisibility to 0: %v, %+v", err, ch)
	}
	_, err = svc.QueueURL(ctx, "missing", "")
	var be *backend.Error
	if !errors.Is(err, backend.ErrQueueDoesNotExist) || !errors.As(err, &be) || be.Message == "" || be.Message == backend.CodeQueueDoesNotExist {
		t.Errorf("QueueURL(missing) = %#v, want QueueDoesNotExist with the server's message", err)
	}

	want := []struct {
		action string
		params map[string]string // each must be in the body with this value
	}{
		{"CreateQueue", map[string]string{"QueueName": "wire"}},
		{"SendMessageBatch", map[string]string{"SendMessageBatchRequestEntry.1.Id": "a", "SendMessageBatchRequestEntry.1.DelaySeconds": "0"}},
		{"ReceiveMessage", map[string]string{"WaitTimeSeconds": "0", "AttributeName.1": "SentTimestamp"}},
		{"ChangeMessageVisibilityBatch", map[string]string{"ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "0"}},
		{"GetQueueUrl", map[string]string{"QueueName": "missing"}},
	}
	reqs := requests()
	if len(reqs) != len(want) {
		t.Fatalf("server saw %d requests, want %d: %+v", len(reqs), len(want), reqs)
	}
	for i, r := range reqs {
		t.Logf("request %d: Content-Type %q, X-Amz-Target %q, User-Agent %q, body %q", i, r.contentType, r.target, r.userAgent, r.body)
		// The SDK names its versions in the User-Agent: the pinned ones,
		// not the main module's.
		for _, v := range []string{"aws-sdk-go-v2/1.21.0", "api/sqs#1.24.5"} {
			if !strings.Contains(r.userAgent, v) {
				t.Errorf("request %d: User-Agent %q does not name %s", i, r.userAgent, v)
			}
		}
		if !strings.HasPrefix(r.contentType, formContentType) {
			t.Errorf("request %d: Content-Type %q, want %s", i, r.contentType, formContentType)
		}
		if r.target != "" {
			t.Errorf("request %d: X-Amz-Target %q, want none (only JSON requests have one)", i, r.target)
		}
		form, err := url.ParseQuery(r.body)
		if err != nil {
			t.Errorf("request %d: body is not form-encoded: %v", i, err)
			continue
		}
		if got := form.Get("Action"); got != want[i].action {
			t.Errorf("request %d: Action=%q, want %q", i, got, want[i].action)
		}
		if got := form.Get("Version"); got != "2012-11-05" {
			t.Errorf("request %d: Version=%q, want 2012-11-05", i, got)
		}
		for k, v := range want[i].params {
			if !form.Has(k) || form.Get(k) != v {
				t.Errorf("request %d (%s): %s=%q (present %v), want %q", i, want[i].action, k, form.Get(k), form.Has(k), v)
			}
		}
	}
}
