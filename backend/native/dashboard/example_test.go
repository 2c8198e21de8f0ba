package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/dashboard"
	"github.com/postbox-go/postbox/backend/native/server"
)

// A dashboard in front of an engine's SQS server: /_postbox/ is the
// dashboard, every other path the SQS API.
func ExampleNew() {
	ctx := context.Background()
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	sqs, _ := server.New(server.Config{Service: eng})
	dash, err := dashboard.New(dashboard.Config{Engine: eng})
	if err != nil {
		panic(err)
	}
	defer dash.Close()
	handler := dash.Wrap(sqs) // serve it with http.Server{Handler: handler}

	url, _ := eng.CreateQueue(ctx, "jobs", nil, nil)
	q, _ := eng.Queue(url)
	q.Send(ctx, []backend.SendEntry{{ID: "1", Body: "hello"}})

	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "/_postbox/api/queues/jobs/messages", nil))
	var page dashboard.MessagesJSON
	json.Unmarshal(w.Body.Bytes(), &page)
	for _, m := range page.Messages {
		fmt.Println(m.Body, m.State, m.ReceiveCount)
	}
	// Output:
	// hello visible 0
}
