package dashboard

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
)

// QueueRef names another queue.
type QueueRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
	ARN  string `json:"arn"`
}

// DeadLetterJSON is a queue's RedrivePolicy.
type DeadLetterJSON struct {
	QueueRef
	MaxReceiveCount int `json:"maxReceiveCount"`
}

// QueueJSON is one queue in GET /_postbox/api/queues.
type QueueJSON struct {
	Name string `json:"name"`
	// Key is the {name} of the queue's API paths: its name for a queue of
	// the engine's own account, ACCOUNT:NAME for another account's.
	Key      string `json:"key"`
	URL      string `json:"url"`
	ARN      string `json:"arn"`
	FIFO     bool   `json:"fifo"`
	Visible  int    `json:"visible"`
	InFlight int    `json:"inflight"`
	Delayed  int    `json:"delayed"`
	// OldestSentTimestamp (unix ms) and OldestAgeSeconds are null for an
	// empty queue.
	OldestSentTimestamp *int64   `json:"oldestSentTimestamp"`
	OldestAgeSeconds    *float64 `json:"oldestAgeSeconds"`
	CreatedTimestamp    int64    `json:"createdTimestamp"`
	Sent                int64    `json:"sent"`
	Received            int64    `json:"received"`
	Deleted             int64    `json:"deleted"`
	DeadLettered        int64    `json:"deadLettered"`
	Rates               Rates    `json:"rates"`
	// DeadLetter is the queue's dead-letter queue (null without one);
	// DeadLetterSources the queues that use this one as theirs.
	DeadLetter        *DeadLetterJSON `json:"deadLetter"`
	DeadLetterSources []QueueRef      `json:"deadLetterSources"`
}

// QueuesJSON answers GET /_postbox/api/queues and is the data of the
// "queues" event.
type QueuesJSON struct {
	Time int64 `json:"time"` // unix milliseconds
	// StartedTimestamp (unix ms) is when the server started: the
	// sent/received/deleted/deadLettered counters count since then.
	StartedTimestamp int64       `json:"startedTimestamp"`
	Queues           []QueueJSON `json:"queues"`
}

// MoveTaskJSON is a message move task (redrive).
type MoveTaskJSON struct {
	TaskHandle                        string `json:"taskHandle,omitempty"`
	Status                            string `json:"status"`
	SourceARN                         string `json:"sourceArn"`
	DestinationARN                    string `json:"destinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      int    `json:"maxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"approximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"approximateNumberOfMessagesToMove"`
	FailureReason                     string `json:"failureReason,omitempty"`
	StartedTimestamp                  int64  `json:"startedTimestamp"`
}

// QueueDetailJSON is one queue with its attributes, tags, chart and move
// tasks.
type QueueDetailJSON struct {
	QueueJSON
	Attributes map[string]string `json:"attributes"`
	Tags       map[string]string `json:"tags"`
	History    []Point           `json:"history"`
	MoveTasks  []MoveTaskJSON    `json:"moveTasks"`
}

// QueueResponseJSON answers GET /_postbox/api/queues/{name} and is the
// data of the "queue" event.
type QueueResponseJSON struct {
	Time             int64           `json:"time"`
	StartedTimestamp int64           `json:"startedTimestamp"`
	Queue            QueueDetailJSON `json:"queue"`
}

// AttributeJSON is a message attribute, in the SQS JSON protocol's shape
// (BinaryValue is base64).
type AttributeJSON struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

// MessageJSON is one message of GET /_postbox/api/queues/{name}/messages.
type MessageJSON struct {
	MessageID         string                   `json:"messageId"`
	Body              string                   `json:"body"`
	MD5OfBody         string                   `json:"md5OfBody"`
	Attributes        map[string]string        `json:"attributes"`
	MessageAttributes map[string]AttributeJSON `json:"messageAttributes"`
	SentTimestamp     int64                    `json:"sentTimestamp"` // unix ms
	ReceiveCount      int                      `json:"receiveCount"`
	State             string                   `json:"state"` // visible, inflight or delayed
	// VisibleTimestamp (unix ms) is when an in-flight or delayed message
	// becomes visible; omitted for visible ones.
	VisibleTimestamp int64  `json:"visibleTimestamp,omitempty"`
	GroupID          string `json:"groupId,omitempty"`
}

// MessagesJSON answers GET /_postbox/api/queues/{name}/messages. Next is
// the after= value of the next page, "" when this page was the last.
type MessagesJSON struct {
	Messages []MessageJSON `json:"messages"`
	Next     string        `json:"next"`
	// Cursor continues a listing without after= (cursor=, with the same
	// filters): "" when the end of the queue was reached. Scanned is how
	// many messages the server looked at for this page (filters skip
	// some). Both are omitted when after= was given.
	Cursor  string `json:"cursor,omitempty"`
	Scanned int    `json:"scanned,omitempty"`
}

// ErrorJSON is the body of every API error.
type ErrorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func arnName(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

// keyOf returns the {name} path segment of the queue with that ARN.
func (h *Handler) keyOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[4] == h.eng.AccountID() {
		return arnName(arn)
	}
	return p[4] + ":" + p[5]
}

func (h *Handler) ref(arn string) QueueRef {
	return QueueRef{Name: arnName(arn), Key: h.keyOf(arn), ARN: arn}
}

// snapshot returns every queue's figures at the clock's now, sampling them.
func (h *Handler) snapshot() (time.Time, []native.QueueStats) {
	now := h.clock.Now()
	stats := h.eng.Stats()
	h.samples.observe(now, stats)
	return now, stats
}

func (h *Handler) queueJSON(now time.Time, s *native.QueueStats) QueueJSON {
	q := QueueJSON{
		Name: s.Name, Key: h.keyOf(s.ARN), URL: s.URL, ARN: s.ARN, FIFO: s.FIFO,
		Visible: s.Visible, InFlight: s.InFlight, Delayed: s.Delayed,
		CreatedTimestamp: s.CreatedAt.UnixMilli(),
		Sent:             s.Sent, Received: s.Received, Deleted: s.Deleted, DeadLettered: s.DeadLettered,
		Rates:             h.samples.rates(s.ARN, sampleOf(now, s)),
		DeadLetterSources: []QueueRef{},
	}
	if !s.OldestSentAt.IsZero() {
		ms := s.OldestSentAt.UnixMilli()
		age := max(now.Sub(s.OldestSentAt).Seconds(), 0)
		q.OldestSentTimestamp, q.OldestAgeSeconds = &ms, &age
	}
	if s.DeadLetterTargetARN != "" {
		q.DeadLetter = &DeadLetterJSON{h.ref(s.DeadLetterTargetARN), s.MaxReceiveCount}
	}
	for _, a := range s.DeadLetterSourceARNs {
		q.DeadLetterSources = append(q.DeadLetterSources, h.ref(a))
	}
	return q
}

func (h *Handler) queuesJSON() QueuesJSON {
	now, stats := h.snapshot()
	out := QueuesJSON{Time: now.UnixMilli(), StartedTimestamp: h.cfg.Started.UnixMilli(), Queues: make([]QueueJSON, 0, len(stats))}
	for i := range stats {
		out.Queues = append(out.Queues, h.queueJSON(now, &stats[i]))
	}
	return out
}

// queueDetail returns one queue's detail. stats is a snapshot taken at
// now that holds the queue.
func (h *Handler) queueDetail(r *http.Request, url string) (QueueResponseJSON, error) {
	now, stats := h.snapshot()
	var st *native.QueueStats
	for i := range stats {
		if stats[i].URL == url {
			st = &stats[i]
		}
	}
	if st == nil {
		// Created after the snapshot, or gone: ask for this one queue.
		s, err := h.eng.QueueStats(url)
		if err != nil {
			return QueueResponseJSON{}, err
		}
		st = &s
	}
	ctx := r.Context()
	attrs, err := h.eng.GetAttributes(ctx, url, []string{"All"})
	if err != nil {
		return QueueResponseJSON{}, err
	}
	tags, err := h.eng.ListTags(ctx, url)
	if err != nil {
		return QueueResponseJSON{}, err
	}
	tasks, err := h.eng.ListMessageMoveTasks(ctx, st.ARN, 10)
	if err != nil {
		return QueueResponseJSON{}, err
	}
	d := QueueDetailJSON{
		QueueJSON:  h.queueJSON(now, st),
		Attributes: attrs,
		Tags:       tags,
		History:    h.samples.history(st.ARN),
		MoveTasks:  make([]MoveTaskJSON, 0, len(tasks)),
	}
	for _, t := range tasks {
		d.MoveTasks = append(d.MoveTasks, MoveTaskJSON{
			TaskHandle: t.TaskHandle, Status: t.Status, SourceARN: t.SourceARN, DestinationARN: t.DestinationARN,
			MaxNumberOfMessagesPerSecond:      t.MaxNumberOfMessagesPerSecond,
			ApproximateNumberOfMessagesMoved:  t.ApproximateNumberOfMessagesMoved,
			ApproximateNumberOfMessagesToMove: t.ApproximateNumberOfMessagesToMove,
			FailureReason:                     t.FailureReason,
			StartedTimestamp:                  t.StartedTimestamp.UnixMilli(),
		})
	}
	return QueueResponseJSON{Time: now.UnixMilli(), StartedTimestamp: h.cfg.Started.UnixMilli(), Queue: d}, nil
}

// queueURL resolves the {name} of the request's path (NAME, or
// ACCOUNT:NAME for a queue of another account), after authorizing action
// on it.
func (h *Handler) queueURL(r *http.Request, action string) (string, error) {
	key := r.PathValue("name")
	account, name, ok := strings.Cut(key, ":")
	if !ok {
		account, name = "", key
	}
	if err := backend.ValidateQueueName(name); err != nil {
		return "", backend.NewError(backend.CodeQueueDoesNotExist, "The specified queue %q does not exist.", key)
	}
	url, err := h.eng.QueueURL(r.Context(), name, account)
	if err != nil {
		return "", err
	}
	if err := h.authorize(r, action, url); err != nil {
		return "", err
	}
	return url, nil
}

// queueRequest reads r's JSON body into req and resolves the queue the
// path names, authorized as action: the start of every mutation of one
// queue. On failure it writes the error and reports false.
func (h *Handler) queueRequest(w http.ResponseWriter, r *http.Request, action string, req any) (url string, ok bool) {
	if err := readJSON(r, req); err != nil {
		writeError(w, err)
		return "", false
	}
	url, err := h.queueURL(r, action)
	if err != nil {
		writeError(w, err)
		return "", false
	}
	return url, true
}

// authorize asks Config.Authorize.
func (h *Handler) authorize(r *http.Request, action, url string) error {
	if h.cfg.Authorize == nil {
		return nil
	}
	if err := h.cfg.Authorize(r, action, url); err != nil {
		if be, ok := errors.AsType[*backend.Error](err); ok {
			return be
		}
		return backend.NewError(backend.CodeAccessDenied, "Access to the resource is denied: %v", err)
	}
	return nil
}

func (h *Handler) listQueues(w http.ResponseWriter, r *http.Request) {
	if err := h.authorize(r, "ListQueues", ""); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.queuesJSON())
}

func (h *Handler) getQueue(w http.ResponseWriter, r *http.Request) {
	url, err := h.queueURL(r, "GetQueueAttributes")
	if err != nil {
		writeError(w, err)
		return
	}
	d, err := h.queueDetail(r, url)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *Handler) getMessages(w http.ResponseWriter, r *http.Request) {
	url, err := h.queueURL(r, "ReceiveMessage")
	if err != nil {
		writeError(w, err)
		return
	}
	qv := r.URL.Query()
	req := native.PeekRequest{After: qv.Get("after")}
	if v := qv.Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			writeError(w, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %s for parameter max is invalid. Reason: must be an integer between 1 and %d.", v, native.MaxPeekMax))
			return
		}
		if n == 0 {
			n = -1 // 0 is not the default here: max=0 is out of range
		}
		req.Max = n
	}
	var ms []native.PeekedMessage
	out := MessagesJSON{}
	if req.After != "" {
		ms, err = h.eng.Peek(r.Context(), url, req)
	} else {
		// From the start or a cursor, optionally filtered: Browse.
		br := native.BrowseRequest{Max: req.Max, Cursor: qv.Get("cursor"), Filter: native.BrowseFilter{
			Text: qv.Get("text"), State: qv.Get("state"), GroupID: qv.Get("group"), MessageID: qv.Get("id"),
		}}
		br.Filter.Attribute, br.Filter.AttributeValue, _ = strings.Cut(qv.Get("attr"), "=")
		if br.Filter.MessageID != "" {
			br.MaxScan = native.MaxBrowseScan // a link to one message: look further
		}
		var res native.BrowseResult
		res, err = h.eng.Browse(r.Context(), url, br)
		ms, out.Cursor, out.Scanned = res.Messages, res.Cursor, res.Scanned
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out.Messages = make([]MessageJSON, 0, len(ms))
	for _, m := range ms {
		mj := MessageJSON{
			MessageID: m.MessageID, Body: m.Body, MD5OfBody: m.MD5OfBody,
			Attributes:        m.Attributes,
			MessageAttributes: map[string]AttributeJSON{},
			SentTimestamp:     m.SentAt.UnixMilli(),
			ReceiveCount:      m.ReceiveCount,
			State:             m.State,
			GroupID:           m.GroupID,
		}
		if !m.VisibleAt.IsZero() {
			mj.VisibleTimestamp = m.VisibleAt.UnixMilli()
		}
		for k, v := range m.MessageAttributes {
			mj.MessageAttributes[k] = AttributeJSON(v)
		}
		out.Messages = append(out.Messages, mj)
	}
	max := req.Max
	if max == 0 {
		max = native.DefaultPeekMax
	}
	if len(ms) == max {
		out.Next = ms[len(ms)-1].MessageID
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err as an ErrorJSON with its SQS code and status.
func writeError(w http.ResponseWriter, err error) {
	be, ok := errors.AsType[*backend.Error](err)
	if !ok {
		be = backend.NewError(backend.CodeInternalFailure, "%v", err)
	}
	var e ErrorJSON
	e.Error.Code, e.Error.Message = be.Code, be.Message
	status := be.HTTPStatus()
	if status == 0 { // a code outside SQS's table
		status = http.StatusBadRequest
	}
	writeJSON(w, status, e)
}

// errNotFound answers a path or method the API does not have.
func errNotFound(r *http.Request) error {
	return backend.NewError(backend.CodeInvalidAction, "No dashboard API at %s %s.", r.Method, r.URL.Path)
}

// codeOf returns an error's SQS code and message.
func codeOf(err error) (code, message string) {
	if be, ok := errors.AsType[*backend.Error](err); ok {
		return be.Code, be.Message
	}
	return backend.CodeInternalFailure, err.Error()
}
