package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// benchFixture is postbox serve on loopback with queues holding real
// messages, which bench must leave as they are.
type benchFixture struct {
	client   *sqs.Client
	endpoint string
}

// queue creates a queue with attributes and n messages and returns its URL.
func (f *benchFixture) queue(t *testing.T, name string, attrs map[string]string, n int) string {
	t.Helper()
	out, err := f.client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, n); j++ {
			e := types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), MessageBody: aws.String(fmt.Sprintf("real message %d", j))}
			if strings.HasSuffix(name, ".fifo") {
				e.MessageGroupId = aws.String("real")
			}
			entries = append(entries, e)
		}
		res, err := f.client.SendMessageBatch(t.Context(), &sqs.SendMessageBatchInput{QueueUrl: out.QueueUrl, Entries: entries})
		if err != nil || len(res.Failed) > 0 {
			t.Fatalf("sending: %v, %+v", err, res)
		}
	}
	return aws.ToString(out.QueueUrl)
}

// untouched checks that the queue holds its n messages, visible and never
// received, by peeking through the dashboard API (which receives nothing).
func (f *benchFixture) untouched(t *testing.T, name string, n int) {
	t.Helper()
	var ms []peeked
	for after := ""; ; {
		page, err := peekHTTP(t.Context(), f.endpoint, "", name, peekPage, after)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, page...)
		if len(page) < peekPage {
			break
		}
		after = page[len(page)-1].msg.MessageID
	}
	if len(ms) != n {
		t.Errorf("%s holds %d messages, want its %d", name, len(ms), n)
	}
	for _, m := range ms {
		if m.state != "visible" || m.msg.Attributes["ApproximateReceiveCount"] != "0" {
			t.Errorf("%s: message %q is %s, received %s times; want visible, never received",
				name, m.msg.Body, m.state, m.msg.Attributes["ApproximateReceiveCount"])
		}
	}
}

// queues lists the server's queue names.
func (f *benchFixture) queues(t *testing.T) []string {
	t.Helper()
	out, err := f.client.ListQueues(t.Context(), &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range out.QueueUrls {
		names = append(names, u[strings.LastIndexByte(u, '/')+1:])
	}
	return names
}

// TestBenchTouchesOnlyItsOwnMessages runs bench in every mode on a queue
// of postbox serve that holds real messages, and checks that they are all
// there afterwards, never received, and that bench left no queue behind.
func TestBenchTouchesOnlyItsOwnMessages(t *testing.T) {
	o := defaultOptions()
	o.ui = true // the peek API
	o.logLevel = "warn"
	client, s, _, _ := startServe(t, o)
	f := &benchFixture{client: client, endpoint: "http://" + s.addr.String()}
	f.queue(t, "real-dlq", nil, 0)
	dlqARN := "arn:aws:sqs:us-east-1:000000000000:real-dlq"
	real := f.queue(t, "real", map[string]string{
		"VisibilityTimeout": "45",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":1}`,
	}, 50)
	before := f.queues(t)

	scratchRE := regexp.MustCompile(`^` + regexp.QuoteMeta(f.endpoint) + `/000000000000/real-bench-[0-9a-f]{8}$`)
	for _, mode := range []string{"send", "receive", "cycle"} {
		for _, arg := range []string{real, "real"} {
			args := []string{"bench", arg, "--mode", mode, "--messages", "200", "--concurrency", "2", "--wait", "0", "--json"}
			if arg == "real" {
				args = append(args, "--endpoint", f.endpoint)
			}
			out, errOut, err := runCLI(t.Context(), args...)
			if err != nil {
				t.Fatalf("postbox %s: %v\n%s", strings.Join(args, " "), err, errOut)
			}
			var res benchResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("bench --json: %v\n%s", err, out)
			}
			if res.Messages != 200 || res.Errors != 0 || res.Queue != real || !scratchRE.MatchString(res.ScratchQueue) {
				t.Errorf("bench --mode %s %s = %+v", mode, arg, res)
			}
			f.untouched(t, "real", 50)
			f.untouched(t, "real-dlq", 0)
			if got := f.queues(t); !slices.Equal(got, before) {
				t.Errorf("after bench --mode %s the queues are %v, want %v", mode, got, before)
			}
		}
	}
}

// TestBenchInterrupted interrupts a bench on a FIFO queue (as SIGINT does:
// the command's context ends) and checks that its scratch queue had the
// queue's attributes but its dead-letter queue, and is gone afterwards,
// with the queue's own messages untouched.
func TestBenchInterrupted(t *testing.T) {
	o := defaultOptions()
	o.ui = true
	o.logLevel = "warn"
	client, s, _, _ := startServe(t, o)
	f := &benchFixture{client: client, endpoint: "http://" + s.addr.String()}
	f.queue(t, "orders-dlq.fifo", map[string]string{"FifoQueue": "true"}, 0)
	orders := f.queue(t, "orders.fifo", map[string]string{
		"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "45",
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq.fifo","maxReceiveCount":2}`,
	}, 5)
	before := f.queues(t)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := runCLI(ctx, "bench", orders, "--mode", "cycle", "--duration", "1m", "--wait", "0")
		done <- result{out, err}
	}()

	// Wait for the scratch queue, then look at it while bench uses it.
	var scratch string
	for deadline := time.Now().Add(10 * time.Second); scratch == ""; {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no scratch queue appeared; bench: %+v", <-done)
		}
		out, err := client.ListQueues(t.Context(), &sqs.ListQueuesInput{QueueNamePrefix: aws.String("orders-bench-")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.QueueUrls) > 0 {
			scratch = out.QueueUrls[0]
		}
	}
	if !strings.HasSuffix(scratch, ".fifo") {
		t.Errorf("the scratch queue of a FIFO queue is %s", scratch)
	}
	ga, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(scratch), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	a := ga.Attributes
	if a["FifoQueue"] != "true" || a["ContentBasedDeduplication"] != "true" || a["VisibilityTimeout"] != "45" || a["RedrivePolicy"] != "" {
		t.Errorf("scratch queue attributes = %v; want the queue's, without its RedrivePolicy", a)
	}

	cancel() // Ctrl-C
	r := <-done
	if !errors.Is(r.err, context.Canceled) || exitCode(ctx, r.err) != exitInterrupted || !strings.Contains(r.out, "(interrupted)") {
		t.Errorf("interrupted bench: %v, exit %d\n%s", r.err, exitCode(ctx, r.err), r.out)
	}
	if got := f.queues(t); !slices.Equal(got, before) {
		t.Errorf("after an interrupted bench the queues are %v, want %v", got, before)
	}
	f.untouched(t, "orders.fifo", 5)
	f.untouched(t, "orders-dlq.fifo", 0)
}

func TestScratchName(t *testing.T) {
	long := strings.Repeat("q", 80)
	for _, c := range []struct{ name, want string }{
		{"jobs", "jobs-bench-0a1b2c3d"},
		{"orders.fifo", "orders-bench-0a1b2c3d.fifo"},
		{long, long[:65] + "-bench-0a1b2c3d"},
		{long[:75] + ".fifo", long[:60] + "-bench-0a1b2c3d.fifo"},
	} {
		got := scratchName(c.name, "0a1b2c3d")
		if got != c.want || len(got) > 80 {
			t.Errorf("scratchName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
