package awssqs24

// This file is written by hand, not generated: the two helpers that the
// generated copy's patches (see ../gen) call so that the adapter behaves
// over the query protocol of aws-sdk-go-v2/service/sqs v1.24.5 as it does
// over JSON with the current SDK.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strconv"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// handleForm is zeroFields.HandleSerialize for a query-protocol
// (form-encoded) request: v1.24.5 leaves every plain int32 out of the body
// when it is 0, including ChangeMessageVisibilityBatchRequestEntry's
// required VisibilityTimeout, so "0" must be written in as it is for JSON.
func (z *zeroFields) handleForm(ctx context.Context, in middleware.SerializeInput, req *smithyhttp.Request, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	body, err := io.ReadAll(req.GetStream())
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("awssqs: reading the serialized request: %w", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("awssqs: writing explicit zeros: %w", err)
	}
	for _, f := range z.top {
		if !form.Has(f) {
			form.Set(f, "0")
		}
	}
	// Batch entries are flattened as <Action>RequestEntry.<n>.<Field>,
	// n counting from 1.
	prefix := form.Get("Action") + "RequestEntry."
	for _, i := range z.entries {
		n := prefix + strconv.Itoa(i+1) + "."
		if form.Has(n+"Id") && !form.Has(n+z.entryField) {
			form.Set(n+z.entryField, "0")
		}
	}
	if in.Request, err = req.SetStream(bytes.NewReader([]byte(form.Encode()))); err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, err
	}
	return next.HandleSerialize(ctx, in)
}

// allEntries returns the indexes 0..n-1.
func allEntries(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// keepErrorMessages is a client API option. v1.24.5 decodes a modeled
// query-protocol error (QueueDoesNotExist, ...) into its type without the
// <Message> the service sent, so ErrorMessage() is empty; the message is
// in the body all the same. keepErrorMessages reads it there and sets it
// on the error's Message field.
func keepErrorMessages(stack *middleware.Stack) error {
	m := &errorMessage{}
	if err := stack.Deserialize.Insert(&errorMessageBody{m}, "OperationDeserializer", middleware.After); err != nil {
		return err
	}
	return stack.Deserialize.Insert(m, "OperationDeserializer", middleware.Before)
}

// errorMessage sets the message errorMessageBody found on the error the
// operation deserializer returns. One per call: the stack is built anew
// for each.
type errorMessage struct{ msg string }

func (*errorMessage) ID() string { return "PostboxErrorMessage" }

func (m *errorMessage) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil && m.msg != "" {
		setMessage(err, m.msg)
	}
	return out, md, err
}

// setMessage sets a nil Message *string field of err, a pointer to one of
// the SDK's modeled error structs.
func setMessage(err error, msg string) {
	v := reflect.ValueOf(err)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	f := v.Elem().FieldByName("Message")
	if f.IsValid() && f.CanSet() && f.Type() == reflect.TypeFor[*string]() && f.IsNil() {
		f.Set(reflect.ValueOf(&msg))
	}
}

// errorMessageBody reads the <Message> of an error response's body and
// puts the body back for the operation deserializer.
type errorMessageBody struct{ m *errorMessage }

func (*errorMessageBody) ID() string { return "PostboxErrorMessageBody" }

func (b *errorMessageBody) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 300 || resp.Body == nil {
		return out, md, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		return out, md, nil // the deserializer reports the short body
	}
	var doc struct {
		Message string `xml:"Error>Message"`
	}
	if xml.Unmarshal(body, &doc) == nil {
		b.m.msg = doc.Message
	}
	return out, md, nil
}
