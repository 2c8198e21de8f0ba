package backendtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// failsafe bounds every wait on another goroutine in real time. Nothing in
// the suite waits for time to pass: waits end on channels, and failsafe
// only turns a hang (an engine bug) into a test failure.
const failsafe = 5 * time.Second

// svc returns the service under test (the current one, after a reopen).
func (e *env) svc() backend.Service { return e.env.Service }

// now returns the backend's current time.
func (e *env) now() time.Time { return e.env.Clock.Now() }

// advance moves the backend's clock forward.
func (e *env) advance(d time.Duration) { e.env.Clock.Advance(d) }

// reopen closes the backend and opens it again on the same storage when
// the harness supports it (durable engines); otherwise it does nothing.
// Queue values obtained before must not be used afterwards; helpers take
// URLs and look the queue up on every call for that reason.
func (e *env) reopen() {
	e.Helper()
	if e.env.Reopen == nil {
		return
	}
	s := e.env.Reopen(e.T)
	if s == nil {
		e.Fatal("Env.Reopen returned a nil service")
	}
	e.env.Service = s
}

// q returns the Queue at url.
func (e *env) q(url string) backend.Queue {
	e.Helper()
	q, err := e.svc().Queue(url)
	if err != nil {
		e.Fatalf("Queue(%q): %v", url, err)
	}
	return q
}

// create creates a queue and returns its URL.
func (e *env) create(name string, attrs backend.Attributes) string {
	e.Helper()
	url, err := e.svc().CreateQueue(e.ctx, name, attrs, nil)
	if err != nil {
		e.Fatalf("CreateQueue(%q, %v): %v", name, attrs, err)
	}
	if url == "" {
		e.Fatalf("CreateQueue(%q) returned an empty URL", name)
	}
	return url
}

// wantErr checks that err carries the SQS code of target, both with
// errors.Is and errors.As.
func (e *env) wantErr(what string, err error, target *backend.Error) {
	e.Helper()
	if err == nil {
		e.Fatalf("%s: got no error, want %s", what, target.Code)
	}
	if !errors.Is(err, target) {
		e.Fatalf("%s: got error %v (code %q), want code %s", what, err, backend.Code(err), target.Code)
	}
	var be *backend.Error
	if !errors.As(err, &be) || be.Code != target.Code {
		e.Fatalf("%s: errors.As gives %v, want an *backend.Error with code %s", what, be, target.Code)
	}
	if be.Message == "" {
		e.Errorf("%s: error %s has no message", what, be.Code)
	}
}

// wantMessage checks that err's message is exactly msg: for the answers
// whose text SQS's clients or users match on, recorded from real SQS.
func (e *env) wantMessage(what string, err error, msg string) {
	e.Helper()
	var be *backend.Error
	if !errors.As(err, &be) || be == nil {
		e.Fatalf("%s: error %v is not a *backend.Error", what, err)
	}
	if be.Message != msg {
		e.Errorf("%s: message %q, want %q", what, be.Message, msg)
	}
}

// wantEntryErr checks a failed batch entry's error: a *backend.Error with
// code, matched by errors.Is. It returns the *backend.Error.
func (e *env) wantEntryErr(what string, err error, code string) *backend.Error {
	e.Helper()
	if err == nil {
		e.Fatalf("%s: entry succeeded, want it to fail with %s", what, code)
	}
	var got *backend.Error
	if !errors.As(err, &got) || got == nil {
		e.Fatalf("%s: entry failed with %v, which is not a *backend.Error", what, err)
	}
	if got.Code != code || !errors.Is(err, &backend.Error{Code: code}) {
		e.Fatalf("%s: entry failed with %v, want code %s", what, got, code)
	}
	if got.Message == "" {
		e.Errorf("%s: entry error %s has no message", what, got.Code)
	}
	return got
}

// ids returns entry ids "e0", "e1", ...
func entryID(i int) string { return "e" + strconv.Itoa(i) }

// bodyEntries makes one SendEntry per body.
func bodyEntries(bodies ...string) []backend.SendEntry {
	es := make([]backend.SendEntry, len(bodies))
	for i, b := range bodies {
		es[i] = backend.SendEntry{ID: entryID(i), Body: b}
	}
	return es
}

// sendBatch sends entries in one call, which must succeed as a request;
// it checks the results' shape and the digests of the successful ones.
func (e *env) sendBatch(url string, entries ...backend.SendEntry) []backend.SendResult {
	e.Helper()
	res, err := e.q(url).Send(e.ctx, entries)
	if err != nil {
		e.Fatalf("Send of %d entries: %v", len(entries), err)
	}
	if len(res) != len(entries) {
		e.Fatalf("Send of %d entries returned %d results", len(entries), len(res))
	}
	for i, r := range res {
		en := &entries[i]
		if r.ID != en.ID {
			e.Fatalf("Send result %d has id %q, want %q (results must be in entry order)", i, r.ID, en.ID)
		}
		if r.Err != nil {
			continue
		}
		if r.MessageID == "" {
			e.Errorf("Send result %q: empty MessageID", r.ID)
		}
		if want := backend.MD5OfBody(en.Body); r.MD5OfMessageBody != want {
			e.Errorf("Send result %q: MD5OfMessageBody %q, want %q", r.ID, r.MD5OfMessageBody, want)
		}
		if want := backend.MD5OfMessageAttributes(en.MessageAttributes); r.MD5OfMessageAttributes != want {
			e.Errorf("Send result %q: MD5OfMessageAttributes %q, want %q", r.ID, r.MD5OfMessageAttributes, want)
		}
		if want := backend.MD5OfMessageAttributes(en.MessageSystemAttributes); r.MD5OfMessageSystemAttributes != want {
			e.Errorf("Send result %q: MD5OfMessageSystemAttributes %q, want %q", r.ID, r.MD5OfMessageSystemAttributes, want)
		}
	}
	return res
}

// sendOK sends entries (in batches of 10), each of which must succeed, and
// returns the message ids.
func (e *env) sendOK(url string, entries ...backend.SendEntry) []string {
	e.Helper()
	var ids []string
	for batch := range slices.Chunk(entries, backend.MaxBatchEntries) {
		for _, r := range e.sendBatch(url, batch...) {
			if r.Err != nil {
				e.Fatalf("Send entry %q: %v", r.ID, r.Err)
			}
			ids = append(ids, r.MessageID)
		}
	}
	return ids
}

// send sends one message per body and returns the message ids.
func (e *env) send(url string, bodies ...string) []string {
	e.Helper()
	return e.sendOK(url, bodyEntries(bodies...)...)
}

// receive makes one receive call, which must succeed, and checks the
// messages' shape and digests.
func (e *env) receive(url string, req backend.ReceiveRequest) []*backend.Message {
	e.Helper()
	msgs, err := e.q(url).Receive(e.ctx, req)
	if err != nil {
		e.Fatalf("Receive(%+v): %v", req, err)
	}
	e.checkMessages(req, msgs)
	return msgs
}

// checkMessages checks what every received message must satisfy.
func (e *env) checkMessages(req backend.ReceiveRequest, msgs []*backend.Message) {
	e.Helper()
	limit := max(req.MaxMessages, 1)
	if len(msgs) > limit {
		e.Errorf("Receive with MaxMessages %d returned %d messages", req.MaxMessages, len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if m == nil {
			e.Fatal("Receive returned a nil message")
		}
		if m.MessageID == "" || m.ReceiptHandle == "" {
			e.Errorf("message %q: empty MessageID or ReceiptHandle (%q)", m.Body, m.ReceiptHandle)
		}
		if seen[m.MessageID] {
			e.Errorf("one Receive returned message %s twice", m.MessageID)
		}
		seen[m.MessageID] = true
		if want := backend.MD5OfBody(m.Body); m.MD5OfBody != want {
			e.Errorf("message %s: MD5OfBody %q, want %q", m.MessageID, m.MD5OfBody, want)
		}
		// The SDKs verify MD5OfMessageAttributes against the attributes
		// returned, so it covers exactly those, and is empty without any.
		if want := backend.MD5OfMessageAttributes(m.MessageAttributes); m.MD5OfMessageAttributes != want {
			e.Errorf("message %s: MD5OfMessageAttributes %q, want %q (over the %d attributes returned)",
				m.MessageID, m.MD5OfMessageAttributes, want, len(m.MessageAttributes))
		}
	}
}

// receiveNow receives up to n messages without waiting.
func (e *env) receiveNow(url string, n int) []*backend.Message {
	e.Helper()
	return e.receive(url, backend.ReceiveRequest{MaxMessages: n, WaitTimeSeconds: new(0)})
}

// receiveOne receives exactly one message without waiting.
func (e *env) receiveOne(url string) *backend.Message {
	e.Helper()
	msgs := e.receiveNow(url, 1)
	if len(msgs) != 1 {
		e.Fatalf("Receive returned %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

// wantNone checks that a receive without waiting gets nothing.
func (e *env) wantNone(url string) {
	e.Helper()
	if msgs := e.receiveNow(url, 10); len(msgs) != 0 {
		e.Fatalf("Receive returned %d messages (first %q), want none", len(msgs), msgs[0].Body)
	}
}

// receiveAll receives until a receive comes back empty, leaving every
// message received in flight for the queue's visibility timeout.
func (e *env) receiveAll(url string) []*backend.Message {
	e.Helper()
	var all []*backend.Message
	seen := map[string]bool{}
	for range 10000 {
		msgs := e.receiveNow(url, 10)
		if len(msgs) == 0 {
			return all
		}
		for _, m := range msgs {
			if seen[m.MessageID] {
				e.Fatalf("message %s (%q) received twice while it should be in flight", m.MessageID, m.Body)
			}
			seen[m.MessageID] = true
		}
		all = append(all, msgs...)
	}
	e.Fatal("receiveAll: the queue never ran empty")
	return nil
}

// bodiesOf returns the sorted bodies of msgs.
func bodiesOf(msgs []*backend.Message) []string {
	b := make([]string, len(msgs))
	for i, m := range msgs {
		b[i] = m.Body
	}
	slices.Sort(b)
	return b
}

// wantBodies receives everything available and checks that the bodies are
// exactly want (in any order). The messages are left in flight.
func (e *env) wantBodies(url string, want ...string) []*backend.Message {
	e.Helper()
	msgs := e.receiveAll(url)
	got := bodiesOf(msgs)
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, w) {
		e.Fatalf("queue holds bodies %s, want %s", short(got), short(w))
	}
	return msgs
}

// short abbreviates long bodies in failure messages.
func short(bodies []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range bodies {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(s) > 20 {
			s = fmt.Sprintf("%s...(%d bytes)", s[:12], len(s))
		}
		fmt.Fprintf(&b, "%q", s)
	}
	b.WriteByte(']')
	return b.String()
}

// deleteOK deletes by receipt handle (in batches of 10); every entry must
// succeed.
func (e *env) deleteOK(url string, handles ...string) {
	e.Helper()
	for batch := range slices.Chunk(handles, backend.MaxBatchEntries) {
		entries := make([]backend.DeleteEntry, len(batch))
		for i, h := range batch {
			entries[i] = backend.DeleteEntry{ID: entryID(i), ReceiptHandle: h}
		}
		for _, r := range e.deleteBatch(url, entries...) {
			if r.Err != nil {
				e.Fatalf("Delete entry %s: %v", r.ID, r.Err)
			}
		}
	}
}

// deleteBatch makes one Delete call, which must succeed as a request, and
// checks the results' shape.
func (e *env) deleteBatch(url string, entries ...backend.DeleteEntry) []backend.EntryResult {
	e.Helper()
	res, err := e.q(url).Delete(e.ctx, entries)
	if err != nil {
		e.Fatalf("Delete of %d entries: %v", len(entries), err)
	}
	ids := make([]string, len(entries))
	for i := range entries {
		ids[i] = entries[i].ID
	}
	e.checkEntryResults("Delete", ids, res)
	return res
}

// changeVis makes one ChangeVisibility call, which must succeed as a
// request, and checks the results' shape.
func (e *env) changeVis(url string, entries ...backend.VisibilityEntry) []backend.EntryResult {
	e.Helper()
	res, err := e.q(url).ChangeVisibility(e.ctx, entries)
	if err != nil {
		e.Fatalf("ChangeVisibility of %d entries: %v", len(entries), err)
	}
	ids := make([]string, len(entries))
	for i := range entries {
		ids[i] = entries[i].ID
	}
	e.checkEntryResults("ChangeVisibility", ids, res)
	return res
}

// setVis changes one message's visibility; it must succeed.
func (e *env) setVis(url, handle string, seconds int) {
	e.Helper()
	r := e.changeVis(url, backend.VisibilityEntry{ID: "v", ReceiptHandle: handle, VisibilityTimeout: seconds})
	if r[0].Err != nil {
		e.Fatalf("ChangeVisibility to %d: %v", seconds, r[0].Err)
	}
}

// checkEntryResults checks there is one result per entry id, in order.
func (e *env) checkEntryResults(op string, ids []string, res []backend.EntryResult) {
	e.Helper()
	if len(res) != len(ids) {
		e.Fatalf("%s of %d entries returned %d results", op, len(ids), len(res))
	}
	for i, r := range res {
		if r.ID != ids[i] {
			e.Fatalf("%s result %d has id %q, want %q (results must be in entry order)", op, i, r.ID, ids[i])
		}
	}
}

// counts are a queue's approximate message numbers.
type counts struct {
	Visible, InFlight, Delayed int
}

// counts reads a queue's approximate message numbers.
func (e *env) counts(url string) counts {
	e.Helper()
	a := e.attrs(url, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed")
	return counts{
		Visible:  e.atoi(a, "ApproximateNumberOfMessages"),
		InFlight: e.atoi(a, "ApproximateNumberOfMessagesNotVisible"),
		Delayed:  e.atoi(a, "ApproximateNumberOfMessagesDelayed"),
	}
}

// wantCounts checks a queue's approximate message numbers.
func (e *env) wantCounts(url string, want counts) {
	e.Helper()
	if got := e.counts(url); got != want {
		e.Fatalf("queue counts %+v, want %+v", got, want)
	}
}

func (e *env) atoi(a backend.Attributes, name string) int {
	e.Helper()
	v, ok := a[name]
	if !ok {
		e.Fatalf("attribute %s missing from %v", name, a)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.Fatalf("attribute %s = %q is not an integer", name, v)
	}
	return n
}

// attrs reads queue attributes; the call must succeed.
func (e *env) attrs(url string, names ...string) backend.Attributes {
	e.Helper()
	a, err := e.svc().GetAttributes(e.ctx, url, names)
	if err != nil {
		e.Fatalf("GetAttributes(%v): %v", names, err)
	}
	return a
}

// wantAttrs checks that the named attributes have the values in want.
func (e *env) wantAttrs(url string, want backend.Attributes) {
	e.Helper()
	got := e.attrs(url, slices.Sorted(maps.Keys(want))...)
	for k, v := range want {
		if got[k] != v {
			e.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if e.Failed() {
		e.FailNow()
	}
}

// setAttrs sets queue attributes; the call must succeed.
func (e *env) setAttrs(url string, a backend.Attributes) {
	e.Helper()
	if err := e.svc().SetAttributes(e.ctx, url, a); err != nil {
		e.Fatalf("SetAttributes(%v): %v", a, err)
	}
}

// allAttrs reads every attribute with "All".
func (e *env) allAttrs(url string) backend.Attributes {
	e.Helper()
	return e.attrs(url, "All")
}

// tags reads a queue's tags.
func (e *env) tags(url string) map[string]string {
	e.Helper()
	t, err := e.svc().ListTags(e.ctx, url)
	if err != nil {
		e.Fatalf("ListTags: %v", err)
	}
	return t
}

// listAll lists every queue with prefix, without paging.
func (e *env) listAll(prefix string) []string {
	e.Helper()
	r, err := e.svc().ListQueues(e.ctx, backend.ListQueuesRequest{Prefix: prefix})
	if err != nil {
		e.Fatalf("ListQueues(%q): %v", prefix, err)
	}
	if r.NextToken != "" {
		e.Errorf("ListQueues without MaxResults returned NextToken %q", r.NextToken)
	}
	return slices.Sorted(slices.Values(r.QueueURLs))
}

// recvResult is the outcome of a receive run in a goroutine.
type recvResult struct {
	msgs []*backend.Message
	err  error
}

// startReceive runs one Receive in a goroutine (with ctx, or the test's
// context when nil). The goroutine always ends: the test's context is
// cancelled, and the backend closed, when the test ends.
func (e *env) startReceive(url string, req backend.ReceiveRequest) <-chan recvResult {
	e.Helper()
	return e.startReceiveCtx(e.ctx, url, req)
}

func (e *env) startReceiveCtx(ctx context.Context, url string, req backend.ReceiveRequest) <-chan recvResult {
	e.Helper()
	q := e.q(url)
	ch := make(chan recvResult, 1)
	go func() {
		msgs, err := q.Receive(ctx, req)
		ch <- recvResult{msgs, err}
	}()
	return ch
}

// waitParked spins until exactly n receives are parked in a long poll.
func (e *env) waitParked(n int) {
	e.Helper()
	start := time.Now()
	for e.env.WaitingReceives() != n {
		if time.Since(start) > failsafe {
			e.Fatalf("WaitingReceives() = %d after %v, want %d", e.env.WaitingReceives(), failsafe, n)
		}
		runtime.Gosched()
	}
}

// await waits for a receive started by startReceive to return.
func (e *env) await(ch <-chan recvResult) recvResult {
	e.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(failsafe):
		e.Fatalf("Receive did not return within %v", failsafe)
		return recvResult{}
	}
}

// awaitOK waits for a receive that must succeed and checks its messages.
func (e *env) awaitOK(ch <-chan recvResult, req backend.ReceiveRequest) []*backend.Message {
	e.Helper()
	r := e.await(ch)
	if r.err != nil {
		e.Fatalf("Receive: %v", r.err)
	}
	e.checkMessages(req, r.msgs)
	return r.msgs
}

// stillWaiting checks that a receive has not returned.
func (e *env) stillWaiting(ch <-chan recvResult) {
	e.Helper()
	select {
	case r := <-ch:
		e.Fatalf("Receive returned early: %d messages, error %v", len(r.msgs), r.err)
	default:
	}
}

// arnParts splits "arn:aws:sqs:REGION:ACCOUNT:NAME".
func arnParts(arn string) (region, account, name string, ok bool) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[1] == "" || p[3] == "" || p[4] == "" || p[5] == "" {
		return "", "", "", false
	}
	return p[3], p[4], p[5], true
}
