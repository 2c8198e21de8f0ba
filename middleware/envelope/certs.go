package envelope

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// CertificateSource gives the certificate at a URL. Verifier asks it only
// for URLs that passed CheckCertURL, and caches what it gives.
type CertificateSource interface {
	Certificate(ctx context.Context, url string) (*x509.Certificate, error)
}

// CertificateFunc adapts a function to a CertificateSource.
type CertificateFunc func(ctx context.Context, url string) (*x509.Certificate, error)

// Certificate calls f(ctx, url).
func (f CertificateFunc) Certificate(ctx context.Context, url string) (*x509.Certificate, error) {
	return f(ctx, url)
}

// maxCertificateSize bounds what HTTPSCertificates reads.
const maxCertificateSize = 64 << 10

// HTTPSCertificates fetches certificates (PEM) with an HTTP GET.
type HTTPSCertificates struct {
	// Client makes the requests. Default: a client with a 10-second
	// timeout that follows no redirects (a redirect could lead off SNS's
	// host).
	Client *http.Client
}

var defaultCertClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("redirect refused")
	},
}

// Certificate fetches and parses the first certificate of the PEM at url.
func (h HTTPSCertificates) Certificate(ctx context.Context, url string) (*x509.Certificate, error) {
	c := h.Client
	if c == nil {
		c = defaultCertClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxCertificateSize))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return ParseCertificate(raw)
}

// ParseCertificate parses the first CERTIFICATE block of PEM data.
func ParseCertificate(pemData []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, pemData = pem.Decode(pemData)
		if block == nil {
			return nil, errors.New("envelope: no PEM certificate")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}
