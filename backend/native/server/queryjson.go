package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// The query protocol's other answers, as AWS's query APIs give them: a
// JSON answer to a request that accepts only JSON, UnknownOperationException
// for a request that names no action, and InvalidAction for an account-wide
// action sent to a queue's URL.

// acceptsJSON reports whether a query protocol request asks for a JSON
// answer: an Accept header that names application/json.
func acceptsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			if mediaType(part) == "application/json" {
				return true
			}
		}
	}
	return false
}

// errNoAction is SQS's answer to a query protocol request without an
// Action: 404 UnknownOperationException.
func errNoAction() *backend.Error {
	return backend.NewError(backend.CodeUnknownOperation, "The request names no operation: it has no Action parameter.")
}

// checkEndpoint refuses, with InvalidAction, an action that names no queue
// sent to a queue's URL, as SQS does for CreateQueue and ListQueues.
func checkEndpoint(c *call, action string) error {
	if c.pathURL != "" && (action == "CreateQueue" || action == "ListQueues") {
		return backend.NewError(backend.CodeInvalidAction, "The action %s is not valid for this endpoint.", action)
	}
	return nil
}

// serveQueryJSON serves a query protocol request for a JSON answer: the
// action's output (nil for actions without a result), as the JSON
// protocol encodes it.
func (o op[I, O]) serveQueryJSON(s *Server, c *call, f form) (any, error) {
	var in I
	if err := o.form(f, &in); err != nil {
		return nil, err
	}
	if err := c.checkSignature(); err != nil {
		return nil, err
	}
	out, err := o.run(s, c, &in)
	if err != nil {
		return nil, err
	}
	if o.xml == nil {
		return nil, nil
	}
	return out, nil
}

// writeQueryJSON writes a query protocol answer in JSON, in the shape of
// its XML: {"<Action>Response": {"<Action>Result": ..., "ResponseMetadata":
// {"RequestId": ...}}}.
func writeQueryJSON(w http.ResponseWriter, buf *bytes.Buffer, action, rid string, out any) error {
	buf.Reset()
	buf.WriteString(`{"`)
	buf.WriteString(action)
	buf.WriteString(`Response":{`)
	if out != nil {
		buf.WriteString(`"`)
		buf.WriteString(action)
		buf.WriteString(`Result":`)
		if fe, ok := out.(fastEncoder); ok {
			buf.Write(fe.appendJSON(buf.AvailableBuffer()))
		} else {
			enc := json.NewEncoder(buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(out); err != nil {
				return err
			}
			buf.Truncate(buf.Len() - 1) // Encode's newline
		}
		buf.WriteByte(',')
	}
	buf.WriteString(`"ResponseMetadata":{"RequestId":"`)
	buf.WriteString(rid)
	buf.WriteString(`"}}}`)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

// queryJSONError is the JSON shape of a query protocol error.
type queryJSONError struct {
	Error struct {
		Type    string `json:"Type"`
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error"`
	RequestID string `json:"RequestId"`
}

// writeQueryJSONError writes we as a query protocol error in JSON:
// {"Error": {"Type": ..., "Code": ..., "Message": ...}, "RequestId": ...}.
func writeQueryJSONError(w http.ResponseWriter, buf *bytes.Buffer, we wireError, rid string) {
	var e queryJSONError
	e.Error.Type, e.Error.Code, e.Error.Message = we.faultType(), we.queryCode, queryMessage(we)
	e.RequestID = rid
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Query-Error", we.queryErrorHeader())
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(we.status)
	w.Write(buf.Bytes())
}
