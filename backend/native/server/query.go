package server

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// serveQuery serves a query protocol request (Action=... in a form body or
// the URL's query string); it returns the status and the error code it
// answered with.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, c *call, rid string, buf *bytes.Buffer) (int, string) {
	wantJSON := acceptsJSON(r)
	fail := func(err error) (int, string) {
		err = c.signatureFirst(err)
		we := toWire(err)
		if we.status >= 500 {
			s.logFailure(c, err)
		}
		buf.Reset()
		if wantJSON {
			writeQueryJSONError(w, buf, we, rid)
		} else {
			writeXMLError(w, buf, we, rid)
		}
		return we.status, we.queryCode
	}
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fail(backend.NewError(codeMalformedQueryString, "The query string is malformed: %v.", err))
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := mediaType(r.Header.Get("Content-Type"))
		within, err := s.readBody(r, c, buf, vals.Get("Action") == "")
		if be, ok := err.(*backend.Error); ok {
			return fail(be)
		}
		if err != nil {
			return fail(backend.NewError(codeMalformedQueryString, "Could not read the request body: %v", err))
		}
		if !within {
			return fail(s.tooLarge(actionOfPrefix(buf.Bytes(), vals)))
		}
		if buf.Len() > 0 {
			if ct != "application/x-www-form-urlencoded" {
				return fail(backend.NewError(codeMissingAction,
					"Query protocol requests must be application/x-www-form-urlencoded (or JSON requests must name the action in X-Amz-Target); got Content-Type %s.",
					strconv.Quote(r.Header.Get("Content-Type"))))
			}
			body, err := url.ParseQuery(buf.String())
			if err != nil {
				return fail(backend.NewError(codeMalformedQueryString, "The form body is malformed: %v.", err))
			}
			for k, v := range vals {
				if _, dup := body[k]; !dup {
					body[k] = v
				}
			}
			vals = body
		}
	}
	action := vals.Get("Action")
	c.action = action
	if action == "" {
		return fail(errNoAction())
	}
	ep := endpoints[action]
	if ep == nil {
		return fail(backend.NewError(backend.CodeInvalidAction, "The action %s is not valid for this endpoint.", action))
	}
	if err := checkEndpoint(c, action); err != nil {
		return fail(err)
	}
	if wantJSON {
		out, err := ep.serveQueryJSON(s, c, form{v: vals})
		if err == nil {
			err = writeQueryJSON(w, buf, action, rid, out)
		}
		if err != nil {
			return fail(err)
		}
		return http.StatusOK, ""
	}
	result, err := ep.serveQuery(s, c, form{v: vals})
	if err != nil {
		return fail(err)
	}
	buf.Reset()
	x := &xmlWriter{b: buf}
	x.raw(`<?xml version="1.0"?>` + "\n<")
	x.raw(action)
	x.raw(`Response xmlns="` + queryNamespace + `">`)
	if result != nil {
		x.open(action + "Result")
		result(x)
		x.close(action + "Result")
	}
	x.raw("<ResponseMetadata><RequestId>")
	x.raw(rid)
	x.raw("</RequestId></ResponseMetadata></")
	x.raw(action)
	x.raw("Response>")
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return http.StatusOK, ""
}

// actionOfPrefix finds the action of a request whose body was cut off at
// the size limit.
func actionOfPrefix(body []byte, vals url.Values) string {
	if a := vals.Get("Action"); a != "" {
		return a
	}
	if i := bytes.LastIndexByte(body, '&'); i >= 0 {
		body = body[:i]
	}
	v, _ := url.ParseQuery(string(body))
	return v.Get("Action")
}

// form reads the query protocol's flattened parameters
// ("Attribute.1.Name", "SendMessageBatchRequestEntry.2.MessageBody").
type form struct {
	v      url.Values
	prefix string
}

func (f form) get(name string) (string, bool) {
	vs, ok := f.v[f.prefix+name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func (f form) str(name string) string {
	v, _ := f.get(name)
	return v
}

func (f form) ptr(name string) *string {
	if v, ok := f.get(name); ok {
		return &v
	}
	return nil
}

func (f form) int(name string) (*int, error) {
	v, ok := f.get(name)
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return nil, errNotInteger(f.prefix+name, v)
	}
	return &n, nil
}

type index struct {
	n   int
	raw string
}

// indices returns the N of the parameters named prefix+name+".N" (exact
// true) or prefix+name+".N.*" (exact false), in numeric order.
func (f form) indices(name string, exact bool) []index {
	p := f.prefix + name + "."
	var out []index
	for k := range f.v {
		rest, ok := strings.CutPrefix(k, p)
		if !ok {
			continue
		}
		digits, tail, dotted := strings.Cut(rest, ".")
		if dotted == exact || (!exact && tail == "") {
			continue
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 {
			continue
		}
		out = append(out, index{n, digits})
	}
	slices.SortFunc(out, func(a, b index) int {
		if a.n != b.n {
			return cmp.Compare(a.n, b.n)
		}
		return strings.Compare(a.raw, b.raw)
	})
	out = slices.CompactFunc(out, func(a, b index) bool { return a.raw == b.raw })
	if len(out) > maxMembers {
		// More than any SQS list takes; the backend rejects the request
		// for the count alone, so the rest need not be decoded.
		out = out[:maxMembers]
	}
	return out
}

// maxMembers bounds the members of one flattened list that are decoded:
// one more than SQS's largest list (tags, 50) still fails as too many.
const maxMembers = 64

// members returns the structures name.N.*, in order.
func (f form) members(name string) []form {
	idx := f.indices(name, false)
	if len(idx) == 0 {
		return nil
	}
	out := make([]form, len(idx))
	for i, ix := range idx {
		out[i] = form{v: f.v, prefix: f.prefix + name + "." + ix.raw + "."}
	}
	return out
}

// list returns the values of name.N, in order.
func (f form) list(name string) []string {
	idx := f.indices(name, true)
	if len(idx) == 0 {
		return nil
	}
	out := make([]string, len(idx))
	for i, ix := range idx {
		out[i] = f.str(name + "." + ix.raw)
	}
	return out
}

// pairs returns the map of name.N.<key> -> name.N.<val>.
func (f form) pairs(name, key, val string) (map[string]string, error) {
	ms := f.members(name)
	if len(ms) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(ms))
	for _, m := range ms {
		k, ok := m.get(key)
		if !ok {
			return nil, errMissing(name + "." + key)
		}
		out[k] = m.str(val)
	}
	return out, nil
}

// messageAttrs reads name.N.Name and name.N.Value.{DataType,StringValue,BinaryValue}.
func (f form) messageAttrs(name string) (map[string]attrValue, error) {
	ms := f.members(name)
	if len(ms) == 0 {
		return nil, nil
	}
	out := make(map[string]attrValue, len(ms))
	for _, m := range ms {
		k, ok := m.get("Name")
		if !ok {
			return nil, errMissing(m.prefix + "Name")
		}
		a := attrValue{DataType: m.str("Value.DataType"), StringValue: m.ptr("Value.StringValue")}
		if b, ok := m.get("Value.BinaryValue"); ok {
			dec, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				return nil, backend.NewError(backend.CodeInvalidParameterValue,
					"Value for parameter %sValue.BinaryValue is invalid. Reason: not valid base64.", m.prefix)
			}
			a.BinaryValue = dec
		}
		if _, dup := out[k]; dup {
			// The JSON protocol cannot repeat a name (an object's keys);
			// a form can, and keeping one of the two would store a message
			// whose attributes' MD5 differs from the one the client
			// computed.
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %s for parameter %sName is invalid. Reason: Message attribute name %s is repeated.", strconv.Quote(k), m.prefix, strconv.Quote(k))
		}
		out[k] = a
	}
	return out, nil
}

// ---- per-action decoders -----------------------------------------------

func formQueueURL(f form, in *queueURLInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	return nil
}

func formCreateQueue(f form, in *createQueueInput) (err error) {
	in.QueueName = f.ptr("QueueName")
	if in.Attributes, err = f.pairs("Attribute", "Name", "Value"); err != nil {
		return err
	}
	in.Tags, err = f.pairs("Tag", "Key", "Value")
	return err
}

func formGetQueueURL(f form, in *getQueueURLInput) error {
	in.QueueName = f.ptr("QueueName")
	in.QueueOwnerAWSAccountID = f.str("QueueOwnerAWSAccountId")
	return nil
}

func formListQueues(f form, in *listQueuesInput) (err error) {
	in.QueueNamePrefix = f.str("QueueNamePrefix")
	in.NextToken = f.str("NextToken")
	in.MaxResults, err = f.int("MaxResults")
	return err
}

func formGetQueueAttributes(f form, in *getQueueAttributesInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	in.AttributeNames = f.list("AttributeName")
	return nil
}

func formSetQueueAttributes(f form, in *setQueueAttributesInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.Attributes, err = f.pairs("Attribute", "Name", "Value")
	return err
}

func formSendMessage(f form, in *sendMessageInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.MessageBody = f.ptr("MessageBody")
	if in.DelaySeconds, err = f.int("DelaySeconds"); err != nil {
		return err
	}
	if in.MessageAttributes, err = f.messageAttrs("MessageAttribute"); err != nil {
		return err
	}
	if in.MessageSystemAttributes, err = f.messageAttrs("MessageSystemAttribute"); err != nil {
		return err
	}
	in.MessageDeduplicationID = f.ptr("MessageDeduplicationId")
	in.MessageGroupID = f.ptr("MessageGroupId")
	return nil
}

func formSendMessageBatch(f form, in *sendMessageBatchInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	ms := f.members("SendMessageBatchRequestEntry")
	in.Entries = make([]sendBatchEntry, len(ms))
	for i, m := range ms {
		e := &in.Entries[i]
		e.ID = m.str("Id")
		e.MessageBody = m.str("MessageBody")
		if e.DelaySeconds, err = m.int("DelaySeconds"); err != nil {
			return err
		}
		if e.MessageAttributes, err = m.messageAttrs("MessageAttribute"); err != nil {
			return err
		}
		if e.MessageSystemAttributes, err = m.messageAttrs("MessageSystemAttribute"); err != nil {
			return err
		}
		e.MessageDeduplicationID = m.ptr("MessageDeduplicationId")
		e.MessageGroupID = m.ptr("MessageGroupId")
	}
	return nil
}

func formReceiveMessage(f form, in *receiveMessageInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.AttributeNames = f.list("AttributeName")
	in.MessageSystemAttributeNames = f.list("MessageSystemAttributeName")
	in.MessageAttributeNames = f.list("MessageAttributeName")
	if in.MaxNumberOfMessages, err = f.int("MaxNumberOfMessages"); err != nil {
		return err
	}
	if in.VisibilityTimeout, err = f.int("VisibilityTimeout"); err != nil {
		return err
	}
	if in.WaitTimeSeconds, err = f.int("WaitTimeSeconds"); err != nil {
		return err
	}
	in.ReceiveRequestAttemptID = f.str("ReceiveRequestAttemptId")
	return nil
}

func formDeleteMessage(f form, in *deleteMessageInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	in.ReceiptHandle = f.ptr("ReceiptHandle")
	return nil
}

func formDeleteMessageBatch(f form, in *deleteMessageBatchInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	ms := f.members("DeleteMessageBatchRequestEntry")
	in.Entries = make([]deleteBatchEntry, len(ms))
	for i, m := range ms {
		in.Entries[i] = deleteBatchEntry{ID: m.str("Id"), ReceiptHandle: m.str("ReceiptHandle")}
	}
	return nil
}

func formChangeVisibility(f form, in *changeVisibilityInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.ReceiptHandle = f.ptr("ReceiptHandle")
	in.VisibilityTimeout, err = f.int("VisibilityTimeout")
	return err
}

func formChangeVisibilityBatch(f form, in *changeVisibilityBatchInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	ms := f.members("ChangeMessageVisibilityBatchRequestEntry")
	in.Entries = make([]changeVisibilityBatchEntry, len(ms))
	for i, m := range ms {
		e := &in.Entries[i]
		e.ID = m.str("Id")
		e.ReceiptHandle = m.str("ReceiptHandle")
		if e.VisibilityTimeout, err = m.int("VisibilityTimeout"); err != nil {
			return err
		}
	}
	return nil
}

func formTagQueue(f form, in *tagQueueInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.Tags, err = f.pairs("Tag", "Key", "Value")
	return err
}

func formUntagQueue(f form, in *untagQueueInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	in.TagKeys = f.list("TagKey")
	return nil
}

func formListDLQSources(f form, in *listDLQSourcesInput) (err error) {
	in.QueueURL = f.ptr("QueueUrl")
	in.NextToken = f.str("NextToken")
	in.MaxResults, err = f.int("MaxResults")
	return err
}

func formStartMoveTask(f form, in *startMoveTaskInput) (err error) {
	in.SourceARN = f.ptr("SourceArn")
	in.DestinationARN = f.str("DestinationArn")
	in.MaxNumberOfMessagesPerSecond, err = f.int("MaxNumberOfMessagesPerSecond")
	return err
}

func formCancelMoveTask(f form, in *cancelMoveTaskInput) error {
	in.TaskHandle = f.ptr("TaskHandle")
	return nil
}

func formListMoveTasks(f form, in *listMoveTasksInput) (err error) {
	in.SourceARN = f.ptr("SourceArn")
	in.MaxResults, err = f.int("MaxResults")
	return err
}

func formAddPermission(f form, in *addPermissionInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	in.Label = f.ptr("Label")
	in.AWSAccountIDs = f.list("AWSAccountId")
	in.Actions = f.list("ActionName")
	return nil
}

func formRemovePermission(f form, in *removePermissionInput) error {
	in.QueueURL = f.ptr("QueueUrl")
	in.Label = f.ptr("Label")
	return nil
}
