package backendtest

import (
	"context"
	"errors"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Long polling: a Receive that finds nothing waits up to its wait time and
// returns as soon as a message becomes available (contract,
// Queue.Receive). Parked receives are detected with Env.WaitingReceives,
// never by sleeping.
func longPollScenarios() []scenario {
	return []scenario{
		{name: "SendWakes", run: testLongPollSendWakes},
		{name: "WaitElapses", run: testLongPollWaitElapses},
		{name: "QueueDefaultWait", run: testLongPollQueueDefault},
		{name: "CancelEndsWait", run: testLongPollCancel},
		{name: "DelayEndWakes", run: testLongPollDelayEndWakes},
		{name: "VisibilityEndWakes", run: testLongPollVisibilityEndWakes},
		{name: "ChangeVisibilityZeroWakes", run: testLongPollChangeVisibilityWakes},
		{name: "AppliesRequest", run: testLongPollAppliesRequest},
		{name: "TwoWaiters", run: testLongPollTwoWaiters},
		{name: "FIFODeleteWakes", needs: capFIFO, run: testLongPollFIFODeleteWakes},
	}
}

// wait20 is a receive that long-polls for 20 seconds.
var wait20 = backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(backend.MaxWaitTimeSeconds)}

func testLongPollSendWakes(e *env) {
	url := e.create("q", nil)
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.stillWaiting(ch)
	// No clock advance: the send alone must end the wait.
	e.send(url, "wake up")
	msgs := e.awaitOK(ch, wait20)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "wake up" {
		e.Fatalf("long poll returned %v, want [wake up]", got)
	}
	e.waitParked(0)
	e.wantCounts(url, counts{InFlight: 1})
}

func testLongPollWaitElapses(e *env) {
	url := e.create("q", nil)
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.advance(19 * time.Second)
	e.stillWaiting(ch)
	if n := e.env.WaitingReceives(); n != 1 {
		e.Fatalf("WaitingReceives() = %d 19 s into a 20 s wait, want 1", n)
	}
	e.advance(time.Second)
	r := e.await(ch)
	if r.err != nil || len(r.msgs) != 0 {
		e.Fatalf("a long poll that timed out returned %d messages and error %v, want none and nil", len(r.msgs), r.err)
	}
	e.waitParked(0)
}

func testLongPollQueueDefault(e *env) {
	url := e.create("q", backend.Attributes{"ReceiveMessageWaitTimeSeconds": "5"})
	// API Reference (ReceiveMessage, WaitTimeSeconds; CreateQueue,
	// ReceiveMessageWaitTimeSeconds): the queue's value applies when the
	// request gives none.
	ch := e.startReceive(url, backend.ReceiveRequest{})
	e.waitParked(1)
	e.advance(4 * time.Second)
	e.stillWaiting(ch)
	e.advance(time.Second)
	if r := e.await(ch); r.err != nil || len(r.msgs) != 0 {
		e.Fatalf("long poll returned %d messages and error %v, want none and nil", len(r.msgs), r.err)
	}
	e.waitParked(0)
	// An explicit 0 is a short poll on such a queue: it returns at once.
	if msgs := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0)}); len(msgs) != 0 {
		e.Fatalf("short poll of an empty queue returned %d messages", len(msgs))
	}
	// With the queue's default at 0 a receive without a wait time does not
	// wait either.
	e.setAttrs(url, backend.Attributes{"ReceiveMessageWaitTimeSeconds": "0"})
	if msgs := e.receive(url, backend.ReceiveRequest{}); len(msgs) != 0 {
		e.Fatalf("short poll of an empty queue returned %d messages", len(msgs))
	}
}

func testLongPollCancel(e *env) {
	url := e.create("q", nil)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	ch := e.startReceiveCtx(ctx, url, wait20)
	e.waitParked(1)
	cancel()
	// Contract (Queue.Receive): "A ctx that ends during the wait ends the
	// wait with ctx's error."
	r := e.await(ch)
	if !errors.Is(r.err, context.Canceled) {
		e.Fatalf("cancelled long poll returned error %v, want context.Canceled", r.err)
	}
	if len(r.msgs) != 0 {
		e.Fatalf("cancelled long poll returned %d messages", len(r.msgs))
	}
	e.waitParked(0)
	// The cancelled receive took nothing with it.
	e.send(url, "after")
	e.wantBodies(url, "after")
}

func testLongPollDelayEndWakes(e *env) {
	url := e.create("q", nil)
	e.sendOK(url, backend.SendEntry{ID: "d", Body: "delayed", DelaySeconds: new(5)})
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.advance(4 * time.Second)
	e.stillWaiting(ch)
	e.advance(time.Second)
	msgs := e.awaitOK(ch, wait20)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "delayed" {
		e.Fatalf("long poll returned %v, want [delayed]", got)
	}
}

func testLongPollVisibilityEndWakes(e *env) {
	url := e.create("q", nil)
	e.send(url, "again")
	e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(5)})
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.advance(5 * time.Second)
	msgs := e.awaitOK(ch, wait20)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "again" {
		e.Fatalf("long poll returned %v, want [again]", got)
	}
}

func testLongPollChangeVisibilityWakes(e *env) {
	url := e.create("q", nil)
	e.send(url, "released")
	m := e.receiveOne(url)
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.setVis(url, m.ReceiptHandle, 0) // no clock advance
	msgs := e.awaitOK(ch, wait20)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "released" {
		e.Fatalf("long poll returned %v, want [released]", got)
	}
}

func testLongPollAppliesRequest(e *env) {
	url := e.create("q", nil)
	req := backend.ReceiveRequest{
		MaxMessages:           2,
		WaitTimeSeconds:       new(20),
		VisibilityTimeout:     new(7),
		SystemAttributeNames:  []string{"ApproximateReceiveCount"},
		MessageAttributeNames: []string{"k"},
	}
	ch := e.startReceive(url, req)
	e.waitParked(1)
	attrs := map[string]backend.MessageAttributeValue{
		"k":     {DataType: "String", StringValue: "v"},
		"other": {DataType: "String", StringValue: "x"},
	}
	e.sendOK(url,
		backend.SendEntry{ID: "a", Body: "a", MessageAttributes: attrs},
		backend.SendEntry{ID: "b", Body: "b", MessageAttributes: attrs},
		backend.SendEntry{ID: "c", Body: "c", MessageAttributes: attrs})
	msgs := e.awaitOK(ch, req)
	if len(msgs) == 0 || len(msgs) > 2 {
		e.Fatalf("long poll with MaxMessages 2 returned %d messages", len(msgs))
	}
	for _, m := range msgs {
		if m.Attributes["ApproximateReceiveCount"] != "1" || len(m.Attributes) != 1 {
			e.Errorf("message %s: attributes %v, want only ApproximateReceiveCount=1", m.Body, m.Attributes)
		}
		if len(m.MessageAttributes) != 1 || m.MessageAttributes["k"].StringValue != "v" {
			e.Errorf("message %s: message attributes %v, want only k", m.Body, m.MessageAttributes)
		}
	}
	n := len(msgs)
	e.wantCounts(url, counts{Visible: 3 - n, InFlight: n})
	// The request's visibility timeout applied.
	e.advance(7 * time.Second)
	e.wantCounts(url, counts{Visible: 3})
}

func testLongPollTwoWaiters(e *env) {
	url := e.create("q", nil)
	one := backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(20)}
	ch1 := e.startReceive(url, one)
	ch2 := e.startReceive(url, one)
	e.waitParked(2)
	e.send(url, "first")
	var got []string
	var rest <-chan recvResult
	select {
	case r := <-ch1:
		got, rest = bodiesOf(r.msgs), ch2
		if r.err != nil {
			e.Fatal(r.err)
		}
	case r := <-ch2:
		got, rest = bodiesOf(r.msgs), ch1
		if r.err != nil {
			e.Fatal(r.err)
		}
	case <-time.After(failsafe):
		e.Fatal("no long poll returned after a send")
	}
	if len(got) != 1 || got[0] != "first" {
		e.Fatalf("first waiter got %v, want [first]", got)
	}
	// The other waiter keeps waiting; one message wakes one waiter's worth.
	e.waitParked(1)
	e.stillWaiting(rest)
	e.send(url, "second")
	msgs := e.awaitOK(rest, one)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "second" {
		e.Fatalf("second waiter got %v, want [second]", got)
	}
	e.waitParked(0)
	e.wantCounts(url, counts{InFlight: 2})
}

// A FIFO group's next message is available as soon as the delete of the
// group's in-flight message lets it go: a waiting long poll gets it
// without waiting out its wait time.
func testLongPollFIFODeleteWakes(e *env) {
	url := e.createFIFO("lp.fifo", "ContentBasedDeduplication", "true")
	e.sendOK(url,
		backend.SendEntry{ID: "1", Body: "first", MessageGroupID: "g"},
		backend.SendEntry{ID: "2", Body: "second", MessageGroupID: "g"})
	first := e.receive(url, backend.ReceiveRequest{MaxMessages: 1, WaitTimeSeconds: new(0)})
	if got := bodiesOf(first); len(got) != 1 || got[0] != "first" {
		e.Fatalf("first receive = %v, want [first]", got)
	}
	ch := e.startReceive(url, wait20)
	e.waitParked(1)
	e.stillWaiting(ch)                      // the group is locked while "first" is in flight
	e.deleteOK(url, first[0].ReceiptHandle) // no clock advance
	msgs := e.awaitOK(ch, wait20)
	if got := bodiesOf(msgs); len(got) != 1 || got[0] != "second" {
		e.Fatalf("long poll returned %v, want [second]", got)
	}
}
