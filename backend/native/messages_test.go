package native

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

// msgFixture is what each row of TestErrorTexts starts from: a standard
// queue q (MaximumMessageSize 1024) holding one received message, a FIFO
// queue f.fifo without content-based deduplication, and a dead-letter
// pipe src -> dlq.
type msgFixture struct {
	t                *testing.T
	e                *Engine
	clk              *clockwork.FakeClock
	ctx              context.Context
	q, fifo, src     string
	dlq, srcArn, arn string
	rh               string // the receipt handle of q's message
}

func newMsgFixture(t *testing.T) *msgFixture {
	e, clk := newTestEngine(t)
	f := &msgFixture{t: t, e: e, clk: clk, ctx: context.Background()}
	f.q = f.create("q", backend.Attributes{"MaximumMessageSize": "1024"})
	f.fifo = f.create("f.fifo", backend.Attributes{"FifoQueue": "true"})
	f.dlq = f.create("dlq", nil)
	f.arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
	f.src = f.create("src", backend.Attributes{"RedrivePolicy": `{"deadLetterTargetArn":"` + f.arn + `","maxReceiveCount":1}`})
	f.srcArn = "arn:aws:sqs:us-east-1:000000000000:src"
	f.send(f.q, backend.SendEntry{ID: "m", Body: "m"})
	f.rh = f.receive(f.q, 0).ReceiptHandle
	return f
}

func (f *msgFixture) create(name string, attrs backend.Attributes) string {
	f.t.Helper()
	u, err := f.e.CreateQueue(f.ctx, name, attrs, nil)
	if err != nil {
		f.t.Fatalf("CreateQueue(%s): %v", name, err)
	}
	return u
}

func (f *msgFixture) queue(u string) backend.Queue {
	q, _ := f.e.Queue(u)
	return q
}

// send returns the request's error, or else the first entry's.
func (f *msgFixture) send(u string, entries ...backend.SendEntry) error {
	res, err := f.queue(u).Send(f.ctx, entries)
	if err != nil {
		return err
	}
	return res[0].Err
}

func (f *msgFixture) receive(u string, vis int) *backend.Message {
	f.t.Helper()
	msgs, err := f.queue(u).Receive(f.ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(vis)})
	if err != nil || len(msgs) != 1 {
		f.t.Fatalf("Receive: %d messages, %v", len(msgs), err)
	}
	return msgs[0]
}

func (f *msgFixture) changeVis(u, rh string, secs int) error {
	res, err := f.queue(u).ChangeVisibility(f.ctx, []backend.VisibilityEntry{{ID: "v", ReceiptHandle: rh, VisibilityTimeout: secs}})
	if err != nil {
		return err
	}
	return res[0].Err
}

func (f *msgFixture) delete(u, rh string) error {
	res, err := f.queue(u).Delete(f.ctx, []backend.DeleteEntry{{ID: "d", ReceiptHandle: rh}})
	if err != nil {
		return err
	}
	return res[0].Err
}

// single is the error SendMessage, DeleteMessage or
// ChangeMessageVisibility answers for err.
func single(err error) error {
	var be *backend.Error
	if errors.As(err, &be) {
		return be.AsSingle()
	}
	return err
}

func taskHandleOf(taskID, sourceArn string) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"taskId":"` + taskID + `","sourceArn":"` + sourceArn + `"}`))
}

// TestErrorTexts checks the code and the exact message of each error the
// engine gives for the actions issue 19 compared with real SQS, one row per
// error. Messages of real SQS (recorded for issue 19, or quoted by the
// conformance suite from public recordings) are marked "SQS"; the others are
// postbox's own, in SQS's style. "{rh}" in a message stands for the
// receipt handle the row used.
func TestErrorTexts(t *testing.T) {
	const (
		ipv = backend.CodeInvalidParameterValue
		rnf = backend.CodeResourceNotFoundException
	)
	for _, tc := range []struct {
		name, code, msg string
		run             func(f *msgFixture) (error, string) // the error and the handle it used
	}{
		// CreateQueue and SetQueueAttributes.
		{"SQS: CreateQueue with another attribute value", backend.CodeQueueNameExists,
			"A queue already exists with the same name and a different value for attribute DelaySeconds",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CreateQueue(f.ctx, "q", backend.Attributes{"MaximumMessageSize": "1024", "DelaySeconds": "5"}, nil)
				return err, ""
			}},
		{"SQS: FifoQueue=false on a standard queue", backend.CodeInvalidAttributeName, "Unknown Attribute FifoQueue.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CreateQueue(f.ctx, "std", backend.Attributes{"FifoQueue": "false"}, nil)
				return err, ""
			}},
		{"SQS: SetQueueAttributes FifoQueue", backend.CodeInvalidAttributeName, "Unknown Attribute FifoQueue.",
			func(f *msgFixture) (error, string) {
				return f.e.SetAttributes(f.ctx, f.fifo, backend.Attributes{"FifoQueue": "true"}), ""
			}},
		{"SQS: FifoQueue=true on a standard name", ipv,
			"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CreateQueue(f.ctx, "std", backend.Attributes{"FifoQueue": "true"}, nil)
				return err, ""
			}},
		{"SQS: a .fifo name without FifoQueue", ipv, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CreateQueue(f.ctx, "x.fifo", nil, nil)
				return err, ""
			}},
		{"unknown attribute", backend.CodeInvalidAttributeName, "Unknown Attribute Foo.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CreateQueue(f.ctx, "x", backend.Attributes{"Foo": "1"}, nil)
				return err, ""
			}},
		{"GetQueueAttributes of an unknown attribute", backend.CodeInvalidAttributeName, "Unknown Attribute Foo.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.GetAttributes(f.ctx, f.q, []string{"Foo"})
				return err, ""
			}},
		{"KMS key with SqsManagedSseEnabled=true", backend.CodeInvalidAttributeValue,
			"Invalid value for the parameter KmsMasterKeyId. Reason: You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
			func(f *msgFixture) (error, string) {
				return f.e.SetAttributes(f.ctx, f.q, backend.Attributes{"KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"}), ""
			}},
		{"SQS: a queue deleted recently", backend.CodeQueueDeletedRecently,
			"You must wait 60 seconds after deleting a queue before you can create another with the same name.",
			func(f *msgFixture) (error, string) {
				if err := f.e.DeleteQueue(f.ctx, f.dlq); err != nil {
					return err, ""
				}
				_, err := f.e.CreateQueue(f.ctx, "dlq", nil, nil)
				return err, ""
			}},
		{"SQS: a queue that does not exist", backend.CodeQueueDoesNotExist, "The specified queue does not exist.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.GetAttributes(f.ctx, "http://localhost:9324/000000000000/missing", nil)
				return err, ""
			}},
		{"SQS: a URL that names no queue", backend.CodeQueueDoesNotExist, "The specified queue does not exist.",
			func(f *msgFixture) (error, string) {
				return f.e.Purge(f.ctx, "http://localhost:9324/not/a/queue"), ""
			}},
		{"SQS: PurgeQueue twice", backend.CodePurgeQueueInProgress, "Only one PurgeQueue operation on q is allowed every 60 seconds.",
			func(f *msgFixture) (error, string) {
				if err := f.e.Purge(f.ctx, f.q); err != nil {
					return err, ""
				}
				return f.e.Purge(f.ctx, f.q), ""
			}},

		// SendMessage and SendMessageBatch.
		{"SQS: a batch entry id", backend.CodeInvalidBatchEntryID,
			"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
			func(f *msgFixture) (error, string) { return f.send(f.q, backend.SendEntry{ID: "a b", Body: "x"}), "" }},
		{"SQS: ids repeated", backend.CodeBatchEntryIdsNotDistinct, "Id a repeated.",
			func(f *msgFixture) (error, string) {
				return f.send(f.q, backend.SendEntry{ID: "a", Body: "x"}, backend.SendEntry{ID: "a", Body: "y"}), ""
			}},
		{"SQS: a batch entry over MaximumMessageSize", ipv,
			"One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes.",
			func(f *msgFixture) (error, string) {
				return f.send(f.q, backend.SendEntry{ID: "a", Body: strings.Repeat("x", 1025)}), ""
			}},
		{"SQS: SendMessage over MaximumMessageSize", ipv,
			"One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.",
			func(f *msgFixture) (error, string) {
				return single(f.send(f.q, backend.SendEntry{ID: "a", Body: strings.Repeat("x", 1025)})), ""
			}},
		{"SQS: FIFO batch without MessageGroupId", backend.CodeMissingParameter, "The request must contain the parameter MessageGroupId.",
			func(f *msgFixture) (error, string) {
				return f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationID: "d"},
					backend.SendEntry{ID: "b", Body: "y", MessageDeduplicationID: "e"}), ""
			}},
		{"SQS: FIFO batch without MessageDeduplicationId", ipv,
			"The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
			func(f *msgFixture) (error, string) {
				return f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationID: "d"},
					backend.SendEntry{ID: "b", Body: "y", MessageGroupID: "g"}), ""
			}},
		{"SQS: an empty MessageDeduplicationId", ipv,
			"Value  for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
			func(f *msgFixture) (error, string) {
				return f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationIDSet: true}), ""
			}},
		{"an empty MessageGroupId on a standard queue", ipv,
			"Value  for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.",
			func(f *msgFixture) (error, string) {
				return f.send(f.q, backend.SendEntry{ID: "a", Body: "x", MessageGroupIDSet: true}), ""
			}},
		{"a MessageDeduplicationId on a standard queue", ipv,
			"Value d1 for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.",
			func(f *msgFixture) (error, string) {
				return f.send(f.q, backend.SendEntry{ID: "a", Body: "x", MessageDeduplicationID: "d1"}), ""
			}},
		{"a per-message delay on a FIFO queue", ipv,
			"Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
			func(f *msgFixture) (error, string) {
				return f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationID: "d", DelaySeconds: new(5)}), ""
			}},

		// ReceiveMessage.
		{"SQS: MaxNumberOfMessages 11", ipv, "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.",
			func(f *msgFixture) (error, string) {
				_, err := f.queue(f.q).Receive(f.ctx, backend.ReceiveRequest{MaxMessages: 11})
				return err, ""
			}},
		{"an unknown system attribute", backend.CodeInvalidAttributeName, "Unknown Attribute Bogus.",
			func(f *msgFixture) (error, string) {
				_, err := f.queue(f.q).Receive(f.ctx, backend.ReceiveRequest{SystemAttributeNames: []string{"Bogus"}})
				return err, ""
			}},

		// ChangeMessageVisibility and DeleteMessage.
		{"a forged handle", backend.CodeReceiptHandleIsInvalid, `The input receipt handle "{rh}" is not a valid receipt handle.`,
			func(f *msgFixture) (error, string) { return f.changeVis(f.q, "garbage", 0), "garbage" }},
		{"visibility of a deleted message", backend.CodeReceiptHandleIsInvalid,
			"Value {rh} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
			func(f *msgFixture) (error, string) {
				if err := f.delete(f.q, f.rh); err != nil {
					return err, ""
				}
				return f.changeVis(f.q, f.rh, 0), f.rh
			}},
		{"ChangeMessageVisibility of a deleted message", ipv,
			"Value {rh} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.",
			func(f *msgFixture) (error, string) {
				if err := f.delete(f.q, f.rh); err != nil {
					return err, ""
				}
				return single(f.changeVis(f.q, f.rh, 0)), f.rh
			}},
		{"visibility past 12 hours", ipv,
			"Value 43200 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].",
			func(f *msgFixture) (error, string) {
				f.clk.Advance(time.Second)
				return f.changeVis(f.q, f.rh, backend.MaxVisibilityTimeout), ""
			}},
		{"visibility out of range", ipv,
			"Value 43201 for parameter VisibilityTimeout is invalid. Reason: VisibilityTimeout must be an integer between 0 and 43200.",
			func(f *msgFixture) (error, string) { return f.changeVis(f.q, f.rh, backend.MaxVisibilityTimeout+1), "" }},
		{"FIFO visibility with an older handle", ipv, "Value {rh} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
			func(f *msgFixture) (error, string) {
				f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationID: "d"})
				old := f.receive(f.fifo, 0).ReceiptHandle
				f.receive(f.fifo, 30)
				return single(f.changeVis(f.fifo, old, 10)), old
			}},
		{"SQS: FIFO delete with an expired handle", ipv, "Value {rh} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.",
			func(f *msgFixture) (error, string) {
				f.send(f.fifo, backend.SendEntry{ID: "a", Body: "x", MessageGroupID: "g", MessageDeduplicationID: "d"})
				old := f.receive(f.fifo, 0).ReceiptHandle
				return single(f.delete(f.fifo, old)), old
			}},

		// Move tasks.
		{"SQS: a move from a queue that is no dead-letter queue", ipv, "Source queue must be configured as a Dead Letter Queue.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.StartMessageMoveTask(f.ctx, backend.MoveTaskRequest{SourceARN: f.srcArn})
				return err, ""
			}},
		{"SQS: a move from a queue that does not exist", rnf, "The resource that you specified for the SourceArn parameter doesn't exist.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.StartMessageMoveTask(f.ctx, backend.MoveTaskRequest{SourceARN: f.arn + "x"})
				return err, ""
			}},
		{"SQS: a move to a queue that does not exist", rnf, "The resource that you specified for the DestinationArn parameter doesn't exist.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.StartMessageMoveTask(f.ctx, backend.MoveTaskRequest{SourceARN: f.arn, DestinationARN: f.srcArn + "x"})
				return err, ""
			}},
		{"SQS: a second move while one runs", ipv,
			"There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
			func(f *msgFixture) (error, string) {
				f.send(f.dlq, backend.SendEntry{ID: "a", Body: "x"}, backend.SendEntry{ID: "b", Body: "y"})
				req := backend.MoveTaskRequest{SourceARN: f.arn, DestinationARN: f.srcArn, MaxNumberOfMessagesPerSecond: 1}
				h, err := f.e.StartMessageMoveTask(f.ctx, req)
				if err != nil {
					return err, ""
				}
				defer f.e.CancelMessageMoveTask(f.ctx, h)
				_, err = f.e.StartMessageMoveTask(f.ctx, req)
				return err, ""
			}},
		{"SQS: a cancel of a task that does not exist", rnf, "Task does not exist.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CancelMessageMoveTask(f.ctx, taskHandleOf("00000000-0000-4000-8000-000000000000", f.arn))
				return err, ""
			}},
		{"SQS: a cancel naming a source that does not exist", rnf, "The resource that you specified for the SourceArn parameter doesn't exist.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CancelMessageMoveTask(f.ctx, taskHandleOf("00000000-0000-4000-8000-000000000000", f.arn+"x"))
				return err, ""
			}},
		{"SQS: a cancel with a malformed handle", ipv, "Value for parameter TaskHandle is invalid.",
			func(f *msgFixture) (error, string) {
				_, err := f.e.CancelMessageMoveTask(f.ctx, "foobared")
				return err, ""
			}},

		// Permissions.
		{"SQS: AddPermission with a label in use", ipv, "Value p for parameter Label is invalid. Reason: Already exists.",
			func(f *msgFixture) (error, string) {
				req := backend.PermissionRequest{QueueURL: f.q, Label: "p", AccountIDs: []string{"111122223333"}, Actions: []string{"SendMessage"}}
				if err := f.e.AddPermission(f.ctx, req); err != nil {
					return err, ""
				}
				return f.e.AddPermission(f.ctx, req), ""
			}},
		{"SQS: RemovePermission of an unknown label", ipv, "Value p for parameter Label is invalid. Reason: can't find label on existing policy.",
			func(f *msgFixture) (error, string) { return f.e.RemovePermission(f.ctx, f.q, "p"), "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMsgFixture(t)
			err, rh := tc.run(f)
			var be *backend.Error
			if !errors.As(err, &be) || be == nil {
				t.Fatalf("got %v, want a *backend.Error %s", err, tc.code)
			}
			want := strings.ReplaceAll(tc.msg, "{rh}", rh)
			if be.Code != tc.code || be.Message != want {
				t.Errorf("got %s %q,\nwant %s %q", be.Code, be.Message, tc.code, want)
			}
		})
	}
}
