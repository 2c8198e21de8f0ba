package backendtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Helpers of the FIFO, fair-queue, dead-letter and move-task scenarios.

// skipSlow skips a scenario that moves 100,000 messages or more when the
// harness or -short asks for it.
func (e *env) skipSlow(what string) {
	e.Helper()
	if e.h.SkipSlow || testing.Short() {
		e.Skipf("slow scenario (%s) skipped by Harness.SkipSlow or -short", what)
	}
}

// fifoAttrs returns the attributes of a FIFO queue plus extra, given as
// name, value pairs.
func fifoAttrs(extra ...string) backend.Attributes {
	a := backend.Attributes{"FifoQueue": "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		a[extra[i]] = extra[i+1]
	}
	return a
}

// createFIFO creates a FIFO queue; name must end in ".fifo".
func (e *env) createFIFO(name string, extra ...string) string {
	e.Helper()
	return e.create(name, fifoAttrs(extra...))
}

// arn returns a queue's QueueArn.
func (e *env) arn(url string) string {
	e.Helper()
	a := e.attrs(url, "QueueArn")["QueueArn"]
	if _, _, _, ok := arnParts(a); !ok {
		e.Fatalf("QueueArn %q is malformed", a)
	}
	return a
}

// sha256Hex is the content-based deduplication id of a body: the SHA-256
// of the body, in lower-case hex.
func sha256Hex(body string) string {
	s := sha256.Sum256([]byte(body))
	return hex.EncodeToString(s[:])
}

// gm is a FIFO send entry: body in group with deduplication id dedup (none
// when empty).
func gm(id, group, body, dedup string) backend.SendEntry {
	return backend.SendEntry{ID: id, Body: body, MessageGroupID: group, MessageDeduplicationID: dedup}
}

// groupEntries makes one entry per body, all in group, each deduplicated by
// its body.
func groupEntries(group string, bodies ...string) []backend.SendEntry {
	es := make([]backend.SendEntry, len(bodies))
	for i, b := range bodies {
		es[i] = gm(entryID(i), group, b, b)
	}
	return es
}

// sendOneCode sends a single entry that must be rejected and returns the
// error: SQS answers an invalid SendMessage with a request error, and one
// SendMessageBatch entry with an entry error, so either form is accepted
// here. Nothing may be enqueued.
func (e *env) sendOneCode(url string, en backend.SendEntry) *backend.Error {
	e.Helper()
	res, err := e.q(url).Send(e.ctx, []backend.SendEntry{en})
	if err != nil {
		var be *backend.Error
		if !errors.As(err, &be) {
			e.Fatalf("Send of %q failed with %v, which is not a *backend.Error", en.Body, err)
		}
		if res != nil {
			e.Errorf("a rejected Send returned results")
		}
		return be
	}
	if len(res) != 1 {
		e.Fatalf("Send of 1 entry returned %d results", len(res))
	}
	if res[0].Err == nil {
		e.Fatalf("Send of %q (group %q, dedup %q) succeeded, want it rejected", en.Body, en.MessageGroupID, en.MessageDeduplicationID)
	}
	if res[0].MessageID != "" || res[0].SequenceNumber != "" {
		e.Errorf("failed entry has MessageID %q, SequenceNumber %q", res[0].MessageID, res[0].SequenceNumber)
	}
	var be *backend.Error
	if !errors.As(res[0].Err, &be) {
		e.Fatalf("Send entry of %q failed with %v, which is not a *backend.Error", en.Body, res[0].Err)
	}
	return be
}

// codeIn reports whether err carries one of codes, and explains why not.
func codeIn(err error, codes ...string) (string, bool) {
	if err == nil {
		return "no error", false
	}
	var be *backend.Error
	if !errors.As(err, &be) {
		return fmt.Sprintf("%v (not a *backend.Error)", err), false
	}
	if be.Message == "" {
		return fmt.Sprintf("error %s without a message", be.Code), false
	}
	if !slices.Contains(codes, be.Code) {
		return fmt.Sprintf("%v (code %s)", err, be.Code), false
	}
	for _, c := range codes {
		if errors.Is(err, &backend.Error{Code: c}) {
			return "", true
		}
	}
	return fmt.Sprintf("%v: errors.Is does not match its own code", err), false
}

// checkErr is wantErr that reports with Errorf, so that a scenario lists
// every wrong code at once. codes lists what SQS may answer: one code where
// SQS's answer is documented or recorded, two where SQS's documentation
// leaves the choice open (each use says so). It reports whether err
// matched.
func (e *env) checkErr(what string, err error, codes ...string) bool {
	e.Helper()
	if got, ok := codeIn(err, codes...); !ok {
		e.Errorf("%s: got %s, want code %s", what, got, strings.Join(codes, " or "))
		return false
	}
	return true
}

// policyJSON is a RedrivePolicy naming target with maxReceiveCount n.
func policyJSON(target string, n int) string {
	return fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, target, n)
}

// dlqPipe creates a dead-letter queue dlqName and a source queue srcName
// that sends to it after maxReceives receives; both are FIFO when the names
// end in ".fifo". It returns the source's and the dead-letter queue's URLs.
func (e *env) dlqPipe(srcName, dlqName string, maxReceives int, srcAttrs ...string) (src, dlq string) {
	e.Helper()
	var dattrs backend.Attributes
	if backend.IsFIFOName(dlqName) {
		dattrs = fifoAttrs()
	}
	dlq = e.create(dlqName, dattrs)
	sattrs := backend.Attributes{"RedrivePolicy": policyJSON(e.arn(dlq), maxReceives)}
	if backend.IsFIFOName(srcName) {
		sattrs["FifoQueue"] = "true"
	}
	for i := 0; i+1 < len(srcAttrs); i += 2 {
		sattrs[srcAttrs[i]] = srcAttrs[i+1]
	}
	src = e.create(srcName, sattrs)
	return src, dlq
}

// deadLetter receives everything in src with a zero visibility timeout,
// over and over, until the queue is empty: with a RedrivePolicy every
// message ends in the dead-letter queue. It returns how many receives
// delivered a message.
func (e *env) deadLetter(src string) int {
	e.Helper()
	delivered := 0
	req := backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(0)}
	for range 100000 {
		msgs := e.receive(src, req)
		if len(msgs) == 0 && e.counts(src) == (counts{}) {
			return delivered
		}
		delivered += len(msgs)
	}
	e.Fatal("deadLetter: the source queue never ran empty")
	return 0
}

// startMove starts a move task, which must succeed, and returns its handle.
func (e *env) startMove(req backend.MoveTaskRequest) string {
	e.Helper()
	h, err := e.svc().StartMessageMoveTask(e.ctx, req)
	if err != nil {
		e.Fatalf("StartMessageMoveTask(%+v): %v", req, err)
	}
	if h == "" {
		e.Fatalf("StartMessageMoveTask(%+v) returned an empty TaskHandle", req)
	}
	return h
}

// moveTasks lists a source's move tasks; the call must succeed.
func (e *env) moveTasks(sourceARN string, max int) []backend.MoveTask {
	e.Helper()
	ts, err := e.svc().ListMessageMoveTasks(e.ctx, sourceARN, max)
	if err != nil {
		e.Fatalf("ListMessageMoveTasks(%s, %d): %v", sourceARN, max, err)
	}
	return ts
}

// latestTask returns the source's most recent move task.
func (e *env) latestTask(sourceARN string) backend.MoveTask {
	e.Helper()
	ts := e.moveTasks(sourceARN, 0)
	if len(ts) != 1 {
		e.Fatalf("ListMessageMoveTasks with the default MaxResults returned %d tasks, want 1", len(ts))
	}
	return ts[0]
}

// awaitTask polls the source's latest move task until done accepts it.
// Move tasks run asynchronously; the poll spins with runtime.Gosched and
// never sleeps, and the real-time failsafe turns a task that never gets
// there into a failure. A throttled task only moves on when the scenario
// advances the clock, so done must describe a state the task reaches
// without that.
func (e *env) awaitTask(sourceARN, what string, done func(backend.MoveTask) bool) backend.MoveTask {
	e.Helper()
	start := time.Now()
	for {
		t := e.latestTask(sourceARN)
		if done(t) {
			return t
		}
		if time.Since(start) > failsafe {
			e.Fatalf("move task did not reach %s within %v; it is %+v", what, failsafe, t)
		}
		runtime.Gosched()
	}
}

// finished reports whether a task has ended.
func finished(t backend.MoveTask) bool {
	switch t.Status {
	case backend.MoveTaskCompleted, backend.MoveTaskCancelled, backend.MoveTaskFailed:
		return true
	}
	return false
}

// drain receives and deletes everything in url and returns the messages.
func (e *env) drain(url string, req backend.ReceiveRequest) []*backend.Message {
	e.Helper()
	req.WaitTimeSeconds = new(0)
	if req.MaxMessages == 0 {
		req.MaxMessages = 10
	}
	var all []*backend.Message
	for range 100000 {
		msgs := e.receive(url, req)
		if len(msgs) == 0 {
			return all
		}
		all = append(all, msgs...)
		hs := make([]string, len(msgs))
		for i, m := range msgs {
			hs[i] = m.ReceiptHandle
		}
		e.deleteOK(url, hs...)
	}
	e.Fatal("drain: the queue never ran empty")
	return nil
}

// wantSameJSON checks that got is the JSON document want (compared as
// values; numbers and numeric strings are equal when they denote the same
// integer, as SQS returns maxReceiveCount either way).
func (e *env) wantSameJSON(what, got, want string) {
	e.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		e.Errorf("%s = %q is not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		e.Fatalf("bad expected JSON %q: %v", want, err)
	}
	if !jsonEqual(g, w) {
		e.Errorf("%s = %s, want %s", what, got, want)
	}
}

func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !jsonEqual(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return jsonScalar(a) == jsonScalar(b)
}

// jsonScalar normalises numbers and numeric strings to one form.
func jsonScalar(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		if _, err := strconv.Atoi(x); err == nil {
			return x
		}
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// parseSeq parses a SequenceNumber: a non-empty decimal string without
// sign or leading zeros, of at most 128 bits (API Reference, SendMessage:
// "The large, non-consecutive number that Amazon SQS assigns to each
// message. The length of SequenceNumber is 128 bits.").
func parseSeq(s string) (*big.Int, bool) {
	if s == "" || s[0] == '0' || strings.TrimLeft(s, "0123456789") != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.BitLen() > 128 {
		return nil, false
	}
	return n, true
}
