package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// Content types of the JSON protocol.
const (
	contentTypeJSON10 = "application/x-amz-json-1.0"
	contentTypeJSON11 = "application/x-amz-json-1.1"
)

// targetPrefix is what X-Amz-Target starts with: "AmazonSQS.<Action>".
const targetPrefix = "AmazonSQS."

// serveJSON serves a JSON 1.0 protocol request; it returns the status and
// the error code it answered with.
func (s *Server) serveJSON(w http.ResponseWriter, r *http.Request, c *call, target, ct string, buf *bytes.Buffer) (int, string) {
	fail := func(err error) (int, string) {
		err = c.signatureFirst(err)
		we := toWire(err)
		if we.status >= 500 {
			s.logFailure(c, err)
		}
		buf.Reset()
		writeJSONError(w, buf, we)
		return we.status, we.queryCode
	}
	if target == "" {
		return fail(backend.NewError(codeMissingAction, "The request must contain an X-Amz-Target header naming the action (AmazonSQS.<Action>)."))
	}
	action, ok := strings.CutPrefix(target, targetPrefix)
	c.action = action
	ep := endpoints[action]
	if !ok || ep == nil {
		return fail(backend.NewError(backend.CodeInvalidAction, "The action %s is not valid for this endpoint.", strconv.Quote(target)))
	}
	if r.Method != http.MethodPost {
		return fail(backend.NewError(backend.CodeInvalidAction, "JSON protocol requests must use POST, not %s.", r.Method))
	}
	if ct != contentTypeJSON10 && ct != contentTypeJSON11 {
		return fail(backend.NewError(codeSerializationException,
			"Content-Type must be %s for X-Amz-Target requests, not %s.", contentTypeJSON10, strconv.Quote(r.Header.Get("Content-Type"))))
	}
	within, err := s.readBody(r, c, buf, false)
	if be, ok := err.(*backend.Error); ok {
		return fail(be)
	}
	if err != nil {
		return fail(backend.NewError(codeSerializationException, "Could not read the request body: %v", err))
	}
	if !within {
		return fail(s.tooLarge(action))
	}
	out, err := ep.serveJSON(s, c, buf.Bytes())
	if err != nil {
		return fail(err)
	}
	buf.Reset()
	var resp []byte
	if fe, ok := out.(fastEncoder); ok {
		if sh, ok := out.(sizeHinter); ok {
			buf.Grow(sh.sizeHint())
		}
		resp = fe.appendJSON(buf.AvailableBuffer())
		if cap(resp) > buf.Cap() {
			// Keep the larger buffer for the next request.
			*buf = *bytes.NewBuffer(resp[:0])
		}
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return fail(fmt.Errorf("encoding %s response: %w", action, err))
		}
		resp = buf.Bytes()
	}
	h := w.Header()
	c.setHeader(h, hvContentType, "Content-Type", contentTypeJSON10)
	c.setContentLength(h, len(resp))
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
	return http.StatusOK, ""
}

// decodeJSON decodes a request body into in. An empty body is an empty
// object. Syntax and type errors are SerializationExceptions.
func decodeJSON(body []byte, in any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	err := json.Unmarshal(body, in)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return backend.NewError(codeSerializationException, "The request body is not valid JSON: %v (at byte %d).", se, se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "the request"
		}
		return backend.NewError(codeSerializationException, "Expected %s for %s, got JSON %s.", jsonTypeName(te.Type.String()), field, te.Value)
	}
	return backend.NewError(codeSerializationException, "The request body does not decode: %v.", err)
}

func jsonTypeName(goType string) string {
	switch {
	case strings.Contains(goType, "[]uint8"):
		return "a base64 string"
	case strings.HasPrefix(goType, "map["):
		return "an object"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	}
	return "an object"
}

// jsonErrorBody is the JSON protocol's error body.
type jsonErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeJSONError writes we in the JSON protocol's shape.
func writeJSONError(w http.ResponseWriter, buf *bytes.Buffer, we wireError) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(jsonErrorBody{Type: we.jsonType, Message: we.message})
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON10)
	h.Set("X-Amzn-Query-Error", we.queryErrorHeader())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(we.status)
	w.Write(buf.Bytes())
}
