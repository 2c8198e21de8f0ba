package envelope_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware/envelope"
)

// Canonical follows AWS's documented order: Message, MessageId, Subject
// (when present), Timestamp, TopicArn, Type.
func TestCanonical(t *testing.T) {
	n := notification(t)
	want := "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n" +
		"Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
	if got := envelope.Canonical(n); got != want {
		t.Errorf("Canonical:\n%q\nwant\n%q", got, want)
	}
	n.Subject = ""
	want = "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n" +
		"Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n"
	if got := envelope.Canonical(n); got != want {
		t.Errorf("Canonical without a subject:\n%q\nwant\n%q", got, want)
	}
}

func TestVerify(t *testing.T) {
	s := testSigner()
	for _, version := range []string{"1", "2"} {
		t.Run("SignatureVersion "+version, func(t *testing.T) {
			src := &certSource{}
			v := &envelope.Verifier{Certificates: src}
			n := notification(t)
			s.sign(t, n, version)
			if err := v.Verify(context.Background(), n); err != nil {
				t.Fatalf("a good signature: %v", err)
			}
			noSubject := notification(t)
			noSubject.Subject = ""
			s.sign(t, noSubject, version)
			if err := v.Verify(context.Background(), noSubject); err != nil {
				t.Fatalf("a good signature without a subject: %v", err)
			}
			if src.calls.Load() != 1 {
				t.Errorf("the certificate was fetched %d times, want once (cached)", src.calls.Load())
			}
			for name, tamper := range map[string]func(n *envelope.SNSNotification){
				"message":   func(n *envelope.SNSNotification) { n.Message = "Hello world?" },
				"subject":   func(n *envelope.SNSNotification) { n.Subject = "" },
				"topic":     func(n *envelope.SNSNotification) { n.TopicARN += "2" },
				"timestamp": func(n *envelope.SNSNotification) { n.Timestamp = "2012-05-02T00:54:06.656Z" },
				"version": func(n *envelope.SNSNotification) {
					n.SignatureVersion = map[string]string{"1": "2", "2": "1"}[n.SignatureVersion]
				},
				"signature": func(n *envelope.SNSNotification) { n.Signature = n.Signature[:len(n.Signature)-8] + "AAAAAAA=" },
			} {
				bad := *n
				tamper(&bad)
				err := v.Verify(context.Background(), &bad)
				if !errors.Is(err, envelope.ErrSignature) || !consumer.IsPermanent(err) {
					t.Errorf("tampered %s: %v, want a permanent ErrSignature", name, err)
				}
			}
		})
	}
}

func TestVerifyRefusesCertURLs(t *testing.T) {
	src := &certSource{}
	v := &envelope.Verifier{Certificates: src}
	for _, url := range []string{
		"http://sns.us-west-2.amazonaws.com/cert.pem",
		"https://sns.us-west-2.amazonaws.com.evil.example/cert.pem",
		"https://evil.example/sns.us-west-2.amazonaws.com/cert.pem",
		"https://sqs.us-west-2.amazonaws.com/cert.pem",
		"https://sns.us-west-2.amazonaws.com:8443/cert.pem",
		"https://user@sns.us-west-2.amazonaws.com/cert.pem",
		"https://sns.amazonaws.com/cert.pem",
		"https://xsns.us-west-2.amazonaws.com/cert.pem",
		"",
	} {
		n := notification(t)
		n.SigningCertURL = url
		testSigner().sign(t, n, "2")
		if err := v.Verify(context.Background(), n); !errors.Is(err, envelope.ErrSignature) || !consumer.IsPermanent(err) {
			t.Errorf("SigningCertURL %q: %v", url, err)
		}
	}
	if src.calls.Load() != 0 {
		t.Errorf("the source was asked for a refused URL")
	}
	for _, ok := range []string{certURL, "https://sns.cn-north-1.amazonaws.com.cn/c.pem", "https://sns.us-gov-west-1.amazonaws.com/c.pem"} {
		if err := envelope.CheckCertURL(ok); err != nil {
			t.Errorf("CheckCertURL(%q): %v", ok, err)
		}
	}
}

func TestVerifyFailures(t *testing.T) {
	n := notification(t)
	testSigner().sign(t, n, "1")

	// The certificate cannot be fetched: retried, not permanent.
	v := &envelope.Verifier{Certificates: &certSource{err: errors.New("connection refused")}}
	if err := v.Verify(context.Background(), n); err == nil || consumer.IsPermanent(err) {
		t.Errorf("fetch failure: %v, want an ordinary error", err)
	}
	// Out of its validity.
	v = &envelope.Verifier{Certificates: &certSource{}, Now: func() time.Time { return time.Date(2041, 1, 1, 0, 0, 0, 0, time.UTC) }}
	if err := v.Verify(context.Background(), n); !errors.Is(err, envelope.ErrSignature) {
		t.Errorf("expired certificate: %v", err)
	}
	// Unknown version, no signature.
	v = &envelope.Verifier{Certificates: &certSource{}}
	for _, bad := range []func(n *envelope.SNSNotification){
		func(n *envelope.SNSNotification) { n.SignatureVersion = "3" },
		func(n *envelope.SNSNotification) { n.SignatureVersion = "" },
		func(n *envelope.SNSNotification) { n.Signature = "" },
		func(n *envelope.SNSNotification) { n.Signature = "%%%" },
	} {
		m := *n
		bad(&m)
		if err := v.Verify(context.Background(), &m); !errors.Is(err, envelope.ErrSignature) {
			t.Errorf("%+v: %v", m, err)
		}
	}
}

// The SNS middleware with a Verifier passes signed notifications and
// refuses forged ones.
func TestSNSVerifies(t *testing.T) {
	v := &envelope.Verifier{Certificates: &certSource{}}
	var c capture
	h := consumer.Chain(&c, envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}, Verifier: v}))
	n := notification(t)
	testSigner().sign(t, n, "2")
	if err := h.HandleMessage(context.Background(), sqsMessage(t, n)); err != nil {
		t.Fatal(err)
	}
	n.Message = "forged"
	if err := h.HandleMessage(context.Background(), sqsMessage(t, n)); !errors.Is(err, envelope.ErrSignature) || c.calls != 1 {
		t.Errorf("forged: %v, handler called %d times", err, c.calls)
	}
}

// HTTPSCertificates fetches over TLS: here from a server on 127.0.0.1 that
// the client reaches for SNS's host name.
func TestHTTPSCertificates(t *testing.T) {
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testSigner().der})
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "sns.us-west-2.amazonaws.com" || r.URL.Path != "/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem" {
			http.NotFound(w, r)
			return
		}
		w.Write(pemCert)
	}))
	defer hs.Close()
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, hs.Listener.Addr().String())
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"}, // httptest's certificate
	}
	defer tr.CloseIdleConnections()
	src := envelope.HTTPSCertificates{Client: &http.Client{Transport: tr}}
	cert, err := src.Certificate(context.Background(), certURL)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Equal(testSigner().cert) {
		t.Error("another certificate")
	}
	if _, err := src.Certificate(context.Background(), "https://sns.us-west-2.amazonaws.com/missing.pem"); err == nil {
		t.Error("a 404 gave a certificate")
	}
	n := notification(t)
	testSigner().sign(t, n, "1")
	if err := (&envelope.Verifier{Certificates: src}).Verify(context.Background(), n); err != nil {
		t.Errorf("verified over HTTPS: %v", err)
	}
}
