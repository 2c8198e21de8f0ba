package backendtest

import (
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Visibility timeouts and receipt handles.
func visibilityScenarios() []scenario {
	return []scenario{
		{name: "QueueDefault", run: testVisibilityQueueDefault},
		{name: "QueueAttribute", run: testVisibilityQueueAttribute},
		{name: "ReceiveOverride", run: testVisibilityReceiveOverride},
		{name: "ChangeExtends", run: testChangeVisibilityExtends},
		{name: "ChangeToZero", run: testChangeVisibilityZero},
		{name: "ChangeAfterTimeout", run: testChangeVisibilityAfterTimeout},
		{name: "ChangePast12Hours", run: testChangeVisibilityPast12Hours},
		{name: "ChangeOutOfRange", run: testChangeVisibilityOutOfRange},
		{name: "ChangeBatchIsolated", run: testChangeVisibilityBatchIsolated},
		{name: "HandleNewEachReceive", run: testHandleNewEachReceive},
		{name: "HandleForged", run: testHandleForged},
		{name: "HandleOtherQueue", run: testHandleOtherQueue},
		{name: "HandleStale", run: testHandleStale},
	}
}

// wantVisibleAfter checks that the queue's only message is in flight now
// and for d-1s more, then visible at d (advancing the clock by d).
func (e *env) wantVisibleAfter(url string, d time.Duration) *backend.Message {
	e.Helper()
	if d > time.Second {
		e.advance(d - time.Second)
		e.wantCounts(url, counts{InFlight: 1})
		e.wantNone(url)
		e.advance(time.Second)
	} else {
		e.advance(d)
	}
	e.wantCounts(url, counts{Visible: 1})
	return e.receiveOne(url)
}

func testVisibilityQueueDefault(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	e.receiveOne(url)
	e.wantCounts(url, counts{InFlight: 1})
	e.wantNone(url)
	e.reopen()
	// The default VisibilityTimeout is 30 s (API Reference, CreateQueue).
	e.wantVisibleAfter(url, 30*time.Second)
}

func testVisibilityQueueAttribute(e *env) {
	url := e.create("q", nil)
	e.setAttrs(url, backend.Attributes{"VisibilityTimeout": "10"})
	e.send(url, "m")
	e.receiveOne(url)
	e.wantVisibleAfter(url, 10*time.Second)
	// 0 makes a received message visible at once.
	e.setAttrs(url, backend.Attributes{"VisibilityTimeout": "0"})
	e.wantCounts(url, counts{InFlight: 1}) // does not change messages in flight
	e.advance(10 * time.Second)
	e.receiveOne(url)
	e.wantCounts(url, counts{Visible: 1})
}

func testVisibilityReceiveOverride(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	// API Reference (ReceiveMessage, VisibilityTimeout): "The duration (in
	// seconds) that the received messages are hidden from subsequent
	// retrieve requests after being retrieved by a ReceiveMessage request."
	e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(5)})
	e.wantVisibleAfter(url, 5*time.Second) // received again with the queue's 30 s
	e.wantVisibleAfter(url, 30*time.Second)
	e.advance(30 * time.Second)
	msgs := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(0)})
	if len(msgs) != 1 {
		e.Fatalf("received %d messages, want 1", len(msgs))
	}
	e.wantCounts(url, counts{Visible: 1})
	e.receiveOne(url)
}

func testChangeVisibilityExtends(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	m := e.receiveOne(url)
	e.advance(20 * time.Second)
	// API Reference (ChangeMessageVisibility): "the 10 seconds begin to
	// count from the time that you make the ChangeMessageVisibility call".
	e.setVis(url, m.ReceiptHandle, 100)
	e.reopen()
	e.wantVisibleAfter(url, 100*time.Second)
	// "If you don't delete a message after it is received, the visibility
	// timeout for the message reverts to the original timeout value (not to
	// the value you set using the ChangeMessageVisibility action) the next
	// time the message is received."
	m = e.wantVisibleAfter(url, 30*time.Second)
	// Shortening works too.
	e.setVis(url, m.ReceiptHandle, 10)
	e.wantVisibleAfter(url, 10*time.Second)
}

func testChangeVisibilityZero(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	m := e.receiveOne(url)
	e.setVis(url, m.ReceiptHandle, 0)
	e.wantCounts(url, counts{Visible: 1})
	m2 := e.receiveOne(url)
	if m2.MessageID != m.MessageID {
		e.Fatalf("received %s, want %s again", m2.MessageID, m.MessageID)
	}
	e.deleteOK(url, m2.ReceiptHandle)
	e.wantCounts(url, counts{})
}

func testChangeVisibilityAfterTimeout(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(5)})[0]
	e.advance(5 * time.Second)
	e.wantCounts(url, counts{Visible: 1})
	// The message is visible again and was not received since. Real SQS
	// answers a visibility change with its handle with success and applies
	// it (recorded for issue 19; not MessageNotInflight): 0 leaves it
	// visible, 60 hides it for 60 s from now.
	e.setVis(url, m.ReceiptHandle, 0)
	e.wantCounts(url, counts{Visible: 1})
	e.setVis(url, m.ReceiptHandle, 60)
	e.wantCounts(url, counts{InFlight: 1})
	e.wantNone(url)
	e.reopen()
	e.advance(59 * time.Second)
	e.wantNone(url)
	e.advance(time.Second)
	// The change is not a receive: the count goes up once, at the next
	// receive.
	again := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), SystemAttributeNames: []string{"ApproximateReceiveCount"}})
	if len(again) != 1 || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		e.Fatalf("received %d messages (%v), want m with ApproximateReceiveCount 2", len(again), again)
	}
	// The 12 hours still count from the receive that issued the handle.
	e.advance(31 * time.Second)
	r := e.changeVis(url, backend.VisibilityEntry{ID: "v", ReceiptHandle: again[0].ReceiptHandle, VisibilityTimeout: backend.MaxVisibilityTimeout})
	e.wantEntryErr("ChangeVisibility to 12 h, 31 s after the receive", r[0].Err, backend.CodeInvalidParameterValue)
	e.wantCounts(url, counts{Visible: 1})
	e.deleteOK(url, again[0].ReceiptHandle)
	e.wantCounts(url, counts{})
}

func testChangeVisibilityPast12Hours(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	m := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(7200)})[0]
	e.advance(time.Hour)
	// API Reference (ChangeMessageVisibility): "If you attempt to set the
	// VisibilityTimeout to a value greater than the maximum time left,
	// Amazon SQS returns an error. Amazon SQS doesn't automatically
	// recalculate and increase the timeout to the maximum remaining time."
	// The maximum is 12 hours from the receive; the error is
	// InvalidParameterValue (issue #5's list of lease-lost codes).
	for _, secs := range []int{11*3600 + 1, backend.MaxVisibilityTimeout} {
		r := e.changeVis(url, backend.VisibilityEntry{ID: "v", ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: secs})
		e.wantEntryErr("ChangeVisibility past 12 h from the receive", r[0].Err, backend.CodeInvalidParameterValue)
	}
	// Not clamped, not applied: the message is visible when its original
	// 2 hours end.
	m = e.wantVisibleAfter(url, time.Hour)

	// Reaching exactly 12 hours from the receive is allowed: 12 h right
	// after the receive, then 11 h an hour later.
	e.setVis(url, m.ReceiptHandle, backend.MaxVisibilityTimeout)
	e.advance(time.Hour)
	e.setVis(url, m.ReceiptHandle, 11*3600)
	e.wantVisibleAfter(url, 11*time.Hour)
}

func testChangeVisibilityOutOfRange(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	m := e.receiveOne(url)
	// API Reference (ChangeMessageVisibility, VisibilityTimeout): "Values
	// range: 0 to 43200."
	for _, secs := range []int{-1, backend.MaxVisibilityTimeout + 1} {
		r := e.changeVis(url, backend.VisibilityEntry{ID: "v", ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: secs})
		e.wantEntryErr("ChangeVisibility out of range", r[0].Err, backend.CodeInvalidParameterValue)
		e.wantCounts(url, counts{InFlight: 1})
	}
	e.wantVisibleAfter(url, 30*time.Second)
}

func testChangeVisibilityBatchIsolated(e *env) {
	url := e.create("q", nil)
	e.send(url, "now", "bad", "later")
	handles := map[string]string{}
	for _, m := range e.receiveAll(url) {
		handles[m.Body] = m.ReceiptHandle
	}
	res := e.changeVis(url,
		backend.VisibilityEntry{ID: "now", ReceiptHandle: handles["now"], VisibilityTimeout: 0},
		backend.VisibilityEntry{ID: "bad", ReceiptHandle: handles["bad"], VisibilityTimeout: backend.MaxVisibilityTimeout + 1},
		backend.VisibilityEntry{ID: "forged", ReceiptHandle: "forged-handle", VisibilityTimeout: 0},
		backend.VisibilityEntry{ID: "later", ReceiptHandle: handles["later"], VisibilityTimeout: 100})
	if res[0].Err != nil || res[3].Err != nil {
		e.Fatalf("valid entries failed next to invalid ones: %v, %v", res[0].Err, res[3].Err)
	}
	e.wantEntryErr("out-of-range entry", res[1].Err, backend.CodeInvalidParameterValue)
	e.wantEntryErr("forged entry", res[2].Err, backend.CodeReceiptHandleIsInvalid)
	e.wantCounts(url, counts{Visible: 1, InFlight: 2})
	e.deleteOK(url, e.wantBodies(url, "now")[0].ReceiptHandle)
	e.advance(30 * time.Second)
	e.deleteOK(url, e.wantBodies(url, "bad")[0].ReceiptHandle) // its original 30 s
	e.advance(70 * time.Second)
	e.wantBodies(url, "later")
}

func testHandleNewEachReceive(e *env) {
	url := e.create("q", nil)
	e.send(url, "a", "b")
	seen := map[string]bool{}
	for range 3 {
		for _, m := range e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(0)}) {
			// API Reference (DeleteMessage): "If you receive the same
			// message more than once, you will get a different
			// ReceiptHandle each time."
			if seen[m.ReceiptHandle] {
				e.Fatalf("receipt handle %q issued twice", m.ReceiptHandle)
			}
			seen[m.ReceiptHandle] = true
		}
	}
	if len(seen) != 6 {
		e.Fatalf("got %d distinct handles from 3 receives of 2 messages, want 6", len(seen))
	}
}

// forgedHandles are receipt handles no backend issued, made from a real
// one h.
func forgedHandles(h string) []string {
	return []string{
		"garbage",
		"not a handle!",
		strings.Repeat("A", 200),
		"AQEBzxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/==",
		h[:len(h)/2],
	}
}

func testHandleForged(e *env) {
	url := e.create("q", nil)
	e.send(url, "m", "n")
	msgs := e.receiveAll(url)
	h := msgs[0].ReceiptHandle
	// API Reference (DeleteMessage errors): ReceiptHandleIsInvalid, "The
	// specified receipt handle isn't valid." Each forged entry fails alone;
	// the valid entry next to it succeeds.
	for _, f := range forgedHandles(h) {
		res := e.changeVis(url,
			backend.VisibilityEntry{ID: "forged", ReceiptHandle: f, VisibilityTimeout: 0},
			backend.VisibilityEntry{ID: "real", ReceiptHandle: h, VisibilityTimeout: 60})
		e.wantEntryErr("ChangeVisibility with handle "+f, res[0].Err, backend.CodeReceiptHandleIsInvalid)
		if res[1].Err != nil {
			e.Fatalf("valid ChangeVisibility entry next to a forged one failed: %v", res[1].Err)
		}
		dr := e.deleteBatch(url, backend.DeleteEntry{ID: "forged", ReceiptHandle: f})
		e.wantEntryErr("Delete with handle "+f, dr[0].Err, backend.CodeReceiptHandleIsInvalid)
		e.wantCounts(url, counts{InFlight: 2})
	}
	res := e.deleteBatch(url,
		backend.DeleteEntry{ID: "forged", ReceiptHandle: "garbage"},
		backend.DeleteEntry{ID: "real", ReceiptHandle: h})
	e.wantEntryErr("Delete with a forged handle", res[0].Err, backend.CodeReceiptHandleIsInvalid)
	if res[1].Err != nil {
		e.Fatalf("valid Delete entry next to a forged one failed: %v", res[1].Err)
	}
	e.wantCounts(url, counts{InFlight: 1})
	e.advance(60 * time.Second)
	e.wantBodies(url, msgs[1].Body)
}

func testHandleOtherQueue(e *env) {
	a := e.create("a", nil)
	b := e.create("b", nil)
	e.send(a, "from a")
	e.send(b, "from b")
	ha := e.receiveOne(a).ReceiptHandle
	e.receiveOne(b)
	// A handle is only valid on the queue that issued it.
	res := e.changeVis(b, backend.VisibilityEntry{ID: "v", ReceiptHandle: ha, VisibilityTimeout: 0})
	e.wantEntryErr("ChangeVisibility with another queue's handle", res[0].Err, backend.CodeReceiptHandleIsInvalid)
	dr := e.deleteBatch(b, backend.DeleteEntry{ID: "d", ReceiptHandle: ha})
	e.wantEntryErr("Delete with another queue's handle", dr[0].Err, backend.CodeReceiptHandleIsInvalid)
	e.wantCounts(a, counts{InFlight: 1})
	e.wantCounts(b, counts{InFlight: 1})
	e.deleteOK(a, ha)
	e.wantCounts(a, counts{})
}

func testHandleStale(e *env) {
	url := e.create("q", nil)
	e.send(url, "m")
	h1 := e.receive(url, backend.ReceiveRequest{WaitTimeSeconds: new(0), VisibilityTimeout: new(10)})[0].ReceiptHandle
	e.advance(10 * time.Second)
	h2 := e.receiveOne(url).ReceiptHandle // in flight for 30 s under h2

	// A visibility change with the handle of an earlier receive applies to
	// the message, as one with the latest handle does (real SQS, recorded
	// for issue 19).
	e.setVis(url, h1, 100)
	e.reopen()
	e.advance(99 * time.Second)
	e.wantCounts(url, counts{InFlight: 1})
	e.wantNone(url)
	// The current handle works too.
	e.setVis(url, h2, 0)
	e.wantCounts(url, counts{Visible: 1})
	h3 := e.receiveOne(url).ReceiptHandle
	e.setVis(url, h1, 50)
	// API Reference (DeleteMessage): "If you use an old ReceiptHandle, the
	// request will succeed, but the message might not be deleted." Here it
	// is.
	e.deleteOK(url, h1)
	e.wantCounts(url, counts{})
	e.deleteOK(url, h3)
	// A handle of a deleted message: ReceiptHandleIsInvalid as a batch
	// entry, InvalidParameterValue from ChangeMessageVisibility, which the
	// contract carries as Error.SingleCode.
	res := e.changeVis(url, backend.VisibilityEntry{ID: "v", ReceiptHandle: h2, VisibilityTimeout: 0})
	be := e.wantEntryErr("ChangeVisibility of a deleted message", res[0].Err, backend.CodeReceiptHandleIsInvalid)
	if got := be.AsSingle(); !e.h.Remote && got.Code != backend.CodeInvalidParameterValue {
		e.Errorf("deleted message: AsSingle() code %q, want %s (SingleCode %q)", got.Code, backend.CodeInvalidParameterValue, be.SingleCode)
	}
	e.advance(time.Hour)
	e.wantNone(url)
}
