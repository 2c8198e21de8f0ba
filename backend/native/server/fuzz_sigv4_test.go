package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// fuzzNow is the fixed time of the SigV4 fuzz target's server and seeds.
var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// FuzzSigV4Request sends requests with fuzzed SigV4 material (the
// Authorization header, X-Amz-Date, the query string, which carries
// presigned URLs' parameters, and the body) to a server with credentials.
// Every answer must be well-formed, never a 5xx, and a refused request
// must change nothing.
func FuzzSigV4Request(f *testing.F) {
	clk := clockwork.NewFakeClockAt(fuzzNow)
	eng, err := native.New(native.Config{Clock: clk, AccountID: "111111111111"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { eng.Close() })
	srv, err := server.New(server.Config{Service: eng, Clock: clk, MaxRequestBytes: 64 << 10,
		Credentials: []server.Credential{{AccessKeyID: "AKIDFUZZ", SecretAccessKey: "fuzz-secret", AccountID: "111111111111"}}})
	if err != nil {
		f.Fatal(err)
	}
	srv.Drain()
	qurl, err := eng.CreateQueue(context.Background(), "q", nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: "AKIDFUZZ", SecretAccessKey: "fuzz-secret"}
	signer := v4.NewSigner()
	// Seeds: correctly signed requests of both protocols and a presigned
	// URL, then the committed corpus of malformed ones.
	for _, seed := range []struct{ query, body string }{
		{"", "Action=ListQueues&Version=2012-11-05"},
		{"", "Action=SendMessage&QueueUrl=" + qurl + "&MessageBody=hi"},
		{"Action=ListQueues", ""},
	} {
		r := httptest.NewRequest("POST", "http://localhost/?"+seed.query, strings.NewReader(seed.body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sum := sha256.Sum256([]byte(seed.body))
		if err := signer.SignHTTP(f.Context(), creds, r, hex.EncodeToString(sum[:]), "sqs", "us-east-1", fuzzNow); err != nil {
			f.Fatal(err)
		}
		f.Add(r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), seed.query, []byte(seed.body), false)
	}
	pr := httptest.NewRequest("GET", "http://localhost/?Action=ListQueues&X-Amz-Expires=60", nil)
	u, _, err := signer.PresignHTTP(f.Context(), creds, pr, hex.EncodeToString(sha256.New().Sum(nil)), "sqs", "us-east-1", fuzzNow)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("", "", u[strings.IndexByte(u, '?')+1:], []byte(nil), false)
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20260102/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"20260102T030405Z", "", []byte(`{}`), true)

	f.Fuzz(func(t *testing.T, auth, date, query string, body []byte, isJSON bool) {
		method := "POST"
		if len(body) == 0 {
			method = "GET"
		}
		r := httptest.NewRequest(method, "http://localhost/", strings.NewReader(string(body)))
		r.URL.RawQuery = query
		if isJSON {
			r.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		} else {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		before, _ := eng.GetAttributes(context.Background(), qurl, []string{"ApproximateNumberOfMessages"})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, r)
		checkAnswer(t, rec, isJSON)
		if rec.Header().Get("Date") != fuzzNow.Format(http.TimeFormat) {
			t.Fatalf("Date %q", rec.Header().Get("Date"))
		}
		if rec.Code != http.StatusOK {
			after, _ := eng.GetAttributes(context.Background(), qurl, []string{"ApproximateNumberOfMessages"})
			if before["ApproximateNumberOfMessages"] != after["ApproximateNumberOfMessages"] {
				t.Fatalf("a refused request changed the queue: %v -> %v", before, after)
			}
		}
	})
}
