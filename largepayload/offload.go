package largepayload

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/producer"
)

// DefaultThreshold is the size above which Offloader stores a message's
// payload: 256 KiB, the Extended Clients' default and SQS's limit before
// August 2025. SQS now takes up to 1 MiB (backend.MaxMessageSize).
const DefaultThreshold = 256 << 10

// Config configures an Offloader. The zero value of each option but Store
// and Bucket is its documented default.
type Config struct {
	// Store holds the payloads: S3Store for S3 (interoperable with the
	// Extended Clients), MemStore or FileStore in process. Required.
	Store Store
	// Bucket is the bucket payloads are stored in. Required.
	Bucket string
	// KeyPrefix is put before each payload's key (a random UUID, as the
	// Extended Clients make).
	KeyPrefix string
	// Threshold is the largest message, body and attributes counted as
	// SQS counts them, sent as it is; larger ones go through the store.
	// Default DefaultThreshold (256 KiB); at most backend.MaxMessageSize
	// (1 MiB).
	Threshold int
	// Always sends every message's payload through the store.
	Always bool
	// Legacy writes the Java client 1.x format: LegacyPointerClass and
	// LegacySizeAttribute, for consumers that know only those.
	Legacy bool
}

// Offloader is the producer side: it stores the payload of a message over
// the threshold and sends a pointer in its place, in the Extended Clients'
// wire format. It is safe for concurrent use.
type Offloader struct {
	cfg Config
}

// NewOffloader returns an Offloader, or an error naming the first bad
// option.
func NewOffloader(cfg Config) (*Offloader, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("largepayload: Config.Store is required")
	case cfg.Bucket == "":
		return nil, errors.New("largepayload: Config.Bucket is required")
	case cfg.Threshold < 0 || cfg.Threshold > backend.MaxMessageSize:
		return nil, fmt.Errorf("largepayload: Threshold %d is not within 0-%d", cfg.Threshold, backend.MaxMessageSize)
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	return &Offloader{cfg: cfg}, nil
}

// Message returns m ready to send: m itself when it is within the
// threshold; otherwise a copy whose body is a pointer to m's body, stored
// first, and whose attributes are m's plus SizeAttribute. The error is the
// store's, or one for a message that cannot carry a pointer (already 10
// attributes, or one of the reserved names). Use it before
// producer.Send, SendBatch or Producer.Send, which refuse a message over
// 1 MiB before it reaches a queue.
func (o *Offloader) Message(ctx context.Context, m producer.Message) (producer.Message, error) {
	body, attrs, err := o.offload(ctx, m.Body, m.Attributes)
	if err != nil {
		return producer.Message{}, err
	}
	m.Body, m.Attributes = body, attrs
	return m, nil
}

// offload returns the body and attributes to send for body and attrs.
func (o *Offloader) offload(ctx context.Context, body string, attrs map[string]backend.MessageAttributeValue) (string, map[string]backend.MessageAttributeValue, error) {
	if !o.cfg.Always && backend.MessageSize(body, attrs) <= o.cfg.Threshold {
		return body, attrs, nil
	}
	for _, name := range []string{SizeAttribute, LegacySizeAttribute} {
		if _, ok := attrs[name]; ok {
			return "", nil, fmt.Errorf("largepayload: the message already has the reserved attribute %s", name)
		}
	}
	if len(attrs) >= backend.MaxMessageAttributes {
		return "", nil, fmt.Errorf("largepayload: a message with %d attributes has no room for %s", len(attrs), SizeAttribute)
	}
	p := Pointer{Bucket: o.cfg.Bucket, Key: o.cfg.KeyPrefix + uuid()}
	if err := o.cfg.Store.Put(ctx, p.Bucket, p.Key, body); err != nil {
		return "", nil, err
	}
	name := SizeAttribute
	if o.cfg.Legacy {
		name = LegacySizeAttribute
	}
	out := make(map[string]backend.MessageAttributeValue, len(attrs)+1)
	maps.Copy(out, attrs)
	out[name] = backend.MessageAttributeValue{DataType: "Number", StringValue: strconv.Itoa(len(body))}
	return p.Body(o.cfg.Legacy), out, nil
}

// uuid returns a random (version 4) UUID.
func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Queue returns q with Send offloading each entry over the threshold
// first: everything that sends through a backend.Queue (producer.Send,
// SendBatch, a Producer, the consumer's own code) then sends pointers for
// large entries. An entry whose payload cannot be stored fails by itself
// (its SendResult's Err) and is not sent. Entries over 1 MiB never reach
// it through package producer, which refuses them first: use Message for
// those.
func (o *Offloader) Queue(q backend.Queue) backend.Queue { return &queue{Queue: q, o: o} }

type queue struct {
	backend.Queue
	o *Offloader
}

func (q *queue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	var out []backend.SendEntry
	failed := map[int]error{}
	for i, e := range entries {
		body, attrs, err := q.o.offload(ctx, e.Body, e.MessageAttributes)
		if err != nil {
			failed[i] = err
			continue
		}
		e.Body, e.MessageAttributes = body, attrs
		out = append(out, e)
	}
	if len(failed) == 0 {
		return q.Queue.Send(ctx, out)
	}
	var res []backend.SendResult
	if len(out) > 0 {
		var err error
		if res, err = q.Queue.Send(ctx, out); err != nil {
			return nil, err
		}
	}
	all := make([]backend.SendResult, len(entries))
	for i, e := range entries {
		if err, ok := failed[i]; ok {
			all[i] = backend.SendResult{ID: e.ID, Err: err}
			continue
		}
		all[i], res = res[0], res[1:]
	}
	return all, nil
}
