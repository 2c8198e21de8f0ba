package middleware

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/internal/logged"
)

// Outcomes logged by Logging.
const (
	OutcomeOK        = "ok"
	OutcomeError     = "error"
	OutcomePermanent = "permanent"
	OutcomePanic     = "panic"
)

// Logging logs handler calls with logger (slog.Default() if nil): one
// record per failed call, at Warn for an error and at Error for a
// permanent error or a panic, and one per successful call at Debug, which
// slog's default handlers do not show (1,000 messages handled should not
// be 1,000 lines of log). It is LoggingWith(LoggingConfig{Logger: logger});
// LoggingWith logs successes at another level.
//
// A record holds the message id, queue URL, receive count, duration and
// outcome, and the error if there is one, the group id on FIFO queues, the
// job's type (job_type, the TypeAttribute message attribute that NewJob
// sets and a Router dispatches on by default) when there is one, and
// trace_id and span_id (hex, as OpenTelemetry writes them) when the
// handler's context carries a valid OpenTelemetry span context, so that a
// log line leads to its trace. A failure it logged is not logged again by
// the server's default Config.OnError: one line per failure. Put it
// outside Recover (earlier in consumer.Chain), or a panic passes through it
// unlogged, and outermost to log what the server will act on; the ids are
// those of the span in the context Logging is given (the consumer's
// process span when tracing is on).
func Logging(logger *slog.Logger) consumer.Middleware {
	return LoggingWith(LoggingConfig{Logger: logger})
}

// LoggingConfig configures LoggingWith. The zero value of each field is
// its documented default.
type LoggingConfig struct {
	// Logger receives the records. Default slog.Default() (looked up at
	// each call, so that slog.SetDefault applies).
	Logger *slog.Logger
	// SuccessLevel is the level of the record of a call that succeeded.
	// Default slog.LevelDebug; slog.LevelInfo shows every success where
	// Info records are shown. Failures are logged at Warn and Error
	// whatever it is.
	SuccessLevel slog.Leveler
}

// LoggingWith is Logging configured by cfg.
func LoggingWith(cfg LoggingConfig) consumer.Middleware {
	success := cfg.SuccessLevel
	if success == nil {
		success = slog.LevelDebug
	}
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			l := cfg.Logger
			if l == nil {
				l = slog.Default()
			}
			start := time.Now()
			err := next.HandleMessage(ctx, msg)
			outcome, level := OutcomeOK, success.Level()
			var pe *consumer.PanicError
			switch {
			case err == nil:
				if !l.Enabled(ctx, level) {
					return nil // spare building a record nobody sees
				}
			case errors.As(err, &pe):
				outcome, level = OutcomePanic, slog.LevelError
			case consumer.IsPermanent(err):
				outcome, level = OutcomePermanent, slog.LevelError
			default:
				outcome, level = OutcomeError, slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("message_id", msg.MessageID),
				slog.String("queue", msg.QueueURL),
				slog.Int("receive_count", msg.ReceiveCount),
				slog.Duration("duration", time.Since(start)),
				slog.String("outcome", outcome),
			}
			if msg.GroupID != "" {
				attrs = append(attrs, slog.String("group_id", msg.GroupID))
			}
			if typ, ok := msg.MessageAttributes[TypeAttribute]; ok {
				attrs = append(attrs, slog.String("job_type", typ.StringValue))
			}
			if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
				attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()),
					slog.String("span_id", sc.SpanID().String()))
			}
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			l.LogAttrs(ctx, level, "postbox message handled", attrs...)
			// The server's default OnError leaves a failure logged here
			// alone: one line per failing message.
			return logged.Mark(err)
		})
	}
}
