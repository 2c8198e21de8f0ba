// Package logged marks the errors that a postbox middleware has logged
// already, so that the consumer's default error handler does not log a
// failing message a second time.
package logged

import "errors"

type loggedError struct{ err error }

func (e *loggedError) Error() string { return e.err.Error() }
func (e *loggedError) Unwrap() error { return e.err }

// Mark returns err marked as logged; it keeps err's text and, through
// Unwrap, everything errors.Is and errors.As find in it. Mark(nil) is nil.
func Mark(err error) error {
	if err == nil || Is(err) {
		return err
	}
	return &loggedError{err: err}
}

// Is reports whether err, or an error it wraps, was marked with Mark.
func Is(err error) bool {
	var e *loggedError
	return errors.As(err, &e)
}
