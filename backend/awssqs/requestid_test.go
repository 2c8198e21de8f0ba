package awssqs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// idRecorder is an http.Handler in front of postbox serve's wire server
// that notes the x-amzn-RequestId of each answer as it is written, by
// action.
type idRecorder struct {
	next http.Handler
	mu   sync.Mutex
	ids  map[string]string // action (X-Amz-Target) -> last request id
}

func (rec *idRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.next.ServeHTTP(&idWriter{ResponseWriter: w, rec: rec, action: r.Header.Get("X-Amz-Target")}, r)
}

// last returns the request id of the last answer to action.
func (rec *idRecorder) last(action string) string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.ids[action]
}

// idWriter notes the request id when the answer's header goes out, before
// the client can see it.
type idWriter struct {
	http.ResponseWriter
	rec    *idRecorder
	action string
	noted  bool
}

func (w *idWriter) note() {
	if w.noted {
		return
	}
	w.noted = true
	w.rec.mu.Lock()
	w.rec.ids[w.action] = w.Header().Get("X-Amzn-Requestid")
	w.rec.mu.Unlock()
}

func (w *idWriter) WriteHeader(code int) { w.note(); w.ResponseWriter.WriteHeader(code) }

func (w *idWriter) Write(b []byte) (int, error) { w.note(); return w.ResponseWriter.Write(b) }

func (w *idWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestRequestIDs: over postbox serve, each queue operation records on the
// call's backend.CallInfo the request id the server sent, for a success
// and for an error answer.
func TestRequestIDs(t *testing.T) {
	eng, err := native.New(native.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	rec := &idRecorder{next: srv, ids: map[string]string{}}
	hs := httptest.NewServer(rec)
	svc, err := awssqs.OpenEndpoint(context.Background(), hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		eng.Close()
		hs.Close()
	})
	url, err := svc.CreateQueue(t.Context(), "ids", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := svc.Queue(url)
	missing, _ := svc.Queue(strings.TrimSuffix(url, "ids") + "missing")
	if _, err := q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "hello"}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive = %v, %v", msgs, err)
	}
	handle := msgs[0].ReceiptHandle

	ops := []struct {
		name, action string
		call         func(context.Context, backend.Queue) error
	}{
		{"send", "AmazonSQS.SendMessageBatch", func(ctx context.Context, q backend.Queue) error {
			_, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "again"}})
			return err
		}},
		{"receive", "AmazonSQS.ReceiveMessage", func(ctx context.Context, q backend.Queue) error {
			_, err := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
			return err
		}},
		{"change_visibility", "AmazonSQS.ChangeMessageVisibilityBatch", func(ctx context.Context, q backend.Queue) error {
			_, err := q.ChangeVisibility(ctx, []backend.VisibilityEntry{{ID: "1", ReceiptHandle: handle, VisibilityTimeout: 60}})
			return err
		}},
		{"delete", "AmazonSQS.DeleteMessageBatch", func(ctx context.Context, q backend.Queue) error {
			_, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "1", ReceiptHandle: handle}})
			return err
		}},
	}
	for _, op := range ops {
		for _, c := range []struct {
			name    string
			q       backend.Queue
			wantErr error
		}{{"ok", q, nil}, {"error answer", missing, backend.ErrQueueDoesNotExist}} {
			t.Run(op.name+"/"+c.name, func(t *testing.T) {
				ctx, info := backend.WithCallInfo(t.Context())
				err := op.call(ctx, c.q)
				if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				want := rec.last(op.action)
				if want == "" {
					t.Fatal("the server sent no x-amzn-RequestId")
				}
				if info.RequestID != want {
					t.Fatalf("RequestID = %q, want the server's %q", info.RequestID, want)
				}
			})
		}
	}

	t.Run("no CallInfo", func(t *testing.T) {
		// Nothing to fill: the calls work as before.
		for _, op := range ops[:2] {
			if err := op.call(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
		}
	})
}

// TestRequestIDOfUndecodableErrorAnswer: an error answer in the query
// protocol's XML shape still carries its request id.
func TestRequestIDOfUndecodableErrorAnswer(t *testing.T) {
	f := newFixture(t, func(w http.ResponseWriter, req request) {
		w.Header().Set("x-amzn-RequestId", "xml-answer-id")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(400)
		_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>` +
			`<Message>gone</Message></Error><RequestId>xml-answer-id</RequestId></ErrorResponse>`))
	})
	q, _ := f.open(t, "gone")
	ctx, info := backend.WithCallInfo(t.Context())
	_, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "1", ReceiptHandle: "h"}})
	if !errors.Is(err, backend.ErrQueueDoesNotExist) {
		t.Fatalf("err = %v, want QueueDoesNotExist", err)
	}
	if info.RequestID != "xml-answer-id" {
		t.Fatalf("RequestID = %q, want xml-answer-id", info.RequestID)
	}
}

// TestNoRequestIDWithoutAnswer: a call that got no answer records none.
func TestNoRequestIDWithoutAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	q, svc, err := backend.Open(t.Context(), "http://"+addr+"/000000000000/nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx, info := backend.WithCallInfo(t.Context())
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "x"}}); !errors.Is(err, backend.ErrServiceUnavailable) {
		t.Fatalf("err = %v, want ServiceUnavailable", err)
	}
	if info.RequestID != "" {
		t.Fatalf("RequestID = %q, want none", info.RequestID)
	}
}
