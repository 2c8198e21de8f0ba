package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/producer"
)

// TypeAttribute is the message attribute that NewJob sets and that a
// Router dispatches on unless told otherwise.
const TypeAttribute = "type"

// JobDecodeError is the error of a message body that does not decode into
// a job's type. Job returns it marked consumer.Permanent: a body that does
// not decode today will not decode tomorrow, so the message goes to
// QueueConfig.OnPermanent and is deleted rather than retried forever.
type JobDecodeError struct {
	// Type is the Go type the body was decoded into, such as
	// "main.Welcome".
	Type string
	// MessageID is the id of the message whose body did not decode.
	MessageID string
	// Err is the encoding/json error.
	Err error
}

// Error implements error.
func (e *JobDecodeError) Error() string {
	return fmt.Sprintf("middleware: message %s: body does not decode as JSON into %s: %v", e.MessageID, e.Type, e.Err)
}

// Unwrap returns the encoding/json error.
func (e *JobDecodeError) Unwrap() error { return e.Err }

// JobOption changes how Job decodes message bodies.
type JobOption func(*jobOptions)

type jobOptions struct {
	disallowUnknown bool
}

// DisallowUnknownFields makes Job reject a body with an object key that
// matches no field of the job's type (json.Decoder.DisallowUnknownFields).
// By default unknown keys are ignored, as json.Unmarshal ignores them, so
// that a producer can add a field before every worker knows it; reject them
// when a misspelt field must not pass as its zero value.
func DisallowUnknownFields() JobOption {
	return func(o *jobOptions) { o.disallowUnknown = true }
}

// Job adapts a typed function to a consumer.Handler: each message body is
// decoded as JSON (encoding/json) into a new T, and fn is called with it.
// fn's error is returned as it is (nil deletes the message; an error
// retries it, see consumer.Handler).
//
// A body that does not decode into a T (malformed JSON, a value of the
// wrong type, trailing data after the value, or with
// DisallowUnknownFields an unknown field) is a permanent failure: Job
// returns a *JobDecodeError marked with consumer.Permanent, naming the type
// and the decode error, without calling fn. Logging logs it at level Error
// with outcome "permanent", and the server passes the message to
// QueueConfig.OnPermanent and deletes it.
//
// fn reaches the message itself (its id, receive count, attributes) with
// MessageFromContext.
func Job[T any](fn func(ctx context.Context, job T) error, opts ...JobOption) consumer.Handler {
	if fn == nil {
		panic("middleware: Job with a nil function")
	}
	var o jobOptions
	for _, opt := range opts {
		opt(&o)
	}
	typeName := reflect.TypeFor[T]().String()
	return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		var job T
		if err := decodeJob(msg.Body, &job, o.disallowUnknown); err != nil {
			return consumer.Permanent(&JobDecodeError{Type: typeName, MessageID: msg.MessageID, Err: err})
		}
		return fn(context.WithValue(ctx, messageKey{}, msg), job)
	})
}

// decodeJob decodes exactly one JSON value from body into v.
func decodeJob(body string, v any, disallowUnknown bool) error {
	if !disallowUnknown {
		return json.Unmarshal([]byte(body), v)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid data after the top-level value")
	}
	return nil
}

// messageKey is the context key of the message Job hands to its function.
type messageKey struct{}

// MessageFromContext returns the message whose job a Job function is
// handling, and false outside a Job function. The message is the
// handler's: read it, do not keep it after the function returns.
func MessageFromContext(ctx context.Context) (*consumer.Message, bool) {
	msg, ok := ctx.Value(messageKey{}).(*consumer.Message)
	return msg, ok
}

// NewJob builds the message of a typed job: v encoded as JSON
// (encoding/json) in the body, and typ in the String message attribute
// TypeAttribute ("type"), which a Router dispatches on. An empty typ sets no
// attribute, for queues with one kind of job. Set the other fields
// (GroupID, Delay, more Attributes; the type attribute counts against
// SQS's 10) on the result before sending it.
//
// The error is json.Marshal's, or an error for a job larger than SQS
// takes (backend.MaxMessageSize, body and attributes together).
func NewJob(typ string, v any) (producer.Message, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return producer.Message{}, fmt.Errorf("middleware: encoding a %T job: %w", v, err)
	}
	m := producer.Message{Body: string(body)}
	if typ != "" {
		m.Attributes = map[string]backend.MessageAttributeValue{
			TypeAttribute: {DataType: "String", StringValue: typ},
		}
	}
	if size := backend.MessageSize(m.Body, m.Attributes); size > backend.MaxMessageSize {
		return producer.Message{}, fmt.Errorf("middleware: a %T job is %d bytes, over SQS's limit of %d", v, size, backend.MaxMessageSize)
	}
	return m, nil
}
