package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
)

// stubService answers ListQueues with nothing; the signing key cache test
// needs no queues.
type stubService struct{ backend.Service }

func (stubService) ListQueues(context.Context, backend.ListQueuesRequest) (backend.ListQueuesResult, error) {
	return backend.ListQueuesResult{}, nil
}

func TestSigningKeysCachedOnlyWhenVerified(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := New(Config{Service: stubService{}, Clock: clockwork.NewFakeClockAt(now),
		Credentials: []Credential{{AccessKeyID: "AKID", SecretAccessKey: "secret", AccountID: "111111111111"}}})
	if err != nil {
		t.Fatal(err)
	}
	send := func(secret, region string) int {
		body := "Action=ListQueues"
		r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
			r, hex.EncodeToString(sum[:]), "sqs", region, now); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		return rec.Code
	}
	for i := range 5 {
		if code := send("wrong", "region-"+string(rune('a'+i))); code != 403 {
			t.Fatalf("wrong secret: %d", code)
		}
	}
	if n := s.nSigKeys.Load(); n != 0 {
		t.Fatalf("%d keys cached from failed requests", n)
	}
	for range 3 {
		if code := send("secret", "us-east-1"); code != 200 {
			t.Fatalf("right secret: %d", code)
		}
	}
	if n := s.nSigKeys.Load(); n != 1 {
		t.Fatalf("%d keys cached, want 1", n)
	}
	if code := send("wrong", "us-east-1"); code != 403 {
		t.Fatalf("wrong secret with a cached key for the scope: %d", code)
	}
}
