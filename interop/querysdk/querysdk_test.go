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

// TestRequestsAreQueryProtocol shows what the server receives from the
// pinned SDK: a form-encoded body with Action=..., not JSON. It logs the
// Content-Type and body of each request.
func TestRequestsAreQueryProtocol(t *testing.T) {
	clk := clockwork.NewFakeClock()
	eng, err := native.New(native.Config{Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct{ contentType, target, body string }
	var (
		mu   sync.Mutex
		reqs []seen
	)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		reqs = append(reqs, seen{r.Header.Get("Content-Type"), r.Header.Get("X-Amz-Target"), string(body)})
		mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()

	ctx := context.Background()
	svc, err := awssqs24.OpenEndpoint(ctx, hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	qurl, err := svc.CreateQueue(ctx, "wire", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := svc.Queue(qurl)
	if err != nil {
		t.Fatal(err)
	}
	res, err := q.Send(ctx, []backend.SendEntry{{ID: "a", Body: "hello"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("Send: %v, %+v", err, res)
	}
	_, err = svc.QueueURL(ctx, "missing", "")
	if !errors.Is(err, backend.ErrQueueDoesNotExist) {
		t.Errorf("GetQueueURL(missing) = %v, want QueueDoesNotExist", err)
	}

	mu.Lock()
	defer mu.Unlock()
	wantActions := []string{"CreateQueue", "SendMessageBatch", "GetQueueUrl"}
	if len(reqs) != len(wantActions) {
		t.Fatalf("server saw %d requests, want %d: %+v", len(reqs), len(wantActions), reqs)
	}
	for i, r := range reqs {
		t.Logf("request %d: Content-Type %q, X-Amz-Target %q, body %q", i, r.contentType, r.target, r.body)
		if !strings.HasPrefix(r.contentType, formContentType) {
			t.Errorf("request %d: Content-Type %q, want %s", i, r.contentType, formContentType)
		}
		if r.target != "" {
			t.Errorf("request %d: X-Amz-Target %q, want none (a JSON request)", i, r.target)
		}
		form, err := url.ParseQuery(r.body)
		if err != nil {
			t.Errorf("request %d: body is not form-encoded: %v", i, err)
			continue
		}
		if got := form.Get("Action"); got != wantActions[i] {
			t.Errorf("request %d: Action=%q, want %q", i, got, wantActions[i])
		}
		if got := form.Get("Version"); got != "2012-11-05" {
			t.Errorf("request %d: Version=%q, want 2012-11-05", i, got)
		}
	}
}
