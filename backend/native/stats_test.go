package native

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

func equalStats(a, b []QueueStats) bool { return reflect.DeepEqual(a, b) }

func TestStats(t *testing.T) {
	e, clk := newTestEngine(t)
	ctx := context.Background()
	dlq := mustQueue(t, e, "work-dlq", nil)
	dlqArn := "arn:aws:sqs:us-east-1:000000000000:work-dlq"
	work := mustQueue(t, e, "work", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":"1"}`,
	})
	start := clk.Now()
	var entries []backend.SendEntry
	for i := range 4 {
		entries = append(entries, backend.SendEntry{ID: strconv.Itoa(i), Body: "m" + strconv.Itoa(i)})
	}
	entries[3].DelaySeconds = new(10)
	if _, err := work.Send(ctx, entries); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	got, err := work.Receive(ctx, backend.ReceiveRequest{MaxMessages: 2, WaitTimeSeconds: new(0), VisibilityTimeout: new(5)})
	if err != nil || len(got) != 2 {
		t.Fatalf("receive: %v %v", bodies(got), err)
	}
	if _, err := work.Delete(ctx, []backend.DeleteEntry{{ID: "d", ReceiptHandle: got[0].ReceiptHandle}}); err != nil {
		t.Fatal(err)
	}

	st := e.Stats()
	if len(st) != 2 || st[0].Name != "work" || st[1].Name != "work-dlq" {
		t.Fatalf("stats: %+v", st)
	}
	w, d := st[0], st[1]
	want := QueueStats{
		Name: "work", URL: work.URL(), ARN: "arn:aws:sqs:us-east-1:000000000000:work",
		Visible: 1, InFlight: 1, Delayed: 1,
		OldestSentAt: start, CreatedAt: start,
		Sent: 4, Received: 2, Deleted: 1,
		DeadLetterTargetARN: dlqArn, MaxReceiveCount: 1,
	}
	if !w.OldestSentAt.Equal(start) || !w.CreatedAt.Equal(start) {
		t.Fatalf("work times: %+v", w)
	}
	w.OldestSentAt, w.CreatedAt = want.OldestSentAt, want.CreatedAt
	if !reflect.DeepEqual(w, want) {
		t.Fatalf("work:\n got %+v\nwant %+v", w, want)
	}
	if d.ARN != dlqArn || d.URL != dlq.URL() || !reflect.DeepEqual(d.DeadLetterSourceARNs, []string{want.ARN}) || !d.OldestSentAt.IsZero() {
		t.Fatalf("dlq: %+v", d)
	}

	// The visibility timeout and the delay end: counted as visible without
	// the queue being touched.
	clk.Advance(10 * time.Second)
	w, _ = e.QueueStats(work.URL())
	if w.Visible != 3 || w.InFlight != 0 || w.Delayed != 0 || !reflect.DeepEqual(w.DeadLetterSourceARNs, []string(nil)) {
		t.Fatalf("after timeouts: %+v", w)
	}

	// The received-once messages go to the dead-letter queue on the next receive.
	got, _ = work.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if len(got) != 2 { // m2 and m3 (first receive); m1 is dead-lettered
		t.Fatalf("receive 2: %v", bodies(got))
	}
	w, _ = e.QueueStats(work.URL())
	d, _ = e.QueueStats(dlq.URL())
	if w.DeadLettered != 1 || w.Received != 4 || d.Visible != 1 || !d.OldestSentAt.Equal(start) ||
		!reflect.DeepEqual(d.DeadLetterSourceARNs, []string{want.ARN}) {
		t.Fatalf("after dead-lettering: work %+v dlq %+v", w, d)
	}

	if _, err := e.QueueStats("missing"); !errors.Is(err, backend.ErrQueueDoesNotExist) {
		t.Fatalf("missing queue: %v", err)
	}
	fifo := mustQueue(t, e, "f.fifo", backend.Attributes{"FifoQueue": "true"})
	if s, _ := e.QueueStats(fifo.URL()); !s.FIFO {
		t.Fatalf("fifo: %+v", s)
	}
	e.Close()
	if e.Stats() != nil {
		t.Fatal("Stats after Close must be nil")
	}
}
