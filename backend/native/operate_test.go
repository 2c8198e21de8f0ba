package native

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

func sendN(t *testing.T, q backend.Queue, n int, entry func(i int) backend.SendEntry) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i += 10 {
		var es []backend.SendEntry
		for j := i; j < min(n, i+10); j++ {
			e := entry(j)
			e.ID = strconv.Itoa(j)
			es = append(es, e)
		}
		res, err := q.Send(context.Background(), es)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			ids = append(ids, r.MessageID)
		}
	}
	return ids
}

func TestBrowseFiltersAndCursor(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "browse", nil)
	sendN(t, q, 2500, func(i int) backend.SendEntry {
		en := backend.SendEntry{Body: `{"n":` + strconv.Itoa(i) + `}`}
		if i%100 == 7 {
			en.MessageAttributes = map[string]backend.MessageAttributeValue{"kind": {DataType: "String", StringValue: "rare"}}
		}
		return en
	})
	// Whole queue in pages of 100, cursor to cursor.
	seen, cursor, pages := 0, "", 0
	for {
		res, err := e.Browse(ctx, q.URL(), BrowseRequest{Max: 100, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range res.Messages {
			if m.Body != `{"n":`+strconv.Itoa(seen+i)+`}` {
				t.Fatalf("page %d message %d: %s", pages, i, m.Body)
			}
		}
		seen += len(res.Messages)
		pages++
		if res.Cursor == "" {
			break
		}
		cursor = res.Cursor
	}
	if seen != 2500 || pages != 25 {
		t.Fatalf("saw %d in %d pages", seen, pages)
	}

	// An attribute filter, bounded scans: the caller continues.
	var rare []string
	cursor = ""
	for {
		res, err := e.Browse(ctx, q.URL(), BrowseRequest{Max: 100, Cursor: cursor, MaxScan: 1000, Filter: BrowseFilter{Attribute: "kind", AttributeValue: "rare"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Scanned > 1000 {
			t.Fatalf("scanned %d", res.Scanned)
		}
		for _, m := range res.Messages {
			rare = append(rare, m.Body)
		}
		if res.Cursor == "" {
			break
		}
		cursor = res.Cursor
	}
	if len(rare) != 25 || rare[0] != `{"n":7}` || rare[24] != `{"n":2407}` {
		t.Fatalf("rare: %d %v", len(rare), rare)
	}

	// Text and state; deleting messages before a cursor keeps it valid.
	res, err := e.Browse(ctx, q.URL(), BrowseRequest{Max: 5, Filter: BrowseFilter{Text: `"n":24`}})
	if err != nil || len(res.Messages) != 5 || res.Messages[0].Body != `{"n":24}` || res.Messages[1].Body != `{"n":240}` {
		t.Fatalf("text: %v %v", peekBodies(res.Messages), err)
	}
	all, _ := e.Peek(ctx, q.URL(), PeekRequest{Max: 3})
	if _, err := e.DeleteMessagesByID(ctx, q.URL(), []string{all[0].MessageID}); err != nil {
		t.Fatal(err)
	}
	next, err := e.Browse(ctx, q.URL(), BrowseRequest{Max: 5, Cursor: res.Cursor, Filter: BrowseFilter{Text: `"n":24`}})
	if err != nil || len(next.Messages) != 5 || next.Messages[0].Body != `{"n":244}` {
		t.Fatalf("after a delete: %v %v", peekBodies(next.Messages), err)
	}
	got, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 2, WaitTimeSeconds: new(0)})
	inflight, err := e.Browse(ctx, q.URL(), BrowseRequest{Max: 10, Filter: BrowseFilter{State: PeekInflight}})
	if err != nil || len(inflight.Messages) != len(got) || inflight.Messages[0].State != PeekInflight {
		t.Fatalf("in flight: %v %v", peekStates(inflight.Messages), err)
	}
	for _, bad := range []BrowseRequest{{Max: 101}, {MaxScan: -1}, {Cursor: "x"}, {Filter: BrowseFilter{State: "gone"}}} {
		if _, err := e.Browse(ctx, q.URL(), bad); !errors.Is(err, backend.ErrInvalidParameterValue) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestDeleteMessagesByID(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	q := mustQueue(t, e, "del", nil)
	ids := sendN(t, q, 5, func(i int) backend.SendEntry { return backend.SendEntry{Body: "m" + strconv.Itoa(i)} })
	got, _ := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)}) // m0 in flight
	res, err := e.DeleteMessagesByID(ctx, q.URL(), []string{ids[0], ids[2], "nope"})
	if err != nil || res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, backend.ErrInvalidParameterValue) {
		t.Fatalf("delete: %+v %v", res, err)
	}
	left, _ := e.Peek(ctx, q.URL(), PeekRequest{})
	if !equal(peekBodies(left), []string{"m1", "m3", "m4"}) {
		t.Fatalf("left: %v", peekBodies(left))
	}
	if s, _ := e.QueueStats(q.URL()); s.Visible != 3 || s.InFlight != 0 || s.Deleted != 0 {
		t.Fatalf("stats: %+v", s)
	}
	// The consumer's handle of the deleted message: deleting again succeeds.
	if r, err := q.Delete(ctx, []backend.DeleteEntry{{ID: "a", ReceiptHandle: got[0].ReceiptHandle}}); err != nil || r[0].Err != nil {
		t.Fatalf("consumer delete: %+v %v", r, err)
	}
	for _, bad := range [][]string{nil, {"a", "a"}, {""}} {
		if _, err := e.DeleteMessagesByID(ctx, q.URL(), bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}

	// A FIFO queue: deleting the in-flight head lets the group go on.
	f := mustQueue(t, e, "del.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	fids := sendN(t, f, 3, func(i int) backend.SendEntry {
		return backend.SendEntry{Body: "f" + strconv.Itoa(i), MessageGroupID: "g"}
	})
	if got, _ := f.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)}); len(got) != 1 {
		t.Fatal("fifo receive")
	}
	if got, _ := f.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)}); len(got) != 0 {
		t.Fatal("the group should be locked")
	}
	if _, err := e.DeleteMessagesByID(ctx, f.URL(), []string{fids[0]}); err != nil {
		t.Fatal(err)
	}
	got, _ = f.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	if len(got) != 2 || got[0].Body != "f1" {
		t.Fatalf("after the head's delete: %v", bodies(got))
	}
}

func TestMoveMessagesByID(t *testing.T) {
	e, _ := newTestEngine(t)
	ctx := context.Background()
	src := mustQueue(t, e, "src-dlq", nil)
	dst := mustQueue(t, e, "dst", nil)
	ids := sendN(t, src, 4, func(i int) backend.SendEntry {
		return backend.SendEntry{Body: "m" + strconv.Itoa(i),
			MessageAttributes: map[string]backend.MessageAttributeValue{"k": {DataType: "String", StringValue: "v" + strconv.Itoa(i)}}}
	})
	got, _ := src.Receive(ctx, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)}) // m0 in flight
	res, err := e.MoveMessagesByID(ctx, src.URL(), dst.URL(), []string{ids[1], ids[0], ids[3], "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || !errors.Is(res[1].Err, backend.ErrInvalidParameterValue) || res[2].Err != nil || res[3].Err == nil {
		t.Fatalf("results: %+v", res)
	}
	left, _ := e.Peek(ctx, src.URL(), PeekRequest{})
	if !equal(peekBodies(left), []string{"m0", "m2"}) {
		t.Fatalf("source: %v", peekBodies(left))
	}
	moved, _ := e.Peek(ctx, dst.URL(), PeekRequest{})
	if !equal(peekBodies(moved), []string{"m1", "m3"}) || moved[0].MessageAttributes["k"].StringValue != "v1" || moved[0].State != PeekVisible || moved[0].MessageID == ids[1] {
		t.Fatalf("destination: %+v", moved)
	}
	_ = got
	if _, err := e.MoveMessagesByID(ctx, src.URL(), src.URL(), []string{ids[2]}); !errors.Is(err, backend.ErrInvalidParameterValue) {
		t.Fatalf("to itself: %v", err)
	}
	f := mustQueue(t, e, "dst.fifo", backend.Attributes{"FifoQueue": "true"})
	if res, err := e.MoveMessagesByID(ctx, src.URL(), f.URL(), []string{ids[2]}); err != nil || res[0].Err == nil {
		t.Fatalf("no group id into a FIFO queue: %+v %v", res, err)
	}
	if _, err := e.MoveMessagesByID(ctx, src.URL(), "http://localhost:9324/000000000000/nope", []string{ids[2]}); !errors.Is(err, backend.ErrQueueDoesNotExist) {
		t.Fatalf("missing destination: %v", err)
	}
}

func TestMoveMessagesByIDDurable(t *testing.T) {
	dir := t.TempDir()
	e := openDurable(t, dir, nil)
	ctx := context.Background()
	src := mustQueue(t, e, "src", nil)
	dst := mustQueue(t, e, "dst", nil)
	ids := sendN(t, src, 3, func(i int) backend.SendEntry { return backend.SendEntry{Body: "m" + strconv.Itoa(i)} })
	if res, err := e.MoveMessagesByID(ctx, src.URL(), dst.URL(), []string{ids[1]}); err != nil || res[0].Err != nil {
		t.Fatalf("move: %+v %v", res, err)
	}
	if res, err := e.DeleteMessagesByID(ctx, src.URL(), []string{ids[2]}); err != nil || res[0].Err != nil {
		t.Fatalf("delete: %+v %v", res, err)
	}
	e.Close()
	e = openDurable(t, dir, nil)
	defer e.Close()
	s, _ := e.Peek(ctx, src.URL(), PeekRequest{})
	d, _ := e.Peek(ctx, dst.URL(), PeekRequest{})
	if !equal(peekBodies(s), []string{"m0"}) || !equal(peekBodies(d), []string{"m1"}) {
		t.Fatalf("after a restart: source %v, destination %v", peekBodies(s), peekBodies(d))
	}
}
