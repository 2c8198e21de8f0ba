package consumer

import "context"

// Purpose says why a Server made a DeleteMessageBatch or
// ChangeMessageVisibilityBatch call. The Server puts it in the context of
// each such call, so that a backend.Queue decorator (middleware/telemetry's,
// for one) can tell acknowledgements from heartbeats and releases; read it
// with PurposeFrom.
type Purpose string

const (
	// PurposeAck is a DeleteMessageBatch of messages whose handlers
	// succeeded (or failed permanently).
	PurposeAck Purpose = "ack"
	// PurposeHeartbeat is a ChangeMessageVisibilityBatch that extends the
	// visibility of messages whose handlers still run.
	PurposeHeartbeat Purpose = "heartbeat"
	// PurposeRelease is a ChangeMessageVisibilityBatch that gives messages
	// back to the queue: a failed message's backoff, or a received message
	// that was not started (FIFO group failure, shutdown).
	PurposeRelease Purpose = "release"
)

type purposeKey struct{}

// withPurpose returns ctx carrying p.
func withPurpose(ctx context.Context, p Purpose) context.Context {
	return context.WithValue(ctx, purposeKey{}, p)
}

// PurposeFrom returns the Purpose of the Server call whose context is ctx,
// or "" when ctx is not the context of such a call.
func PurposeFrom(ctx context.Context) Purpose {
	p, _ := ctx.Value(purposeKey{}).(Purpose)
	return p
}
