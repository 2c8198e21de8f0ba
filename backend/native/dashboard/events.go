package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// writeDeadline bounds each event's write, so a client that stops reading
// does not hold its stream forever. Deadlines are wall-clock time.
const writeDeadline = 30 * time.Second

// events serves GET /_postbox/api/events: server-sent events, a "queues"
// event (QueuesJSON) at once and then every Interval and, with
// ?queue=NAME, a "queue" event (QueueResponseJSON) for that queue after
// each. The stream ends when the client goes away or the Handler is
// closed; an "error" event (ErrorJSON) reports a failure to read a queue,
// which ends the stream too.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r, "ListQueues", ""); err != nil {
		writeError(w, err)
		return
	}
	follow := ""
	if r.URL.Query().Get("queue") != "" {
		r.SetPathValue("name", r.URL.Query().Get("queue"))
		u, err := h.queueURL(r, "GetQueueAttributes")
		if err != nil {
			writeError(w, err)
			return
		}
		follow = u
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = rc.SetReadDeadline(time.Time{})
	send := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Now().Add(writeDeadline))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	tick := h.clock.NewTicker(h.cfg.Interval)
	defer tick.Stop()
	for {
		if !send("queues", h.queuesJSON()) {
			return
		}
		if follow != "" {
			d, err := h.queueDetail(r, follow)
			if err != nil {
				var e ErrorJSON
				e.Error.Code, e.Error.Message = codeOf(err)
				send("error", e)
				return
			}
			if !send("queue", d) {
				return
			}
		}
		select {
		case <-tick.Chan():
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		}
	}
}
