package native

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

func TestDeadLetterAfterMaxReceives(t *testing.T) {
	e, clk := newTestEngine(t)
	ctx := context.Background()
	dlqURL, _ := e.CreateQueue(ctx, "jobs-dlq", nil, nil)
	dlqArn := "arn:aws:sqs:us-east-1:000000000000:jobs-dlq"
	q := mustQueue(t, e, "jobs", backend.Attributes{
		"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":2}`, dlqArn),
	})
	sent, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "poison", MessageAttributes: map[string]backend.MessageAttributeValue{"k": {DataType: "String", StringValue: "v"}}}})
	if err != nil || sent[0].Err != nil {
		t.Fatal(err, sent)
	}
	for i := 0; i < 2; i++ {
		got, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
		if len(got) != 1 {
			t.Fatalf("receive %d: got %d", i, len(got))
		}
		clk.Advance(31 * time.Second)
	}
	got, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	if len(got) != 0 {
		t.Fatalf("third receive must dead-letter, got %v", bodies(got))
	}
	dq, _ := e.Queue(dlqURL)
	dm, _ := dq.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"}})
	if len(dm) != 1 || dm[0].MessageID != sent[0].MessageID || dm[0].Body != "poison" ||
		dm[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:jobs" ||
		dm[0].MessageAttributes["k"].StringValue != "v" {
		t.Fatalf("dead-lettered message: %+v", dm)
	}
	if e.DeadLettered() != 1 {
		t.Fatalf("DeadLettered = %d", e.DeadLettered())
	}
	srcs, err := e.ListDeadLetterSourceQueues(ctx, dlqURL, backend.ListQueuesRequest{})
	if err != nil || len(srcs.QueueURLs) != 1 {
		t.Fatalf("sources: %v %v", srcs, err)
	}
}

func TestMoveTaskRedrivesEverythingOnce(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	dlqURL, _ := e.CreateQueue(ctx, "d", nil, nil)
	srcURL, _ := e.CreateQueue(ctx, "s", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d","maxReceiveCount":1}`,
	}, nil)
	src, _ := e.Queue(srcURL)
	dq, _ := e.Queue(dlqURL)
	// Put 1000 messages straight into the dead-letter queue.
	for i := 0; i < 100; i++ {
		var batch []backend.SendEntry
		for j := 0; j < 10; j++ {
			batch = append(batch, backend.SendEntry{ID: fmt.Sprint(j), Body: fmt.Sprint(i*10 + j)})
		}
		if _, err := dq.Send(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// Without a source ARN on the messages, a move needs a destination.
	h, err := e.StartMessageMoveTask(ctx, backend.MoveTaskRequest{SourceARN: "arn:aws:sqs:us-east-1:000000000000:d", DestinationARN: "arn:aws:sqs:us-east-1:000000000000:s"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = e.CancelMessageMoveTask(ctx, h) // may land before, during or after the move
	<-e.taskDone(h)
	ts, err := e.ListMessageMoveTasks(ctx, "arn:aws:sqs:us-east-1:000000000000:d", 1)
	if err != nil || (ts[0].Status != backend.MoveTaskCompleted && ts[0].Status != backend.MoveTaskCancelled) {
		t.Fatalf("task: %+v %v", ts, err)
	}
	seen := map[string]bool{}
	for _, q := range []backend.Queue{src, dq} {
		for {
			got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				break
			}
			for _, m := range got {
				if seen[m.Body] {
					t.Fatalf("message %s twice", m.Body)
				}
				seen[m.Body] = true
			}
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("found %d of 1000 messages after a cancelled move", len(seen))
	}
}
