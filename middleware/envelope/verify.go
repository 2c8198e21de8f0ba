package envelope

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/postbox-go/postbox/consumer"
)

// maxCachedCertificates bounds a Verifier's cache; SNS signs with a handful
// of certificates per region.
const maxCachedCertificates = 64

// Verifier checks the signatures of SNS notifications as AWS documents
// (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
// SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over the
// canonical string of the notification's fields, with the public key of
// the certificate at SigningCertURL, which must be an https URL on
// sns.<region>.amazonaws.com (or amazonaws.com.cn). Certificates are
// cached by URL while they are valid.
//
// The zero Verifier fetches certificates with HTTPSCertificates. It is
// safe for concurrent use.
type Verifier struct {
	// Certificates gives the certificate at a URL. Default:
	// HTTPSCertificates{}.
	Certificates CertificateSource
	// Now is the time against which certificates' validity is checked.
	// Default time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*x509.Certificate
}

// signingCertHost is the host of SNS's signing certificates.
var signingCertHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?$`)

// CheckCertURL reports whether raw is a URL SNS signs from: https, on
// sns.<region>.amazonaws.com (or .amazonaws.com.cn), no port or
// credentials. The error matches ErrSignature.
func CheckCertURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || !signingCertHost.MatchString(u.Host) {
		return fmt.Errorf("%w: SigningCertURL %q is not an https URL on sns.<region>.amazonaws.com", ErrSignature, raw)
	}
	return nil
}

// Verify checks n's signature. Its error is marked consumer.Permanent and
// matches ErrSignature when the signature is wrong or cannot be checked
// (an unknown SignatureVersion, a SigningCertURL not SNS's, a certificate
// out of its validity); it is an ordinary error when the certificate could
// not be fetched.
func (v *Verifier) Verify(ctx context.Context, n *SNSNotification) error {
	var hash crypto.Hash
	switch n.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return consumer.Permanent(fmt.Errorf("%w: SignatureVersion %q", ErrSignature, n.SignatureVersion))
	}
	sig, err := base64.StdEncoding.DecodeString(n.Signature)
	if err != nil || len(sig) == 0 {
		return consumer.Permanent(fmt.Errorf("%w: Signature is not base64", ErrSignature))
	}
	if err := CheckCertURL(n.SigningCertURL); err != nil {
		return consumer.Permanent(err)
	}
	cert, err := v.certificate(ctx, n.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return consumer.Permanent(fmt.Errorf("%w: the certificate at %s has no RSA key", ErrSignature, n.SigningCertURL))
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(Canonical(n)))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(Canonical(n)))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return consumer.Permanent(fmt.Errorf("%w: SNS message %s from %s", ErrSignature, n.MessageID, n.TopicARN))
	}
	return nil
}

// certificate returns the certificate at url, from the cache or the
// source; one out of its validity is an error matching ErrSignature.
func (v *Verifier) certificate(ctx context.Context, url string) (*x509.Certificate, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	v.mu.Lock()
	cert := v.cache[url]
	v.mu.Unlock()
	if cert == nil {
		src := v.Certificates
		if src == nil {
			src = HTTPSCertificates{}
		}
		var err error
		cert, err = src.Certificate(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("envelope: fetching the SNS signing certificate: %w", err)
		}
	}
	if t := now(); t.Before(cert.NotBefore) || t.After(cert.NotAfter) {
		v.mu.Lock()
		delete(v.cache, url)
		v.mu.Unlock()
		return nil, consumer.Permanent(fmt.Errorf("%w: the certificate at %s is valid from %v to %v", ErrSignature, url, cert.NotBefore, cert.NotAfter))
	}
	v.mu.Lock()
	if v.cache == nil || len(v.cache) >= maxCachedCertificates {
		v.cache = make(map[string]*x509.Certificate)
	}
	v.cache[url] = cert
	v.mu.Unlock()
	return cert, nil
}

// Canonical is the string SNS signs for n: for a Notification the fields
// Message, MessageId, Subject (if present), Timestamp, TopicArn and Type,
// for a subscription confirmation Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn and Type; each as "Name\nValue\n".
func Canonical(n *SNSNotification) string {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	add("Message", n.Message)
	add("MessageId", n.MessageID)
	if n.Type == "Notification" {
		if n.Subject != "" {
			add("Subject", n.Subject)
		}
	} else {
		add("SubscribeURL", n.SubscribeURL)
	}
	add("Timestamp", n.Timestamp)
	if n.Type != "Notification" {
		add("Token", n.Token)
	}
	add("TopicArn", n.TopicARN)
	add("Type", n.Type)
	return b.String()
}
