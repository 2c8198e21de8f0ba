package consumer

import (
	"errors"
	"fmt"

	"github.com/postbox-go/postbox/backend"
)

// Errors of the server's lifecycle, and causes of a handler's context
// cancellation.
var (
	// ErrServerClosed is returned by Run once the server has been shut down,
	// and by Run on a server that already ran.
	ErrServerClosed = errors.New("consumer: server closed")

	// ErrServerShutdown is the cause of a handler's context cancellation
	// when a shutdown's deadline passes while the handler still runs. The
	// message is given back to the queue at once.
	ErrServerShutdown = errors.New("consumer: server shut down while the handler ran")

	// ErrShutdownTimeout is returned by Shutdown (and Run) when the
	// shutdown deadline passed before every handler returned, so that
	// running handlers had to be cancelled.
	ErrShutdownTimeout = errors.New("consumer: shutdown deadline passed; running handlers were cancelled")

	// ErrLeaseLost is matched (errors.Is) by the cause of a handler's
	// context cancellation when the message's lease is lost: extending its
	// visibility failed because the receipt handle is no longer valid, the
	// visibility timeout ran out (for example at the extension limit), or
	// the server received the message again.
	// The message may already be delivered to another consumer; postbox
	// neither deletes it nor changes its visibility afterwards.
	ErrLeaseLost = errors.New("consumer: message lease lost")
)

// permanentError marks an error as not worth retrying.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as permanent: retrying the message cannot help (a
// malformed body, a job for a deleted account). A handler returning a
// permanent error has its message passed to QueueConfig.OnPermanent (which
// may forward it elsewhere) and then deleted. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	if IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// PanicError is the error a handler's panic becomes.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Operations named by Error.Op.
const (
	OpReceive    = "receive"    // a ReceiveMessage call failed
	OpHandle     = "handle"     // a handler returned an error (or panicked)
	OpDelete     = "delete"     // deleting a message failed
	OpVisibility = "visibility" // changing a message's visibility (backoff, release) failed
	OpHeartbeat  = "heartbeat"  // extending a running message's visibility failed
	OpPermanent  = "permanent"  // a handler returned a permanent error
)

// Error is what the server reports to Config.OnError: an operation that
// failed, on which queue and (where there is one) which message.
type Error struct {
	Op        string // one of the Op* constants
	QueueURL  string
	MessageID string // empty for receive errors
	Err       error
}

// Error implements error.
func (e *Error) Error() string {
	s := "consumer: " + e.Op
	if e.MessageID != "" {
		s += " message " + e.MessageID
	}
	return s + " on " + e.QueueURL + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// leaseLost reports whether a per-entry visibility error means the message's
// lease is gone: the handle is stale or expired, or the message is not in
// flight any more.
func leaseLost(err error) bool {
	switch backend.Code(err) {
	case backend.CodeReceiptHandleIsInvalid, backend.CodeMessageNotInflight, backend.CodeInvalidParameterValue:
		return true
	}
	return false
}

// retryable reports whether a failed batch entry or request is worth
// retrying: the service's own faults and throttling.
func retryable(err error) bool {
	var e *backend.Error
	if !errors.As(err, &e) {
		return true // transport errors
	}
	switch e.Code {
	case backend.CodeInternalFailure, backend.CodeServiceUnavailable, backend.CodeRequestThrottled,
		backend.CodeKmsThrottled:
		return true
	}
	return !e.SenderFault
}
