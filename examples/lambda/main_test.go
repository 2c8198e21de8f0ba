package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// functionEnv makes the test binary run main() as the Lambda function.
const functionEnv = "EXAMPLE_LAMBDA_FUNCTION"

func TestMain(m *testing.M) {
	if os.Getenv(functionEnv) != "" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

func noEnv(string) string { return "" }

func TestWorker(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), noEnv, []string{"-worker", "-n", "3"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{"sent 3 jobs to mem://thumbnails", "thumbnail of photo-1.jpg at 160 px", "thumbnail of photo-3.jpg at 160 px"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

func TestNotInLambda(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), noEnv, nil, &out); err == nil || !strings.Contains(err.Error(), "-worker") {
		t.Errorf("err %v", err)
	}
}

// The program in Lambda mode: the test binary runs main() against a
// Lambda Runtime API served here and gets one SQS event.
func TestLambda(t *testing.T) {
	event := `{"Records": [
		{"messageId": "m1", "receiptHandle": "h1", "body": "{\"image\":\"cat.jpg\",\"width\":320}",
		 "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
		 "messageAttributes": {"type": {"stringValue": "thumbnail", "stringListValues": [], "binaryListValues": [], "dataType": "String"}},
		 "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:thumbnails", "awsRegion": "eu-west-1"},
		{"messageId": "m2", "receiptHandle": "h2", "body": "{\"width\":320}",
		 "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
		 "messageAttributes": {"type": {"stringValue": "thumbnail", "stringListValues": [], "binaryListValues": [], "dataType": "String"}},
		 "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:thumbnails", "awsRegion": "eu-west-1"}
	]}`
	next := make(chan struct{}, 1)
	next <- struct{}{} // one invocation, then the API refuses
	answer := make(chan []byte, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-next:
		default:
			w.WriteHeader(http.StatusGone)
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:thumbnails")
		w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
		io.WriteString(w, event)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
		answer <- b
	})
	hs := httptest.NewServer(mux)
	defer hs.Close()

	cmd := exec.Command(os.Args[0]) // TestMain runs main() with no arguments
	cmd.Env = append(os.Environ(), functionEnv+"=1", "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(hs.URL, "http://"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Error("the function's runtime loop ended without an error")
	}
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	select {
	case b := <-answer:
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
	default:
		t.Fatalf("the function did not answer:\n%s", out.String())
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Errorf("batchItemFailures %+v, want m2 (no image)", resp.BatchItemFailures)
	}
	if !strings.Contains(out.String(), "thumbnail of cat.jpg at 320 px") {
		t.Errorf("output:\n%s", out.String())
	}
}
