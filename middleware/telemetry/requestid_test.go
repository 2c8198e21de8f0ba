package telemetry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/middleware/telemetry"
)

// TestAWSRequestID: across postbox serve through the AWS adapter, the span
// of every queue call carries as aws.request_id the request id the server
// sent with its answer, for a success and for an error answer, and the
// caller's own backend.CallInfo still gets it; in process there is no
// request id and no attribute.
func TestAWSRequestID(t *testing.T) {
	for _, env := range []struct {
		name string
		open func(testing.TB) backendEnv
	}{{"in-process", inProcess}, {"postbox-serve", overServe}} {
		t.Run(env.name, func(t *testing.T) {
			be := env.open(t)
			r := newRig(t, telemetry.Config{})
			q := be.queue(t, "ids", nil)
			gone, err := be.svc.Queue(strings.TrimSuffix(q.URL(), "ids") + "missing")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Send(t.Context(), []backend.SendEntry{{ID: "1", Body: "hello"}}); err != nil {
				t.Fatal(err)
			}
			msgs, err := q.Receive(t.Context(), backend.ReceiveRequest{WaitTimeSeconds: new(0)})
			if err != nil || len(msgs) != 1 {
				t.Fatalf("Receive = %v, %v", msgs, err)
			}
			handle := msgs[0].ReceiptHandle

			ops := []struct {
				op, action string
				call       func(context.Context, backend.Queue) error
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
				}{{"ok", q, nil}, {"error answer", gone, backend.ErrQueueDoesNotExist}} {
					t.Run(op.op+"/"+c.name, func(t *testing.T) {
						r.spans.Reset()
						ctx, outer := backend.WithCallInfo(t.Context())
						err := op.call(ctx, r.tel.Queue(c.q))
						if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
							t.Fatalf("err = %v, want %v", err, c.wantErr)
						}
						name := op.op + " " + c.q.URL()[strings.LastIndexByte(c.q.URL(), '/')+1:]
						spans := byName(r.spans.GetSpans(), name)
						if len(spans) != 1 {
							t.Fatalf("%d spans %q, want 1", len(spans), name)
						}
						s := spans[0]
						if (s.Status.Code == codes.Error) != (c.wantErr != nil) {
							t.Errorf("status %v for err %v", s.Status, err)
						}
						got, ok := attr(s, semconv.AWSRequestIDKey)
						if be.requestIDs == nil {
							if ok {
								t.Fatalf("aws.request_id = %q in process, want none", got.AsString())
							}
							if outer.RequestID != "" {
								t.Fatalf("caller's RequestID = %q in process, want none", outer.RequestID)
							}
							return
						}
						want := be.requestIDs.last(op.action)
						if want == "" {
							t.Fatal("the server sent no x-amzn-RequestId")
						}
						if !ok || got.AsString() != want {
							t.Fatalf("aws.request_id = %q (set: %v), want the server's %q", got.AsString(), ok, want)
						}
						if outer.RequestID != want {
							t.Fatalf("caller's RequestID = %q, want %q", outer.RequestID, want)
						}
					})
				}
			}
		})
	}
}
