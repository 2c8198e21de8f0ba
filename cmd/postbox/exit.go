package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// Exit codes of the postbox command.
const (
	exitOK          = 0   // success
	exitError       = 1   // the request failed (an SQS error, the network, a file)
	exitUsage       = 2   // bad arguments or flags; nothing was sent
	exitPartial     = 3   // some entries of a batch failed, the others succeeded
	exitInterrupted = 130 // SIGINT or SIGTERM ended the command
)

// exitCodesHelp documents the exit codes in postbox --help.
const exitCodesHelp = `Exit codes:
  0    success
  1    error: the request failed (the SQS error code is printed), or I/O failed
  2    usage: bad arguments or flags, no endpoint, or purge without --yes
       where there is no terminal to confirm on; nothing was changed
  3    partial failure: some entries of a batch failed (each is printed),
       the others succeeded
  130  interrupted by SIGINT or SIGTERM`

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// partialError reports that n entries of a batch operation failed (each
// already printed): exit code 3.
type partialError struct {
	failed, total int
	what          string
}

func (e partialError) Error() string {
	return fmt.Sprintf("%d of %d %s failed", e.failed, e.total, e.what)
}

// exitCode returns the process exit code for the error a command returned.
func exitCode(ctx context.Context, err error) int {
	var ue usageError
	var pe partialError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &pe):
		return exitPartial
	case errors.As(err, &ue), isCobraUsage(err):
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitError
}

// isCobraUsage recognises the errors cobra returns for an unknown command
// or flag and for wrong argument counts.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// errorLine is the one line printed for an error: an SQS error shows its
// code as AWS reports it (the query protocol code, the one the AWS CLI
// prints) and its message.
func errorLine(err error) string {
	var be *backend.Error
	if errors.As(err, &be) {
		return "postbox: " + sqsErrorText(be)
	}
	if errors.Is(err, context.Canceled) {
		return "postbox: interrupted"
	}
	return "postbox: " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// sqsErrorText is "CODE: message" for an SQS error (an error that is a
// *backend.Error, as a failed batch entry's is), and err's text otherwise.
func sqsErrorText(err error) string {
	var be *backend.Error
	if !errors.As(err, &be) || be == nil {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	code := be.Code
	if info, ok := backend.LookupError(be.Code); ok && info.QueryCode != "" {
		code = info.QueryCode
	}
	msg := strings.ReplaceAll(be.Message, "\n", " ")
	if msg == "" {
		return code
	}
	return code + ": " + msg
}
