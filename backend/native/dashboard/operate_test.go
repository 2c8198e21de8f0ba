package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/postbox-go/postbox/backend/native"
)

func TestFilterAndCursor(t *testing.T) {
	f := newFixture(t, Config{})
	q := f.queue("big", nil)
	var bodies []string
	for i := range 30 {
		bodies = append(bodies, `{"n":`+string(rune('a'+i%26))+`}`)
	}
	f.send(q, bodies...)
	var page MessagesJSON
	f.get("/_postbox/api/queues/big/messages?max=10", &page)
	if len(page.Messages) != 10 || page.Cursor == "" || page.Next != page.Messages[9].MessageID || page.Scanned != 10 {
		t.Fatalf("first page: %d next %q cursor %q scanned %d", len(page.Messages), page.Next, page.Cursor, page.Scanned)
	}
	var rest MessagesJSON
	f.get("/_postbox/api/queues/big/messages?max=100&cursor="+page.Cursor, &rest)
	if len(rest.Messages) != 20 || rest.Cursor != "" || rest.Messages[0].Body != bodies[10] {
		t.Fatalf("rest: %d %q", len(rest.Messages), rest.Cursor)
	}
	var hit MessagesJSON
	f.get(`/_postbox/api/queues/big/messages?max=100&text=%22n%22:b`, &hit)
	if len(hit.Messages) != 2 || hit.Scanned != 30 {
		t.Fatalf("text filter: %+v", hit)
	}
	// after= keeps its meaning (postbox peek pages with it).
	var after MessagesJSON
	f.get("/_postbox/api/queues/big/messages?max=5&after="+page.Next, &after)
	if len(after.Messages) != 5 || after.Messages[0].Body != bodies[10] || after.Cursor != "" {
		t.Fatalf("after: %+v", after)
	}
	if code, b := f.do("GET", "/_postbox/api/queues/big/messages?state=lost", ""); code != 400 || !strings.Contains(string(b), "InvalidParameterValue") {
		t.Fatalf("bad state: %d %s", code, b)
	}
}

func TestDeleteAndMoveMessages(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	f := newFixture(t, Config{Authorize: func(r *http.Request, action, queueURL string) error {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, action+" "+queueURL[strings.LastIndexByte(queueURL, '/')+1:])
		return nil
	}})
	ctx := context.Background()
	dlq := f.queue("jobs-dlq", nil)
	jobs := f.queue("jobs", nil)
	f.send(dlq, "a", "b", "c", "d")
	ms, _ := f.eng.Peek(ctx, dlq.URL(), native.PeekRequest{})
	id := func(i int) string { return ms[i].MessageID }

	code, b := f.do("POST", "/_postbox/api/queues/jobs-dlq/messages/delete", `{"messageIds":["`+id(0)+`","nope"]}`)
	var res MessageResultsJSON
	if code != 200 || json.Unmarshal(b, &res) != nil || res.Results[0].Error != nil || res.Results[1].Error == nil || res.Results[1].Error.Code != "InvalidParameterValue" {
		t.Fatalf("delete: %d %s", code, b)
	}
	mu.Lock()
	asked = nil
	mu.Unlock()
	code, b = f.do("POST", "/_postbox/api/queues/jobs-dlq/messages/move", `{"messageIds":["`+id(1)+`","`+id(3)+`"],"destination":"jobs"}`)
	if code != 200 || json.Unmarshal(b, &res) != nil || res.Results[0].Error != nil || res.Results[1].Error != nil {
		t.Fatalf("move: %d %s", code, b)
	}
	mu.Lock()
	if !slices.Equal(asked, []string{"ReceiveMessage jobs-dlq", "DeleteMessage jobs-dlq", "SendMessage jobs"}) {
		t.Errorf("asked %q", asked)
	}
	mu.Unlock()
	left, _ := f.eng.Peek(ctx, dlq.URL(), native.PeekRequest{})
	moved, _ := f.eng.Peek(ctx, jobs.URL(), native.PeekRequest{})
	if len(left) != 1 || left[0].Body != "c" || len(moved) != 2 || moved[0].Body != "b" || moved[1].Body != "d" {
		t.Fatalf("after the move: left %v, moved %v", left, moved)
	}
	for _, tc := range []struct{ path, body, code string }{
		{"/_postbox/api/queues/jobs-dlq/messages/move", `{"messageIds":["x"]}`, "MissingParameter"},
		{"/_postbox/api/queues/jobs-dlq/messages/move", `{"messageIds":["x"],"destination":"nope"}`, "QueueDoesNotExist"},
		{"/_postbox/api/queues/jobs-dlq/messages/move", `{"messageIds":[],"destination":"jobs"}`, "MissingParameter"},
		{"/_postbox/api/queues/jobs-dlq/messages/delete", `{"messageIds":["a","a"]}`, "InvalidParameterValue"},
	} {
		if code, b := f.do("POST", tc.path, tc.body); code != 400 || !strings.Contains(string(b), `"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %s", tc.body, code, b, tc.code)
		}
	}
	if code, _ := f.do("POST", "/_postbox/api/queues/jobs-dlq/messages/delete", `{"messageIds":["`+id(2)+`"]}`, "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Fatalf("cross-site delete: %d", code)
	}
}
