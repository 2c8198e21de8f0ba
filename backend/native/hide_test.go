package native

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// TestHideKeepsOneSlot: a visible message hidden again by a visibility
// change keeps its ring slot as a tombstone; whether it becomes visible
// again before or after that slot is reached, every receive of the queue
// returns it exactly once, and the counts stay exact. With and without fair
// queueing's tenants.
func TestHideKeepsOneSlot(t *testing.T) {
	for _, group := range []string{"", "tenant"} {
		t.Run("group="+group, func(t *testing.T) {
			e, clk := newTestEngine(t)
			ctx := context.Background()
			q := mustQueue(t, e, "q", nil)
			var entries []backend.SendEntry
			for i := range 4 {
				entries = append(entries, backend.SendEntry{ID: fmt.Sprint(i), Body: fmt.Sprint("m", i), MessageGroupID: group})
			}
			if _, err := q.Send(ctx, entries); err != nil {
				t.Fatal(err)
			}
			msgs, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, VisibilityTimeout: new(1)})
			if err != nil || len(msgs) != 4 {
				t.Fatalf("receive: %d, %v", len(msgs), err)
			}
			clk.Advance(time.Second) // all four visible again, each in its slot
			// Hide m0 for 10 s and m1 for 1 s; m1 comes back before its slot
			// is reached, m0 after.
			res, err := q.ChangeVisibility(ctx, []backend.VisibilityEntry{
				{ID: "a", ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 10},
				{ID: "b", ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 1},
			})
			if err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("ChangeVisibility: %v %+v", err, res)
			}
			wantCounts(t, e, q.URL(), 2, 2)
			clk.Advance(time.Second)
			wantCounts(t, e, q.URL(), 3, 1)
			if n := slots(e, "q"); n != 4 {
				t.Fatalf("%d ring slots for 4 messages: m1 was pushed again while its slot held it", n)
			}
			got := receiveBodies(t, q)
			slices.Sort(got)
			if want := "[m1 m2 m3]"; fmt.Sprint(got) != want {
				t.Fatalf("received %v, want %s", got, want)
			}
			wantCounts(t, e, q.URL(), 0, 4)
			clk.Advance(9 * time.Second) // m0 back; its old slot was passed
			if got := receiveBodies(t, q); fmt.Sprint(got) != "[m0]" {
				t.Fatalf("received %v, want [m0]", got)
			}
			clk.Advance(30 * time.Second)
			if got := receiveBodies(t, q); len(got) != 4 {
				t.Fatalf("received %v, want all four once", got)
			}
			wantCounts(t, e, q.URL(), 0, 4)
		})
	}
}

// receiveBodies receives until a receive comes back empty and returns the
// bodies in order; it fails on a message returned twice.
func receiveBodies(t *testing.T, q backend.Queue) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for {
		msgs, err := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			if seen[m.MessageID] {
				t.Fatalf("message %s returned twice", m.Body)
			}
			seen[m.MessageID] = true
			out = append(out, m.Body)
		}
	}
}

func wantCounts(t *testing.T, e *Engine, url string, visible, inflight int) {
	t.Helper()
	a, err := e.GetAttributes(context.Background(), url, []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
	if err != nil {
		t.Fatal(err)
	}
	if a["ApproximateNumberOfMessages"] != fmt.Sprint(visible) || a["ApproximateNumberOfMessagesNotVisible"] != fmt.Sprint(inflight) {
		t.Fatalf("counts %v, want %d visible, %d in flight", a, visible, inflight)
	}
}

// slots counts the ring slots of a standard queue: its ready ring and the
// held-back rings of its noisy tenants.
func slots(e *Engine, name string) int {
	e.mu.RLock()
	q := e.queues[e.cfg.AccountID+"/"+name]
	e.mu.RUnlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	n := q.ready.len()
	q.heldBack(func(r *ring[*message]) { n += r.len() })
	return n
}
