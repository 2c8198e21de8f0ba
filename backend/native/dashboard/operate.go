package dashboard

import (
	"net/http"

	"github.com/postbox-go/postbox/backend"
)

// MessageIDsRequestJSON is the body of POST
// /_postbox/api/queues/{name}/messages/delete.
type MessageIDsRequestJSON struct {
	MessageIDs []string `json:"messageIds"`
}

// MoveRequestJSON is the body of POST
// /_postbox/api/queues/{name}/messages/move: the messages to move and
// the destination queue's key (its name, or ACCOUNT:NAME).
type MoveRequestJSON struct {
	MessageIDs  []string `json:"messageIds"`
	Destination string   `json:"destination"`
}

// MessageResultJSON is one message's outcome: Error is null when it
// succeeded.
type MessageResultJSON struct {
	MessageID string         `json:"messageId"`
	Error     *ErrorBodyJSON `json:"error"`
}

// ErrorBodyJSON is an error's code and message.
type ErrorBodyJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// MessageResultsJSON answers a delete or a move: a result per id, in the
// request's order.
type MessageResultsJSON struct {
	Results []MessageResultJSON `json:"results"`
}

func resultsJSON(res []backend.EntryResult) MessageResultsJSON {
	out := MessageResultsJSON{Results: make([]MessageResultJSON, len(res))}
	for i, r := range res {
		out.Results[i].MessageID = r.ID
		if r.Err != nil {
			c, m := codeOf(r.Err)
			out.Results[i].Error = &ErrorBodyJSON{c, m}
		}
	}
	return out
}

// deleteMessages serves POST /_postbox/api/queues/{name}/messages/delete:
// the operator deletes messages by id (Engine.DeleteMessagesByID),
// authorized as DeleteMessage.
func (h *Handler) deleteMessages(w http.ResponseWriter, r *http.Request) {
	var req MessageIDsRequestJSON
	url, ok := h.queueRequest(w, r, "DeleteMessage", &req)
	if !ok {
		return
	}
	res, err := h.eng.DeleteMessagesByID(r.Context(), url, req.MessageIDs)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resultsJSON(res))
}

// moveMessages serves POST /_postbox/api/queues/{name}/messages/move: the
// operator moves the selected visible messages to another queue
// (Engine.MoveMessagesByID), authorized as what a client doing it through
// SQS would need: ReceiveMessage and DeleteMessage on the source,
// SendMessage on the destination.
func (h *Handler) moveMessages(w http.ResponseWriter, r *http.Request) {
	var req MoveRequestJSON
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Destination == "" {
		writeError(w, backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter destination."))
		return
	}
	src, err := h.queueURL(r, "ReceiveMessage")
	if err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.queueURL(r, "DeleteMessage"); err != nil {
		writeError(w, err)
		return
	}
	r.SetPathValue("name", req.Destination)
	dst, err := h.queueURL(r, "SendMessage")
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := h.eng.MoveMessagesByID(r.Context(), src, dst, req.MessageIDs)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, resultsJSON(res))
}
