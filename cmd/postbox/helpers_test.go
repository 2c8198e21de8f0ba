package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/postbox-go/postbox/backend"
)

func TestParseMessageAttrs(t *testing.T) {
	cases := []struct {
		arg      string
		name     string
		want     backend.MessageAttributeValue
		usageErr bool
	}{
		{arg: "kind=resize", name: "kind", want: backend.MessageAttributeValue{DataType: "String", StringValue: "resize"}},
		{arg: "expr=a=b", name: "expr", want: backend.MessageAttributeValue{DataType: "String", StringValue: "a=b"}},
		{arg: "n:Number=42", name: "n", want: backend.MessageAttributeValue{DataType: "Number", StringValue: "42"}},
		{arg: "n:Number.int=7", name: "n", want: backend.MessageAttributeValue{DataType: "Number.int", StringValue: "7"}},
		{arg: "b:Binary=AAEC", name: "b", want: backend.MessageAttributeValue{DataType: "Binary", BinaryValue: []byte{0, 1, 2}}},
		{arg: "empty=", name: "empty", want: backend.MessageAttributeValue{DataType: "String"}},
		{arg: "novalue", usageErr: true},
		{arg: "=x", usageErr: true},
		{arg: "b:Binary=not base64!", usageErr: true},
		{arg: "x:Blob=1", usageErr: true},
		{arg: "x:=1", usageErr: true},
	}
	for _, c := range cases {
		t.Run(c.arg, func(t *testing.T) {
			got, err := parseMessageAttrs([]string{c.arg})
			if c.usageErr {
				var ue usageError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := got[c.name]
			if g.DataType != c.want.DataType || g.StringValue != c.want.StringValue || string(g.BinaryValue) != string(c.want.BinaryValue) {
				t.Errorf("got %+v, want %+v", g, c.want)
			}
		})
	}
	if _, err := parseMessageAttrs([]string{"a=1", "a:Number=2"}); err == nil {
		t.Error("an attribute given twice was accepted")
	}
	if _, err := parsePairs("--tag", []string{"k=v", "k=w"}); err == nil {
		t.Error("a tag given twice was accepted")
	}
}

func TestExitCodeAndErrorLine(t *testing.T) {
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	sqsErr := backend.NewError(backend.CodeQueueDoesNotExist, "The specified queue does not exist.")
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		code int
		line string
	}{
		{"ok", live, nil, exitOK, ""},
		{"sqs", live, fmt.Errorf("wrapped: %w", sqsErr), exitError,
			"postbox: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."},
		{"unknown code", live, &backend.Error{Code: "Weird", Message: "odd"}, exitError, "postbox: Weird: odd"},
		{"usage", live, usageErrorf("bad %s", "flag"), exitUsage, "postbox: bad flag"},
		{"cobra usage", live, errors.New(`unknown command "x" for "postbox"`), exitUsage, `postbox: unknown command "x" for "postbox"`},
		{"partial", live, partialError{failed: 2, total: 25, what: "messages"}, exitPartial, "postbox: 2 of 25 messages failed"},
		{"interrupted", ended, context.Canceled, exitInterrupted, "postbox: interrupted"},
		{"plain", live, errors.New("two\nlines"), exitError, "postbox: two lines"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := exitCode(c.ctx, c.err); got != c.code {
				t.Errorf("exitCode = %d, want %d", got, c.code)
			}
			if c.err != nil {
				if got := errorLine(c.err); got != c.line {
					t.Errorf("errorLine = %q, want %q", got, c.line)
				}
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p*100, got, c.want)
		}
	}
	if percentile(nil, 0.5) != 0 || percentile(d[:1], 0.99) != time.Millisecond {
		t.Error("percentile of an empty or one-element slice")
	}
}

func TestSplitQueue(t *testing.T) {
	cases := []struct {
		arg, endpoint, name, url string
		attrs                    map[string]string
		err                      bool
	}{
		{arg: "jobs", name: "jobs"},
		{arg: "http://127.0.0.1:9324/000000000000/jobs", endpoint: "http://127.0.0.1:9324", name: "jobs", url: "http://127.0.0.1:9324/000000000000/jobs"},
		{arg: "https://sqs.eu-west-1.amazonaws.com/123456789012/a.fifo", endpoint: "https://sqs.eu-west-1.amazonaws.com", name: "a.fifo",
			url: "https://sqs.eu-west-1.amazonaws.com/123456789012/a.fifo"},
		{arg: "file:///var/q?queue=jobs&sync=interval", endpoint: "file:///var/q?sync=interval", name: "jobs", url: "file:///var/q?queue=jobs&sync=interval"},
		{arg: "file:///var/q?queue=jobs&VisibilityTimeout=60", endpoint: "file:///var/q", name: "jobs",
			url: "file:///var/q?queue=jobs&VisibilityTimeout=60", attrs: map[string]string{"VisibilityTimeout": "60"}},
		{arg: "mem://jobs", endpoint: "mem://", name: "jobs", url: "mem://jobs"},
		{arg: "mem://jobs?DelaySeconds=5", endpoint: "mem://", name: "jobs", url: "mem://jobs?DelaySeconds=5", attrs: map[string]string{"DelaySeconds": "5"}},
		{arg: "file:///var/q", err: true},
		{arg: "mem://", err: true},
		{arg: "mem://jobs?DelaySeconds=5&DelaySeconds=6", err: true},
		{arg: "http://127.0.0.1:9324/jobs", err: true},
		{arg: "ftp://x/y", err: true},
		{arg: "", err: true},
	}
	for _, c := range cases {
		e, n, u, a, err := splitQueue(c.arg)
		if c.err {
			if err == nil {
				t.Errorf("splitQueue(%q) succeeded", c.arg)
			}
			continue
		}
		if err != nil || e != c.endpoint || n != c.name || u != c.url || len(a) != len(c.attrs) {
			t.Errorf("splitQueue(%q) = %q, %q, %q, %v, %v", c.arg, e, n, u, a, err)
		}
		for k, v := range c.attrs {
			if a[k] != v {
				t.Errorf("splitQueue(%q) attributes = %v, want %v", c.arg, a, c.attrs)
			}
		}
	}
}

func TestAPIError(t *testing.T) {
	for _, c := range []struct{ body, code string }{
		{`{"code":"QueueDoesNotExist","message":"no"}`, backend.CodeQueueDoesNotExist},
		{`{"error":{"code":"AWS.SimpleQueueService.NonExistentQueue","message":"no"}}`, backend.CodeQueueDoesNotExist},
		{`{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"bad"}`, backend.CodeInvalidParameterValue},
		{`{"messages":[]}`, ""},
		{`not json`, ""},
	} {
		e := apiError([]byte(c.body))
		if (e == nil) != (c.code == "") || (e != nil && e.Code != c.code) {
			t.Errorf("apiError(%s) = %v, want code %q", c.body, e, c.code)
		}
	}
}

func TestFindTask(t *testing.T) {
	tasks := []backend.MoveTask{
		{TaskHandle: "h2", Status: backend.MoveTaskRunning},
		{Status: backend.MoveTaskCompleted, ApproximateNumberOfMessagesMoved: 3},
	}
	if got, ok := findTask(tasks, "h2"); !ok || got.TaskHandle != "h2" {
		t.Errorf("running task: %+v, %v", got, ok)
	}
	if got, ok := findTask(tasks, "h1"); !ok || got.Status != backend.MoveTaskCompleted {
		t.Errorf("ended task: %+v, %v", got, ok)
	}
	if _, ok := findTask(tasks[:1], "h1"); ok {
		t.Error("found a task that is not there")
	}
}

// TestEveryCommandDocumented checks that every command (serve aside, which
// another file owns, and cobra's own help and completion) has a usage
// line, a short and a long description and examples, and that every flag
// has help text.
func TestEveryCommandDocumented(t *testing.T) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		switch cmd.Name() {
		case "serve", "help", "completion":
			return
		}
		if cmd.Use == "" || cmd.Short == "" || cmd.Long == "" || cmd.Example == "" {
			t.Errorf("%s: Use %q, Short %q, Long %d bytes, Example %d bytes", cmd.CommandPath(), cmd.Use, cmd.Short, len(cmd.Long), len(cmd.Example))
		}
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Usage == "" {
				t.Errorf("%s --%s has no help", cmd.CommandPath(), f.Name)
			}
		})
	}
	walk(newRootCmd())
}

func TestPeekHTTPToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"AccessDenied","message":"use the token"}`))
			return
		}
		if r.URL.Path != "/_postbox/api/queues/jobs/messages" || r.URL.Query().Get("max") != "5" || r.URL.Query().Get("after") != "m0" {
			t.Errorf("request %s", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"messages":[{"messageId":"m1","body":"b","attributes":{},"messageAttributes":{"k":{"dataType":"String","stringValue":"v"}},"sentTimestamp":1700000000000,"receiveCount":2,"state":"inflight"}]}`))
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	ms, err := peekHTTP(t.Context(), srv.URL, "s3cret", "jobs", 5, "m0")
	if err != nil || len(ms) != 1 {
		t.Fatalf("peek: %v, %v", ms, err)
	}
	m := ms[0]
	if m.state != "inflight" || m.msg.Attributes["ApproximateReceiveCount"] != "2" || m.msg.Attributes["SentTimestamp"] != "1700000000000" ||
		m.msg.MessageAttributes["k"].StringValue != "v" {
		t.Errorf("peeked %+v", m)
	}
	_, err = peekHTTP(t.Context(), srv.URL, "", "jobs", 5, "m0")
	if backend.Code(err) != backend.CodeAccessDenied {
		t.Errorf("without the token: %v", err)
	}
}
