package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/internal/logged"
)

// Defaults for the zero values of QueueConfig and Config.
const (
	DefaultConcurrency       = 10
	DefaultMaxMessages       = 10
	DefaultWaitTime          = 20 * time.Second
	DefaultVisibilityTimeout = 30 * time.Second
	DefaultAckBatchSize      = 10
	DefaultAckMaxDelay       = 100 * time.Millisecond
	DefaultMaxExtension      = 12 * time.Hour
	DefaultShutdownTimeout   = 30 * time.Second
	DefaultUnhealthyAfter    = 2 * time.Minute
)

// maxLease is SQS's limit on how long a message may stay invisible, counted
// from the receive: 12 hours.
const maxLease = backend.MaxVisibilityTimeout * time.Second

// DefaultBackoff is the backoff of a failed message when QueueConfig.Backoff
// is nil: exponential with jitter from 1 second, capped at 15 minutes.
func DefaultBackoff() Backoff { return ExponentialBackoff(time.Second, 15*time.Minute) }

// DefaultReceiveBackoff is the wait after failed receives when
// QueueConfig.ReceiveBackoff is nil: from 100 ms, capped at 20 seconds.
func DefaultReceiveBackoff() Backoff {
	return ExponentialBackoff(100*time.Millisecond, 20*time.Second)
}

// QueueConfig is one queue that a Server serves, with its handler and
// options. The zero value of each option is its documented default.
type QueueConfig struct {
	// Queue is the queue to consume. Required. A queue whose URL ends in
	// ".fifo" is consumed as a FIFO queue (see the package documentation).
	Queue backend.Queue

	// Handler processes one message at a time. Exactly one of Handler and
	// BatchHandler is required.
	Handler Handler
	// BatchHandler processes the messages of one receive together.
	BatchHandler BatchHandler

	// Concurrency is how many handlers (batches, with BatchHandler) run at
	// once. Default 10.
	Concurrency int
	// MaxMessages is the most messages one receive asks for, 1-10. Default 10.
	MaxMessages int
	// Prefetch bounds how many messages may be on their way to the workers
	// or waiting for one: asked for by receives still in flight, or
	// received and not started. The server asks for messages ahead of
	// demand, as many as the workers will finish during one receive's
	// round trip (measured), so that no worker waits on the network; it
	// never holds more than Concurrency + Prefetch messages received and
	// unfinished, or asked for (Concurrency * MaxMessages + Prefetch with
	// BatchHandler). Default 9 * Concurrency (Concurrency * MaxMessages
	// with BatchHandler); a negative value means none: receive only for
	// idle workers.
	Prefetch int
	// WaitTime is the long-poll wait of a receive, rounded down to seconds,
	// at most 20 s. Default 20 s; a negative value means 0 (short polls).
	WaitTime time.Duration
	// VisibilityTimeout is the visibility timeout every receive asks for,
	// in whole seconds, 1 s to 12 h. Default 30 s. It is also the lease the
	// heartbeat renews.
	VisibilityTimeout time.Duration

	// AckBatchSize is how many deletes are gathered into one
	// DeleteMessageBatch call, 1-10. Default 10.
	AckBatchSize int
	// AckMaxDelay is how long a delete may wait for its batch to fill.
	// Default 100 ms; a negative value flushes at once.
	AckMaxDelay time.Duration

	// HeartbeatInterval is how often the visibility of received, unfinished
	// messages is checked and extended. Default VisibilityTimeout/3; a
	// negative value disables the heartbeat (handlers must then end within
	// VisibilityTimeout).
	HeartbeatInterval time.Duration
	// MaxExtension is how long after its receive a message's visibility is
	// extended at most. Default (and cap): 12 hours, SQS's limit.
	MaxExtension time.Duration

	// Backoff tells how long a failed message stays invisible, from its
	// receive count. Default DefaultBackoff(). The result is rounded up to
	// whole seconds and never reaches past 12 hours from the receive.
	Backoff Backoff
	// ReceiveBackoff tells how long to wait after consecutive failed
	// receives. Default DefaultReceiveBackoff().
	ReceiveBackoff Backoff

	// OnPermanent is called with a message whose handler returned a
	// Permanent error, before the message is deleted; it may forward the
	// message elsewhere. If it returns an error the message is not deleted
	// and is retried like any failure. Default: nil (report to OnError,
	// then delete).
	OnPermanent func(ctx context.Context, msg *Message, err error) error
}

// Config configures a Server. The zero value of each option is its
// documented default.
type Config struct {
	// Queues are the queues the server consumes, each with its handler.
	// At least one is required.
	Queues []QueueConfig
	// ShutdownTimeout bounds how long Run's graceful shutdown (when its
	// context ends) waits for running handlers before cancelling them.
	// Default 30 s. Shutdown uses the earlier of its context's deadline and
	// this timeout.
	ShutdownTimeout time.Duration
	// StopWhenIdle, when positive, makes Run return nil once every queue
	// has been idle for that long: its receives found nothing, no handler
	// ran and nothing waited to be acknowledged. Receives then wait at
	// most StopWhenIdle (rounded up to whole seconds) for messages, so
	// that an empty queue is noticed in time. For batch jobs, tests and
	// demos that drain a queue and stop. Default 0: Run never stops by
	// itself.
	StopWhenIdle time.Duration
	// UnhealthyAfter is how long receives from a queue may keep failing
	// before the server's health check (see Server.HealthHandler) reports
	// it unhealthy. Default 2 minutes.
	UnhealthyAfter time.Duration
	// OnError receives every failure the server handles on its own: failed
	// receives, handler errors, deletes and visibility changes that failed,
	// lost leases. Each is an *Error. It may be called concurrently and
	// must not block for long. Default: logged with slog.Default() at
	// level Warn, except a handler's failure that middleware.Logging has
	// logged already.
	OnError func(err error)
	// Clock is the time source for heartbeats, backoff waits, ack delays
	// and shutdown timeouts. Default: the real clock.
	Clock clockwork.Clock
}

// queueSettings is a QueueConfig with its defaults applied.
type queueSettings struct {
	QueueConfig
	url       string
	fifo      bool
	capacity  int // most messages received and unfinished, or asked for
	unit      int // messages per unit of work: 1, or MaxMessages with BatchHandler
	waitSecs  int
	visSecs   int
	vis       time.Duration
	heartbeat time.Duration // 0: disabled
}

func (c *Config) validate() ([]queueSettings, error) {
	if len(c.Queues) == 0 {
		return nil, errors.New("consumer: Config.Queues is empty")
	}
	if c.ShutdownTimeout < 0 {
		return nil, errors.New("consumer: negative ShutdownTimeout")
	}
	if c.StopWhenIdle < 0 {
		return nil, errors.New("consumer: negative StopWhenIdle")
	}
	if c.UnhealthyAfter < 0 {
		return nil, errors.New("consumer: negative UnhealthyAfter")
	}
	out := make([]queueSettings, len(c.Queues))
	for i, qc := range c.Queues {
		s, err := qc.settings()
		if err != nil {
			return nil, fmt.Errorf("consumer: Queues[%d]: %w", i, err)
		}
		if c.StopWhenIdle > 0 {
			// An empty receive is what tells that a queue is idle: it
			// must come back within StopWhenIdle.
			s.waitSecs = min(s.waitSecs, int((c.StopWhenIdle+time.Second-1)/time.Second))
		}
		out[i] = s
	}
	return out, nil
}

func (qc QueueConfig) settings() (queueSettings, error) {
	s := queueSettings{QueueConfig: qc}
	if qc.Queue == nil {
		return s, errors.New("Queue is nil")
	}
	if (qc.Handler == nil) == (qc.BatchHandler == nil) {
		return s, errors.New("exactly one of Handler and BatchHandler is required")
	}
	s.url = qc.Queue.URL()
	s.fifo = strings.HasSuffix(s.url, ".fifo")
	switch {
	case qc.Concurrency < 0:
		return s, errors.New("negative Concurrency")
	case qc.Concurrency == 0:
		s.Concurrency = DefaultConcurrency
	}
	switch {
	case qc.MaxMessages < 0 || qc.MaxMessages > backend.MaxReceiveMessages:
		return s, fmt.Errorf("MaxMessages %d is not in 1-10", qc.MaxMessages)
	case qc.MaxMessages == 0:
		s.MaxMessages = DefaultMaxMessages
	}
	s.unit = 1
	if s.BatchHandler != nil {
		s.unit = s.MaxMessages
	}
	switch {
	case qc.Prefetch < 0:
		s.Prefetch = 0
	case qc.Prefetch == 0 && s.BatchHandler != nil:
		s.Prefetch = s.Concurrency * s.MaxMessages
	case qc.Prefetch == 0:
		s.Prefetch = 9 * s.Concurrency
	}
	s.capacity = s.Concurrency*s.unit + s.Prefetch
	switch {
	case qc.WaitTime < 0:
		s.waitSecs = 0
	case qc.WaitTime == 0:
		s.waitSecs = int(DefaultWaitTime / time.Second)
	case qc.WaitTime > backend.MaxWaitTimeSeconds*time.Second:
		return s, fmt.Errorf("WaitTime %v is longer than 20s", qc.WaitTime)
	default:
		s.waitSecs = int(qc.WaitTime / time.Second)
	}
	switch {
	case qc.VisibilityTimeout == 0:
		s.vis = DefaultVisibilityTimeout
	case qc.VisibilityTimeout < time.Second || qc.VisibilityTimeout > maxLease:
		return s, fmt.Errorf("VisibilityTimeout %v is not in 1s-12h", qc.VisibilityTimeout)
	default:
		s.vis = qc.VisibilityTimeout.Truncate(time.Second)
	}
	s.visSecs = int(s.vis / time.Second)
	switch {
	case qc.AckBatchSize < 0 || qc.AckBatchSize > backend.MaxBatchEntries:
		return s, fmt.Errorf("AckBatchSize %d is not in 1-10", qc.AckBatchSize)
	case qc.AckBatchSize == 0:
		s.AckBatchSize = DefaultAckBatchSize
	}
	switch {
	case qc.AckMaxDelay < 0:
		s.AckMaxDelay = 0
	case qc.AckMaxDelay == 0:
		s.AckMaxDelay = DefaultAckMaxDelay
	}
	switch {
	case qc.HeartbeatInterval < 0:
		s.heartbeat = 0
	case qc.HeartbeatInterval == 0:
		s.heartbeat = s.vis / 3
	default:
		s.heartbeat = qc.HeartbeatInterval
	}
	switch {
	case qc.MaxExtension < 0:
		return s, errors.New("negative MaxExtension")
	case qc.MaxExtension == 0 || qc.MaxExtension > maxLease:
		s.MaxExtension = DefaultMaxExtension
	}
	if s.Backoff == nil {
		s.Backoff = DefaultBackoff()
	}
	if s.ReceiveBackoff == nil {
		s.ReceiveBackoff = DefaultReceiveBackoff()
	}
	return s, nil
}

func defaultOnError(err error) {
	var e *Error
	if errors.As(err, &e) && (e.Op == OpHandle || e.Op == OpPermanent) && logged.Is(e.Err) {
		return // middleware.Logging has logged this message's failure
	}
	slog.Default().Warn("postbox consumer", "err", err)
}
