package producer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Message is one message to send.
type Message struct {
	// Body is the message body (at least one character).
	Body string
	// GroupID is the MessageGroupId: required on FIFO queues, where it
	// orders messages; on standard queues it names the tenant for fair
	// queueing.
	GroupID string
	// DeduplicationID is the FIFO MessageDeduplicationId; leave it empty on
	// queues with content-based deduplication.
	DeduplicationID string
	// Delay postpones delivery (0-15 minutes, rounded down to seconds). Zero
	// means the queue's DelaySeconds. FIFO queues take no per-message delay.
	Delay time.Duration
	// Attributes are the message's user attributes (at most 10).
	Attributes map[string]backend.MessageAttributeValue
	// TraceHeader is the AWSTraceHeader system attribute, if any.
	TraceHeader string
}

// Result is the outcome of sending one message.
type Result struct {
	MessageID      string
	SequenceNumber string // FIFO queues only
	MD5OfBody      string
	// Err is nil when the message was sent. Otherwise it is the message's
	// own failure (a *backend.Error) or the failure of the request that
	// carried it.
	Err error
}

// ErrClosed is returned by Producer.Send after Close.
var ErrClosed = errors.New("producer: closed")

// BatchError reports that some messages of a SendBatch failed; the results
// say which.
type BatchError struct {
	Failed int   // how many messages failed
	First  error // the first failure
}

// Error implements error.
func (e *BatchError) Error() string {
	return fmt.Sprintf("producer: %d messages not sent; first: %v", e.Failed, e.First)
}

// Unwrap returns the first failure.
func (e *BatchError) Unwrap() error { return e.First }

// entry turns m into a send entry with batch id id.
func (m *Message) entry(id string) backend.SendEntry {
	e := backend.SendEntry{
		ID:                     id,
		Body:                   m.Body,
		MessageAttributes:      m.Attributes,
		MessageGroupID:         m.GroupID,
		MessageDeduplicationID: m.DeduplicationID,
	}
	if m.Delay > 0 {
		e.DelaySeconds = new(int(m.Delay / time.Second))
	}
	if m.TraceHeader != "" {
		e.MessageSystemAttributes = map[string]backend.MessageAttributeValue{
			"AWSTraceHeader": {DataType: "String", StringValue: m.TraceHeader},
		}
	}
	return e
}

// size is what the message counts against the batch limit.
func (m *Message) size() int { return backend.MessageSize(m.Body, m.Attributes) }

func errTooLong(size int) error {
	return backend.NewError(backend.CodeInvalidParameterValue,
		"One or more parameters are invalid. Reason: Message must be shorter than %d bytes (this one is %d).",
		backend.MaxMessageSize, size)
}

var entryIDs = func() (ids [backend.MaxBatchEntries]string) {
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// Send sends one message with one SendMessageBatch call of one entry. The
// error is the message's failure, if any (also in Result.Err).
func Send(ctx context.Context, q backend.Queue, m Message) (Result, error) {
	res, err := SendBatch(ctx, q, []Message{m})
	if len(res) == 0 {
		return Result{Err: err}, err
	}
	return res[0], res[0].Err
}

// sendBatchConcurrency is how many batches SendBatch sends at once.
const sendBatchConcurrency = 4

// SendBatch sends msgs in as few SendMessageBatch calls as SQS allows:
// batches of up to 10 messages and up to 1 MiB in total, in order, up to 4
// batches at once. It returns one Result per message, in order. The error
// is nil when every message was sent, and a *BatchError otherwise. A message
// larger than 1 MiB fails by itself without being sent.
//
// On FIFO queues, SendBatch keeps the order of the messages of a group only
// within one batch: send one group's messages with SendBatch calls of their
// own, or one at a time, if their order matters across more than 10.
func SendBatch(ctx context.Context, q backend.Queue, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	var batches [][2]int // [start, end) of each batch, skipping oversized messages
	start, bytes := 0, 0
	for i := range msgs {
		size := msgs[i].size()
		if size > backend.MaxMessageSize {
			if start < i {
				batches = append(batches, [2]int{start, i})
			}
			results[i].Err = errTooLong(size)
			start, bytes = i+1, 0
			continue
		}
		if i-start == backend.MaxBatchEntries || bytes+size > backend.MaxMessageSize {
			batches = append(batches, [2]int{start, i})
			start, bytes = i, 0
		}
		bytes += size
	}
	if start < len(msgs) {
		batches = append(batches, [2]int{start, len(msgs)})
	}
	sem := make(chan struct{}, sendBatchConcurrency)
	var wg sync.WaitGroup
	for _, b := range batches {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sendOne(ctx, q, msgs[b[0]:b[1]], results[b[0]:b[1]])
		})
	}
	wg.Wait()
	return results, batchError(results)
}

func batchError(results []Result) error {
	var be *BatchError
	for _, r := range results {
		if r.Err != nil {
			if be == nil {
				be = &BatchError{First: r.Err}
			}
			be.Failed++
		}
	}
	if be == nil {
		return nil
	}
	return be
}

// sendOne sends one batch (1-10 messages within the size limit) and fills
// in its results.
func sendOne(ctx context.Context, q backend.Queue, msgs []Message, results []Result) {
	entries := make([]backend.SendEntry, len(msgs))
	for i := range msgs {
		entries[i] = msgs[i].entry(entryIDs[i])
	}
	res, err := q.Send(ctx, entries)
	if err != nil {
		for i := range results {
			results[i] = Result{Err: err}
		}
		return
	}
	for i, r := range res {
		results[i] = Result{MessageID: r.MessageID, SequenceNumber: r.SequenceNumber, MD5OfBody: r.MD5OfMessageBody, Err: r.Err}
	}
}

// DefaultMaxInFlight is Config.MaxInFlight's default.
const DefaultMaxInFlight = 8

// Config configures a Producer. The zero value of each field is its
// documented default.
type Config struct {
	// MaxInFlight is how many SendMessageBatch calls run at once. A Send
	// that finds a call free goes out at once, with whatever else is
	// waiting; while all MaxInFlight calls are busy, messages wait and form
	// the next batches, up to 10 messages or 1 MiB each. Fewer calls in
	// flight make fuller batches (fewer requests) under load, at the cost
	// of waiting longer for one. Default 8.
	MaxInFlight int
	// Prepare, when not nil, is called by Send on the caller's goroutine,
	// with Send's context and the queue's URL, before the message is
	// queued for a batch. It may change *m: it is Send's own copy, but its
	// Attributes map is the caller's, so copy the map before adding to it.
	// It exists for what belongs to each Send's context rather than to the
	// batch call that carries it, above all the trace context, which must
	// be written into each message before batching merges messages of
	// different contexts into one call (see package middleware/telemetry).
	Prepare func(ctx context.Context, queueURL string, m *Message)
}

// Producer sends messages to one queue, merging concurrent Sends into
// SendMessageBatch calls. It is safe for concurrent use. Close it to flush
// what is pending.
//
// Batches form the way gocloud.dev's pubsub/batcher forms them: a Send that
// finds a call slot free (fewer than Config.MaxInFlight calls running)
// goes out at once, so a program that sends one message at a time never
// waits for company; while every slot is busy, Sends wait, and the call
// that ends next takes up to a full batch of them. No timer runs.
type Producer struct {
	q       backend.Queue
	url     string
	max     int
	prepare func(ctx context.Context, queueURL string, m *Message)

	mu       sync.Mutex
	pending  []*pendingSend // from head on, waiting for a call
	head     int
	inFlight int
	closed   bool
	wg       sync.WaitGroup // the calls running
}

type pendingSend struct {
	msg  Message
	size int
	done chan Result
}

// New returns a producer for q.
func New(q backend.Queue, cfg Config) *Producer {
	p := &Producer{q: q, url: q.URL(), max: cfg.MaxInFlight, prepare: cfg.Prepare}
	if p.max <= 0 {
		p.max = DefaultMaxInFlight
	}
	return p
}

// Send sends m, in a batch with whatever other Sends are waiting, and
// waits until that batch is sent: at once when a call is free, else when
// one ends. The error is m's failure, if any (also in Result.Err). If ctx
// ends first Send returns ctx's error, and m may or may not be sent.
//
// On FIFO queues, the messages of one group keep the order of their Send
// calls only when those calls do not overlap: wait for one Send to return
// before the next of the same group.
func (p *Producer) Send(ctx context.Context, m Message) (Result, error) {
	if p.prepare != nil {
		p.prepare(ctx, p.url, &m)
	}
	size := m.size()
	if size > backend.MaxMessageSize {
		err := errTooLong(size)
		return Result{Err: err}, err
	}
	ps := &pendingSend{msg: m, size: size, done: make(chan Result, 1)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{Err: ErrClosed}, ErrClosed
	}
	p.pending = append(p.pending, ps)
	p.startLocked()
	p.mu.Unlock()
	select {
	case r := <-ps.done:
		return r, r.Err
	case <-ctx.Done():
		return Result{Err: ctx.Err()}, ctx.Err()
	}
}

// startLocked starts calls while messages wait and call slots are free,
// each with up to a full batch of the oldest waiting messages.
func (p *Producer) startLocked() {
	for len(p.pending) > p.head && p.inFlight < p.max {
		waiting := p.pending[p.head:]
		n, bytes := 0, 0
		for n < len(waiting) && n < backend.MaxBatchEntries && bytes+waiting[n].size <= backend.MaxMessageSize {
			bytes += waiting[n].size
			n++
		}
		batch := make([]*pendingSend, n)
		copy(batch, waiting)
		clear(waiting[:n])
		p.head += n
		switch {
		case p.head == len(p.pending):
			p.pending, p.head = p.pending[:0], 0
		case p.head >= 64 && p.head > len(p.pending)-p.head:
			rest := copy(p.pending, p.pending[p.head:])
			clear(p.pending[rest:])
			p.pending, p.head = p.pending[:rest], 0
		}
		p.inFlight++
		p.wg.Add(1)
		go p.send(batch)
	}
}

func (p *Producer) send(batch []*pendingSend) {
	defer p.wg.Done()
	msgs := make([]Message, len(batch))
	for i, ps := range batch {
		msgs[i] = ps.msg
	}
	results := make([]Result, len(batch))
	// The batch's own calls are not tied to any one sender's context.
	sendOne(context.Background(), p.q, msgs, results)
	for i, ps := range batch {
		ps.done <- results[i]
	}
	p.mu.Lock()
	p.inFlight--
	p.startLocked()
	p.mu.Unlock()
}

// Close waits until every message already given to Send has been sent
// (the calls that end take what still waits, as always) and makes later
// Sends fail with ErrClosed. It is idempotent.
func (p *Producer) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}
