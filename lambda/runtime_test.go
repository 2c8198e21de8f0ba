package lambda_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// runtimeAPI is a Lambda Runtime API (version 2018-06-01) for one function
// process: the test queues invocations, the process takes them with
// GET .../invocation/next and answers each with POST
// .../invocation/{id}/response or .../invocation/{id}/error.
type runtimeAPI struct {
	t       *testing.T
	pending chan apiInvocation
	stop    chan struct{}
	exited  chan struct{} // closed when the function process has ended
	stderr  syncBuffer

	mu      sync.Mutex
	answers map[string]chan apiAnswer
	seq     int
}

type apiInvocation struct {
	id       string
	payload  []byte
	deadline time.Time
}

// apiAnswer is what the function posted for an invocation.
type apiAnswer struct {
	kind   string // "response" or "error"
	body   []byte
	header http.Header
}

// Headers of the runtime API, as Lambda sends them.
const (
	functionARN = "arn:aws:lambda:us-east-2:123456789012:function:postbox-test"
	traceHeader = "Root=1-67891233-abcdef012345678912345678;Parent=1234567890123456;Sampled=1"
)

// startFunction serves a runtime API on 127.0.0.1 and starts the test
// binary as a Lambda function against it (see childMain); log is the file
// the function's handler writes to.
func startFunction(t *testing.T) (api *runtimeAPI, log string) {
	t.Helper()
	api = &runtimeAPI{
		t:       t,
		pending: make(chan apiInvocation),
		stop:    make(chan struct{}),
		exited:  make(chan struct{}),
		answers: map[string]chan apiAnswer{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", api.answer("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", api.answer("error"))
	hs := httptest.NewServer(mux)

	log = filepath.Join(t.TempDir(), "handled.log")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		childEnv+"=1",
		childLogEnv+"="+log,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(hs.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=postbox-test",
	)
	cmd.Stdout, cmd.Stderr = &api.stderr, &api.stderr
	if err := cmd.Start(); err != nil {
		hs.Close()
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(api.exited)
	}()
	t.Cleanup(func() {
		close(api.stop) // the next "next" fails, and the runtime loop ends the process
		<-api.exited
		hs.Close()
		if msg := api.stderr.String(); !strings.Contains(msg, "got unexpected status code: 410") {
			t.Errorf("the function did not end on the runtime API's refusal:\n%s", msg)
		}
	})
	return api, log
}

func (api *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-api.pending:
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", functionARN)
		h.Set("Lambda-Runtime-Trace-Id", traceHeader)
		w.Write(inv.payload)
	case <-api.stop:
		w.WriteHeader(http.StatusGone)
	case <-r.Context().Done():
	}
}

func (api *runtimeAPI) answer(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		api.mu.Lock()
		ch, ok := api.answers[r.PathValue("id")]
		delete(api.answers, r.PathValue("id"))
		api.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest) // Lambda: InvalidRequestID
			return
		}
		w.WriteHeader(http.StatusAccepted)
		ch <- apiAnswer{kind: kind, body: body, header: r.Header.Clone()}
	}
}

// invoke hands payload to the function with the given time to run and
// returns its answer, and the request id it had.
func (api *runtimeAPI) invoke(payload []byte, timeout time.Duration) (apiAnswer, string) {
	api.t.Helper()
	api.mu.Lock()
	api.seq++
	id := fmt.Sprintf("8476a536-e9f4-11e8-9739-2dfe598c%04d", api.seq)
	ch := make(chan apiAnswer, 1)
	api.answers[id] = ch
	api.mu.Unlock()
	inv := apiInvocation{id: id, payload: payload, deadline: time.Now().Add(timeout)}
	select {
	case api.pending <- inv:
	case <-api.exited:
		api.t.Fatalf("the function process ended:\n%s", api.stderr.String())
	}
	select {
	case a := <-ch:
		return a, id
	case <-api.exited:
		api.t.Fatalf("the function process ended:\n%s", api.stderr.String())
	}
	panic("unreachable")
}

// handledLine matches a line of the test handler's log.
var handledLine = regexp.MustCompile(`^handled (\S+) body=("[^"]*") trace=(\S+) deadline=(\d+) request=(\S*) arn=(\S*)$`)

type handled struct {
	id, body, trace, request, arn string
	deadline                      int64
}

// readHandled parses the log the function's handler wrote.
func readHandled(t *testing.T, path string) []handled {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []handled
	for line := range strings.Lines(string(raw)) {
		m := handledLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			t.Fatalf("bad log line %q", line)
		}
		body, _ := strconv.Unquote(m[2])
		deadline, _ := strconv.ParseInt(m[4], 10, 64)
		out = append(out, handled{id: m[1], body: body, trace: m[3], deadline: deadline, request: m[5], arn: m[6]})
	}
	return out
}

// TestRuntimeAPI runs the function under aws-lambda-go's own runtime loop
// (lambda.StartWithOptions) in a process of its own, against a runtime API
// served here, with the SQS events as AWS documents them.
func TestRuntimeAPI(t *testing.T) {
	api, log := startFunction(t)
	_, std := fixture(t, "standard.json")
	rawStd, _ := os.ReadFile("testdata/standard.json")
	rawFIFO, _ := os.ReadFile("testdata/fifo.json")
	_, fifo := fixture(t, "fifo.json")

	t.Run("standard", func(t *testing.T) {
		before := len(readHandled(t, log))
		a, req := api.invoke(rawStd, time.Minute)
		if a.kind != "response" {
			t.Fatalf("the function answered %s: %s", a.kind, a.body)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(a.body, &resp); err != nil {
			t.Fatalf("%v: %s", err, a.body)
		}
		// fail, panic and the permanent failure that OnPermanent refused.
		if got, want := failures(resp), ids(std, 2, 3, 5); !slices.Equal(got, want) {
			t.Errorf("batchItemFailures %v, want %v (%s)", got, want, a.body)
		}
		lines := readHandled(t, log)[before:]
		if len(lines) != len(std.Records) {
			t.Fatalf("%d messages handled, want %d: %v", len(lines), len(std.Records), lines)
		}
		traces := map[string]string{}
		for _, l := range lines {
			traces[l.id] = l.trace
			if l.request != req || l.arn != functionARN {
				t.Errorf("%s: the handler's lambdacontext has request %q, ARN %q; want %q, %q", l.id, l.request, l.arn, req, functionARN)
			}
		}
		// The X-Ray header of the message and its W3C traceparent each
		// continue their trace.
		if got := traces[std.Records[2].MessageId]; got != "5759e988bd862e3fe1be46a994272793" {
			t.Errorf("the message with an AWSTraceHeader was handled in trace %s", got)
		}
		if got := traces[std.Records[5].MessageId]; got != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("the message with a traceparent was handled in trace %s", got)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		before := len(readHandled(t, log))
		start := time.Now()
		a, _ := api.invoke(rawStd, time.Minute)
		if a.kind != "response" {
			t.Fatalf("the function answered %s: %s", a.kind, a.body)
		}
		// The handlers' deadline is the function's, less the default
		// reserve of 1 s.
		for _, l := range readHandled(t, log)[before:] {
			d := time.UnixMilli(l.deadline)
			if d.Before(start.Add(time.Minute-time.Second-time.Millisecond)) || d.After(time.Now().Add(time.Minute-time.Second)) {
				t.Errorf("%s: handler deadline %v, want a minute less a second after %v", l.id, d, start)
			}
		}
	})

	t.Run("fifo", func(t *testing.T) {
		before := len(readHandled(t, log))
		a, _ := api.invoke(rawFIFO, time.Minute)
		if a.kind != "response" {
			t.Fatalf("the function answered %s: %s", a.kind, a.body)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(a.body, &resp); err != nil {
			t.Fatal(err)
		}
		// a: a1 ok, a2 fails, a3 not handled; b: both ok; c: c1 fails,
		// c2 not handled.
		if got, want := failures(resp), ids(fifo, 2, 4, 5, 6); !slices.Equal(got, want) {
			t.Errorf("batchItemFailures %v, want %v", got, want)
		}
		var bodies []string
		for _, l := range readHandled(t, log)[before:] {
			bodies = append(bodies, l.body)
		}
		checkGroupOrder(t, bodies, map[string][]string{"a": {"a1", "fail a2"}, "b": {"b1", "b2"}, "c": {"fail c1"}})
	})

	t.Run("not an SQS event", func(t *testing.T) {
		a, _ := api.invoke([]byte(`{"Records":[{"eventSource":"aws:s3","s3":{}}]}`), time.Minute)
		if a.kind != "error" || !bytes.Contains(a.body, []byte("no messageId")) {
			t.Errorf("the function answered %s %s, want an error", a.kind, a.body)
		}
	})

	t.Run("not JSON", func(t *testing.T) {
		a, _ := api.invoke([]byte(`[1, 2`), time.Minute)
		if a.kind != "error" {
			t.Errorf("the function answered %s %s, want an error", a.kind, a.body)
		}
	})

	t.Run("empty event", func(t *testing.T) {
		a, _ := api.invoke([]byte(`{"Records":[]}`), time.Minute)
		if a.kind != "response" || string(a.body) != `{"batchItemFailures":[]}` {
			t.Errorf("the function answered %s %s", a.kind, a.body)
		}
	})
}

// checkGroupOrder checks that bodies, the messages handled, are exactly
// the messages of groups, each group's in order.
func checkGroupOrder(t *testing.T, bodies []string, groups map[string][]string) {
	t.Helper()
	n := 0
	for g, want := range groups {
		var got []string
		for _, b := range bodies {
			if slices.Contains(want, b) || strings.HasPrefix(strings.TrimPrefix(b, "fail "), g) {
				got = append(got, b)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("group %s handled %v, want %v", g, got, want)
		}
		n += len(want)
	}
	if len(bodies) != n {
		t.Errorf("handled %v, want the messages of %v", bodies, groups)
	}
}
