// Package bufferedbody is an http.RoundTripper that reads each request's
// body into memory before sending it.
//
// With aws-sdk-go-v2's streamed bodies, net/http's write loop can close a
// connection while the response is being read (aws/aws-sdk-go-v2#2737:
// "deserialization failed ... use of closed network connection" with
// status 200): the SDK closes the body as soon as the call returns, and
// the write loop's second read of it fails. On a receive, that loses
// messages the server already made invisible. A buffered body is written
// whole, and can be read again, which ends the race. SQS requests are
// small, so the copy costs little.
package bufferedbody

import (
	"bytes"
	"io"
	"net/http"
)

// Transport sends requests through Next, each with its body in memory.
type Transport struct{ Next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.Next.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(data))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	c.ContentLength = int64(len(data))
	return t.Next.RoundTrip(c)
}
