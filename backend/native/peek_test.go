package native

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

func peekBodies(ms []PeekedMessage) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Body)
	}
	return s
}

func peekStates(ms []PeekedMessage) []string {
	var s []string
	for _, m := range ms {
		s = append(s, m.State)
	}
	return s
}

func TestPeekStatesAndPaging(t *testing.T) {
	e, clk := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "peek", nil)
	var entries []backend.SendEntry
	for i := range 5 {
		entries = append(entries, backend.SendEntry{ID: strconv.Itoa(i), Body: "m" + strconv.Itoa(i),
			MessageAttributes: map[string]backend.MessageAttributeValue{"n": {DataType: "Number", StringValue: strconv.Itoa(i)}}})
	}
	entries[4].DelaySeconds = new(60)
	if _, err := q.Send(ctx, entries); err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)})
	if err != nil || len(got) != 1 || got[0].Body != "m0" {
		t.Fatalf("receive: %v %v", bodies(got), err)
	}
	all, err := e.Peek(ctx, q.URL(), PeekRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantStates := []string{PeekInflight, PeekVisible, PeekVisible, PeekVisible, PeekDelayed}
	if len(all) != 5 || !equal(peekStates(all), wantStates) || all[0].Body != "m0" || all[4].Body != "m4" {
		t.Fatalf("peek: %v %v", peekBodies(all), peekStates(all))
	}
	m0 := all[0]
	if m0.ReceiveCount != 1 || m0.Attributes["ApproximateReceiveCount"] != "1" || m0.ReceiptHandle != "" ||
		!m0.VisibleAt.Equal(clk.Now().Add(30*time.Second)) || m0.Attributes["ApproximateFirstReceiveTimestamp"] == "" ||
		m0.MessageAttributes["n"].StringValue != "0" || m0.MD5OfMessageAttributes == "" || m0.MessageID != got[0].MessageID {
		t.Fatalf("in-flight message: %+v", m0)
	}
	if all[1].ReceiveCount != 0 || !all[1].VisibleAt.IsZero() || !all[1].SentAt.Equal(clk.Now().Truncate(time.Millisecond)) {
		t.Fatalf("visible message: %+v", all[1])
	}

	// Paging.
	p1, err := e.Peek(ctx, q.URL(), PeekRequest{Max: 2})
	if err != nil || !equal(peekBodies(p1), []string{"m0", "m1"}) {
		t.Fatalf("page 1: %v %v", peekBodies(p1), err)
	}
	p2, err := e.Peek(ctx, q.URL(), PeekRequest{Max: 2, After: p1[1].MessageID})
	if err != nil || !equal(peekBodies(p2), []string{"m2", "m3"}) {
		t.Fatalf("page 2: %v %v", peekBodies(p2), err)
	}
	p3, err := e.Peek(ctx, q.URL(), PeekRequest{Max: 2, After: p2[1].MessageID})
	if err != nil || !equal(peekBodies(p3), []string{"m4"}) {
		t.Fatalf("page 3: %v %v", peekBodies(p3), err)
	}
	p4, err := e.Peek(ctx, q.URL(), PeekRequest{Max: 2, After: p3[0].MessageID})
	if err != nil || len(p4) != 0 {
		t.Fatalf("page 4: %v %v", peekBodies(p4), err)
	}

	// Time passes: the in-flight and delayed messages count as visible
	// without anything having touched the queue.
	clk.Advance(61 * time.Second)
	all, _ = e.Peek(ctx, q.URL(), PeekRequest{})
	if !equal(peekStates(all), []string{PeekVisible, PeekVisible, PeekVisible, PeekVisible, PeekVisible}) {
		t.Fatalf("after timeouts: %v", peekStates(all))
	}
}

func TestPeekErrors(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "peekerr", nil)
	for _, tc := range []struct {
		name string
		url  string
		req  PeekRequest
		want error
	}{
		{"missing queue", "nope", PeekRequest{}, backend.ErrQueueDoesNotExist},
		{"max too big", q.URL(), PeekRequest{Max: 101}, backend.ErrInvalidParameterValue},
		{"max negative", q.URL(), PeekRequest{Max: -1}, backend.ErrInvalidParameterValue},
		{"unknown after", q.URL(), PeekRequest{After: "00000000-0000-4000-8000-000000000000"}, backend.ErrInvalidParameterValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.Peek(ctx, tc.url, tc.req); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Peek(cctx, q.URL(), PeekRequest{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
}

// TestPeekChangesNothing peeks at standard and FIFO queues many times, then
// checks that receives see exactly what they would have without the peeks.
func TestPeekChangesNothing(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		t.Run("fifo="+strconv.FormatBool(fifo), func(t *testing.T) {
			e, _ := newTestEngine(t)
			ctx := context.Background()
			name, attrs := "still", backend.Attributes(nil)
			if fifo {
				name, attrs = "still.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}
			}
			q := mustQueue(t, e, name, attrs)
			var entries []backend.SendEntry
			for i := range 6 {
				entries = append(entries, backend.SendEntry{ID: strconv.Itoa(i), Body: "b" + strconv.Itoa(i), MessageGroupID: map[bool]string{true: "g", false: ""}[fifo]})
			}
			if _, err := q.Send(ctx, entries); err != nil {
				t.Fatal(err)
			}
			before := e.Stats()
			for range 3 {
				ms, err := e.Peek(ctx, q.URL(), PeekRequest{Max: 100})
				if err != nil || len(ms) != 6 {
					t.Fatalf("peek: %v %v", peekBodies(ms), err)
				}
			}
			if after := e.Stats(); !equalStats(before, after) {
				t.Fatalf("stats changed by peek:\n%+v\n%+v", before, after)
			}
			var seen []string
			for len(seen) < 6 {
				got, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}})
				if err != nil || len(got) == 0 {
					t.Fatalf("receive: %v %v (seen %v)", bodies(got), err, seen)
				}
				var del []backend.DeleteEntry
				for i, m := range got {
					if m.Attributes["ApproximateReceiveCount"] != "1" {
						t.Fatalf("%s received before: count %s", m.Body, m.Attributes["ApproximateReceiveCount"])
					}
					seen = append(seen, m.Body)
					del = append(del, backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle})
				}
				if _, err := q.Delete(ctx, del); err != nil {
					t.Fatal(err)
				}
			}
			if fifo && !equal(seen, []string{"b0", "b1", "b2", "b3", "b4", "b5"}) {
				t.Fatalf("FIFO order after peeks: %v", seen)
			}
		})
	}
}

// TestPeekFIFOGroupLockUnchanged: peeking a locked FIFO group neither
// unlocks it nor shows its later messages as received.
func TestPeekFIFOGroupLockUnchanged(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "lock.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "a1", MessageGroupID: "a"}, {ID: "2", Body: "a2", MessageGroupID: "a"}}); err != nil {
		t.Fatal(err)
	}
	got, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	if len(got) != 1 || got[0].Body != "a1" {
		t.Fatalf("receive: %v", bodies(got))
	}
	ms, err := e.Peek(ctx, q.URL(), PeekRequest{})
	if err != nil || !equal(peekStates(ms), []string{PeekInflight, PeekVisible}) || ms[1].GroupID != "a" ||
		ms[1].Attributes["SequenceNumber"] == "" || ms[1].Attributes["MessageDeduplicationId"] == "" {
		t.Fatalf("peek: %+v %v", ms, err)
	}
	if got, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)}); len(got) != 0 {
		t.Fatalf("group a must stay locked after a peek; got %v", bodies(got))
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPeekDurableWritesNothing: on a durable engine, peeks and stats add
// nothing to the log; after a reopen the counters start at zero while the
// messages are all there.
func TestPeekDurableWritesNothing(t *testing.T) {
	dir := t.TempDir()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ctx := context.Background()
	e := openDurable(t, dir, clk)
	q := mustQueue(t, e, "d", nil)
	if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "a"}, {ID: "2", Body: "b"}, {ID: "3", Body: "c"}}); err != nil {
		t.Fatal(err)
	}
	recvN(t, q, 1)
	lsn := e.wal.currentLSN()
	for range 3 {
		if ms, err := e.Peek(ctx, q.URL(), PeekRequest{}); err != nil || len(ms) != 3 {
			t.Fatalf("peek: %v %v", peekBodies(ms), err)
		}
		e.Stats()
	}
	if got := e.wal.currentLSN(); got != lsn {
		t.Fatalf("peeks wrote to the log: LSN %d -> %d", lsn, got)
	}
	if s := e.Stats(); s[0].Sent != 3 || s[0].Received != 1 {
		t.Fatalf("stats before reopen: %+v", s)
	}
	e.Close()
	e = openDurable(t, dir, clk)
	defer e.Close()
	s := e.Stats()
	if len(s) != 1 || s[0].Visible != 2 || s[0].InFlight != 1 || s[0].Sent != 0 || s[0].Received != 0 {
		t.Fatalf("stats after reopen: %+v", s)
	}
	ms, err := e.Peek(ctx, q.URL(), PeekRequest{})
	if err != nil || !equal(peekStates(ms), []string{PeekInflight, PeekVisible, PeekVisible}) || ms[0].ReceiveCount != 1 {
		t.Fatalf("peek after reopen: %+v %v", ms, err)
	}
}
