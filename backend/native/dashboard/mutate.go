package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/internal/crosssite"
)

// maxBodyBytes bounds a mutation's JSON body: a largest message, base64
// binary attributes and JSON escaping fit.
const maxBodyBytes = 4 << 20

// SendRequestJSON is the body of POST /_postbox/api/queues/{name}/messages.
type SendRequestJSON struct {
	Body                   string                   `json:"body"`
	MessageAttributes      map[string]AttributeJSON `json:"messageAttributes,omitempty"`
	DelaySeconds           *int                     `json:"delaySeconds,omitempty"`
	MessageGroupID         string                   `json:"messageGroupId,omitempty"`
	MessageDeduplicationID string                   `json:"messageDeduplicationId,omitempty"`
}

// SendResponseJSON answers a send.
type SendResponseJSON struct {
	MessageID        string `json:"messageId"`
	MD5OfMessageBody string `json:"md5OfMessageBody"`
	SequenceNumber   string `json:"sequenceNumber,omitempty"`
}

// RedriveRequestJSON is the body of POST
// /_postbox/api/queues/{name}/redrive: {name} is the dead-letter queue to
// move messages out of.
type RedriveRequestJSON struct {
	// DestinationARN is where to move messages; "" moves each back to the
	// queue it was dead-lettered from.
	DestinationARN               string `json:"destinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond int    `json:"maxNumberOfMessagesPerSecond,omitempty"`
}

// RedriveResponseJSON answers a started redrive.
type RedriveResponseJSON struct {
	TaskHandle string `json:"taskHandle"`
}

// CancelRequestJSON is the body of POST
// /_postbox/api/queues/{name}/redrive/cancel.
type CancelRequestJSON struct {
	TaskHandle string `json:"taskHandle"`
}

// CancelResponseJSON answers a cancelled redrive.
type CancelResponseJSON struct {
	ApproximateNumberOfMessagesMoved int64 `json:"approximateNumberOfMessagesMoved"`
}

// readJSON checks that a mutation comes from the dashboard's own origin as
// JSON, then decodes its body strictly into v (an empty body decodes as
// {}). A request a browser marks as made for another origin's page is
// refused (crosssite.Foreign, the rule of the SQS API too; the dashboard
// allows no other origin). Requiring application/json keeps other sites'
// HTML forms out as well: a cross-origin fetch with that type needs a
// CORS preflight, which the dashboard never grants.
func readJSON(r *http.Request, v any) error {
	if crosssite.Foreign(r) {
		return backend.NewError(backend.CodeAccessDenied, "%s", crosssite.Refused(r, ""))
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return backend.NewError(backend.CodeInvalidParameterValue,
			"The request's Content-Type must be application/json, not %q.", r.Header.Get("Content-Type"))
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return backend.NewError(backend.CodeSerializationException, "The request body is not valid JSON for this call: %v", err)
	}
	if dec.InputOffset() > maxBodyBytes {
		return backend.NewError(backend.CodeInvalidParameterValue, "The request body is longer than %d bytes.", maxBodyBytes)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return backend.NewError(backend.CodeSerializationException, "The request body must hold one JSON object.")
	}
	return nil
}

func (h *Handler) sendMessage(w http.ResponseWriter, r *http.Request) {
	var req SendRequestJSON
	url, ok := h.queueRequest(w, r, "SendMessage", &req)
	if !ok {
		return
	}
	q, err := h.eng.Queue(url)
	if err != nil {
		writeError(w, err)
		return
	}
	e := backend.SendEntry{
		ID:                     "dashboard",
		Body:                   req.Body,
		DelaySeconds:           req.DelaySeconds,
		MessageGroupID:         req.MessageGroupID,
		MessageDeduplicationID: req.MessageDeduplicationID,
	}
	if len(req.MessageAttributes) > 0 {
		e.MessageAttributes = make(map[string]backend.MessageAttributeValue, len(req.MessageAttributes))
		for k, v := range req.MessageAttributes {
			e.MessageAttributes[k] = backend.MessageAttributeValue(v)
		}
	}
	res, err := q.Send(r.Context(), []backend.SendEntry{e})
	if err != nil {
		writeError(w, err)
		return
	}
	if res[0].Err != nil {
		writeError(w, res[0].Err)
		return
	}
	writeJSON(w, http.StatusOK, SendResponseJSON{
		MessageID: res[0].MessageID, MD5OfMessageBody: res[0].MD5OfMessageBody, SequenceNumber: res[0].SequenceNumber,
	})
}

// queueOp serves a POST with an empty JSON object that runs op on the
// queue the path names, authorized as the SQS action it stands for
// (Engine.Purge as PurgeQueue, Engine.DeleteQueue as DeleteQueue).
func (h *Handler) queueOp(action string, op func(ctx context.Context, url string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct{}
		url, ok := h.queueRequest(w, r, action, &req)
		if !ok {
			return
		}
		if err := op(r.Context(), url); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	}
}

func (h *Handler) startRedrive(w http.ResponseWriter, r *http.Request) {
	var req RedriveRequestJSON
	url, ok := h.queueRequest(w, r, "StartMessageMoveTask", &req)
	if !ok {
		return
	}
	s, err := h.eng.QueueStats(url)
	if err != nil {
		writeError(w, err)
		return
	}
	handle, err := h.eng.StartMessageMoveTask(r.Context(), backend.MoveTaskRequest{
		SourceARN:                    s.ARN,
		DestinationARN:               req.DestinationARN,
		MaxNumberOfMessagesPerSecond: req.MaxNumberOfMessagesPerSecond,
	})
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, RedriveResponseJSON{TaskHandle: handle})
}

func (h *Handler) cancelRedrive(w http.ResponseWriter, r *http.Request) {
	var req CancelRequestJSON
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.queueURL(r, "CancelMessageMoveTask"); err != nil {
		writeError(w, err)
		return
	}
	if req.TaskHandle == "" {
		writeError(w, backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter taskHandle."))
		return
	}
	moved, err := h.eng.CancelMessageMoveTask(r.Context(), req.TaskHandle)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, CancelResponseJSON{ApproximateNumberOfMessagesMoved: moved})
}
