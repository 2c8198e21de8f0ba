package envelope_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/envelope"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	topicARN = "arn:aws:sns:us-west-2:123456789012:MyTopic"
	certURL  = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
)

// signer is a signing key and its self-signed certificate, made once.
type signer struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
	der  []byte
}

var testSigner = sync.OnceValue(func() *signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return &signer{key: key, cert: cert, der: der}
})

// sign signs n with the test key, as SNS signs with SignatureVersion
// version ("1" or "2").
func (s *signer) sign(t testing.TB, n *envelope.SNSNotification, version string) {
	t.Helper()
	n.SignatureVersion = version
	var hash crypto.Hash
	var digest []byte
	if version == "1" {
		d := sha1.Sum([]byte(envelope.Canonical(n)))
		hash, digest = crypto.SHA1, d[:]
	} else {
		d := sha256.Sum256([]byte(envelope.Canonical(n)))
		hash, digest = crypto.SHA256, d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
	if err != nil {
		t.Fatal(err)
	}
	n.Signature = base64.StdEncoding.EncodeToString(sig)
}

// certSource serves the test certificate at certURL, counting requests.
type certSource struct {
	calls atomic.Int64
	err   error
}

func (c *certSource) Certificate(_ context.Context, url string) (*x509.Certificate, error) {
	c.calls.Add(1)
	if c.err != nil {
		return nil, c.err
	}
	if url != certURL {
		return nil, os.ErrNotExist
	}
	return testSigner().cert, nil
}

// notification reads the SNS notification of testdata.
func notification(t testing.TB) *envelope.SNSNotification {
	t.Helper()
	raw, err := os.ReadFile("testdata/sns-notification.json")
	if err != nil {
		t.Fatal(err)
	}
	n, err := envelope.ParseSNS(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sqsMessage is the SQS message whose body is v, as JSON.
func sqsMessage(t testing.TB, v any) *consumer.Message {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	m := &consumer.Message{QueueURL: "https://sqs.us-west-2.amazonaws.com/123456789012/orders", ReceiveCount: 1}
	m.MessageID = "sqs-message-1"
	m.ReceiptHandle = "handle-1"
	m.Body = string(body)
	m.Attributes = map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}
	return m
}

// capture is a handler that keeps what it was given.
type capture struct {
	mu    sync.Mutex
	msgs  []consumer.Message
	ctxs  []context.Context
	err   error
	calls int
}

func (c *capture) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, *msg)
	c.ctxs = append(c.ctxs, ctx)
	c.calls++
	return c.err
}
