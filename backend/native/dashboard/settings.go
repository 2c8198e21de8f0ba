package dashboard

import (
	"net/http"

	"github.com/postbox-go/postbox/backend"
)

// AttributesRequestJSON is the body of POST
// /_postbox/api/queues/{name}/attributes: the attributes to change, by
// their SQS names, as SetQueueAttributes takes them (all string values).
type AttributesRequestJSON struct {
	Attributes map[string]string `json:"attributes"`
}

// TagsRequestJSON is the body of POST /_postbox/api/queues/{name}/tags:
// tags to add or change (TagQueue) and tag keys to remove (UntagQueue).
type TagsRequestJSON struct {
	Set    map[string]string `json:"set,omitempty"`
	Remove []string          `json:"remove,omitempty"`
}

// CreateRequestJSON is the body of POST /_postbox/api/queues: a
// CreateQueue. A name ending in .fifo needs the attribute FifoQueue
// "true", as with SQS.
type CreateRequestJSON struct {
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// CreateResponseJSON answers a created queue.
type CreateResponseJSON struct {
	URL string `json:"url"`
	Key string `json:"key"`
}

// setAttributes serves POST /_postbox/api/queues/{name}/attributes through
// Engine.SetAttributes, the engine call of SetQueueAttributes: the same
// validation, the same errors, and one invalid attribute changes nothing.
func (h *Handler) setAttributes(w http.ResponseWriter, r *http.Request) {
	var req AttributesRequestJSON
	url, ok := h.queueRequest(w, r, "SetQueueAttributes", &req)
	if !ok {
		return
	}
	if err := h.eng.SetAttributes(r.Context(), url, backend.Attributes(req.Attributes)); err != nil {
		writeError(w, err)
		return
	}
	h.writeDetail(w, r, url)
}

// tagQueue serves POST /_postbox/api/queues/{name}/tags: TagQueue for Set,
// then UntagQueue for Remove, each authorized as its own action.
func (h *Handler) tagQueue(w http.ResponseWriter, r *http.Request) {
	var req TagsRequestJSON
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Set) == 0 && len(req.Remove) == 0 {
		writeError(w, backend.NewError(backend.CodeMissingParameter, "The request must contain set or remove."))
		return
	}
	var url string
	var err error
	if len(req.Set) > 0 {
		if url, err = h.queueURL(r, "TagQueue"); err != nil {
			writeError(w, err)
			return
		}
	}
	if len(req.Remove) > 0 {
		if url, err = h.queueURL(r, "UntagQueue"); err != nil {
			writeError(w, err)
			return
		}
	}
	if len(req.Set) > 0 {
		if err := h.eng.TagQueue(r.Context(), url, req.Set); err != nil {
			writeError(w, err)
			return
		}
	}
	if len(req.Remove) > 0 {
		if err := h.eng.UntagQueue(r.Context(), url, req.Remove); err != nil {
			writeError(w, err)
			return
		}
	}
	h.writeDetail(w, r, url)
}

// createQueue serves POST /_postbox/api/queues through Engine.CreateQueue,
// the engine call of CreateQueue: creating a queue that exists with the
// same attributes answers its URL, with other attributes
// QueueAlreadyExists (QueueNameExists), as SQS does.
func (h *Handler) createQueue(w http.ResponseWriter, r *http.Request) {
	var req CreateRequestJSON
	if err := readJSON(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := h.authorize(r, "CreateQueue", ""); err != nil {
		writeError(w, err)
		return
	}
	if req.Name == "" {
		writeError(w, backend.NewError(backend.CodeMissingParameter, "The request must contain the parameter name."))
		return
	}
	url, err := h.eng.CreateQueue(r.Context(), req.Name, backend.Attributes(req.Attributes), req.Tags)
	if err != nil {
		writeError(w, err)
		return
	}
	s, err := h.eng.QueueStats(url)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, CreateResponseJSON{URL: url, Key: h.keyOf(s.ARN)})
}

// writeDetail answers a change with the queue's detail after it.
func (h *Handler) writeDetail(w http.ResponseWriter, r *http.Request, url string) {
	d, err := h.queueDetail(r, url)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
