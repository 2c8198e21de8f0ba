package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeMetricsAndServerPage(t *testing.T) {
	o := defaultOptions()
	o.ui, o.metrics = true, true
	client, s, _, _ := startServe(t, o)
	if _, err := client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("jobs")}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.addr.String()
	code, body := httpGet(t, base+"/metrics")
	for _, want := range []string{"postbox_queues 1\n", `postbox_sqs_requests_total{action="CreateQueue"} 1`, `postbox_queue_messages{account="000000000000",queue="jobs",state="visible"} 0`, "go_goroutines "} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("GET /metrics: %d, no %q in\n%s", code, want, body)
		}
	}
	code, body = httpGet(t, base+"/_postbox/api/server")
	var srv struct {
		Version string
		Auth    string
		Storage struct{ Kind string }
		Actions []struct {
			Action   string
			Requests int64
		}
	}
	if err := json.Unmarshal([]byte(body), &srv); code != 200 || err != nil || srv.Version == "" || srv.Auth != "anonymous" || srv.Storage.Kind != "memory" {
		t.Fatalf("server: %d %s", code, body)
	}
	found := false
	for _, a := range srv.Actions {
		found = found || (a.Action == "CreateQueue" && a.Requests == 1)
	}
	if !found {
		t.Fatalf("no CreateQueue in %s", body)
	}
}

func TestServeMetricsOff(t *testing.T) {
	o := defaultOptions()
	_, s, _, _ := startServe(t, o) // metrics false: the zero value
	if code, body := httpGet(t, "http://"+s.addr.String()+"/metrics"); code == 200 || strings.Contains(body, "postbox_queues") {
		t.Fatalf("GET /metrics with --metrics=false: %d %s", code, body)
	}
}
