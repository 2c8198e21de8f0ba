package backendtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// Fair queues: a standard queue whose messages carry a MessageGroupId
// keeps one noisy tenant's backlog from delaying the others. The authority
// is the Developer Guide's "Amazon SQS fair queues" and "How Amazon SQS
// fair queues work": a tenant is noisy when it holds "more than 10% of
// in-flight messages in the queue and has at least 30 of its own messages
// in flight" (or more than 10% of recent processing time); "Whenever quiet
// tenant messages are available, consumer instances polling for messages
// receive messages from quiet tenants"; "When no quiet tenant messages are
// waiting, consumer instances receive noisy neighbor messages as usual";
// "Each message without a MessageGroupId is treated as belonging to its
// own distinct tenant"; and MessageGroupId on a standard queue
// (SendMessage) keeps "the high throughput of standard queues": messages
// of one group "can be processed in parallel" — no ordering, no locking.
func fairScenarios() []scenario {
	return []scenario{
		{name: "NoisyTenant", needs: capFairQueues, run: testFairNoisyTenant},
		{name: "UngroupedMessagesAreQuietTenants", needs: capFairQueues, run: testFairUngroupedQuiet},
		{name: "NoisyWorkServedWhenAlone", needs: capFairQueues, run: testFairNoisyServedWhenAlone},
		{name: "NoisyUntilBacklogDrains", needs: capFairQueues, run: testFairNoisyUntilBacklogDrains},
		{name: "FewestInFlightNoisyFirst", needs: capFairQueues, run: testFairFewestInFlightFirst},
		{name: "NoLockingNoOrdering", needs: capFairQueues, run: testFairNoLocking},
		{name: "GroupAttribute", needs: capFairQueues, run: testFairGroupAttribute},
	}
}

// sendGroup sends n messages with body body in group (none when empty).
func (e *env) sendGroup(url, group, body string, n int) {
	e.Helper()
	q := e.q(url)
	for i := 0; i < n; i += backend.MaxBatchEntries {
		es := make([]backend.SendEntry, 0, backend.MaxBatchEntries)
		for j := i; j < n && j < i+backend.MaxBatchEntries; j++ {
			es = append(es, backend.SendEntry{ID: entryID(j - i), Body: body, MessageGroupID: group})
		}
		res, err := q.Send(e.ctx, es)
		if err != nil {
			e.Fatalf("Send: %v", err)
		}
		for _, r := range res {
			if r.Err != nil {
				e.Fatalf("Send entry %s: %v", r.ID, r.Err)
			}
		}
	}
}

// receiveTen makes one short-poll receive of up to ten messages, asking
// for MessageGroupId.
func (e *env) receiveTen(url string) []*backend.Message {
	e.Helper()
	return e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"MessageGroupId"}})
}

// makeNoisy puts n messages of group "noisy" in flight (n a multiple of
// 10) on a queue that holds only the noisy backlog so far.
func (e *env) makeNoisy(url string, n int) {
	e.Helper()
	for got := 0; got < n; {
		msgs := e.receiveTen(url)
		if len(msgs) == 0 {
			e.Fatalf("the noisy backlog ran dry after %d receives", got)
		}
		for _, m := range msgs {
			if m.Body != "noisy" {
				e.Fatalf("received %q while only the noisy tenant had sent", m.Body)
			}
		}
		got += len(msgs)
	}
}

func testFairNoisyTenant(e *env) {
	e.skipSlow("sends 100,000 messages")
	url := e.create("tenants", nil)
	// The test: 100,000 messages of one group, then 50 quiet
	// groups of 10; with at least 30 of the noisy group in flight (all of
	// the in-flight messages, so far more than 10%), the quiet groups'
	// dwell time stays near that of an otherwise idle queue: the next 50
	// receives of ten deliver exactly the 500 quiet messages, as they
	// would on a queue holding nothing else. The quiet consumers process
	// what they get at once (delete it), so the noisy tenant keeps its
	// share of the in-flight messages throughout.
	e.sendGroup(url, "noisy", "noisy", 100_000)
	e.makeNoisy(url, 30)
	for g := range 50 {
		group := fmt.Sprintf("quiet-%02d", g)
		e.sendGroup(url, group, group, 10)
	}
	seen := map[string]int{}
	for i := range 50 {
		msgs := e.receiveTen(url)
		var hs []string
		for _, m := range msgs {
			if !strings.HasPrefix(m.Body, "quiet-") {
				e.Fatalf("receive %d after the quiet sends delivered a %q message while %d quiet messages waited", i, m.Body, 500-len(seen))
			}
			if g := m.Attributes["MessageGroupId"]; g != m.Body {
				e.Errorf("message of %s has MessageGroupId %q", m.Body, g)
			}
			seen[m.MessageID]++
			hs = append(hs, m.ReceiptHandle)
		}
		if len(msgs) != 10 {
			e.Fatalf("receive %d after the quiet sends returned %d messages, want 10 quiet ones", i, len(msgs))
		}
		e.deleteOK(url, hs...)
	}
	if n := len(seen); n != 500 {
		e.Fatalf("50 receives delivered %d distinct quiet messages, want 500", n)
	}
	e.wantCounts(url, counts{Visible: 100_000 - 30, InFlight: 30})
	// With the quiet work done, the noisy backlog is delivered again.
	if msgs := e.receiveTen(url); len(msgs) != 10 || msgs[0].Body != "noisy" {
		e.Fatalf("with only noisy work left, receive returned %v", short(bodiesOf(msgs)))
	}
}

func testFairUngroupedQuiet(e *env) {
	url := e.create("tenants", nil)
	// "Each message without a MessageGroupId is treated as belonging to
	// its own distinct tenant": behind a noisy tenant's backlog, messages
	// without a group are served first.
	e.sendGroup(url, "noisy", "noisy", 2000)
	e.makeNoisy(url, 40)
	e.sendGroup(url, "", "lone", 25)
	var got []string
	for range 3 {
		msgs := e.receiveTen(url)
		for _, m := range msgs {
			got = append(got, m.Body)
			if _, ok := m.Attributes["MessageGroupId"]; ok && m.Body == "lone" {
				e.Errorf("a message sent without a group has MessageGroupId %q", m.Attributes["MessageGroupId"])
			}
		}
		e.deleteOK(url, handlesOf(msgs)...)
	}
	want := slices.Repeat([]string{"lone"}, 25)
	if !slices.Equal(got[:min(25, len(got))], want) {
		e.Fatalf("after the ungrouped sends, receives delivered %v first, want 25 ungrouped messages", short(got))
	}
	if len(got) != 30 || got[29] != "noisy" {
		e.Errorf("the third receive returned %v after the ungrouped messages, want noisy work filling it", short(got[25:]))
	}
}

func testFairNoisyServedWhenAlone(e *env) {
	url := e.create("tenants", nil)
	// "When no quiet tenant messages are waiting, consumer instances
	// receive noisy neighbor messages as usual." Noisy messages are not
	// dropped or throttled.
	e.sendGroup(url, "noisy", "noisy", 200)
	e.makeNoisy(url, 50)
	e.sendGroup(url, "quiet", "quiet", 5)
	msgs := e.receiveTen(url)
	n := 0
	for _, m := range msgs {
		if m.Body == "quiet" {
			n++
		}
	}
	if n != 5 || len(msgs) != 10 {
		e.Fatalf("receive returned %d messages with %d quiet ones, want the 5 quiet ones and 5 noisy ones", len(msgs), n)
	}
	for i := 0; i < 145; {
		msgs := e.receiveTen(url)
		if len(msgs) == 0 {
			e.Fatalf("the noisy backlog was held back with nothing else waiting: %d of 145 delivered", i)
		}
		i += len(msgs)
	}
	e.wantCounts(url, counts{InFlight: 205})
	e.wantNone(url)
}

func testFairNoisyUntilBacklogDrains(e *env) {
	url := e.create("tenants", nil)
	// "When a noisy neighbor becomes quiet: A tenant is no longer
	// considered a noisy neighbor when either condition is met: The
	// tenant's backlog is fully drained. The tenant hasn't sent any
	// messages for 5 consecutive minutes." So it stays noisy when its
	// share of the in-flight messages falls: here to 30 of 430 (7%) as 40
	// quiet tenants take up to 10 in flight each, far fewer than its 30.
	e.sendGroup(url, "noisy", "noisy", 1000)
	e.makeNoisy(url, 30)
	for g := range 40 {
		group := fmt.Sprintf("quiet-%02d", g)
		e.sendGroup(url, group, group, 10)
	}
	for i := range 40 {
		for _, m := range e.receiveTen(url) {
			if m.Body == "noisy" {
				e.Fatalf("receive %d delivered noisy work while quiet messages waited (30 noisy of %d in flight)", i, 30+10*i)
			}
		}
	}
	e.wantCounts(url, counts{Visible: 970, InFlight: 430})
	if msgs := e.receiveTen(url); len(msgs) != 10 || msgs[0].Body != "noisy" {
		e.Fatalf("with only noisy work left, receive returned %v", short(bodiesOf(msgs)))
	}
}

func testFairFewestInFlightFirst(e *env) {
	url := e.create("tenants", nil)
	// "If multiple tenants are detected as noisy neighbors at the same
	// time, consumer instances first receive messages from noisy tenants
	// with the fewest in-flight messages." Tenant big holds 60 in flight,
	// then tenant small, quiet at first, gets 30 in flight: both are noisy
	// (67% and 33% of the in-flight messages, at least 30 each), and small
	// has fewer.
	e.sendGroup(url, "big", "big", 200)
	for range 6 {
		for _, m := range e.receiveTen(url) {
			if m.Body != "big" {
				e.Fatalf("received %q while only big had sent", m.Body)
			}
		}
	}
	e.sendGroup(url, "small", "small", 200)
	for i := range 3 {
		for _, m := range e.receiveTen(url) {
			if m.Body != "small" {
				e.Fatalf("receive %d delivered %q while the quiet tenant small had messages waiting", i, m.Body)
			}
		}
	}
	msgs := e.receiveTen(url)
	if len(msgs) != 10 {
		e.Fatalf("receive returned %d messages, want 10", len(msgs))
	}
	for _, m := range msgs {
		if m.Body != "small" {
			e.Fatalf("with big (60 in flight) and small (30 in flight) both noisy, receive delivered %v, want small's messages first", bodiesInOrder(msgs))
		}
	}
}

func testFairNoLocking(e *env) {
	url := e.create("tenants", nil)
	// A group on a standard queue adds no locking: with messages of the
	// group in flight, more of it are delivered, and nothing is held back.
	for i := range 3 {
		es := make([]backend.SendEntry, 10)
		for j := range es {
			es[j] = backend.SendEntry{ID: entryID(j), Body: fmt.Sprintf("m%02d", i*10+j), MessageGroupID: "g"}
		}
		e.sendOK(url, es...)
	}
	var all []*backend.Message
	for range 3 {
		msgs := e.receiveTen(url)
		if len(msgs) != 10 {
			e.Fatalf("receive returned %d messages of one group while others of it were in flight, want 10", len(msgs))
		}
		all = append(all, msgs...)
	}
	if got := bodiesOf(all); !slices.Equal(got, numberedFrom("m", 30)) {
		e.Fatalf("received %v", short(got))
	}
	e.wantCounts(url, counts{InFlight: 30})
	// A released message is delivered again at once, with others of its
	// group still in flight.
	e.setVis(url, all[5].ReceiptHandle, 0)
	if m := e.receiveOne(url); m.MessageID != all[5].MessageID {
		e.Fatalf("received %s, want the released %s", m.Body, all[5].Body)
	}
	// Deleting works as on any standard queue.
	e.deleteOK(url, handlesOf(slices.Delete(all, 5, 6))...)
	e.wantCounts(url, counts{InFlight: 1})
}

func testFairGroupAttribute(e *env) {
	url := e.create("tenants", nil)
	// API Reference (ReceiveMessage, MessageSystemAttributeNames):
	// MessageGroupId "Returns the value provided by the producer"; a
	// standard queue assigns no SequenceNumber and no deduplication id.
	e.sendOK(url, backend.SendEntry{ID: "a", Body: "grouped", MessageGroupID: "tenant-1"}, backend.SendEntry{ID: "b", Body: "plain"})
	msgs := e.receive(url, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}})
	if len(msgs) != 2 {
		e.Fatalf("received %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		want := map[string]string{"grouped": "tenant-1", "plain": ""}[m.Body]
		if got := m.Attributes["MessageGroupId"]; got != want {
			e.Errorf("message %s: MessageGroupId %q, want %q", m.Body, got, want)
		}
		for _, k := range []string{"SequenceNumber", "MessageDeduplicationId"} {
			if v, ok := m.Attributes[k]; ok {
				e.Errorf("standard-queue message %s has %s=%q", m.Body, k, v)
			}
		}
	}
}
