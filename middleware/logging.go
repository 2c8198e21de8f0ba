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

// Logging logs one record per handler call with logger (slog.Default() if
// nil): the message id, queue URL, receive count, duration and outcome, and
// the error if there is one, the group id on FIFO queues, the job's type
// (job_type, the TypeAttribute message attribute that NewJob sets and a
// Router dispatches on by default) when there is one, and trace_id and
// span_id (hex, as OpenTelemetry writes them) when the handler's context
// carries a valid OpenTelemetry span context, so that a log line leads to
// its trace. Successes are logged at level Info, errors at Warn, permanent
// errors and panics at Error. A failure it logged is not logged again by
// the server's default Config.OnError. Put it outermost to log what the server will
// act on; the ids are those of the span in the context Logging is given
// (the consumer's process span when tracing is on).
func Logging(logger *slog.Logger) consumer.Middleware {
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			l := logger
			if l == nil {
				l = slog.Default()
			}
			start := time.Now()
			err := next.HandleMessage(ctx, msg)
			outcome, level := OutcomeOK, slog.LevelInfo
			var pe *consumer.PanicError
			switch {
			case err == nil:
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
