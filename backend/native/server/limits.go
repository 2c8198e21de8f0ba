package server

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Defaults of the limits that keep a server up under abuse. Config and
// HTTPLimits fields left zero take these values.
const (
	// DefaultMaxLongPolls is the default limit on the ReceiveMessage long
	// polls one Server holds at a time.
	DefaultMaxLongPolls = 10000
	// DefaultMaxLongPollsPerConn is the default limit on the long polls one
	// client connection holds at a time (HTTP/2 multiplexes many requests
	// on one connection; an HTTP/1.1 connection holds at most one).
	DefaultMaxLongPollsPerConn = 100

	// DefaultMaxHeaderBytes is the default limit on the request line and
	// headers of a request. SigV4-signed SQS requests need a few KiB; a
	// query protocol request that carries its parameters in the URL
	// rather than a POST body must fit too.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultReadHeaderTimeout is how long a client has to send a
	// request's headers (slowloris).
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout is how long a client has to send a whole request,
	// headers and body.
	DefaultReadTimeout = 60 * time.Second
	// DefaultWriteTimeout is how long the server takes at most to answer a
	// request, from the end of its headers. A long poll gets its wait on
	// top (see Server.ServeHTTP).
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may sit idle
	// between requests.
	DefaultIdleTimeout = 2 * time.Minute
)

// longPollGrace is the time a long poll's answer may take to write after
// its wait: its write deadline is the wait plus this.
const longPollGrace = 30 * time.Second

// HTTPLimits are the timeouts and header limit of the http.Server that
// serves a Server. A zero field means its Default value; a negative one
// means no limit.
//
// Long polls are not cut off by ReadTimeout or WriteTimeout, however small:
// once a ReceiveMessage has read its body and is about to wait, the server
// lifts the connection's read deadline and sets its write deadline to the
// wait plus 30 seconds (with http.ResponseController), for HTTP/1.1 and
// HTTP/2 alike.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds the time to read a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the time to read a whole request.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of a request's headers to
	// the end of its answer, long polls apart.
	WriteTimeout time.Duration
	// IdleTimeout bounds the time a kept-alive connection waits for its
	// next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes limits the request line and headers; a request over
	// it gets 431 Request Header Fields Too Large from net/http.
	MaxHeaderBytes int
}

// Apply sets hs's timeouts and header limit from l.
func (l HTTPLimits) Apply(hs *http.Server) {
	hs.ReadHeaderTimeout = pick(l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	hs.ReadTimeout = pick(l.ReadTimeout, DefaultReadTimeout)
	hs.WriteTimeout = pick(l.WriteTimeout, DefaultWriteTimeout)
	hs.IdleTimeout = pick(l.IdleTimeout, DefaultIdleTimeout)
	hs.MaxHeaderBytes = pick(l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if l.MaxHeaderBytes < 0 {
		// net/http reads 0 as its own default of 1 MiB; the most it
		// takes is what "no limit" can mean.
		hs.MaxHeaderBytes = 1 << 30
	}
}

// pick returns def for 0, 0 for a negative v (no limit), and v otherwise.
func pick[T int | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// pollLimiter counts the long polls in flight, in all and per connection.
type pollLimiter struct {
	max, perConn int

	mu     sync.Mutex
	total  int
	byConn map[string]int
}

func newPollLimiter(max, perConn int) *pollLimiter {
	if max == 0 {
		max = DefaultMaxLongPolls
	}
	if perConn == 0 {
		perConn = DefaultMaxLongPollsPerConn
	}
	return &pollLimiter{max: max, perConn: perConn, byConn: make(map[string]int)}
}

// acquire takes a slot for a long poll on conn; it reports false when the
// server or the connection holds as many as its limit.
func (l *pollLimiter) acquire(conn string) (ok, perConn bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total >= l.max {
		return false, false
	}
	if l.byConn[conn] >= l.perConn {
		return false, true
	}
	l.total++
	l.byConn[conn]++
	return true, false
}

func (l *pollLimiter) release(conn string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if n := l.byConn[conn] - 1; n > 0 {
		l.byConn[conn] = n
	} else {
		delete(l.byConn, conn)
	}
}

// LongPolls returns how many ReceiveMessage long polls the server holds
// now (waiting or about to wait).
func (s *Server) LongPolls() int {
	s.polls.mu.Lock()
	defer s.polls.mu.Unlock()
	return s.polls.total
}

// admitLongPoll takes a long-poll slot for a receive that may wait
// (wait is its WaitTimeSeconds, nil for the queue's default), or returns
// RequestThrottled when the server or the client's connection is at its
// limit. RequestThrottled is the SQS API's throttling error, and the one
// aws-sdk-go-v2 and botocore retry with backoff. Once admitted, the
// receive's connection loses its read deadline (the body is read) and its
// write deadline moves to the end of the wait plus longPollGrace, so that
// http.Server's ReadTimeout and WriteTimeout do not cut the poll off.
func (s *Server) admitLongPoll(c *call, wait *int) (release func(), err error) {
	ok, perConn := s.polls.acquire(c.conn)
	if !ok {
		if perConn {
			return nil, backend.NewError(backend.CodeRequestThrottled,
				"Too many long polls on this connection: at most %d ReceiveMessage calls with a wait may be in flight on one connection; retry later.",
				s.polls.perConn)
		}
		return nil, backend.NewError(backend.CodeRequestThrottled,
			"Too many long polls: the server holds its limit of %d ReceiveMessage calls with a wait; retry later.", s.polls.max)
	}
	if c.w != nil {
		secs := backend.MaxWaitTimeSeconds
		if wait != nil && *wait >= 0 && *wait < secs {
			secs = *wait
		}
		rc := http.NewResponseController(c.w)
		// Errors mean the writer has no deadlines (a recorder in tests).
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Now().Add(time.Duration(secs)*time.Second + longPollGrace))
	}
	return func() { s.polls.release(c.conn) }, nil
}

// actionPrefixBytes is how much of a body over the size limit the server
// reads, to find the Action of a query protocol request.
const actionPrefixBytes = 4 << 10

// DefaultMaxBodyBytesInFlight is the default limit on the request body
// bytes a Server holds at once: 64 bodies of DefaultMaxRequestBytes.
const DefaultMaxBodyBytesInFlight = 64 * DefaultMaxRequestBytes

// smallBody is the size up to which a body is never refused for the
// in-flight budget (but is counted in it): a flood of large bodies must
// not starve ordinary requests, which are a few KiB.
const smallBody = 64 << 10

// bodyBudget counts the request body bytes being held.
type bodyBudget struct {
	max  int64
	held atomic.Int64
}

// reserve takes n bytes; it reports false, taking none, when n is over
// smallBody and would take the total past max.
func (b *bodyBudget) reserve(n int64) bool {
	if n <= smallBody {
		b.held.Add(n)
		return true
	}
	for {
		cur := b.held.Load()
		if cur+n > b.max {
			return false
		}
		if b.held.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *bodyBudget) release(n int64) {
	if n != 0 {
		b.held.Add(-n)
	}
}

// reserveBody takes, for c, the most body bytes r may have read into
// memory: its Content-Length, or the request limit when the length is
// unknown (chunked); RequestThrottled when the server holds too many.
func (s *Server) reserveBody(r *http.Request, c *call) error {
	n := r.ContentLength
	switch {
	case n > s.maxBytes:
		n = actionPrefixBytes // refused by size: at most a prefix is read
	case n < 0:
		n = s.maxBytes + 1 // unknown length: up to the limit
	}
	if !s.bodies.reserve(n) {
		return backend.NewError(backend.CodeRequestThrottled,
			"The server is reading too many request bodies at once (%d bytes, its limit); retry later.", s.bodies.max)
	}
	c.body += n
	return nil
}
