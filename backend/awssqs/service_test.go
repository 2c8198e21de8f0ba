package awssqs_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// TestServiceCalls checks, for every backend.Service method, the SQS action
// it makes, the request it sends and what it makes of the answer.
func TestServiceCalls(t *testing.T) {
	const arn = "arn:aws:sqs:us-east-1:000000000000:dlq"
	started := time.UnixMilli(1700000000123)
	f := cannedFixture(t, map[string]any{
		"CreateQueue":        map[string]any{"QueueUrl": "http://127.0.0.1/000000000000/made"},
		"DeleteQueue":        map[string]any{},
		"GetQueueUrl":        map[string]any{"QueueUrl": "http://127.0.0.1/111111111111/found"},
		"ListQueues":         map[string]any{"QueueUrls": []string{"u1", "u2"}, "NextToken": "next"},
		"GetQueueAttributes": map[string]any{"Attributes": map[string]string{"VisibilityTimeout": "30"}},
		"SetQueueAttributes": map[string]any{},
		"PurgeQueue":         map[string]any{},
		"TagQueue":           map[string]any{},
		"UntagQueue":         map[string]any{},
		"ListQueueTags":      map[string]any{"Tags": map[string]string{"team": "a"}},
		"ListDeadLetterSourceQueues": map[string]any{
			"queueUrls": []string{"http://h/000000000000/orders", "http://h/000000000000/refunds"}, "NextToken": "t2"},
		"StartMessageMoveTask":  map[string]any{"TaskHandle": "task-1"},
		"CancelMessageMoveTask": map[string]any{"ApproximateNumberOfMessagesMoved": 12},
		"ListMessageMoveTasks": map[string]any{"Results": []map[string]any{{
			"TaskHandle": "task-1", "Status": "RUNNING", "SourceArn": arn, "DestinationArn": "arn:d",
			"MaxNumberOfMessagesPerSecond": 50, "ApproximateNumberOfMessagesMoved": 3,
			"ApproximateNumberOfMessagesToMove": 10, "StartedTimestamp": started.UnixMilli(),
		}, {
			"Status": "FAILED", "SourceArn": arn, "FailureReason": "AWS.SimpleQueueService.NonExistentQueue",
			"ApproximateNumberOfMessagesMoved": 0, "StartedTimestamp": started.UnixMilli(),
		}}},
		"AddPermission":    map[string]any{},
		"RemovePermission": map[string]any{},
	})
	_, svc := f.open(t, "q")
	u := f.queueURL("q")

	tests := []struct {
		action string
		call   func(ctx context.Context) (any, error)
		want   any            // the method's result
		req    map[string]any // the request body
	}{
		{"CreateQueue", func(ctx context.Context) (any, error) {
			return svc.CreateQueue(ctx, "made", backend.Attributes{"DelaySeconds": "5"}, map[string]string{"team": "a"})
		}, "http://127.0.0.1/000000000000/made",
			map[string]any{"QueueName": "made", "Attributes": map[string]any{"DelaySeconds": "5"}, "tags": map[string]any{"team": "a"}}},
		{"DeleteQueue", func(ctx context.Context) (any, error) { return nil, svc.DeleteQueue(ctx, u) },
			nil, map[string]any{"QueueUrl": u}},
		{"GetQueueUrl", func(ctx context.Context) (any, error) { return svc.QueueURL(ctx, "found", "111111111111") },
			"http://127.0.0.1/111111111111/found", map[string]any{"QueueName": "found", "QueueOwnerAWSAccountId": "111111111111"}},
		{"GetQueueUrl", func(ctx context.Context) (any, error) { return svc.QueueURL(ctx, "found", "") },
			"http://127.0.0.1/111111111111/found", map[string]any{"QueueName": "found"}},
		{"ListQueues", func(ctx context.Context) (any, error) {
			return svc.ListQueues(ctx, backend.ListQueuesRequest{Prefix: "or", MaxResults: 2, NextToken: "tok"})
		}, backend.ListQueuesResult{QueueURLs: []string{"u1", "u2"}, NextToken: "next"},
			map[string]any{"QueueNamePrefix": "or", "MaxResults": 2.0, "NextToken": "tok"}},
		{"ListQueues", func(ctx context.Context) (any, error) { return svc.ListQueues(ctx, backend.ListQueuesRequest{}) },
			backend.ListQueuesResult{QueueURLs: []string{"u1", "u2"}, NextToken: "next"}, map[string]any{}},
		// An invalid MaxResults goes out for the service to reject.
		{"ListQueues", func(ctx context.Context) (any, error) {
			return svc.ListQueues(ctx, backend.ListQueuesRequest{MaxResults: -1})
		}, backend.ListQueuesResult{QueueURLs: []string{"u1", "u2"}, NextToken: "next"}, map[string]any{"MaxResults": -1.0}},
		{"GetQueueAttributes", func(ctx context.Context) (any, error) {
			return svc.GetAttributes(ctx, u, []string{"VisibilityTimeout"})
		}, backend.Attributes{"VisibilityTimeout": "30"},
			map[string]any{"QueueUrl": u, "AttributeNames": []any{"VisibilityTimeout"}}},
		{"SetQueueAttributes", func(ctx context.Context) (any, error) {
			return nil, svc.SetAttributes(ctx, u, backend.Attributes{"VisibilityTimeout": "60"})
		}, nil, map[string]any{"QueueUrl": u, "Attributes": map[string]any{"VisibilityTimeout": "60"}}},
		{"PurgeQueue", func(ctx context.Context) (any, error) { return nil, svc.Purge(ctx, u) },
			nil, map[string]any{"QueueUrl": u}},
		{"TagQueue", func(ctx context.Context) (any, error) { return nil, svc.TagQueue(ctx, u, map[string]string{"k": "v"}) },
			nil, map[string]any{"QueueUrl": u, "Tags": map[string]any{"k": "v"}}},
		{"UntagQueue", func(ctx context.Context) (any, error) { return nil, svc.UntagQueue(ctx, u, []string{"k"}) },
			nil, map[string]any{"QueueUrl": u, "TagKeys": []any{"k"}}},
		{"ListQueueTags", func(ctx context.Context) (any, error) { return svc.ListTags(ctx, u) },
			map[string]string{"team": "a"}, map[string]any{"QueueUrl": u}},
		{"ListDeadLetterSourceQueues", func(ctx context.Context) (any, error) {
			return svc.ListDeadLetterSourceQueues(ctx, u, backend.ListQueuesRequest{MaxResults: 5, NextToken: "t1"})
		}, backend.ListQueuesResult{QueueURLs: []string{"http://h/000000000000/orders", "http://h/000000000000/refunds"}, NextToken: "t2"},
			map[string]any{"QueueUrl": u, "MaxResults": 5.0, "NextToken": "t1"}},
		{"ListDeadLetterSourceQueues", func(ctx context.Context) (any, error) {
			return svc.ListDeadLetterSourceQueues(ctx, u, backend.ListQueuesRequest{Prefix: "ref"})
		}, backend.ListQueuesResult{QueueURLs: []string{"http://h/000000000000/refunds"}, NextToken: "t2"},
			map[string]any{"QueueUrl": u}},
		{"StartMessageMoveTask", func(ctx context.Context) (any, error) {
			return svc.StartMessageMoveTask(ctx, backend.MoveTaskRequest{SourceARN: arn, DestinationARN: "arn:d", MaxNumberOfMessagesPerSecond: 50})
		}, "task-1", map[string]any{"SourceArn": arn, "DestinationArn": "arn:d", "MaxNumberOfMessagesPerSecond": 50.0}},
		{"StartMessageMoveTask", func(ctx context.Context) (any, error) {
			return svc.StartMessageMoveTask(ctx, backend.MoveTaskRequest{SourceARN: arn})
		}, "task-1", map[string]any{"SourceArn": arn}},
		{"CancelMessageMoveTask", func(ctx context.Context) (any, error) { return svc.CancelMessageMoveTask(ctx, "task-1") },
			int64(12), map[string]any{"TaskHandle": "task-1"}},
		{"ListMessageMoveTasks", func(ctx context.Context) (any, error) { return svc.ListMessageMoveTasks(ctx, arn, 10) },
			[]backend.MoveTask{{
				TaskHandle: "task-1", Status: backend.MoveTaskRunning, SourceARN: arn, DestinationARN: "arn:d",
				MaxNumberOfMessagesPerSecond: 50, ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 10,
				StartedTimestamp: started,
			}, {
				Status: backend.MoveTaskFailed, SourceARN: arn, FailureReason: "AWS.SimpleQueueService.NonExistentQueue",
				StartedTimestamp: started,
			}}, map[string]any{"SourceArn": arn, "MaxResults": 10.0}},
		{"AddPermission", func(ctx context.Context) (any, error) {
			return nil, svc.AddPermission(ctx, backend.PermissionRequest{
				QueueURL: u, Label: "l", AccountIDs: []string{"111111111111"}, Actions: []string{"SendMessage"}})
		}, nil, map[string]any{"QueueUrl": u, "Label": "l", "AWSAccountIds": []any{"111111111111"}, "Actions": []any{"SendMessage"}}},
		{"RemovePermission", func(ctx context.Context) (any, error) { return nil, svc.RemovePermission(ctx, u, "l") },
			nil, map[string]any{"QueueUrl": u, "Label": "l"}},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			got, err := tt.call(t.Context())
			if err != nil {
				t.Fatalf("%s: %v", tt.action, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("result = %#v; want %#v", got, tt.want)
			}
			req := f.last()
			if req.Action != tt.action {
				t.Errorf("action = %s; want %s", req.Action, tt.action)
			}
			if !reflect.DeepEqual(req.Body, tt.req) {
				t.Errorf("request = %v; want %v", req.Body, tt.req)
			}
		})
	}
}

// TestEmptyAnswersAreEmptyNotNil: a service that leaves out empty lists
// and maps still gives callers ranges over empty values.
func TestEmptyAnswersAreEmptyNotNil(t *testing.T) {
	f := cannedFixture(t, map[string]any{
		"ListQueues": map[string]any{}, "ListQueueTags": map[string]any{}, "GetQueueAttributes": map[string]any{},
		"ReceiveMessage": map[string]any{}, "ListMessageMoveTasks": map[string]any{},
	})
	q, svc := f.open(t, "q")
	ctx := t.Context()
	if r, err := svc.ListQueues(ctx, backend.ListQueuesRequest{}); err != nil || r.QueueURLs == nil {
		t.Errorf("ListQueues = %#v, %v", r, err)
	}
	if tags, err := svc.ListTags(ctx, q.URL()); err != nil || tags == nil {
		t.Errorf("ListTags = %#v, %v", tags, err)
	}
	if attrs, err := svc.GetAttributes(ctx, q.URL(), []string{"All"}); err != nil || attrs == nil {
		t.Errorf("GetAttributes = %#v, %v", attrs, err)
	}
	if msgs, err := q.Receive(ctx, backend.ReceiveRequest{}); err != nil || msgs == nil || len(msgs) != 0 {
		t.Errorf("Receive = %#v, %v", msgs, err)
	}
	if tasks, err := svc.ListMessageMoveTasks(ctx, "arn", 0); err != nil || tasks == nil || len(tasks) != 0 {
		t.Errorf("ListMessageMoveTasks = %#v, %v", tasks, err)
	}
	if !strings.HasSuffix(q.URL(), "/000000000000/q") {
		t.Errorf("URL = %s", q.URL())
	}
}
