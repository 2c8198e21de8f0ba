package awssqs

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postbox-go/postbox/backend"
)

// Queue is one queue's message operations through the AWS adapter; it
// implements backend.Queue. Every operation is one SQS batch call
// (SendMessageBatch, ReceiveMessage, DeleteMessageBatch,
// ChangeMessageVisibilityBatch), even for a single entry. It is safe for
// concurrent use.
type Queue struct {
	svc *Service
	url string
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.url }

// checkIDs refuses, without a call, a batch that SQS would refuse as a
// whole for its entry ids: none, more than ten, an id that is not 1-80
// alphanumerics, '-' and '_', or ids that repeat (backend.ValidateBatchIDs,
// the native engine's check).
func checkIDs(n int, id func(int) string) error {
	var stack [backend.MaxBatchEntries]string
	ids := stack[:0]
	if n > backend.MaxBatchEntries {
		ids = make([]string, 0, n)
	}
	for i := range n {
		ids = append(ids, id(i))
	}
	if err := backend.ValidateBatchIDs(ids); err != nil {
		return err
	}
	return nil
}

// unsendable returns why entry e cannot be carried by the JSON protocol:
// a body or message attribute that is not valid UTF-8, which the SDK's
// encoder would silently replace with U+FFFD. SQS rejects such messages,
// so e fails alone as SQS would fail it.
func unsendable(e *backend.SendEntry) *backend.Error {
	if !utf8.ValidString(e.Body) {
		return backend.ValidateBody(e.Body)
	}
	for name, v := range e.MessageAttributes {
		if !validUTF8(name, &v) {
			if err := backend.ValidateMessageAttributes(e.MessageAttributes); err != nil {
				return err
			}
			return notUTF8("", name)
		}
	}
	for name, v := range e.MessageSystemAttributes {
		if !validUTF8(name, &v) {
			if err := backend.ValidateSystemAttributes(e.MessageSystemAttributes); err != nil {
				return err
			}
			return notUTF8("system ", name)
		}
	}
	return nil
}

func validUTF8(name string, v *backend.MessageAttributeValue) bool {
	return utf8.ValidString(name) && utf8.ValidString(v.DataType) && utf8.ValidString(v.StringValue)
}

func notUTF8(kind, name string) *backend.Error {
	return backend.NewError(backend.CodeInvalidParameterValue, "Message %sattribute %q is not valid UTF-8.", kind, name)
}

// Send implements backend.Queue with one SendMessageBatch call. The ids
// are checked first, as SQS checks them (see checkIDs). A
// DelaySeconds that points to 0 is sent as an explicit 0, overriding the
// queue's delay (the SDK alone would leave it out); an API other than
// *sqs.Client may ignore the per-call option that does this.
//
// An entry whose body or message attributes are not valid UTF-8, which
// the JSON protocol cannot carry, fails alone with SQS's error for it
// (InvalidMessageContents for a body) without being sent.
func (q *Queue) Send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	if err := checkIDs(len(entries), func(i int) string { return entries[i].ID }); err != nil {
		return nil, err
	}
	var failed []error // by entry, when some cannot be sent
	for i := range entries {
		if err := unsendable(&entries[i]); err != nil {
			if failed == nil {
				failed = make([]error, len(entries))
			}
			failed[i] = err
		}
	}
	if failed == nil {
		return q.send(ctx, entries)
	}
	results := make([]backend.SendResult, len(entries))
	rest := make([]backend.SendEntry, 0, len(entries))
	for i := range entries {
		results[i].ID, results[i].Err = entries[i].ID, failed[i]
		if failed[i] == nil {
			rest = append(rest, entries[i])
		}
	}
	if len(rest) == 0 {
		return results, nil
	}
	sent, err := q.send(ctx, rest)
	if err != nil {
		return nil, err
	}
	j := 0
	for i := range results {
		if failed[i] == nil {
			results[i] = sent[j]
			j++
		}
	}
	return results, nil
}

// send sends entries in one SendMessageBatch call.
func (q *Queue) send(ctx context.Context, entries []backend.SendEntry) ([]backend.SendResult, error) {
	s := q.svc
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()

	in := &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: make([]types.SendMessageBatchRequestEntry, len(entries))}
	var zeroDelay []int
	for i := range entries {
		e := &entries[i]
		in.Entries[i] = types.SendMessageBatchRequestEntry{
			Id:                      &e.ID,
			MessageBody:             &e.Body,
			MessageAttributes:       toSDKAttributes(e.MessageAttributes),
			MessageSystemAttributes: toSDKSystemAttributes(e.MessageSystemAttributes),
			MessageGroupId:          given(e.MessageGroupID, e.MessageGroupIDSet),
			MessageDeduplicationId:  given(e.MessageDeduplicationID, e.MessageDeduplicationIDSet),
		}
		if e.DelaySeconds != nil {
			in.Entries[i].DelaySeconds = clamp32(*e.DelaySeconds)
			if *e.DelaySeconds == 0 {
				zeroDelay = append(zeroDelay, i)
			}
		}
	}
	var opts []func(*sqs.Options)
	if zeroDelay != nil {
		opts = append(opts, explicitZeros(nil, "DelaySeconds", zeroDelay))
	}
	out, err := s.api.SendMessageBatch(ctx, in, opts...)
	if err != nil {
		noteErrorRequestID(ctx, err)
		return nil, mapError(ctx, err)
	}
	noteRequestID(ctx, out.ResultMetadata)

	results := make([]backend.SendResult, len(entries))
	done := make([]bool, len(entries))
	for i := range entries {
		results[i].ID = entries[i].ID
	}
	for _, r := range out.Successful {
		i := indexOf(results, deref(r.Id), func(r *backend.SendResult) string { return r.ID }, done)
		if i < 0 {
			continue
		}
		done[i] = true
		res := &results[i]
		res.MessageID = deref(r.MessageId)
		res.MD5OfMessageBody = deref(r.MD5OfMessageBody)
		res.MD5OfMessageAttributes = deref(r.MD5OfMessageAttributes)
		res.MD5OfMessageSystemAttributes = deref(r.MD5OfMessageSystemAttributes)
		res.SequenceNumber = deref(r.SequenceNumber)
	}
	for _, f := range out.Failed {
		i := indexOf(results, deref(f.Id), func(r *backend.SendResult) string { return r.ID }, done)
		if i < 0 {
			continue
		}
		done[i] = true
		results[i].Err = entryError(deref(f.Code), deref(f.Message), f.SenderFault)
	}
	for i := range results {
		if !done[i] {
			results[i].Err = missingResult(results[i].ID)
		}
	}
	if s.checkAttrs {
		if err := checkSentAttributes(entries, results); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// Receive implements backend.Queue with one ReceiveMessage call. It asks
// for req.SystemAttributeNames as MessageSystemAttributeNames. A
// WaitTimeSeconds or VisibilityTimeout that points to 0 is sent as an
// explicit 0, overriding the queue's default (the SDK alone would leave it
// out, so a short poll on a long-polling queue would wait); an API other
// than *sqs.Client may ignore the per-call option that does this.
//
// Service.Close ends a pending long poll: Receive then returns no messages
// and a nil error.
func (q *Queue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	s := q.svc
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()

	in := &sqs.ReceiveMessageInput{
		QueueUrl:                &q.url,
		MaxNumberOfMessages:     clamp32(req.MaxMessages),
		MessageAttributeNames:   req.MessageAttributeNames,
		ReceiveRequestAttemptId: nonEmpty(req.ReceiveRequestAttemptID),
	}
	if req.SystemAttributeNames != nil {
		in.MessageSystemAttributeNames = make([]types.MessageSystemAttributeName, len(req.SystemAttributeNames))
		for i, n := range req.SystemAttributeNames {
			in.MessageSystemAttributeNames[i] = types.MessageSystemAttributeName(n)
		}
	}
	var zero []string
	if req.WaitTimeSeconds != nil {
		in.WaitTimeSeconds = clamp32(*req.WaitTimeSeconds)
		if *req.WaitTimeSeconds == 0 {
			zero = append(zero, "WaitTimeSeconds")
		}
	}
	if req.VisibilityTimeout != nil {
		in.VisibilityTimeout = clamp32(*req.VisibilityTimeout)
		if *req.VisibilityTimeout == 0 {
			zero = append(zero, "VisibilityTimeout")
		}
	}
	var opts []func(*sqs.Options)
	if zero != nil {
		opts = append(opts, explicitZeros(zero, "", nil))
	}

	callCtx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.closing, cancel)
	out, err := s.api.ReceiveMessage(callCtx, in, opts...)
	stop()
	cancel()
	if err != nil {
		if ctx.Err() == nil && s.closing.Err() != nil && errors.Is(err, context.Canceled) {
			return []*backend.Message{}, nil // long poll ended by Close
		}
		noteErrorRequestID(ctx, err)
		return nil, mapError(ctx, err)
	}
	noteRequestID(ctx, out.ResultMetadata)

	msgs := make([]*backend.Message, len(out.Messages))
	for i := range out.Messages {
		m := &out.Messages[i]
		msgs[i] = &backend.Message{
			MessageID:              deref(m.MessageId),
			ReceiptHandle:          deref(m.ReceiptHandle),
			Body:                   deref(m.Body),
			MD5OfBody:              deref(m.MD5OfBody),
			MD5OfMessageAttributes: deref(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			MessageAttributes:      fromSDKAttributes(m.MessageAttributes),
		}
	}
	if s.checkAttrs {
		if err := checkReceivedAttributes(msgs); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// Delete implements backend.Queue with one DeleteMessageBatch call.
func (q *Queue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	if err := checkIDs(len(entries), func(i int) string { return entries[i].ID }); err != nil {
		return nil, err
	}
	s := q.svc
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()

	in := &sqs.DeleteMessageBatchInput{QueueUrl: &q.url, Entries: make([]types.DeleteMessageBatchRequestEntry, len(entries))}
	for i := range entries {
		in.Entries[i] = types.DeleteMessageBatchRequestEntry{Id: &entries[i].ID, ReceiptHandle: &entries[i].ReceiptHandle}
	}
	out, err := s.api.DeleteMessageBatch(ctx, in)
	if err != nil {
		noteErrorRequestID(ctx, err)
		return nil, mapError(ctx, err)
	}
	noteRequestID(ctx, out.ResultMetadata)
	results, done := newEntryResults(len(entries), func(i int) string { return entries[i].ID })
	for _, r := range out.Successful {
		if i := indexOf(results, deref(r.Id), entryID, done); i >= 0 {
			done[i] = true
		}
	}
	for _, f := range out.Failed {
		if i := indexOf(results, deref(f.Id), entryID, done); i >= 0 {
			done[i] = true
			results[i].Err = entryError(deref(f.Code), deref(f.Message), f.SenderFault)
		}
	}
	finishEntryResults(results, done)
	return results, nil
}

// ChangeVisibility implements backend.Queue with one
// ChangeMessageVisibilityBatch call.
func (q *Queue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	if err := checkIDs(len(entries), func(i int) string { return entries[i].ID }); err != nil {
		return nil, err
	}
	s := q.svc
	if err := s.begin(); err != nil {
		return nil, err
	}
	defer s.inflight.Done()

	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.url, Entries: make([]types.ChangeMessageVisibilityBatchRequestEntry, len(entries))}
	for i := range entries {
		in.Entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                &entries[i].ID,
			ReceiptHandle:     &entries[i].ReceiptHandle,
			VisibilityTimeout: clamp32(entries[i].VisibilityTimeout), // always sent
		}
	}
	out, err := s.api.ChangeMessageVisibilityBatch(ctx, in)
	if err != nil {
		noteErrorRequestID(ctx, err)
		return nil, mapError(ctx, err)
	}
	noteRequestID(ctx, out.ResultMetadata)
	results, done := newEntryResults(len(entries), func(i int) string { return entries[i].ID })
	for _, r := range out.Successful {
		if i := indexOf(results, deref(r.Id), entryID, done); i >= 0 {
			done[i] = true
		}
	}
	for _, f := range out.Failed {
		if i := indexOf(results, deref(f.Id), entryID, done); i >= 0 {
			done[i] = true
			results[i].Err = entryError(deref(f.Code), deref(f.Message), f.SenderFault)
		}
	}
	finishEntryResults(results, done)
	return results, nil
}

func entryID(r *backend.EntryResult) string { return r.ID }

func newEntryResults(n int, id func(int) string) ([]backend.EntryResult, []bool) {
	results := make([]backend.EntryResult, n)
	for i := range results {
		results[i].ID = id(i)
	}
	return results, make([]bool, n)
}

func finishEntryResults(results []backend.EntryResult, done []bool) {
	for i := range results {
		if !done[i] {
			results[i].Err = missingResult(results[i].ID)
		}
	}
}

// indexOf finds the first result with id that has no outcome yet; -1 when
// the service answered for an entry that was not asked for, or twice. A
// batch has at most ten entries, so a scan beats a map.
func indexOf[R any](results []R, id string, idOf func(*R) string, done []bool) int {
	for i := range results {
		if !done[i] && idOf(&results[i]) == id {
			return i
		}
	}
	return -1
}

// missingResult is the outcome of an entry the service's answer left out.
func missingResult(id string) *backend.Error {
	return &backend.Error{
		Code:    backend.CodeInternalFailure,
		Message: "The service's answer has no result for batch entry " + id + ".",
	}
}

func isBinaryType(dataType string) bool {
	return strings.HasPrefix(dataType, "Binary")
}

func toSDKAttributes(m map[string]backend.MessageAttributeValue) map[string]types.MessageAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(m))
	for k, v := range m {
		a := types.MessageAttributeValue{DataType: &v.DataType}
		if isBinaryType(v.DataType) {
			a.BinaryValue = v.BinaryValue
		} else {
			a.StringValue = &v.StringValue
		}
		out[k] = a
	}
	return out
}

func toSDKSystemAttributes(m map[string]backend.MessageAttributeValue) map[string]types.MessageSystemAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]types.MessageSystemAttributeValue, len(m))
	for k, v := range m {
		a := types.MessageSystemAttributeValue{DataType: &v.DataType}
		if isBinaryType(v.DataType) {
			a.BinaryValue = v.BinaryValue
		} else {
			a.StringValue = &v.StringValue
		}
		out[k] = a
	}
	return out
}

func fromSDKAttributes(m map[string]types.MessageAttributeValue) map[string]backend.MessageAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]backend.MessageAttributeValue, len(m))
	for k, v := range m {
		out[k] = backend.MessageAttributeValue{
			DataType:    deref(v.DataType),
			StringValue: deref(v.StringValue),
			BinaryValue: v.BinaryValue,
		}
	}
	return out
}
