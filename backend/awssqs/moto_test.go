package awssqs_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// startMoto starts moto's SQS-compatible server on a free loopback port
// and returns its base URL; it is killed when the test ends. The test is
// skipped when python3 or moto is missing.
func startMoto(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end test against moto")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed; skipping the end-to-end test against moto (pip install 'moto[server]')")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", port)
	// moto's own boto3 must not see the test's AWS settings (an empty
	// AWS_PROFILE is a profile named "" to it).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start moto (%v); skipping the end-to-end test against moto", err)
	}

	// One goroutine reads moto's log: it reports readiness, keeps the pipe
	// drained, and ends when moto exits.
	ready := make(chan struct{})
	drained := make(chan struct{})
	var log strings.Builder // moto's log, kept to show when a test fails
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if log.Len() < 1<<20 {
				log.WriteString(line + "\n")
			}
			if !signalled && strings.Contains(line, "Running on http://127.0.0.1:"+port) {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-drained
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("moto's log:\n%s", log.String())
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	select {
	case <-ready:
		t.Cleanup(stop)
		return "http://127.0.0.1:" + port
	case <-drained:
		stop()
		if strings.Contains(log.String(), "No module named") {
			t.Skipf("moto is not installed; skipping the end-to-end test against moto (pip install 'moto[server]'):\n%s", log.String())
		}
		t.Fatalf("moto exited before serving:\n%s", log.String())
	case <-ctx.Done():
		stop()
		t.Fatalf("moto did not start within 30s:\n%s", log.String())
	}
	return ""
}

// TestAgainstMoto runs the adapter, through backend.Open and the real SDK,
// against moto's SQS over loopback HTTP.
func TestAgainstMoto(t *testing.T) {
	isolateAWSConfig(t)
	base := startMoto(t)
	const account = "123456789012" // moto's
	ctx := t.Context()

	q0, svc, err := backend.Open(ctx, base+"/"+account+"/bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_ = q0

	mustCreate := func(t *testing.T, name string, attrs backend.Attributes, tags map[string]string) backend.Queue {
		t.Helper()
		u, err := svc.CreateQueue(ctx, name, attrs, tags)
		if err != nil {
			t.Fatalf("CreateQueue(%s): %v", name, err)
		}
		q, err := svc.Queue(u)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	receiveAll := func(t *testing.T, q backend.Queue, want int, req backend.ReceiveRequest) []*backend.Message {
		t.Helper()
		var got []*backend.Message
		for range 10 {
			msgs, err := q.Receive(ctx, req)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			got = append(got, msgs...)
			if len(got) >= want {
				break
			}
		}
		if len(got) != want {
			t.Fatalf("received %d messages; want %d", len(got), want)
		}
		return got
	}
	short := backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)}

	t.Run("create-url-list-delete", func(t *testing.T) {
		q := mustCreate(t, "e2e-admin", backend.Attributes{"VisibilityTimeout": "45"}, map[string]string{"team": "a"})
		if !strings.HasSuffix(q.URL(), "/"+account+"/e2e-admin") {
			t.Errorf("queue URL = %s", q.URL())
		}
		u, err := svc.QueueURL(ctx, "e2e-admin", "")
		if err != nil || u != q.URL() {
			t.Errorf("QueueURL = %q, %v; want %q", u, err, q.URL())
		}
		again, err := svc.CreateQueue(ctx, "e2e-admin", backend.Attributes{"VisibilityTimeout": "45"}, nil)
		if err != nil || again != q.URL() {
			t.Errorf("CreateQueue with the same attributes = %q, %v; want the existing URL", again, err)
		}
		list, err := svc.ListQueues(ctx, backend.ListQueuesRequest{Prefix: "e2e-adm"})
		if err != nil || !slices.Contains(list.QueueURLs, q.URL()) {
			t.Errorf("ListQueues = %+v, %v; want %s in it", list, err, q.URL())
		}
		if err := svc.DeleteQueue(ctx, q.URL()); err != nil {
			t.Fatalf("DeleteQueue: %v", err)
		}
		if _, err := svc.GetAttributes(ctx, q.URL(), []string{"All"}); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("GetAttributes of a deleted queue = %v; want QueueDoesNotExist", err)
		}
		if _, err := svc.QueueURL(ctx, "e2e-never-made", ""); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("QueueURL of a missing queue = %v; want QueueDoesNotExist", err)
		}
	})

	t.Run("send-receive-visibility-delete", func(t *testing.T) {
		q := mustCreate(t, "e2e-messages", nil, nil)
		entries := []backend.SendEntry{
			{ID: "plain", Body: "hello"},
			{ID: "attrs", Body: `{"n":1}`, MessageAttributes: map[string]backend.MessageAttributeValue{
				"kind":  {DataType: "String", StringValue: "order"},
				"count": {DataType: "Number", StringValue: "3"},
				"blob":  {DataType: "Binary", BinaryValue: []byte{0xde, 0xad}},
			}},
			{ID: "unicode", Body: "héllo wörld ✓"},
		}
		res, err := q.Send(ctx, entries)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		for i, r := range res {
			if r.Err != nil || r.ID != entries[i].ID || r.MessageID == "" || r.MD5OfMessageBody != md5Hex(entries[i].Body) {
				t.Errorf("result %d = %+v (err %v)", i, r, r.Err)
			}
		}
		if res[1].MD5OfMessageAttributes == "" || res[0].MD5OfMessageAttributes != "" {
			t.Errorf("MD5OfMessageAttributes = %q, %q; want one only for the entry with attributes",
				res[0].MD5OfMessageAttributes, res[1].MD5OfMessageAttributes)
		}

		got := receiveAll(t, q, 3, backend.ReceiveRequest{
			MaxMessages: 10, WaitTimeSeconds: new(0),
			SystemAttributeNames: []string{"All"}, MessageAttributeNames: []string{"All"},
		})
		byBody := map[string]*backend.Message{}
		for _, m := range got {
			byBody[m.Body] = m
			if m.ReceiptHandle == "" || m.MD5OfBody != md5Hex(m.Body) || m.Attributes["ApproximateReceiveCount"] != "1" {
				t.Errorf("message %+v", m)
			}
		}
		withAttrs := byBody[`{"n":1}`]
		if withAttrs == nil || withAttrs.MessageAttributes["blob"].DataType != "Binary" ||
			string(withAttrs.MessageAttributes["blob"].BinaryValue) != "\xde\xad" ||
			withAttrs.MessageAttributes["count"].StringValue != "3" {
			t.Errorf("message with attributes = %+v", withAttrs)
		}

		// Make one visible again at once; a malformed handle fails alone.
		vis, err := q.ChangeVisibility(ctx, []backend.VisibilityEntry{
			{ID: "v1", ReceiptHandle: byBody["hello"].ReceiptHandle, VisibilityTimeout: 0},
			{ID: "v2", ReceiptHandle: "not-a-handle", VisibilityTimeout: 0},
		})
		if err != nil {
			t.Fatalf("ChangeVisibility: %v", err)
		}
		if vis[0].ID != "v1" || vis[0].Err != nil || vis[1].ID != "v2" || vis[1].Err == nil {
			t.Errorf("ChangeVisibility results = %+v, %+v; want v1 ok and v2 failed", vis[0], vis[1].Err)
		}
		again := receiveAll(t, q, 1, short)
		if again[0].Body != "hello" {
			t.Errorf("received %q after making hello visible; want hello", again[0].Body)
		}

		del := []backend.DeleteEntry{{ID: "d0", ReceiptHandle: again[0].ReceiptHandle}}
		for i, m := range got {
			if m.Body != "hello" {
				del = append(del, backend.DeleteEntry{ID: "d" + strconv.Itoa(i+1), ReceiptHandle: m.ReceiptHandle})
			}
		}
		dres, err := q.Delete(ctx, del)
		if err != nil {
			t.Fatalf("Delete: %v", err)
		}
		for i, r := range dres {
			if r.ID != del[i].ID || r.Err != nil {
				t.Errorf("delete result %d = %+v (%v)", i, r, r.Err)
			}
		}
		attrs, err := svc.GetAttributes(ctx, q.URL(), []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
		if err != nil || attrs["ApproximateNumberOfMessages"] != "0" || attrs["ApproximateNumberOfMessagesNotVisible"] != "0" {
			t.Errorf("after deleting everything: %v, %v", attrs, err)
		}
	})

	t.Run("explicit-zeros-override-queue-defaults", func(t *testing.T) {
		q := mustCreate(t, "e2e-zeros", backend.Attributes{"DelaySeconds": "900", "ReceiveMessageWaitTimeSeconds": "20"}, nil)
		// DelaySeconds 0 overrides the queue's 15-minute delay.
		if res, err := q.Send(ctx, []backend.SendEntry{{ID: "now", Body: "now", DelaySeconds: new(0)}}); err != nil || res[0].Err != nil {
			t.Fatalf("Send: %v %v", err, res)
		}
		// WaitTimeSeconds 0 overrides the queue's 20-second long poll: were
		// it left out, this would wait and run into the deadline.
		short, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		msgs, err := q.Receive(short, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), VisibilityTimeout: new(0)})
		if err != nil || len(msgs) != 1 || msgs[0].Body != "now" {
			t.Fatalf("Receive = %v, %v; want the undelayed message at once", msgs, err)
		}
		// VisibilityTimeout 0 left it visible.
		msgs, err = q.Receive(short, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("second Receive = %v, %v; want the message again (visibility 0)", msgs, err)
		}
		// And an empty short poll returns at once.
		if err := svc.Purge(ctx, q.URL()); err != nil {
			t.Fatal(err)
		}
		if msgs, err := q.Receive(short, backend.ReceiveRequest{WaitTimeSeconds: new(0)}); err != nil || len(msgs) != 0 {
			t.Fatalf("short poll of an empty queue = %v, %v", msgs, err)
		}
	})

	t.Run("attributes-tags-purge", func(t *testing.T) {
		q := mustCreate(t, "e2e-attrs", nil, map[string]string{"team": "a"})
		if err := svc.SetAttributes(ctx, q.URL(), backend.Attributes{"VisibilityTimeout": "120", "MaximumMessageSize": "2048"}); err != nil {
			t.Fatalf("SetAttributes: %v", err)
		}
		attrs, err := svc.GetAttributes(ctx, q.URL(), []string{"All"})
		if err != nil || attrs["VisibilityTimeout"] != "120" || attrs["MaximumMessageSize"] != "2048" || attrs["QueueArn"] == "" {
			t.Errorf("GetAttributes = %v, %v", attrs, err)
		}
		if err := svc.TagQueue(ctx, q.URL(), map[string]string{"env": "test"}); err != nil {
			t.Fatal(err)
		}
		if err := svc.UntagQueue(ctx, q.URL(), []string{"team"}); err != nil {
			t.Fatal(err)
		}
		tags, err := svc.ListTags(ctx, q.URL())
		if err != nil || len(tags) != 1 || tags["env"] != "test" {
			t.Errorf("ListTags = %v, %v; want env=test only", tags, err)
		}

		if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "a"}, {ID: "2", Body: "b"}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.Purge(ctx, q.URL()); err != nil {
			t.Fatalf("Purge: %v", err)
		}
		attrs, err = svc.GetAttributes(ctx, q.URL(), []string{"ApproximateNumberOfMessages"})
		if err != nil || attrs["ApproximateNumberOfMessages"] != "0" {
			t.Errorf("after Purge: %v, %v", attrs, err)
		}
	})

	t.Run("fifo-and-dead-letter-sources", func(t *testing.T) {
		q := mustCreate(t, "e2e-jobs.fifo", backend.Attributes{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil)
		res, err := q.Send(ctx, []backend.SendEntry{
			{ID: "1", Body: "first", MessageGroupID: "g"},
			{ID: "2", Body: "second", MessageGroupID: "g"},
		})
		// (moto leaves SequenceNumber out of batch results; the fixture test
		// checks that it is carried over.)
		if err != nil || res[0].Err != nil || res[1].Err != nil {
			t.Fatalf("Send = %+v, %v", res, err)
		}
		msgs := receiveAll(t, q, 2, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0), SystemAttributeNames: []string{"MessageGroupId"}})
		if msgs[0].Body != "first" || msgs[1].Body != "second" || msgs[0].Attributes["MessageGroupId"] != "g" {
			t.Errorf("FIFO receive = %q %q %v", msgs[0].Body, msgs[1].Body, msgs[0].Attributes)
		}

		dlq := mustCreate(t, "e2e-dlq", nil, nil)
		dlqAttrs, err := svc.GetAttributes(ctx, dlq.URL(), []string{"QueueArn"})
		if err != nil {
			t.Fatal(err)
		}
		src := mustCreate(t, "e2e-src", backend.Attributes{
			"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqAttrs["QueueArn"] + `","maxReceiveCount":"3"}`,
		}, nil)
		list, err := svc.ListDeadLetterSourceQueues(ctx, dlq.URL(), backend.ListQueuesRequest{})
		if err != nil || !slices.Contains(list.QueueURLs, src.URL()) {
			t.Errorf("ListDeadLetterSourceQueues = %+v, %v; want %s", list, err, src.URL())
		}
	})

	t.Run("errors", func(t *testing.T) {
		missing, err := svc.Queue(base + "/" + account + "/e2e-missing")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := missing.Send(ctx, []backend.SendEntry{{ID: "1", Body: "x"}}); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("Send to a missing queue = %v; want QueueDoesNotExist", err)
		}
		if _, err := missing.Receive(ctx, short); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("Receive from a missing queue = %v; want QueueDoesNotExist", err)
		}
		if err := svc.Purge(ctx, missing.URL()); !errors.Is(err, backend.ErrQueueDoesNotExist) {
			t.Errorf("Purge of a missing queue = %v; want QueueDoesNotExist", err)
		}
		q := mustCreate(t, "e2e-errors", nil, nil)
		if _, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 11}); !errors.Is(err, backend.ErrInvalidParameterValue) {
			t.Errorf("Receive of 11 = %v; want InvalidParameterValue", err)
		}
		var be *backend.Error
		if _, err := q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "x"}, {ID: "1", Body: "y"}}); !errors.As(err, &be) ||
			be.Code != backend.CodeBatchEntryIdsNotDistinct {
			t.Errorf("Send with duplicate ids = %v; want BatchEntryIdsNotDistinct", err)
		}
	})
}
