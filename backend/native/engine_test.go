package native

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTestEngine(t *testing.T) (*Engine, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	e, err := New(Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, clk
}

func mustQueue(t *testing.T, e *Engine, name string, attrs backend.Attributes) backend.Queue {
	t.Helper()
	u, err := e.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.Queue(u)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestFIFOGroupOrderAndLock(t *testing.T) {
	e, clk := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "jobs.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	var entries []backend.SendEntry
	for i, b := range []string{"a1", "a2", "b1", "a3", "b2"} {
		entries = append(entries, backend.SendEntry{ID: string(rune('0' + i)), Body: b, MessageGroupID: b[:1]})
	}
	res, err := q.Send(ctx, entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.SequenceNumber == "" {
			t.Fatalf("send result %+v", r)
		}
	}
	// Duplicate body: deduplicated, same message id.
	dup, err := q.Send(ctx, []backend.SendEntry{{ID: "d", Body: "a1", MessageGroupID: "a"}})
	if err != nil || dup[0].MessageID != res[0].MessageID || dup[0].SequenceNumber != res[0].SequenceNumber {
		t.Fatalf("dedup: %+v %v", dup, err)
	}
	got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 2, WaitTimeSeconds: new(0)})
	if err != nil || len(got) != 2 || got[0].Body != "a1" || got[1].Body != "a2" {
		t.Fatalf("first receive: %v %v", bodies(got), err)
	}
	got2, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if len(got2) != 2 || got2[0].Body != "b1" || got2[1].Body != "b2" {
		t.Fatalf("second receive: %v", bodies(got2))
	}
	got3, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if len(got3) != 0 {
		t.Fatalf("groups locked, got %v", bodies(got3))
	}
	r, _ := q.Delete(ctx, []backend.DeleteEntry{{ID: "x", ReceiptHandle: got[0].ReceiptHandle}})
	if r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	got4, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if len(got4) != 0 {
		t.Fatalf("a2 still in flight, group a must stay locked; got %v", bodies(got4))
	}
	clk.Advance(31 * time.Second)
	got5, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	// Each group comes back in order; which group comes first is not fixed.
	var a, b []string
	for _, m := range got5 {
		if m.Body[0] == 'a' {
			a = append(a, m.Body)
		} else {
			b = append(b, m.Body)
		}
	}
	if len(got5) != 4 || len(a) != 2 || a[0] != "a2" || a[1] != "a3" || b[0] != "b1" || b[1] != "b2" {
		t.Fatalf("after timeout: %v", bodies(got5))
	}
}

func TestLongPollWakesOnSend(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "lp", nil)
	done := make(chan []*backend.Message)
	go func() {
		m, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(20)})
		done <- m
	}()
	for e.WaitingReceives() == 0 {
		runtime.Gosched() // yield until the receive parks; time does not move
	}
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "hi"}}); err != nil {
		t.Fatal(err)
	}
	if m := <-done; len(m) != 1 || m[0].Body != "hi" {
		t.Fatalf("got %v", bodies(m))
	}
}

func bodies(ms []*backend.Message) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Body)
	}
	return s
}

// A FIFO long poll gets a group's next message as soon as a delete of the
// group's in-flight message lets it go, without waiting out its wait time.
func TestFIFOLongPollWakesOnDelete(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "lp.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	if _, err := q.Send(ctx, []backend.SendEntry{
		{ID: "1", Body: "first", MessageGroupID: "g"},
		{ID: "2", Body: "second", MessageGroupID: "g"},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)})
	if err != nil || len(got) != 1 || got[0].Body != "first" {
		t.Fatalf("first receive: %v %v", bodies(got), err)
	}
	done := make(chan []*backend.Message)
	go func() {
		m, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(20)})
		done <- m
	}()
	for e.WaitingReceives() == 0 {
		runtime.Gosched() // yield until the receive parks; time does not move
	}
	if r, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "d", ReceiptHandle: got[0].ReceiptHandle}}); err != nil || r[0].Err != nil {
		t.Fatalf("delete: %v %v", r, err)
	}
	if m := <-done; len(m) != 1 || m[0].Body != "second" {
		t.Fatalf("parked receive got %v, want [second]", bodies(m))
	}
}

// Attribute reads count expired messages out as they expire, one after the
// other, although a read skips its scan while no message can have expired.
func TestAttributesCountExpiriesInTurn(t *testing.T) {
	e, clk := newTestEngine(t)
	ctx := context.Background()
	u, err := e.CreateQueue(ctx, "ret", backend.Attributes{"MessageRetentionPeriod": "60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := e.Queue(u)
	depth := func() string {
		t.Helper()
		a, err := e.GetAttributes(ctx, u, []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
		if err != nil {
			t.Fatal(err)
		}
		return a["ApproximateNumberOfMessages"] + "/" + a["ApproximateNumberOfMessagesNotVisible"]
	}
	send := func(body string) {
		t.Helper()
		if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: body}}); err != nil {
			t.Fatal(err)
		}
	}
	send("a")
	clk.Advance(30 * time.Second)
	send("b")
	if _, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, VisibilityTimeout: new(600), WaitTimeSeconds: new(0)}); err != nil {
		t.Fatal(err) // a is in flight now
	}
	if got := depth(); got != "1/1" {
		t.Fatalf("at 30 s: %s, want 1/1", got)
	}
	clk.Advance(31 * time.Second) // a (in flight) has expired
	if got := depth(); got != "1/0" {
		t.Fatalf("at 61 s: %s, want 1/0", got)
	}
	clk.Advance(20 * time.Second) // b not yet
	if got := depth(); got != "1/0" {
		t.Fatalf("at 81 s: %s, want 1/0", got)
	}
	clk.Advance(10 * time.Second) // b too
	if got := depth(); got != "0/0" {
		t.Fatalf("at 91 s: %s, want 0/0", got)
	}
	send("c")
	if got := depth(); got != "1/0" {
		t.Fatalf("after a new send: %s, want 1/0", got)
	}
}
