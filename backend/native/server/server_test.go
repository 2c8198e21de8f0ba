package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is the native engine behind the server on a loopback port, with the
// real aws-sdk-go-v2 SQS client pointed at it.
type env struct {
	clock  *clockwork.FakeClock
	eng    *native.Engine
	srv    *server.Server
	hs     *httptest.Server
	client *sqs.Client
	ctx    context.Context
}

func newEnv(t *testing.T, cfg ...server.Config) *env {
	t.Helper()
	clk := clockwork.NewFakeClock()
	// The engine issues URLs under a host nobody uses, so tests see that
	// the server rewrites them to the host the client used.
	eng, err := native.New(native.Config{Clock: clk, BaseURL: "http://engine.invalid:1"})
	if err != nil {
		t.Fatal(err)
	}
	var c server.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.Service = eng
	srv, err := server.New(c)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	})
	client := sqs.New(sqs.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: hs.Client(),
		Retryer:    aws.NopRetryer{},
	})
	return &env{clock: clk, eng: eng, srv: srv, hs: hs, client: client, ctx: t.Context()}
}

func (e *env) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := e.client.CreateQueue(e.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue(%s): %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// waitParked waits until n receives are parked in the engine, without
// sleeping.
func (e *env) waitParked(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.eng.WaitingReceives() < n {
		if time.Now().After(deadline) {
			t.Fatalf("receives parked: %d, want %d", e.eng.WaitingReceives(), n)
		}
		runtime.Gosched()
	}
}

// apiCode returns the error code the SDK reports and, for a query
// compatible error, the modeled code from the type name.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an API error", err, err)
	}
	return ae.ErrorCode()
}

func TestQueueLifecycle(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "orders", map[string]string{"VisibilityTimeout": "45", "DelaySeconds": "2"})
	want := e.hs.URL + "/000000000000/orders"
	if u != want {
		t.Fatalf("QueueUrl = %q, want %q (host the client used)", u, want)
	}
	got, err := e.client.GetQueueUrl(e.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || aws.ToString(got.QueueUrl) != want {
		t.Fatalf("GetQueueUrl = %v, %v", aws.ToString(got.QueueUrl), err)
	}
	e.createQueue(t, "orders-dlq", nil)
	e.createQueue(t, "other", nil)

	lq, err := e.client.ListQueues(e.ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lq.QueueUrls, []string{want, want + "-dlq"}) {
		t.Fatalf("ListQueues = %v", lq.QueueUrls)
	}
	page, err := e.client.ListQueues(e.ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2)})
	if err != nil || len(page.QueueUrls) != 2 || page.NextToken == nil {
		t.Fatalf("ListQueues page 1 = %v, %v, %v", page.QueueUrls, aws.ToString(page.NextToken), err)
	}
	page2, err := e.client.ListQueues(e.ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(2), NextToken: page.NextToken})
	if err != nil || len(page2.QueueUrls) != 1 || page2.NextToken != nil {
		t.Fatalf("ListQueues page 2 = %v, %v, %v", page2.QueueUrls, aws.ToString(page2.NextToken), err)
	}

	ga, err := e.client.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ga.Attributes["VisibilityTimeout"] != "45" || ga.Attributes["DelaySeconds"] != "2" ||
		ga.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:000000000000:orders" {
		t.Fatalf("attributes = %v", ga.Attributes)
	}
	_, err = e.client.SetQueueAttributes(e.ctx, &sqs.SetQueueAttributesInput{
		QueueUrl: aws.String(u),
		Attributes: map[string]string{
			"VisibilityTimeout": "60",
			"RedrivePolicy":     `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:orders-dlq","maxReceiveCount":3}`,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ga, err = e.client.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{"VisibilityTimeout"},
	})
	if err != nil || len(ga.Attributes) != 1 || ga.Attributes["VisibilityTimeout"] != "60" {
		t.Fatalf("attributes = %v, %v", ga.Attributes, err)
	}
	src, err := e.client.ListDeadLetterSourceQueues(e.ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(want + "-dlq")})
	if err != nil || !slices.Equal(src.QueueUrls, []string{want}) {
		t.Fatalf("ListDeadLetterSourceQueues = %v, %v", src.QueueUrls, err)
	}

	// Tags.
	if _, err := e.client.TagQueue(e.ctx, &sqs.TagQueueInput{QueueUrl: aws.String(u), Tags: map[string]string{"team": "a", "env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UntagQueue(e.ctx, &sqs.UntagQueueInput{QueueUrl: aws.String(u), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.client.ListQueueTags(e.ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(u)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["team"] != "a" {
		t.Fatalf("ListQueueTags = %v, %v", tags.Tags, err)
	}

	// Permissions.
	if _, err := e.client.AddPermission(e.ctx, &sqs.AddPermissionInput{
		QueueUrl: aws.String(u), Label: aws.String("p1"), AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.RemovePermission(e.ctx, &sqs.RemovePermissionInput{QueueUrl: aws.String(u), Label: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}

	if _, err := e.client.DeleteQueue(e.ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.GetQueueUrl(e.ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	var dne *types.QueueDoesNotExist
	if !errors.As(err, &dne) {
		t.Fatalf("GetQueueUrl after delete: %v, want QueueDoesNotExist", err)
	}
	if code := apiCode(t, err); code != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("query-compatible code = %q", code)
	}
}

func TestSendReceiveDelete(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "work", nil)

	// Plain message: no attribute digests at all.
	plain, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("hello")})
	if err != nil {
		t.Fatal(err)
	}
	if plain.MD5OfMessageAttributes != nil || plain.MD5OfMessageSystemAttributes != nil || plain.SequenceNumber != nil {
		t.Fatalf("plain send returned attribute digests: %+v", plain)
	}
	// A message with user and system attributes; the SDK checks every MD5.
	withAttrs, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(u),
		MessageBody: aws.String("<b>&\"ü\r\n\t😀"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
			"n":     {DataType: aws.String("Number.int"), StringValue: aws.String("42")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
		},
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if withAttrs.MD5OfMessageAttributes == nil || withAttrs.MD5OfMessageSystemAttributes == nil {
		t.Fatalf("send with attributes lacks digests: %+v", withAttrs)
	}

	out, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(u),
		MaxNumberOfMessages:         10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 2 {
		t.Fatalf("received %d messages, want 2", len(out.Messages))
	}
	byID := map[string]types.Message{}
	for _, m := range out.Messages {
		byID[aws.ToString(m.MessageId)] = m
	}
	p, a := byID[aws.ToString(plain.MessageId)], byID[aws.ToString(withAttrs.MessageId)]
	if aws.ToString(p.Body) != "hello" || p.MD5OfMessageAttributes != nil || len(p.MessageAttributes) != 0 {
		t.Fatalf("plain message = %+v", p)
	}
	if aws.ToString(a.Body) != "<b>&\"ü\r\n\t😀" {
		t.Fatalf("body = %q", aws.ToString(a.Body))
	}
	if got := a.MessageAttributes["blob"].BinaryValue; string(got) != "\x00\x01\x02\xff" {
		t.Fatalf("binary attribute = %v", got)
	}
	if aws.ToString(a.MessageAttributes["n"].StringValue) != "42" || aws.ToString(a.MessageAttributes["n"].DataType) != "Number.int" {
		t.Fatalf("number attribute = %+v", a.MessageAttributes["n"])
	}
	for _, k := range []string{"SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId", "AWSTraceHeader"} {
		if a.Attributes[k] == "" {
			t.Errorf("system attribute %s missing: %v", k, a.Attributes)
		}
	}

	// Visibility: hide one for 0 seconds (visible again), the other stays
	// in flight.
	if _, err := e.client.ChangeMessageVisibility(e.ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(u), ReceiptHandle: p.ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatal(err)
	}
	again, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10})
	if err != nil || len(again.Messages) != 1 || aws.ToString(again.Messages[0].MessageId) != aws.ToString(plain.MessageId) {
		t.Fatalf("receive after visibility 0 = %+v, %v", again.Messages, err)
	}
	if len(again.Messages[0].Attributes) != 0 {
		t.Fatalf("unrequested attributes returned: %v", again.Messages[0].Attributes)
	}
	cvb, err := e.client.ChangeMessageVisibilityBatch(e.ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("ok"), ReceiptHandle: again.Messages[0].ReceiptHandle, VisibilityTimeout: 100},
			{Id: aws.String("bad"), ReceiptHandle: aws.String("garbage"), VisibilityTimeout: 100},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cvb.Successful) != 1 || aws.ToString(cvb.Successful[0].Id) != "ok" ||
		len(cvb.Failed) != 1 || aws.ToString(cvb.Failed[0].Id) != "bad" || aws.ToString(cvb.Failed[0].Code) != backend.CodeReceiptHandleIsInvalid || !cvb.Failed[0].SenderFault {
		t.Fatalf("ChangeMessageVisibilityBatch = %+v %+v", cvb.Successful, cvb.Failed)
	}

	// Delete one singly, one in a batch beside an invalid handle.
	if _, err := e.client.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: a.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	db, err := e.client.DeleteMessageBatch(e.ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: again.Messages[0].ReceiptHandle},
			{Id: aws.String("b"), ReceiptHandle: aws.String("nope")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Successful) != 1 || len(db.Failed) != 1 || aws.ToString(db.Failed[0].Code) != backend.CodeReceiptHandleIsInvalid {
		t.Fatalf("DeleteMessageBatch = %+v %+v", db.Successful, db.Failed)
	}
	_, err = e.client.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: aws.String("nope")})
	var rhi *types.ReceiptHandleIsInvalid
	if !errors.As(err, &rhi) {
		t.Fatalf("DeleteMessage with a bad handle: %v", err)
	}
	ga, err := e.client.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil || ga.Attributes["ApproximateNumberOfMessages"] != "0" || ga.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("counts after deletes = %v, %v", ga.Attributes, err)
	}
}

func TestSendBatch(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "batch", nil)
	out, err := e.client.SendMessageBatch(e.ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(u),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("one"), MessageBody: aws.String("1")},
			{Id: aws.String("two"), MessageBody: aws.String("2"), MessageAttributes: map[string]types.MessageAttributeValue{
				"k": {DataType: aws.String("String"), StringValue: aws.String("v")},
			}},
			{Id: aws.String("bad"), MessageBody: aws.String("x"), DelaySeconds: 901},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 {
		t.Fatalf("SendMessageBatch = %+v / %+v", out.Successful, out.Failed)
	}
	if f := out.Failed[0]; aws.ToString(f.Id) != "bad" || aws.ToString(f.Code) != backend.CodeInvalidParameterValue || !f.SenderFault {
		t.Fatalf("failed entry = %+v", f)
	}
	for _, s := range out.Successful {
		if (aws.ToString(s.Id) == "one") != (s.MD5OfMessageAttributes == nil) {
			t.Fatalf("MD5OfMessageAttributes on %s = %v", aws.ToString(s.Id), aws.ToString(s.MD5OfMessageAttributes))
		}
	}
	// Request-level batch errors.
	_, err = e.client.SendMessageBatch(e.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(u), Entries: []types.SendMessageBatchRequestEntry{}})
	var ebr *types.EmptyBatchRequest
	if !errors.As(err, &ebr) {
		t.Fatalf("empty batch: %v", err)
	}
	_, err = e.client.SendMessageBatch(e.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(u), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("1")}, {Id: aws.String("a"), MessageBody: aws.String("2")},
	}})
	var dup *types.BatchEntryIdsNotDistinct
	if !errors.As(err, &dup) {
		t.Fatalf("duplicate ids: %v", err)
	}
}

func TestFIFOAndMoveTasks(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "jobs.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for range 2 {
		out, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("same"), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SequenceNumber) == "" {
			t.Fatal("FIFO send without SequenceNumber")
		}
	}
	rcv, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(u), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"MessageGroupId", "SequenceNumber"},
	})
	if err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("FIFO receive (deduplicated) = %d messages, %v", len(rcv.Messages), err)
	}
	if rcv.Messages[0].Attributes["MessageGroupId"] != "g" || rcv.Messages[0].Attributes["SequenceNumber"] == "" {
		t.Fatalf("FIFO attributes = %v", rcv.Messages[0].Attributes)
	}
	_, err = e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")})
	if code := apiCode(t, err); code != backend.CodeMissingParameter && code != backend.CodeInvalidParameterValue {
		t.Fatalf("FIFO send without group: code %q (%v)", code, err)
	}

	// A dead-letter queue and a move task back to the source.
	dlq := e.createQueue(t, "dead", nil)
	src := e.createQueue(t, "src", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dead","maxReceiveCount":"1"}`,
	})
	if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	if r, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src), VisibilityTimeout: 1}); err != nil || len(r.Messages) != 1 {
		t.Fatalf("receive from src = %v, %v", r, err)
	}
	e.clock.Advance(2 * time.Second)
	if r, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src)}); err != nil || len(r.Messages) != 0 {
		t.Fatalf("second receive from src = %v, %v (want the message dead-lettered)", r, err)
	}
	r, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(dlq), VisibilityTimeout: 0,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"DeadLetterQueueSourceArn"},
	})
	if err != nil || len(r.Messages) != 1 || r.Messages[0].Attributes["DeadLetterQueueSourceArn"] != "arn:aws:sqs:us-east-1:000000000000:src" {
		t.Fatalf("receive from dlq = %+v, %v", r, err)
	}
	st, err := e.client.StartMessageMoveTask(e.ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:dead")})
	if err != nil || aws.ToString(st.TaskHandle) == "" {
		t.Fatalf("StartMessageMoveTask = %v, %v", st, err)
	}
	lt, err := e.client.ListMessageMoveTasks(e.ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:dead"), MaxResults: aws.Int32(10)})
	if err != nil || len(lt.Results) != 1 {
		t.Fatalf("ListMessageMoveTasks = %+v, %v", lt, err)
	}
	if res := lt.Results[0]; aws.ToString(res.SourceArn) != "arn:aws:sqs:us-east-1:000000000000:dead" || res.StartedTimestamp == 0 || aws.ToString(res.Status) == "" {
		t.Fatalf("move task = %+v", res)
	}
	_, err = e.client.CancelMessageMoveTask(e.ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("no-such-task")})
	var rnf *types.ResourceNotFoundException
	if err == nil || (!errors.As(err, &rnf) && apiCode(t, err) != backend.CodeInvalidParameterValue) {
		t.Fatalf("CancelMessageMoveTask(unknown) = %v", err)
	}
}

func TestLongPollWakesAndDrain(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "poll", nil)

	type result struct {
		n   int
		err error
	}
	recv := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			out, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), WaitTimeSeconds: 20})
			if err != nil {
				ch <- result{0, err}
				return
			}
			ch <- result{len(out.Messages), nil}
		}()
		return ch
	}

	// A send wakes a parked poll without the clock moving.
	ch := recv()
	e.waitParked(t, 1)
	if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	if r := <-ch; r.err != nil || r.n != 1 {
		t.Fatalf("woken poll = %d messages, %v", r.n, r.err)
	}

	// The wait elapses on the engine's clock.
	ch = recv()
	e.waitParked(t, 1)
	e.clock.Advance(20 * time.Second)
	if r := <-ch; r.err != nil || r.n != 0 {
		t.Fatalf("elapsed poll = %d messages, %v", r.n, r.err)
	}

	// Drain answers a parked poll at once, with no messages and no error,
	// and later polls do not wait.
	ch = recv()
	e.waitParked(t, 1)
	e.srv.Drain()
	if r := <-ch; r.err != nil || r.n != 0 {
		t.Fatalf("drained poll = %d messages, %v", r.n, r.err)
	}
	if r := <-recv(); r.err != nil || r.n != 0 {
		t.Fatalf("poll after drain = %d messages, %v", r.n, r.err)
	}
	e.srv.Drain() // idempotent
}

// rawPost sends a hand-built request and returns the response.
func rawPost(t *testing.T, url string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func jsonCall(t *testing.T, e *env, action, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, b := rawPost(t, e.hs.URL+"/", map[string]string{
		"X-Amz-Target": "AmazonSQS." + action, "Content-Type": "application/x-amz-json-1.0",
	}, body)
	var m map[string]any
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("%s answered non-JSON %q: %v", action, b, err)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("%s answer lacks x-amzn-RequestId", action)
	}
	return resp, m
}

// TestJSONShapes checks the exact JSON keys that SDKs depend on.
func TestJSONShapes(t *testing.T) {
	e := newEnv(t)
	u := e.createQueue(t, "shapes", nil)
	e.createQueue(t, "shapes-dlq", nil)

	_, m := jsonCall(t, e, "SendMessageBatch", `{"QueueUrl":"`+u+`","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"b","MessageBody":""}]}`)
	if _, ok := m["Successful"].([]any); !ok {
		t.Fatalf("SendMessageBatch lacks Successful: %v", m)
	}
	if f, ok := m["Failed"].([]any); !ok || len(f) != 1 {
		t.Fatalf("SendMessageBatch Failed = %v", m["Failed"])
	}
	ok0 := m["Successful"].([]any)[0].(map[string]any)
	if _, has := ok0["MD5OfMessageAttributes"]; has {
		t.Fatalf("MD5OfMessageAttributes present without attributes: %v", ok0)
	}
	// SQS leaves empty lists out of its JSON answers (recorded for issue
	// 19: a SendMessageBatch without failures has no "Failed" key).
	_, m = jsonCall(t, e, "SendMessageBatch", `{"QueueUrl":"`+u+`","Entries":[{"Id":"a","MessageBody":"y"}]}`)
	if _, has := m["Failed"]; has {
		t.Fatalf("SendMessageBatch without failures has Failed: %v", m)
	}
	_, m = jsonCall(t, e, "DeleteMessageBatch", `{"QueueUrl":"`+u+`","Entries":[{"Id":"a","ReceiptHandle":"zz"}]}`)
	if _, has := m["Successful"]; has {
		t.Fatalf("DeleteMessageBatch without successes has Successful: %v", m)
	}
	_, m = jsonCall(t, e, "ListDeadLetterSourceQueues", `{"QueueUrl":"`+u+`-dlq"}`)
	if len(m) != 0 {
		t.Fatalf("ListDeadLetterSourceQueues of a queue without sources = %v, want {}", m)
	}
	_, m = jsonCall(t, e, "ReceiveMessage", `{"QueueUrl":"`+u+`","MaxNumberOfMessages":10}`)
	msgs := m["Messages"].([]any)
	msg := msgs[0].(map[string]any)
	for _, k := range []string{"MessageId", "ReceiptHandle", "MD5OfBody", "Body"} {
		if _, ok := msg[k]; !ok {
			t.Errorf("message lacks %s: %v", k, msg)
		}
	}
	for _, k := range []string{"MD5OfMessageAttributes", "MessageAttributes", "Attributes"} {
		if _, ok := msg[k]; ok {
			t.Errorf("message has %s though none were sent or asked for: %v", k, msg)
		}
	}
	// CreateQueue's tags travel under the lower-case "tags" key.
	_, m = jsonCall(t, e, "CreateQueue", `{"QueueName":"tagged","tags":{"a":"1"}}`)
	_, m = jsonCall(t, e, "ListQueueTags", `{"QueueUrl":"`+m["QueueUrl"].(string)+`"}`)
	if tags, _ := m["Tags"].(map[string]any); tags["a"] != "1" {
		t.Fatalf("tags = %v", m)
	}
	// A JSON client may also post to the queue's path instead of giving QueueUrl.
	resp, b := rawPost(t, u, map[string]string{"X-Amz-Target": "AmazonSQS.SendMessage", "Content-Type": "application/x-amz-json-1.0"}, `{"MessageBody":"by path"}`)
	if resp.StatusCode != 200 || !strings.Contains(b, "MD5OfMessageBody") {
		t.Fatalf("send by path = %d %s", resp.StatusCode, b)
	}
}

func TestHostOverride(t *testing.T) {
	e := newEnv(t, server.Config{Host: "queues.example:9999"})
	u := e.createQueue(t, "h", nil)
	if u != "http://queues.example:9999/000000000000/h" {
		t.Fatalf("QueueUrl = %q", u)
	}
	// The client may keep using the URL: only its path matters.
	if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, c := range []server.Config{
		{},
		{Service: &native.Engine{}, MaxRequestBytes: -1},
		{Service: &native.Engine{}, Host: "http://x"},
	} {
		if _, err := server.New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}
