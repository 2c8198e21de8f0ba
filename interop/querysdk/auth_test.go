package querysdk_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// TestAuthOverQuery checks SigV4 authentication and cross-account access
// with aws-sdk-go-v2/service/sqs v1.24.5, which signs query-protocol
// requests (form bodies) with the signer of its day (aws-sdk-go-v2 v1.21).
func TestAuthOverQuery(t *testing.T) {
	clk := clockwork.NewFakeClockAt(time.Now())
	eng, err := native.New(native.Config{Clock: clk, AccountID: "111111111111", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng, Clock: clk, Credentials: []server.Credential{
		{AccessKeyID: "AKIDOWNER", SecretAccessKey: "owner-secret", AccountID: "111111111111"},
		{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret", AccountID: "222222222222"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	check := &protocolCheck{next: srv}
	hs := httptest.NewServer(check)
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
		if len(check.other) > 0 {
			t.Errorf("not query-protocol requests: %q", check.other)
		}
	})
	client := func(key, secret string) *sqs.Client {
		return sqs.New(sqs.Options{
			BaseEndpoint: aws.String(hs.URL),
			Region:       "eu-west-1", // any region is accepted
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
			}),
			HTTPClient: hs.Client(),
			Retryer:    aws.NopRetryer{},
		})
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}
	ctx := t.Context()
	owner, other := client("AKIDOWNER", "owner-secret"), client("AKIDOTHER", "other-secret")
	q, err := owner.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(q.QueueUrl), "/111111111111/jobs") {
		t.Fatalf("queue URL %s", aws.ToString(q.QueueUrl))
	}
	// A body with characters that form encoding escapes, to exercise the
	// payload hash.
	if _, err := owner.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("a+b=c&d é ~*")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"wrong secret", func() error {
			_, err := client("AKIDOWNER", "wrong").ListQueues(ctx, &sqs.ListQueuesInput{})
			return err
		}(), "SignatureDoesNotMatch"},
		{"unknown key", func() error { _, err := client("AKIDNOBODY", "x").ListQueues(ctx, &sqs.ListQueuesInput{}); return err }(), "InvalidClientTokenId"},
		{"cross-account without a grant", func() error {
			_, err := other.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
			return err
		}(), "AccessDenied"},
	} {
		if got := code(tc.err); got != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.want)
		}
	}
	if _, err := owner.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: q.QueueUrl, Label: aws.String("l"),
		AWSAccountIds: []string{"222222222222"}, Actions: []string{"ReceiveMessage"}}); err != nil {
		t.Fatal(err)
	}
	out, err := other.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "a+b=c&d é ~*" {
		t.Fatalf("cross-account receive with a grant: %v %v", out, err)
	}
	clk.Advance(16 * time.Minute)
	_, err = owner.ListQueues(ctx, &sqs.ListQueuesInput{})
	if code(err) != "SignatureDoesNotMatch" || !strings.Contains(err.Error(), "Signature expired: ") {
		t.Fatalf("skewed request: %v", err)
	}
}
