package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// BenchmarkAuthOverhead measures a JSON SendMessage served in process,
// anonymous and with SigV4 verification (the same signed request replayed:
// the clock is fixed), so the difference is the verification's cost.
func BenchmarkAuthOverhead(b *testing.B) {
	for _, signed := range []bool{false, true} {
		name := "anonymous"
		if signed {
			name = "sigv4"
		}
		b.Run(name, func(b *testing.B) {
			clk := clockwork.NewFakeClockAt(fuzzNow)
			eng, err := native.New(native.Config{Clock: clk, AccountID: "111111111111"})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			cfg := server.Config{Service: eng, Clock: clk}
			if signed {
				cfg.Credentials = []server.Credential{{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret", AccountID: "111111111111"}}
			}
			srv, err := server.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			qurl, err := eng.CreateQueue(context.Background(), "bench", backend.Attributes{"MessageRetentionPeriod": "60"}, nil)
			if err != nil {
				b.Fatal(err)
			}
			body := []byte(`{"QueueUrl":"` + qurl + `","MessageBody":"` + string(bytes.Repeat([]byte("x"), 256)) + `"}`)
			req := httptest.NewRequest("POST", "http://localhost/", bytes.NewReader(body))
			req.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			if signed {
				sum := sha256.Sum256(body)
				if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDBENCH", SecretAccessKey: "bench-secret"},
					req, hex.EncodeToString(sum[:]), "sqs", "us-east-1", fuzzNow); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r := req.Clone(context.Background())
				r.Body = httptestBody(body)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, r)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

func httptestBody(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
