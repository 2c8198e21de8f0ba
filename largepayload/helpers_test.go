package largepayload_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/largepayload"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const bucket = "extended-client-bucket"

// fakeS3 serves the S3 protocol (gofakes3, in memory) on 127.0.0.1 with the
// bucket made, and returns an aws-sdk-go-v2 client for it.
func fakeS3(t testing.TB) *s3.Client {
	t.Helper()
	mem := s3mem.New()
	if err := mem.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(gofakes3.New(mem).Server())
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		hs.Close()
	})
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(hs.URL),
		UsePathStyle: true,
		HTTPClient:   &http.Client{Transport: tr},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}, nil
		}),
	})
}

// fixture reads a received message of testdata, as SQS's JSON protocol
// gives it.
func fixture(t testing.TB, name string) *consumer.Message {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		MessageID         string `json:"MessageId"`
		ReceiptHandle     string
		MD5OfBody         string
		Body              string
		MessageAttributes map[string]struct{ DataType, StringValue string }
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	msg := &consumer.Message{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/reports", ReceiveCount: 1}
	msg.MessageID, msg.ReceiptHandle, msg.MD5OfBody, msg.Body = m.MessageID, m.ReceiptHandle, m.MD5OfBody, m.Body
	msg.MessageAttributes = map[string]backend.MessageAttributeValue{}
	for k, v := range m.MessageAttributes {
		msg.MessageAttributes[k] = backend.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue}
	}
	if backend.MD5OfBody(msg.Body) != msg.MD5OfBody {
		t.Fatalf("%s: MD5OfBody does not match the body", name)
	}
	return msg
}

// capture keeps the messages a handler got.
type capture struct {
	msgs []consumer.Message
	ctxs []context.Context
	err  error
}

func (c *capture) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	c.msgs = append(c.msgs, *msg)
	c.ctxs = append(c.ctxs, ctx)
	return c.err
}

var _ largepayload.Store = largepayload.S3Store{}
