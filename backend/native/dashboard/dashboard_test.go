package dashboard

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fixture struct {
	t     *testing.T
	eng   *native.Engine
	clock *clockwork.FakeClock
	dash  *Handler
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	clk := clockwork.NewFakeClockAt(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	eng, err := native.New(native.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	cfg.Engine = eng
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &fixture{t: t, eng: eng, clock: clk, dash: d}
}

func (f *fixture) queue(name string, attrs backend.Attributes) backend.Queue {
	f.t.Helper()
	u, err := f.eng.CreateQueue(context.Background(), name, attrs, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	q, _ := f.eng.Queue(u)
	return q
}

func (f *fixture) send(q backend.Queue, bodies ...string) {
	f.t.Helper()
	for _, b := range bodies {
		if _, err := q.Send(context.Background(), []backend.SendEntry{{ID: "1", Body: b}}); err != nil {
			f.t.Fatal(err)
		}
	}
}

// do serves one request and returns the status and body.
func (f *fixture) do(method, path, body string, hdr ...string) (int, []byte) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.dash.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// get decodes a 200 answer into v.
func (f *fixture) get(path string, v any) {
	f.t.Helper()
	code, b := f.do(http.MethodGet, path, "")
	if code != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		f.t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

func keys(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	slices.Sort(k)
	return k
}

func TestQueuesJSONShape(t *testing.T) {
	f := newFixture(t, Config{})
	f.queue("work-dlq", nil)
	work := f.queue("work", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:work-dlq","maxReceiveCount":"3"}`,
	})
	f.send(work, "a", "b")
	f.clock.Advance(90 * time.Second)

	// The exact field names, which docs/dashboard.md documents.
	var raw map[string]any
	f.get("/_postbox/api/queues", &raw)
	if got := keys(raw); !reflect.DeepEqual(got, []string{"queues", "startedTimestamp", "time"}) {
		t.Fatalf("top-level keys %v", got)
	}
	q0 := raw["queues"].([]any)[0].(map[string]any)
	want := []string{"arn", "createdTimestamp", "deadLetter", "deadLetterSources", "deadLettered", "delayed", "deleted", "fifo",
		"inflight", "key", "name", "oldestAgeSeconds", "oldestSentTimestamp", "rates", "received", "sent", "url", "visible"}
	if got := keys(q0); !reflect.DeepEqual(got, want) {
		t.Fatalf("queue keys\n got %v\nwant %v", got, want)
	}

	var qs QueuesJSON
	f.get("/_postbox/api/queues", &qs)
	if len(qs.Queues) != 2 || qs.Time != f.clock.Now().UnixMilli() {
		t.Fatalf("queues: %+v", qs)
	}
	w, d := qs.Queues[0], qs.Queues[1]
	if w.Name != "work" || w.Visible != 2 || w.Sent != 2 || *w.OldestAgeSeconds != 90 ||
		w.DeadLetter == nil || w.DeadLetter.Name != "work-dlq" || w.DeadLetter.MaxReceiveCount != 3 || len(w.DeadLetterSources) != 0 {
		t.Fatalf("work: %+v", w)
	}
	if d.Name != "work-dlq" || d.OldestAgeSeconds != nil || d.OldestSentTimestamp != nil || d.DeadLetter != nil ||
		!reflect.DeepEqual(d.DeadLetterSources, []QueueRef{{"work", "work", w.ARN}}) || w.DeadLetter.Key != "work-dlq" {
		t.Fatalf("dlq: %+v", d)
	}

	var one QueueResponseJSON
	f.get("/_postbox/api/queues/work", &one)
	if one.Queue.Name != "work" || one.Queue.Attributes["VisibilityTimeout"] != "30" || one.Queue.Tags == nil ||
		len(one.Queue.History) == 0 || one.Queue.MoveTasks == nil {
		t.Fatalf("queue detail: %+v", one)
	}
}

// A queue of another account (postbox serve with several credentials) is
// addressed as ACCOUNT:NAME.
func TestOtherAccountQueue(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := native.WithAccount(context.Background(), "111122223333")
	u, err := f.eng.CreateQueue(ctx, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.queue("jobs", nil) // the engine's own account has one of that name too
	q, _ := f.eng.Queue(u)
	f.send(q, "theirs")
	var qs QueuesJSON
	f.get("/_postbox/api/queues", &qs)
	var keys []string
	for _, q := range qs.Queues {
		keys = append(keys, q.Key)
	}
	slices.Sort(keys)
	if !reflect.DeepEqual(keys, []string{"111122223333:jobs", "jobs"}) {
		t.Fatalf("keys %v", keys)
	}
	var page MessagesJSON
	f.get("/_postbox/api/queues/111122223333:jobs/messages", &page)
	if len(page.Messages) != 1 || page.Messages[0].Body != "theirs" {
		t.Fatalf("their messages: %+v", page)
	}
	f.get("/_postbox/api/queues/jobs/messages", &page)
	if len(page.Messages) != 0 {
		t.Fatalf("our messages: %+v", page)
	}
	var one QueueResponseJSON
	f.get("/_postbox/api/queues/111122223333:jobs", &one)
	if one.Queue.URL != u || one.Queue.Key != "111122223333:jobs" {
		t.Fatalf("their queue: %+v", one.Queue.QueueJSON)
	}
	if code, _ := f.do("GET", "/_postbox/api/queues/999:jobs", ""); code != 400 {
		t.Fatalf("bad account: %d", code)
	}
}

func TestRatesFromCounterDeltas(t *testing.T) {
	f := newFixture(t, Config{Interval: time.Second, RateWindow: 10 * time.Second})
	q := f.queue("rates", nil)
	f.send(q, "seed")
	rates := func() Rates {
		var qs QueuesJSON
		f.get("/_postbox/api/queues", &qs)
		return qs.Queues[0].Rates
	}
	if r := rates(); r != (Rates{}) { // one sample: no rate yet
		t.Fatalf("first sample: %+v", r)
	}
	for range 20 {
		f.send(q, "x")
	}
	got, _ := q.Receive(context.Background(), backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
	var del []backend.DeleteEntry
	for i, m := range got[:4] {
		del = append(del, backend.DeleteEntry{ID: strconv.Itoa(i), ReceiptHandle: m.ReceiptHandle})
	}
	if _, err := q.Delete(context.Background(), del); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	if r := rates(); r != (Rates{Send: 10, Receive: 5, Delete: 2}) {
		t.Fatalf("after 2 s: %+v", r)
	}
	// The chart's points hold the rates between consecutive samples.
	var one QueueResponseJSON
	f.get("/_postbox/api/queues/rates", &one)
	h := one.Queue.History
	if len(h) != 2 || h[1].Send != 10 || h[1].Visible != 11 || h[1].InFlight != 6 || h[1].Time-h[0].Time != 2000 {
		t.Fatalf("history: %+v", h)
	}
	// Nothing happens for longer than the window: the rates fall to zero.
	f.clock.Advance(5 * time.Second)
	rates()
	f.clock.Advance(11 * time.Second)
	if r := rates(); r != (Rates{}) {
		t.Fatalf("idle: %+v", r)
	}
	// Samples are taken at most once per interval.
	f.get("/_postbox/api/queues/rates", &one)
	n := len(one.Queue.History)
	f.clock.Advance(500 * time.Millisecond)
	f.get("/_postbox/api/queues/rates", &one)
	if len(one.Queue.History) != n {
		t.Fatalf("sampled twice within an interval: %d then %d points", n, len(one.Queue.History))
	}
}

func TestHistoryIsBounded(t *testing.T) {
	f := newFixture(t, Config{History: 5})
	f.queue("h", nil)
	for range 12 {
		var qs QueuesJSON
		f.get("/_postbox/api/queues", &qs)
		f.clock.Advance(time.Second)
	}
	var one QueueResponseJSON
	f.get("/_postbox/api/queues/h", &one)
	if len(one.Queue.History) != 5 {
		t.Fatalf("history has %d points, want 5", len(one.Queue.History))
	}
}

func TestMessagesPeekChangesNothing(t *testing.T) {
	f := newFixture(t, Config{})
	q := f.queue("peek", nil)
	ctx := context.Background()
	if _, err := q.Send(ctx, []backend.SendEntry{
		{ID: "1", Body: "one", MessageAttributes: map[string]backend.MessageAttributeValue{
			"color": {DataType: "String", StringValue: "blue"}, "png": {DataType: "Binary", BinaryValue: []byte{1, 2}}}},
		{ID: "2", Body: "two"}, {ID: "3", Body: "three", DelaySeconds: new(30)},
	}); err != nil {
		t.Fatal(err)
	}
	got, _ := q.Receive(ctx, backend.ReceiveRequest{WaitTimeSeconds: new(0)})
	if len(got) != 1 || got[0].Body != "one" {
		t.Fatalf("receive: %+v", got)
	}

	var raw map[string]any
	f.get("/_postbox/api/queues/peek/messages", &raw)
	m0 := raw["messages"].([]any)[0].(map[string]any)
	want := []string{"attributes", "body", "md5OfBody", "messageAttributes", "messageId", "receiveCount", "sentTimestamp", "state", "visibleTimestamp"}
	if got := keys(m0); !reflect.DeepEqual(got, want) {
		t.Fatalf("message keys\n got %v\nwant %v", got, want)
	}
	if m0["messageAttributes"].(map[string]any)["png"].(map[string]any)["BinaryValue"] != "AQI=" {
		t.Fatalf("binary attribute: %v", m0["messageAttributes"])
	}

	for range 3 {
		var page MessagesJSON
		f.get("/_postbox/api/queues/peek/messages?max=2", &page)
		if len(page.Messages) != 2 || page.Next != page.Messages[1].MessageID ||
			page.Messages[0].State != "inflight" || page.Messages[0].ReceiveCount != 1 ||
			page.Messages[0].MessageAttributes["color"].StringValue != "blue" ||
			page.Messages[1].State != "visible" || page.Messages[1].ReceiveCount != 0 ||
			page.Messages[0].SentTimestamp != f.clock.Now().UnixMilli() {
			t.Fatalf("page 1: %+v", page)
		}
		var rest MessagesJSON
		f.get("/_postbox/api/queues/peek/messages?max=2&after="+page.Next, &rest)
		if len(rest.Messages) != 1 || rest.Messages[0].Body != "three" || rest.Messages[0].State != "delayed" ||
			rest.Messages[0].VisibleTimestamp != f.clock.Now().Add(30*time.Second).UnixMilli() || rest.Next != "" {
			t.Fatalf("page 2: %+v", rest)
		}
	}
	// A receive sees "two" as never received, and "one" is still in flight.
	got, _ = q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"All"}})
	if len(got) != 1 || got[0].Body != "two" || got[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("receive after peeks: %+v", got)
	}
}

func TestMutations(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	q := f.queue("m", nil)

	code, b := f.do("POST", "/_postbox/api/queues/m/messages",
		`{"body":"hi","delaySeconds":5,"messageAttributes":{"k":{"DataType":"String","StringValue":"v"}}}`)
	var sent SendResponseJSON
	if code != 200 || json.Unmarshal(b, &sent) != nil || sent.MessageID == "" || sent.MD5OfMessageBody != backend.MD5OfBody("hi") {
		t.Fatalf("send: %d %s", code, b)
	}
	ms, _ := f.eng.Peek(ctx, q.URL(), native.PeekRequest{})
	if len(ms) != 1 || ms[0].State != native.PeekDelayed || ms[0].MessageAttributes["k"].StringValue != "v" || ms[0].MessageID != sent.MessageID {
		t.Fatalf("engine after send: %+v", ms)
	}

	fq := f.queue("f.fifo", backend.Attributes{"FifoQueue": "true"})
	code, b = f.do("POST", "/_postbox/api/queues/f.fifo/messages", `{"body":"x","messageGroupId":"g","messageDeduplicationId":"d1"}`)
	if code != 200 || !strings.Contains(string(b), `"sequenceNumber"`) {
		t.Fatalf("fifo send: %d %s", code, b)
	}
	if s, _ := f.eng.QueueStats(fq.URL()); s.Visible != 1 {
		t.Fatalf("fifo stats: %+v", s)
	}

	if code, b := f.do("POST", "/_postbox/api/queues/m/purge", ""); code != 200 || string(b) != "{}\n" {
		t.Fatalf("purge: %d %s", code, b)
	}
	if s, _ := f.eng.QueueStats(q.URL()); s.Visible+s.Delayed != 0 {
		t.Fatalf("after purge: %+v", s)
	}
	// The engine's own rule: one purge per 60 seconds.
	if code, b := f.do("POST", "/_postbox/api/queues/m/purge", "{}"); code != 403 || !strings.Contains(string(b), `"PurgeQueueInProgress"`) {
		t.Fatalf("second purge: %d %s", code, b)
	}
}

func TestRedriveStartProgressCancel(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	dlq := f.queue("jobs-dlq", nil)
	f.queue("jobs", backend.Attributes{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":"1"}`,
	})
	f.send(dlq, "a", "b", "c")

	// Not a dead-letter queue: the engine's InvalidParameterValue, as SQS answers.
	if code, b := f.do("POST", "/_postbox/api/queues/jobs/redrive", "{}"); code != 400 || !strings.Contains(string(b), "InvalidParameterValue") {
		t.Fatalf("redrive of a source queue: %d %s", code, b)
	}
	// One message a second: the task moves one, then waits on the clock.
	code, b := f.do("POST", "/_postbox/api/queues/jobs-dlq/redrive",
		`{"destinationArn":"arn:aws:sqs:us-east-1:000000000000:jobs","maxNumberOfMessagesPerSecond":1}`)
	var started RedriveResponseJSON
	if code != 200 || json.Unmarshal(b, &started) != nil || started.TaskHandle == "" {
		t.Fatalf("start: %d %s", code, b)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := f.clock.BlockUntilContext(wctx, 1); err != nil {
		t.Fatal(err)
	}
	var one QueueResponseJSON
	f.get("/_postbox/api/queues/jobs-dlq", &one)
	tasks := one.Queue.MoveTasks
	if len(tasks) != 1 || tasks[0].Status != "RUNNING" || tasks[0].TaskHandle != started.TaskHandle ||
		tasks[0].ApproximateNumberOfMessagesMoved != 1 || tasks[0].ApproximateNumberOfMessagesToMove != 3 {
		t.Fatalf("progress: %+v", tasks)
	}
	// A second task on the same source is refused by the engine.
	if code, b := f.do("POST", "/_postbox/api/queues/jobs-dlq/redrive", "{}"); code != 400 || !strings.Contains(string(b), "InvalidParameterValue") {
		t.Fatalf("second start: %d %s", code, b)
	}
	code, b = f.do("POST", "/_postbox/api/queues/jobs-dlq/redrive/cancel", `{"taskHandle":"`+started.TaskHandle+`"}`)
	if code != 200 || string(b) != "{\"approximateNumberOfMessagesMoved\":1}\n" {
		t.Fatalf("cancel: %d %s", code, b)
	}
	// The task ends (its timer sees the cancel); wait for it through the API.
	for {
		f.get("/_postbox/api/queues/jobs-dlq", &one)
		if one.Queue.MoveTasks[0].Status == "CANCELLED" {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("task did not end: %+v", one.Queue.MoveTasks)
		}
		runtime.Gosched() // let the task's goroutine see the cancel; time does not move
	}
	if code, b := f.do("POST", "/_postbox/api/queues/jobs-dlq/redrive/cancel", `{"taskHandle":"`+started.TaskHandle+`"}`); code != 404 {
		t.Fatalf("cancel again: %d %s", code, b)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, Config{})
	f.queue("q", nil)
	for _, tc := range []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code                     string
	}{
		{"unknown queue", "GET", "/_postbox/api/queues/nope", "", nil, 400, "QueueDoesNotExist"},
		{"bad queue name", "GET", "/_postbox/api/queues/a%20b", "", nil, 400, "QueueDoesNotExist"},
		{"unknown queue messages", "GET", "/_postbox/api/queues/nope/messages", "", nil, 400, "QueueDoesNotExist"},
		{"max not a number", "GET", "/_postbox/api/queues/q/messages?max=ten", "", nil, 400, "InvalidParameterValue"},
		{"max zero", "GET", "/_postbox/api/queues/q/messages?max=0", "", nil, 400, "InvalidParameterValue"},
		{"max too big", "GET", "/_postbox/api/queues/q/messages?max=101", "", nil, 400, "InvalidParameterValue"},
		{"after unknown", "GET", "/_postbox/api/queues/q/messages?after=nope", "", nil, 400, "InvalidParameterValue"},
		{"unknown route", "GET", "/_postbox/api/nothing", "", nil, 400, "InvalidAction"},
		{"wrong method", "DELETE", "/_postbox/api/queues/q", "", nil, 400, "InvalidAction"},
		{"send to unknown queue", "POST", "/_postbox/api/queues/nope/messages", `{"body":"x"}`, nil, 400, "QueueDoesNotExist"},
		{"not JSON", "POST", "/_postbox/api/queues/q/messages", `body=x`, nil, 400, "SerializationException"},
		{"unknown field", "POST", "/_postbox/api/queues/q/messages", `{"body":"x","bogus":1}`, nil, 400, "SerializationException"},
		{"two objects", "POST", "/_postbox/api/queues/q/messages", `{"body":"x"}{}`, nil, 400, "SerializationException"},
		{"form post", "POST", "/_postbox/api/queues/q/purge", `{}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "InvalidParameterValue"},
		{"cross origin", "POST", "/_postbox/api/queues/q/purge", `{}`, []string{"Origin", "http://evil.example"}, 403, "AccessDenied"},
		{"cross site, fetch metadata", "POST", "/_postbox/api/queues/q/purge", `{}`, []string{"Sec-Fetch-Site", "cross-site"}, 403, "AccessDenied"},
		{"same site, another port", "POST", "/_postbox/api/queues/q/purge", `{}`, []string{"Origin", "http://example.com:3000", "Sec-Fetch-Site", "same-site"}, 403, "AccessDenied"},
		{"empty body", "POST", "/_postbox/api/queues/q/messages", `{"body":""}`, nil, 400, ""},
		{"delay too long", "POST", "/_postbox/api/queues/q/messages", `{"body":"x","delaySeconds":901}`, nil, 400, "InvalidParameterValue"},
		{"dedup id on standard", "POST", "/_postbox/api/queues/q/messages", `{"body":"x","messageDeduplicationId":"d"}`, nil, 400, "InvalidParameterValue"},
		{"cancel without handle", "POST", "/_postbox/api/queues/q/redrive/cancel", `{}`, nil, 400, "MissingParameter"},
		{"cancel bad handle", "POST", "/_postbox/api/queues/q/redrive/cancel", `{"taskHandle":"!!"}`, nil, 400, "InvalidParameterValue"},
		{"redrive of a queue that is no dead-letter queue", "POST", "/_postbox/api/queues/q/redrive", `{"maxNumberOfMessagesPerSecond":501}`, nil, 400, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := f.do(tc.method, tc.path, tc.body, tc.hdr...)
			var e ErrorJSON
			if err := json.Unmarshal(b, &e); err != nil || code != tc.status || e.Error.Message == "" ||
				(tc.code != "" && e.Error.Code != tc.code) || (tc.code == "" && e.Error.Code == "") {
				t.Fatalf("got %d %s, want %d %s", code, b, tc.status, tc.code)
			}
		})
	}
	// Bad input changed nothing.
	if s, _ := f.eng.QueueStats("q"); s.Sent != 0 || s.Visible != 0 {
		t.Fatalf("queue changed: %+v", s)
	}
	// The same origin is fine.
	if code, b := f.do("POST", "/_postbox/api/queues/q/messages", `{"body":"x"}`, "Origin", "http://example.com"); code != 200 {
		t.Fatalf("same origin: %d %s", code, b)
	}
}

func TestAuthorize(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	deny := map[string]error{
		"PurgeQueue":  errors.New("no purging here"),
		"SendMessage": backend.NewError(backend.CodeInvalidClientTokenID, "The security token included in the request is invalid."),
	}
	f := newFixture(t, Config{Authorize: func(r *http.Request, action, queueURL string) error {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, action+" "+queueURL)
		return deny[action]
	}})
	q := f.queue("q", nil)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, asked        string
	}{
		{"GET", "/_postbox/api/queues", "", 200, "", "ListQueues "},
		{"GET", "/_postbox/api/queues/q", "", 200, "", "GetQueueAttributes " + q.URL()},
		{"GET", "/_postbox/api/queues/q/messages", "", 200, "", "ReceiveMessage " + q.URL()},
		{"POST", "/_postbox/api/queues/q/purge", "{}", 403, "AccessDenied", "PurgeQueue " + q.URL()},
		{"POST", "/_postbox/api/queues/q/messages", `{"body":"x"}`, 403, "InvalidClientTokenId", "SendMessage " + q.URL()},
		{"POST", "/_postbox/api/queues/q/redrive", `{}`, 400, "InvalidParameterValue", "StartMessageMoveTask " + q.URL()},
		{"POST", "/_postbox/api/queues/q/redrive/cancel", `{"taskHandle":"x"}`, 400, "InvalidParameterValue", "CancelMessageMoveTask " + q.URL()},
	} {
		mu.Lock()
		asked = nil
		mu.Unlock()
		code, b := f.do(tc.method, tc.path, tc.body)
		mu.Lock()
		got := slices.Clone(asked)
		mu.Unlock()
		if code != tc.status || (tc.code != "" && !strings.Contains(string(b), `"`+tc.code+`"`)) || !reflect.DeepEqual(got, []string{tc.asked}) {
			t.Errorf("%s %s: %d %s, asked %q; want %d %s, asked %q", tc.method, tc.path, code, b, got, tc.status, tc.code, tc.asked)
		}
	}
	if s, _ := f.eng.QueueStats(q.URL()); s.Sent != 0 {
		t.Fatalf("denied send went through: %+v", s)
	}
	// Static files are served without asking.
	mu.Lock()
	asked = nil
	mu.Unlock()
	if code, _ := f.do("GET", "/_postbox/", ""); code != 200 || len(asked) != 0 {
		t.Fatalf("page: %d, asked %v", code, asked)
	}
}

func TestPageAndWrap(t *testing.T) {
	f := newFixture(t, Config{})
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "sqs "+r.URL.Path) })
	h := f.dash.Wrap(next)
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/_postbox/", "<title>postbox dashboard</title>", 200},
		{"/_postbox/app.js", "EventSource", 200},
		{"/_postbox/style.css", "--accent", 200},
		{"/_postbox", "", 301},
		{"/", "sqs /", 200},
		{"/000000000000/jobs", "sqs /000000000000/jobs", 200},
		{"//odd/../path", "sqs //odd/../path", 200}, // passed on untouched, not cleaned
		{"/_postboxes", "sqs /_postboxes", 200},
	} {
		r := httptest.NewRequest("GET", "http://x"+tc.path, nil)
		r.URL.Path = tc.path
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: %d %.80q", tc.path, w.Code, w.Body.String())
		}
	}
	// A browser opening a page other than the dashboard's is sent there;
	// SQS requests are not.
	html := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		method, target, accept, amzTarget string
		redirect                          bool
	}{
		{"GET", "/", html, "", true},
		{"HEAD", "/", html, "", true},
		{"GET", "/000000000000/jobs", "TEXT/HTML", "", true},
		{"GET", "/", "application/json", "", false},
		{"GET", "/", "*/*", "", false},
		{"GET", "/", "", "", false},
		{"GET", "/?Action=ListQueues", html, "", false},
		{"GET", "/", html, "AmazonSQS.ListQueues", false},
		{"POST", "/", html, "", false},
	} {
		r := httptest.NewRequest(tc.method, "http://x"+tc.target, nil)
		if tc.accept != "" {
			r.Header.Set("Accept", tc.accept)
		}
		if tc.amzTarget != "" {
			r.Header.Set("X-Amz-Target", tc.amzTarget)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		redirected := w.Code == http.StatusFound && w.Header().Get("Location") == Prefix
		if redirected != tc.redirect || (!tc.redirect && !strings.HasPrefix(w.Body.String(), "sqs ")) {
			t.Errorf("%s %s (Accept %q, X-Amz-Target %q): %d Location %q, want redirect %v",
				tc.method, tc.target, tc.accept, tc.amzTarget, w.Code, w.Header().Get("Location"), tc.redirect)
		}
	}
	r := httptest.NewRequest("GET", "/_postbox/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without an engine must fail")
	}
}

// sseReader reads server-sent events.
type sseReader struct{ r *bufio.Reader }

func (s sseReader) next() (event, data string, err error) {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if event != "" {
				return event, data, nil
			}
		case strings.HasPrefix(line, "event: "):
			event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t, Config{Interval: time.Second})
	q := f.queue("ev", nil)
	srv := httptest.NewServer(f.dash)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/_postbox/api/events?queue=ev", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	rd := sseReader{bufio.NewReader(res.Body)}
	read := func(wantEvent string, v any) {
		t.Helper()
		ev, data, err := rd.next()
		if err != nil || ev != wantEvent {
			t.Fatalf("event %q %v, want %q", ev, err, wantEvent)
		}
		if err := json.Unmarshal([]byte(data), v); err != nil {
			t.Fatal(err)
		}
	}
	var qs QueuesJSON
	var one QueueResponseJSON
	read("queues", &qs)
	read("queue", &one)
	if len(qs.Queues) != 1 || one.Queue.Visible != 0 {
		t.Fatalf("first events: %+v %+v", qs, one)
	}
	f.send(q, "a", "b", "c")
	if err := f.clock.BlockUntilContext(ctx, 1); err != nil { // the stream's ticker
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	read("queues", &qs)
	read("queue", &one)
	if qs.Queues[0].Visible != 3 || one.Queue.Visible != 3 || one.Queue.Rates.Send != 3 || len(one.Queue.History) != 2 {
		t.Fatalf("after a tick: %+v %+v", qs.Queues[0], one.Queue.QueueJSON)
	}
	// Close ends the stream.
	f.dash.Close()
	if _, _, err := rd.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after Close: %v", err)
	}
	// Later streams end at once, after their first events.
	res2, err := http.Get(srv.URL + "/_postbox/api/events")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if !strings.HasPrefix(string(b), "event: queues\n") {
		t.Fatalf("stream after Close: %q", b)
	}
	// Following a missing queue is refused up front.
	if code, b := f.do("GET", "/_postbox/api/events?queue=nope", ""); code != 400 || !strings.Contains(string(b), "QueueDoesNotExist") {
		t.Fatalf("missing queue: %d %s", code, b)
	}
}
