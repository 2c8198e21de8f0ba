package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

func TestSetAttributesAndTags(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	f.queue("work-dlq", nil)
	q := f.queue("work", nil)

	code, b := f.do("POST", "/_postbox/api/queues/work/attributes", `{"attributes":{
		"VisibilityTimeout":"45",
		"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:work-dlq\",\"maxReceiveCount\":\"4\"}"}}`)
	var d QueueResponseJSON
	if code != 200 || json.Unmarshal(b, &d) != nil || d.Queue.Attributes["VisibilityTimeout"] != "45" || d.Queue.DeadLetter == nil || d.Queue.DeadLetter.MaxReceiveCount != 4 {
		t.Fatalf("set: %d %s", code, b)
	}
	got, _ := f.eng.GetAttributes(ctx, q.URL(), []string{"VisibilityTimeout"})
	if got["VisibilityTimeout"] != "45" {
		t.Fatalf("engine after set: %v", got)
	}

	// The engine's validation and codes; one bad attribute changes nothing.
	for _, tc := range []struct{ body, code string }{
		{`{"attributes":{"VisibilityTimeout":"43201"}}`, "InvalidAttributeValue"},
		{`{"attributes":{"VisibilityTimeout":"10","DelaySeconds":"abc"}}`, "InvalidAttributeValue"},
		{`{"attributes":{"Nope":"1"}}`, "InvalidAttributeName"},
		{`{"attributes":{}}`, "MissingParameter"},
		{`{"attributes":{"FifoQueue":"true"}}`, ""},
	} {
		code, b := f.do("POST", "/_postbox/api/queues/work/attributes", tc.body)
		if code < 400 || (tc.code != "" && !strings.Contains(string(b), `"code":"`+tc.code+`"`)) {
			t.Errorf("%s: %d %s, want %s", tc.body, code, b, tc.code)
		}
	}
	got, _ = f.eng.GetAttributes(ctx, q.URL(), []string{"VisibilityTimeout"})
	if got["VisibilityTimeout"] != "45" {
		t.Fatalf("a refused change changed the queue: %v", got)
	}

	code, b = f.do("POST", "/_postbox/api/queues/work/tags", `{"set":{"team":"billing","env":"dev"}}`)
	if code != 200 {
		t.Fatalf("tag: %d %s", code, b)
	}
	code, b = f.do("POST", "/_postbox/api/queues/work/tags", `{"set":{"env":"prod"},"remove":["team"]}`)
	if code != 200 || json.Unmarshal(b, &d) != nil || len(d.Queue.Tags) != 1 || d.Queue.Tags["env"] != "prod" {
		t.Fatalf("retag: %d %s", code, b)
	}
	if tags, _ := f.eng.ListTags(ctx, q.URL()); len(tags) != 1 || tags["env"] != "prod" {
		t.Fatalf("engine tags: %v", tags)
	}
	if code, b := f.do("POST", "/_postbox/api/queues/work/tags", `{}`); code != 400 || !strings.Contains(string(b), "MissingParameter") {
		t.Fatalf("empty tag request: %d %s", code, b)
	}
	if code, b := f.do("POST", "/_postbox/api/queues/nope/attributes", `{"attributes":{"DelaySeconds":"1"}}`); code != 400 || !strings.Contains(string(b), "QueueDoesNotExist") {
		t.Fatalf("missing queue: %d %s", code, b)
	}
}

func TestCreateAndDeleteQueue(t *testing.T) {
	f := newFixture(t, Config{})
	ctx := context.Background()
	code, b := f.do("POST", "/_postbox/api/queues", `{"name":"jobs-dlq.fifo","attributes":{"FifoQueue":"true"}}`)
	var cr CreateResponseJSON
	if code != 200 || json.Unmarshal(b, &cr) != nil || cr.Key != "jobs-dlq.fifo" || !strings.HasSuffix(cr.URL, "/jobs-dlq.fifo") {
		t.Fatalf("create dlq: %d %s", code, b)
	}
	code, b = f.do("POST", "/_postbox/api/queues", `{"name":"jobs.fifo","attributes":{"FifoQueue":"true","ContentBasedDeduplication":"true",
		"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:jobs-dlq.fifo\",\"maxReceiveCount\":\"3\"}"},"tags":{"team":"a"}}`)
	if code != 200 {
		t.Fatalf("create: %d %s", code, b)
	}
	var d QueueResponseJSON
	f.get("/_postbox/api/queues/jobs.fifo", &d)
	if !d.Queue.FIFO || d.Queue.Attributes["ContentBasedDeduplication"] != "true" || d.Queue.DeadLetter == nil || d.Queue.DeadLetter.Name != "jobs-dlq.fifo" || d.Queue.Tags["team"] != "a" {
		t.Fatalf("created queue: %+v", d.Queue)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"name":"bad name"}`, "InvalidParameterValue"},
		{`{"name":"x.fifo"}`, "InvalidParameterValue"},
		{`{"name":""}`, "MissingParameter"},
		{`{"name":"jobs.fifo","attributes":{"FifoQueue":"true","VisibilityTimeout":"99"}}`, "QueueNameExists"},
		{`{"name":"s","attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:nope\",\"maxReceiveCount\":\"3\"}"}}`, ""},
	} {
		code, b := f.do("POST", "/_postbox/api/queues", tc.body)
		if code < 400 || (tc.code != "" && !strings.Contains(string(b), `"code":"`+tc.code+`"`)) {
			t.Errorf("%s: %d %s, want %s", tc.body, code, b, tc.code)
		}
	}

	if code, b := f.do("POST", "/_postbox/api/queues/jobs.fifo/delete", `{}`); code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	if _, err := f.eng.QueueURL(ctx, "jobs.fifo", ""); !errors.Is(err, backend.ErrQueueDoesNotExist) {
		t.Fatalf("after delete: %v", err)
	}
	if code, b := f.do("POST", "/_postbox/api/queues/jobs.fifo/delete", `{}`); code != 400 || !strings.Contains(string(b), "QueueDoesNotExist") {
		t.Fatalf("delete again: %d %s", code, b)
	}
	// Mutations stay same-origin JSON.
	if code, _ := f.do("POST", "/_postbox/api/queues", `{"name":"evil"}`, "Sec-Fetch-Site", "cross-site"); code != http.StatusForbidden {
		t.Fatalf("cross-site create: %d", code)
	}
	if code, _ := f.do("POST", "/_postbox/api/queues/jobs-dlq.fifo/delete", `{}`, "Content-Type", "text/plain"); code != 400 {
		t.Fatalf("form delete: %d", code)
	}
}
