package server

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/internal/crosssite"
)

// DefaultMaxRequestBytes is the default limit on a request body. SQS takes
// messages of up to 1 MiB; encoded as JSON with every character escaped, or
// as a form with every byte percent-encoded, such a message takes up to
// three times that on the wire.
const DefaultMaxRequestBytes = 4 << 20

// Config configures a Server. Its zero value, apart from Service, gives the
// documented defaults.
type Config struct {
	// Service is the backend the server translates requests into calls on.
	// Required.
	Service backend.Service

	// Host is the host[:port] that queue URLs in answers carry. Empty means
	// the host the client used (the request's Host header).
	Host string

	// MaxRequestBytes limits the size of a request body; 0 means
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64

	// MaxBodyBytesInFlight limits the request body bytes the server reads
	// into memory at once, across requests: a body over 64 KiB that would
	// take the total past it gets RequestThrottled (smaller ones are
	// counted but never refused). 0 means DefaultMaxBodyBytesInFlight.
	MaxBodyBytesInFlight int64

	// MaxLongPolls limits the ReceiveMessage calls that may wait (a
	// WaitTimeSeconds above 0, or none given) in flight at once; one past
	// it gets RequestThrottled. 0 means DefaultMaxLongPolls.
	MaxLongPolls int

	// MaxLongPollsPerConn limits such calls per client connection (they
	// add up only on HTTP/2). 0 means DefaultMaxLongPollsPerConn.
	MaxLongPollsPerConn int

	// Logger receives a Debug record per request and an Error record per
	// internal failure; a request cancelled by its client (a long poll
	// whose connection closed) gets a Debug record instead. nil discards
	// them.
	Logger *slog.Logger

	// Credentials, when not empty, turn authentication on: every request
	// must be signed (AWS Signature Version 4, header or presigned URL)
	// with one of them, acts in its account, and may use another
	// account's queue only as that queue's Policy allows. Empty means
	// anonymous: signatures are not checked and every request acts in the
	// backend's default account.
	Credentials []Credential

	// Clock is the time signatures are checked against and answers' Date
	// header is taken from; nil means the real clock.
	Clock clockwork.Clock

	// CORSAllowOrigins are the origins (scheme://host[:port], or "*" for
	// every one) whose web pages may use the server from a browser. A
	// request that a browser marks as made for a page of another origin
	// (an Origin header that is not the server's, or Sec-Fetch-Site other
	// than same-origin or none) is refused with AccessDenied, changing
	// nothing, unless its origin is here; then CORS preflights are
	// answered and answers carry the CORS headers. Empty: no page of
	// another origin may use the server. Requests of SDKs, the AWS CLI and
	// other programs carry no such headers and are never refused by it.
	CORSAllowOrigins []string
	// Observe, when not nil, is called after every request with its SQS
	// action ("" when none could be read), the query protocol's error code
	// of a failed request ("" for a success), the HTTP status and how long
	// it took: metrics (see package metrics) and the dashboard's server
	// page. It runs on the request's goroutine and must be fast.
	Observe func(action, code string, status int, took time.Duration)
}

// Server is an http.Handler that speaks the SQS JSON 1.0 and query
// protocols and serves them with a backend.Service. It is safe for
// concurrent use.
type Server struct {
	svc      backend.Service
	host     string
	maxBytes int64
	log      *slog.Logger

	drainCtx context.Context
	drain    context.CancelFunc

	polls  *pollLimiter
	bodies bodyBudget

	creds    map[string]Credential // by access key id; nil: anonymous
	origins  crosssite.Origins     // CORS: pages of other origins allowed
	clock    clockwork.Clock
	sigKeys  sync.Map // signing keys by "key/date/region/service": *signingKeyEntry
	nSigKeys atomic.Int64

	bufs sync.Pool // *bytes.Buffer

	observe func(action, code string, status int, took time.Duration)
	date    atomic.Pointer[cachedDate]
}

var _ http.Handler = (*Server)(nil)

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("server: Config.Service is required")
	}
	if cfg.MaxRequestBytes < 0 {
		return nil, fmt.Errorf("server: Config.MaxRequestBytes is negative (%d)", cfg.MaxRequestBytes)
	}
	if cfg.MaxLongPolls < 0 || cfg.MaxLongPollsPerConn < 0 || cfg.MaxBodyBytesInFlight < 0 {
		return nil, fmt.Errorf("server: Config.MaxLongPolls (%d), MaxLongPollsPerConn (%d) and MaxBodyBytesInFlight (%d) must not be negative",
			cfg.MaxLongPolls, cfg.MaxLongPollsPerConn, cfg.MaxBodyBytesInFlight)
	}
	if strings.ContainsAny(cfg.Host, "/ ?#") {
		return nil, fmt.Errorf("server: Config.Host %q must be host[:port], without scheme or path", cfg.Host)
	}
	creds, err := checkCredentials(cfg.Credentials)
	if err != nil {
		return nil, err
	}
	origins, err := crosssite.ParseOrigins(cfg.CORSAllowOrigins)
	if err != nil {
		return nil, fmt.Errorf("server: Config.CORSAllowOrigins: %w", err)
	}
	s := &Server{
		creds:    creds,
		origins:  origins,
		clock:    cfg.Clock,
		svc:      cfg.Service,
		host:     cfg.Host,
		maxBytes: cfg.MaxRequestBytes,
		log:      cfg.Logger,
		polls:    newPollLimiter(cfg.MaxLongPolls, cfg.MaxLongPollsPerConn),
		bodies:   bodyBudget{max: cmp.Or(cfg.MaxBodyBytesInFlight, DefaultMaxBodyBytesInFlight)},
		observe:  cfg.Observe,
	}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultMaxRequestBytes
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	s.drainCtx, s.drain = context.WithCancel(context.Background())
	s.bufs.New = func() any { return new(bytes.Buffer) }
	return s, nil
}

// Drain makes every ReceiveMessage that is waiting for messages return at
// once with none, and every later one return without waiting. Call it
// before http.Server.Shutdown so that long polls do not hold the shutdown
// up. It is idempotent.
func (s *Server) Drain() { s.drain() }

// httpDate returns now in the format of the Date header, formatted once a
// second.
func (s *Server) httpDate(now time.Time) string {
	sec := now.Unix()
	if d := s.date.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &cachedDate{sec: sec, s: now.UTC().Format(http.TimeFormat)}
	s.date.Store(d)
	return d.s
}

type cachedDate struct {
	sec int64
	s   string
}

// errDraining ends the long polls that Drain cuts short.
var errDraining = errors.New("server: draining")

// receive runs a receive that Drain can cut short, in which case it
// returns no messages and no error.
func (s *Server) receive(c *call, q backend.Queue, req backend.ReceiveRequest) ([]*backend.Message, error) {
	if s.drainCtx.Err() != nil {
		req.WaitTimeSeconds = new(0)
		return q.Receive(c.ctx, req)
	}
	if req.WaitTimeSeconds == nil {
		// A receive that names no wait time waits the queue's default:
		// when the backend says it is 0, this is a short poll, which the
		// long-poll bound must not refuse (aws-sdk-go-v2 never sends a
		// WaitTimeSeconds of 0).
		if d, ok := q.(interface{ DefaultWaitTimeSeconds() (int, error) }); ok {
			if w, err := d.DefaultWaitTimeSeconds(); err == nil {
				req.WaitTimeSeconds = &w
			}
		}
	}
	if req.WaitTimeSeconds != nil && *req.WaitTimeSeconds == 0 {
		return q.Receive(c.ctx, req)
	}
	release, err := s.admitLongPoll(c, req.WaitTimeSeconds)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithCancelCause(c.ctx)
	stop := context.AfterFunc(s.drainCtx, func() { cancel(errDraining) })
	msgs, err := q.Receive(ctx, req)
	stop()
	cancel(nil)
	if err != nil && errors.Is(context.Cause(ctx), errDraining) && c.ctx.Err() == nil {
		return nil, nil
	}
	return msgs, err
}

// call is one request in flight.
type call struct {
	ctx     context.Context
	action  string
	base    string // "http://host:port" for queue URLs in answers
	pathURL string // the queue URL the request path names, or ""
	w       http.ResponseWriter
	conn    string // the client connection (its remote address)
	body    int64  // the body bytes this call holds of Server.bodies

	traceID string // the X-Amzn-Trace-Id header, for AWSTraceHeader

	principal *principal   // the authenticated caller; nil when anonymous
	verify    func() error // checks the signature once the body is read
	bodyRead  func() bool  // whether the whole body has been read

	// hv holds the values of the headers every answer carries, so that
	// setting them takes no allocation of its own; rid and clen hold the
	// bytes of the request id and the Content-Length.
	hv   [4]string
	rid  [36]byte
	clen [20]byte
}

// The headers of every answer, by their index in call.hv.
const (
	hvRequestID = iota
	hvDate
	hvContentType
	hvContentLength
)

// setHeader sets header key (in canonical form) of the answer to v,
// without allocating: the value slice is one of c.hv.
func (c *call) setHeader(h http.Header, i int, key, v string) {
	c.hv[i] = v
	h[key] = c.hv[i : i+1 : i+1]
}

// setContentLength sets the Content-Length header of the answer to n.
func (c *call) setContentLength(h http.Header, n int) {
	b := strconv.AppendInt(c.clen[:0], int64(n), 10)
	c.setHeader(h, hvContentLength, "Content-Length", unsafe.String(unsafe.SliceData(b), len(b)))
}

// publicURL rewrites the scheme://host:port of a backend URL to the one the
// client used (or Config.Host).
func (c *call) publicURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	j := strings.IndexByte(u[i+3:], '/')
	if j < 0 {
		return c.base
	}
	return c.base + u[i+3+j:]
}

func (c *call) publicURLs(us []string) []string {
	for i, u := range us {
		us[i] = c.publicURL(u)
	}
	return us
}

// queueURL returns the QueueUrl parameter, or the queue URL of the request
// path when the parameter is absent.
func (c *call) queueURL(p *string) (string, error) {
	u := c.pathURL
	if p != nil {
		u = *p
	}
	if u == "" {
		return "", errMissing("QueueUrl")
	}
	if err := c.authorize(u); err != nil {
		return "", err
	}
	return u, nil
}

// endpoint is one action, in both protocols.
type endpoint interface {
	serveJSON(s *Server, c *call, body []byte) (any, error)
	serveQuery(s *Server, c *call, f form) (func(*xmlWriter), error)
	serveQueryJSON(s *Server, c *call, f form) (any, error) // queryjson.go
}

// op implements endpoint for an action with input I and output O.
type op[I, O any] struct {
	run  func(*Server, *call, *I) (*O, error)
	form func(form, *I) error
	xml  func(*xmlWriter, *O) // nil for actions without a result element
}

func (o op[I, O]) serveJSON(s *Server, c *call, body []byte) (any, error) {
	var in I
	if fd, ok := any(&in).(fastDecoder); !ok || !decodeFast(fd, body) {
		in = *new(I)
		if err := decodeJSON(body, &in); err != nil {
			return nil, err
		}
	}
	if err := c.checkSignature(); err != nil {
		return nil, err
	}
	return o.run(s, c, &in)
}

// decodeFast runs a fast decoder over a whole body.
func decodeFast(fd fastDecoder, body []byte) bool {
	l := lexer{b: body}
	return fd.decodeFast(&l) && l.end()
}

func (o op[I, O]) serveQuery(s *Server, c *call, f form) (func(*xmlWriter), error) {
	var in I
	if err := o.form(f, &in); err != nil {
		return nil, err
	}
	if err := c.checkSignature(); err != nil {
		return nil, err
	}
	out, err := o.run(s, c, &in)
	if err != nil {
		return nil, err
	}
	if o.xml == nil {
		return nil, nil
	}
	return func(x *xmlWriter) { o.xml(x, out) }, nil
}

// endpoints maps action names to their implementations.
var endpoints = map[string]endpoint{
	"AddPermission":                op[addPermissionInput, empty]{(*Server).addPermission, formAddPermission, nil},
	"CancelMessageMoveTask":        op[cancelMoveTaskInput, cancelMoveTaskOutput]{(*Server).cancelMessageMoveTask, formCancelMoveTask, xmlCancelMoveTask},
	"ChangeMessageVisibility":      op[changeVisibilityInput, empty]{(*Server).changeMessageVisibility, formChangeVisibility, nil},
	"ChangeMessageVisibilityBatch": op[changeVisibilityBatchInput, batchOutput]{(*Server).changeMessageVisibilityBatch, formChangeVisibilityBatch, xmlBatch("ChangeMessageVisibilityBatchResultEntry")},
	"CreateQueue":                  op[createQueueInput, queueURLOutput]{(*Server).createQueue, formCreateQueue, xmlQueueURL},
	"DeleteMessage":                op[deleteMessageInput, empty]{(*Server).deleteMessage, formDeleteMessage, nil},
	"DeleteMessageBatch":           op[deleteMessageBatchInput, batchOutput]{(*Server).deleteMessageBatch, formDeleteMessageBatch, xmlBatch("DeleteMessageBatchResultEntry")},
	"DeleteQueue":                  op[queueURLInput, empty]{(*Server).deleteQueue, formQueueURL, nil},
	"GetQueueAttributes":           op[getQueueAttributesInput, attributesOutput]{(*Server).getQueueAttributes, formGetQueueAttributes, xmlAttributes},
	"GetQueueUrl":                  op[getQueueURLInput, queueURLOutput]{(*Server).getQueueURL, formGetQueueURL, xmlQueueURL},
	"ListDeadLetterSourceQueues":   op[listDLQSourcesInput, listDLQSourcesOutput]{(*Server).listDeadLetterSourceQueues, formListDLQSources, xmlListDLQSources},
	"ListMessageMoveTasks":         op[listMoveTasksInput, listMoveTasksOutput]{(*Server).listMessageMoveTasks, formListMoveTasks, xmlListMoveTasks},
	"ListQueueTags":                op[queueURLInput, listTagsOutput]{(*Server).listQueueTags, formQueueURL, xmlListTags},
	"ListQueues":                   op[listQueuesInput, listQueuesOutput]{(*Server).listQueues, formListQueues, xmlListQueues},
	"PurgeQueue":                   op[queueURLInput, empty]{(*Server).purgeQueue, formQueueURL, nil},
	"ReceiveMessage":               op[receiveMessageInput, receiveMessageOutput]{(*Server).receiveMessage, formReceiveMessage, xmlReceiveMessage},
	"RemovePermission":             op[removePermissionInput, empty]{(*Server).removePermission, formRemovePermission, nil},
	"SendMessage":                  op[sendMessageInput, sendMessageOutput]{(*Server).sendMessage, formSendMessage, xmlSendMessage},
	"SendMessageBatch":             op[sendMessageBatchInput, sendMessageBatchOutput]{(*Server).sendMessageBatch, formSendMessageBatch, xmlSendMessageBatch},
	"SetQueueAttributes":           op[setQueueAttributesInput, empty]{(*Server).setQueueAttributes, formSetQueueAttributes, nil},
	"StartMessageMoveTask":         op[startMoveTaskInput, startMoveTaskOutput]{(*Server).startMessageMoveTask, formStartMoveTask, xmlStartMoveTask},
	"TagQueue":                     op[tagQueueInput, empty]{(*Server).tagQueue, formTagQueue, nil},
	"UntagQueue":                   op[untagQueueInput, empty]{(*Server).untagQueue, formUntagQueue, nil},
}

// Actions returns the names of the SQS actions the server implements.
func Actions() []string {
	names := make([]string, 0, len(endpoints))
	for n := range endpoints {
		names = append(names, n)
	}
	return names
}

// ServeHTTP implements http.Handler. A request with an X-Amz-Target header
// or a JSON content type is served with the JSON 1.0 protocol; any other
// with the query protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	now := s.clock.Now()
	h := w.Header()
	c := &call{ctx: r.Context(), w: w, conn: r.RemoteAddr}
	rid := newRequestID(&c.rid)
	c.setHeader(h, hvRequestID, "X-Amzn-Requestid", rid)
	// SDKs correct their clocks by the Date of an answer to a request
	// refused for skew.
	c.setHeader(h, hvDate, "Date", s.httpDate(now))
	c.base = s.baseURL(r)
	c.pathURL = pathQueueURL(c.base, r.URL.Path)
	c.traceID = r.Header.Get(traceIDHeader)

	target := r.Header.Get("X-Amz-Target")
	ct := mediaType(r.Header.Get("Content-Type"))
	isJSON := target != "" || ct == contentTypeJSON10 || ct == contentTypeJSON11 || ct == "application/json"

	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		s.bodies.release(c.body)
		if buf.Cap() <= 1<<20 {
			s.bufs.Put(buf)
		}
	}()

	var status int
	var code string
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.LogAttrs(c.ctx, slog.LevelError, "sqs request panicked", slog.String("action", c.action),
				slog.String("request_id", rid), slog.Any("panic", p))
			we := toWire(backend.NewError(backend.CodeInternalFailure, "We encountered an internal error. Please try again."))
			buf.Reset()
			if isJSON {
				writeJSONError(w, buf, we)
			} else {
				writeXMLError(w, buf, we, rid)
			}
			status, code = we.status, we.queryCode
		}
		if s.observe != nil {
			s.observe(c.action, code, status, time.Since(start))
		}
		if s.log.Enabled(c.ctx, slog.LevelDebug) {
			s.log.LogAttrs(c.ctx, slog.LevelDebug, "sqs request",
				slog.String("action", c.action), slog.Bool("json", isJSON), slog.Int("status", status),
				slog.String("code", code), slog.Duration("took", time.Since(start)), slog.String("request_id", rid))
		}
	}()

	if answered, st, cd := s.browserRequest(w, r, buf, isJSON, rid); answered {
		status, code = st, cd
		return
	}
	if s.creds != nil {
		if err := s.authenticate(r, c, now); err != nil {
			status, code = writeError(w, buf, err, isJSON, rid)
			return
		}
	}
	if isJSON {
		status, code = s.serveJSON(w, r, c, target, ct, buf)
	} else {
		status, code = s.serveQuery(w, r, c, rid, buf)
	}
}

// logFailure logs a request that failed on the server's side, at Error;
// one whose failure is its own context ending (its client went away, as a
// consumer that shuts down does to its long polls) is normal, and logged
// at Debug.
func (s *Server) logFailure(c *call, err error) {
	level, msg := slog.LevelError, "sqs request failed"
	if c.ctx.Err() != nil && errors.Is(err, context.Canceled) {
		level, msg = slog.LevelDebug, "sqs request cancelled by its client"
	}
	s.log.LogAttrs(c.ctx, level, msg, slog.String("action", c.action), slog.Any("error", err))
}

// readBody reads the request body into buf, up to the limit. It reports
// whether the body was within the limit. A body whose Content-Length is
// over the limit is not read, but for its first actionPrefixBytes when
// prefix is set (a query protocol request whose Action may be in it);
// net/http then closes the connection rather than read the rest, and a
// client that sent Expect: 100-continue is refused before it sends any.
//
// The bytes it may read count against Config.MaxBodyBytesInFlight until
// the request ends; past that, the error is a *backend.Error
// (RequestThrottled) for the caller to answer with.
func (s *Server) readBody(r *http.Request, c *call, buf *bytes.Buffer, prefix bool) (bool, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return true, nil
	}
	if err := s.reserveBody(r, c); err != nil {
		return false, err
	}
	if r.ContentLength > s.maxBytes {
		if !prefix {
			return false, nil
		}
		_, err := io.CopyN(buf, r.Body, actionPrefixBytes)
		if err != nil && err != io.EOF {
			return false, err
		}
		return false, nil
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	// buf.ReadFrom(io.LimitReader(...)), without allocating the reader.
	for int64(buf.Len()) <= s.maxBytes {
		buf.Grow(512)
		room := buf.AvailableBuffer()
		room = room[:min(int64(cap(room)), s.maxBytes+1-int64(buf.Len()))]
		n, err := r.Body.Read(room)
		buf.Write(room[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
	}
	return int64(buf.Len()) <= s.maxBytes, nil
}

// tooLarge is the error for a body over the limit.
func (s *Server) tooLarge(action string) *backend.Error {
	switch action {
	case "SendMessageBatch":
		return backend.NewError(backend.CodeBatchRequestTooLong,
			"Batch requests cannot be longer than %d bytes; this request is over the server's limit of %d bytes.", backend.MaxMessageSize, s.maxBytes)
	case "SendMessage":
		return backend.NewError(backend.CodeInvalidParameterValue,
			"One or more parameters are invalid. Reason: Message must be shorter than %d bytes; this request is over the server's limit of %d bytes.", backend.MaxMessageSize, s.maxBytes)
	}
	return backend.NewError(backend.CodeInvalidParameterValue, "The request body is larger than the server's limit of %d bytes.", s.maxBytes)
}

// mediaType returns the lower-cased media type of a Content-Type header,
// without parameters.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

// baseURL is scheme://host[:port] for queue URLs in answers to r.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	host := s.host
	if host == "" {
		host = r.Host
	}
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		} else {
			host = "localhost"
		}
	}
	return scheme + host
}

// pathQueueURL is the queue URL a request path /ACCOUNT/NAME names, or ""
// when the path names none.
func pathQueueURL(base, path string) string {
	if len(path) < 4 || path[0] != '/' {
		return ""
	}
	rest := strings.TrimSuffix(path[1:], "/")
	i := strings.IndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 || strings.IndexByte(rest[i+1:], '/') >= 0 {
		return ""
	}
	return base + "/" + rest
}

const hexDigits = "0123456789abcdef"

// newRequestID returns a random UUID-formatted request id, as SQS sends,
// written in b.
func newRequestID(b *[36]byte) string {
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = hi&^(0xf<<12) | 4<<12 // version 4
	lo = lo&^(0x3<<62) | 2<<62 // variant 10
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		b[j] = hexDigits[nib]
		j++
	}
	return unsafe.String(&b[0], len(b))
}
