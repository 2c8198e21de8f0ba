package server

import (
	"errors"
	"net/url"

	"github.com/postbox-go/postbox/backend"
)

// The input and output shapes of the 23 actions. Field names and JSON keys
// are those of the SQS API (service model 2012-11-05); the JSON protocol
// decodes into the inputs and encodes the outputs directly, the query
// protocol fills the inputs from form fields and writes the outputs as XML.
// Required scalar parameters are pointers so that a missing one can be
// told from an empty one: missing gets MissingParameter, empty goes to the
// backend, which validates it.

type attrValue struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

type attrValueOut struct {
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
	DataType    string `json:"DataType"`
}

type queueURLInput struct {
	QueueURL *string `json:"QueueUrl"`
}

type createQueueInput struct {
	QueueName  *string           `json:"QueueName"`
	Attributes map[string]string `json:"Attributes"`
	Tags       map[string]string `json:"tags"`
}

type queueURLOutput struct {
	QueueURL string `json:"QueueUrl,omitempty"`
}

type getQueueURLInput struct {
	QueueName              *string `json:"QueueName"`
	QueueOwnerAWSAccountID string  `json:"QueueOwnerAWSAccountId"`
}

type listQueuesInput struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	NextToken       string `json:"NextToken"`
	MaxResults      *int   `json:"MaxResults"`
}

type listQueuesOutput struct {
	QueueURLs []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

type getQueueAttributesInput struct {
	QueueURL       *string  `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames"`
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

type setQueueAttributesInput struct {
	QueueURL   *string           `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes"`
}

type sendMessageInput struct {
	QueueURL                *string              `json:"QueueUrl"`
	MessageBody             *string              `json:"MessageBody"`
	DelaySeconds            *int                 `json:"DelaySeconds"`
	MessageAttributes       map[string]attrValue `json:"MessageAttributes"`
	MessageSystemAttributes map[string]attrValue `json:"MessageSystemAttributes"`
	MessageDeduplicationID  *string              `json:"MessageDeduplicationId"`
	MessageGroupID          *string              `json:"MessageGroupId"`
}

type sendMessageOutput struct {
	MD5OfMessageBody             string `json:"MD5OfMessageBody,omitempty"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
	MessageID                    string `json:"MessageId,omitempty"`
	SequenceNumber               string `json:"SequenceNumber,omitempty"`
}

type sendBatchEntry struct {
	ID                      string               `json:"Id"`
	MessageBody             string               `json:"MessageBody"`
	DelaySeconds            *int                 `json:"DelaySeconds"`
	MessageAttributes       map[string]attrValue `json:"MessageAttributes"`
	MessageSystemAttributes map[string]attrValue `json:"MessageSystemAttributes"`
	MessageDeduplicationID  *string              `json:"MessageDeduplicationId"`
	MessageGroupID          *string              `json:"MessageGroupId"`

	delay int // the fast decoder's storage of DelaySeconds
}

type sendMessageBatchInput struct {
	QueueURL *string          `json:"QueueUrl"`
	Entries  []sendBatchEntry `json:"Entries"`
}

type sendBatchResultEntry struct {
	ID                           string `json:"Id"`
	MessageID                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
	SequenceNumber               string `json:"SequenceNumber,omitempty"`
}

type batchErrorEntry struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

// Batch outputs leave an empty list out, as SQS's JSON answers do (a batch
// without failures has no "Failed" key).
type sendMessageBatchOutput struct {
	Successful []sendBatchResultEntry `json:"Successful,omitempty"`
	Failed     []batchErrorEntry      `json:"Failed,omitempty"`
}

type receiveMessageInput struct {
	QueueURL                    *string  `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
	MessageAttributeNames       []string `json:"MessageAttributeNames"`
	MaxNumberOfMessages         *int     `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int     `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int     `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptID     string   `json:"ReceiveRequestAttemptId"`

	ints [3]int // the fast decoder's storage of the integers above
}

type messageOut struct {
	MessageID              string                  `json:"MessageId"`
	ReceiptHandle          string                  `json:"ReceiptHandle"`
	MD5OfBody              string                  `json:"MD5OfBody"`
	Body                   string                  `json:"Body"`
	Attributes             map[string]string       `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                  `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]attrValueOut `json:"MessageAttributes,omitempty"`
}

type receiveMessageOutput struct {
	Messages []messageOut `json:"Messages,omitempty"`
}

type deleteMessageInput struct {
	QueueURL      *string `json:"QueueUrl"`
	ReceiptHandle *string `json:"ReceiptHandle"`
}

type deleteBatchEntry struct {
	ID            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

type deleteMessageBatchInput struct {
	QueueURL *string            `json:"QueueUrl"`
	Entries  []deleteBatchEntry `json:"Entries"`
}

type idEntry struct {
	ID string `json:"Id"`
}

type batchOutput struct {
	Successful []idEntry         `json:"Successful,omitempty"`
	Failed     []batchErrorEntry `json:"Failed,omitempty"`
}

type changeVisibilityInput struct {
	QueueURL          *string `json:"QueueUrl"`
	ReceiptHandle     *string `json:"ReceiptHandle"`
	VisibilityTimeout *int    `json:"VisibilityTimeout"`
}

type changeVisibilityBatchEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

type changeVisibilityBatchInput struct {
	QueueURL *string                      `json:"QueueUrl"`
	Entries  []changeVisibilityBatchEntry `json:"Entries"`
}

type tagQueueInput struct {
	QueueURL *string           `json:"QueueUrl"`
	Tags     map[string]string `json:"Tags"`
}

type untagQueueInput struct {
	QueueURL *string  `json:"QueueUrl"`
	TagKeys  []string `json:"TagKeys"`
}

type listTagsOutput struct {
	Tags map[string]string `json:"Tags,omitempty"`
}

type listDLQSourcesInput struct {
	QueueURL   *string `json:"QueueUrl"`
	NextToken  string  `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

type listDLQSourcesOutput struct {
	QueueURLs []string `json:"queueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

type startMoveTaskInput struct {
	SourceARN                    *string `json:"SourceArn"`
	DestinationARN               string  `json:"DestinationArn"`
	MaxNumberOfMessagesPerSecond *int    `json:"MaxNumberOfMessagesPerSecond"`
}

type startMoveTaskOutput struct {
	TaskHandle string `json:"TaskHandle,omitempty"`
}

type cancelMoveTaskInput struct {
	TaskHandle *string `json:"TaskHandle"`
}

type cancelMoveTaskOutput struct {
	ApproximateNumberOfMessagesMoved int64 `json:"ApproximateNumberOfMessagesMoved"`
}

type listMoveTasksInput struct {
	SourceARN  *string `json:"SourceArn"`
	MaxResults *int    `json:"MaxResults"`
}

type moveTaskOut struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status,omitempty"`
	SourceARN                         string `json:"SourceArn,omitempty"`
	DestinationARN                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      *int   `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove int64  `json:"ApproximateNumberOfMessagesToMove"`
	FailureReason                     string `json:"FailureReason,omitempty"`
	StartedTimestamp                  int64  `json:"StartedTimestamp,omitempty"`
}

type listMoveTasksOutput struct {
	Results []moveTaskOut `json:"Results,omitempty"`
}

type addPermissionInput struct {
	QueueURL      *string  `json:"QueueUrl"`
	Label         *string  `json:"Label"`
	AWSAccountIDs []string `json:"AWSAccountIds"`
	Actions       []string `json:"Actions"`
}

type removePermissionInput struct {
	QueueURL *string `json:"QueueUrl"`
	Label    *string `json:"Label"`
}

// empty is the output of actions that return nothing.
type empty struct{}

// ---- the actions -------------------------------------------------------

func (s *Server) createQueue(c *call, in *createQueueInput) (*queueURLOutput, error) {
	if in.QueueName == nil {
		return nil, errMissing("QueueName")
	}
	u, err := s.svc.CreateQueue(c.ctx, *in.QueueName, backend.Attributes(in.Attributes), in.Tags)
	if err != nil {
		return nil, err
	}
	return &queueURLOutput{QueueURL: c.publicURL(u)}, nil
}

func (s *Server) deleteQueue(c *call, in *queueURLInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return &empty{}, s.svc.DeleteQueue(c.ctx, u)
}

func (s *Server) getQueueURL(c *call, in *getQueueURLInput) (*queueURLOutput, error) {
	if in.QueueName == nil {
		return nil, errMissing("QueueName")
	}
	if owner := in.QueueOwnerAWSAccountID; c.principal != nil && backend.IsAccountID(owner) && owner != c.principal.account {
		if err := c.authorize(c.base + "/" + owner + "/" + url.PathEscape(*in.QueueName)); err != nil {
			return nil, err
		}
	}
	u, err := s.svc.QueueURL(c.ctx, *in.QueueName, in.QueueOwnerAWSAccountID)
	if err != nil {
		return nil, err
	}
	return &queueURLOutput{QueueURL: c.publicURL(u)}, nil
}

// maxResults checks an optional MaxResults-style parameter: absent is 0
// (the backend's default), present must lie in [1, hi].
func maxResults(name string, p *int, hi int) (int, error) {
	if p == nil {
		return 0, nil
	}
	if *p < 1 || *p > hi {
		return 0, backend.NewError(backend.CodeInvalidParameterValue,
			"Value %d for parameter %s is invalid. Reason: must be between 1 and %d.", *p, name, hi)
	}
	return *p, nil
}

func (s *Server) listQueues(c *call, in *listQueuesInput) (*listQueuesOutput, error) {
	n, err := maxResults("MaxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	res, err := s.svc.ListQueues(c.ctx, backend.ListQueuesRequest{Prefix: in.QueueNamePrefix, MaxResults: n, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	return &listQueuesOutput{QueueURLs: c.publicURLs(res.QueueURLs), NextToken: res.NextToken}, nil
}

func (s *Server) getQueueAttributes(c *call, in *getQueueAttributesInput) (*attributesOutput, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	attrs, err := s.svc.GetAttributes(c.ctx, u, in.AttributeNames)
	if err != nil {
		return nil, err
	}
	return &attributesOutput{Attributes: attrs}, nil
}

func (s *Server) setQueueAttributes(c *call, in *setQueueAttributesInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return &empty{}, s.svc.SetAttributes(c.ctx, u, backend.Attributes(in.Attributes))
}

// messageAttributes converts wire message attributes; nil for none.
func messageAttributes(in map[string]attrValue) map[string]backend.MessageAttributeValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]backend.MessageAttributeValue, len(in))
	for k, v := range in {
		a := backend.MessageAttributeValue{DataType: v.DataType, BinaryValue: v.BinaryValue}
		if v.StringValue != nil {
			a.StringValue = *v.StringValue
		}
		out[k] = a
	}
	return out
}

// setIDs copies the MessageGroupId and MessageDeduplicationId parameters
// into e, keeping whether they were given: SQS rejects an empty id.
func setIDs(e *backend.SendEntry, group, dedup *string) {
	if group != nil {
		e.MessageGroupID, e.MessageGroupIDSet = *group, true
	}
	if dedup != nil {
		e.MessageDeduplicationID, e.MessageDeduplicationIDSet = *dedup, true
	}
}

func (s *Server) queue(c *call, p *string) (backend.Queue, error) {
	u, err := c.queueURL(p)
	if err != nil {
		return nil, err
	}
	return s.svc.Queue(u)
}

func (s *Server) sendMessage(c *call, in *sendMessageInput) (*sendMessageOutput, error) {
	if in.QueueURL == nil && c.pathURL == "" {
		return nil, errMissing("QueueUrl")
	}
	if in.MessageBody == nil {
		return nil, errMissing("MessageBody")
	}
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := [1]backend.SendEntry{{
		ID:                      "m",
		Body:                    *in.MessageBody,
		DelaySeconds:            in.DelaySeconds,
		MessageAttributes:       messageAttributes(in.MessageAttributes),
		MessageSystemAttributes: messageAttributes(in.MessageSystemAttributes),
	}}
	setIDs(&entries[0], in.MessageGroupID, in.MessageDeduplicationID)
	traced := c.addTraceHeader(&entries[0])
	res, err := q.Send(c.ctx, entries[:])
	if err != nil {
		if backend.Code(err) == backend.CodeBatchRequestTooLong {
			// A batch of one over the limit is a message over it, which
			// SQS answers SendMessage with InvalidParameterValue.
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", backend.MaxMessageSize)
		}
		return nil, err
	}
	if len(res) != 1 {
		return nil, backend.NewError(backend.CodeInternalFailure, "backend returned %d results for 1 entry", len(res))
	}
	r := res[0]
	if r.Err != nil {
		return nil, singleError(r.Err)
	}
	if traced {
		r.MD5OfMessageSystemAttributes = ""
	}
	return &sendMessageOutput{
		MD5OfMessageBody:             r.MD5OfMessageBody,
		MD5OfMessageAttributes:       r.MD5OfMessageAttributes,
		MD5OfMessageSystemAttributes: r.MD5OfMessageSystemAttributes,
		MessageID:                    r.MessageID,
		SequenceNumber:               r.SequenceNumber,
	}, nil
}

// batchError is the wire form of a failed batch entry. An entry error that
// is not a *backend.Error is an InternalFailure.
func batchError(id string, err error) batchErrorEntry {
	var e *backend.Error
	if !errors.As(err, &e) || e == nil {
		e = backend.NewError(backend.CodeInternalFailure, "We encountered an internal error. Please try again.")
	}
	return batchErrorEntry{ID: id, SenderFault: e.SenderFault, Code: e.Code, Message: e.Message}
}

// singleError is the error a single-message action (SendMessage,
// DeleteMessage, ChangeMessageVisibility) answers for its failed entry.
func singleError(err error) error {
	var e *backend.Error
	if errors.As(err, &e) && e != nil {
		return e.AsSingle()
	}
	return err
}

func checkResults(got, want int) error {
	if got != want {
		return backend.NewError(backend.CodeInternalFailure, "backend returned %d results for %d entries", got, want)
	}
	return nil
}

func (s *Server) sendMessageBatch(c *call, in *sendMessageBatchInput) (*sendMessageBatchOutput, error) {
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := make([]backend.SendEntry, len(in.Entries))
	traced := make([]bool, len(in.Entries))
	for i := range in.Entries {
		e := &in.Entries[i]
		entries[i] = backend.SendEntry{
			ID:                      e.ID,
			Body:                    e.MessageBody,
			DelaySeconds:            e.DelaySeconds,
			MessageAttributes:       messageAttributes(e.MessageAttributes),
			MessageSystemAttributes: messageAttributes(e.MessageSystemAttributes),
		}
		setIDs(&entries[i], e.MessageGroupID, e.MessageDeduplicationID)
		traced[i] = c.addTraceHeader(&entries[i])
	}
	res, err := q.Send(c.ctx, entries)
	if err != nil {
		return nil, err
	}
	if err := checkResults(len(res), len(entries)); err != nil {
		return nil, err
	}
	out := &sendMessageBatchOutput{Successful: make([]sendBatchResultEntry, 0, len(res)), Failed: []batchErrorEntry{}}
	for i := range res {
		r := &res[i]
		if r.Err != nil {
			out.Failed = append(out.Failed, batchError(entries[i].ID, r.Err))
			continue
		}
		if traced[i] {
			r.MD5OfMessageSystemAttributes = ""
		}
		out.Successful = append(out.Successful, sendBatchResultEntry{
			ID:                           entries[i].ID,
			MessageID:                    r.MessageID,
			MD5OfMessageBody:             r.MD5OfMessageBody,
			MD5OfMessageAttributes:       r.MD5OfMessageAttributes,
			MD5OfMessageSystemAttributes: r.MD5OfMessageSystemAttributes,
			SequenceNumber:               r.SequenceNumber,
		})
	}
	return out, nil
}

func (s *Server) receiveMessage(c *call, in *receiveMessageInput) (*receiveMessageOutput, error) {
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	n := 0
	if in.MaxNumberOfMessages != nil {
		n = *in.MaxNumberOfMessages
		if n < 1 || n > backend.MaxBatchEntries {
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", n)
		}
	}
	names := in.MessageSystemAttributeNames
	if len(in.AttributeNames) > 0 {
		if len(names) == 0 {
			names = in.AttributeNames
		} else {
			names = append(append([]string(nil), in.AttributeNames...), names...)
		}
	}
	req := backend.ReceiveRequest{
		MaxMessages:             n,
		WaitTimeSeconds:         in.WaitTimeSeconds,
		VisibilityTimeout:       in.VisibilityTimeout,
		SystemAttributeNames:    names,
		MessageAttributeNames:   in.MessageAttributeNames,
		ReceiveRequestAttemptID: in.ReceiveRequestAttemptID,
	}
	msgs, err := s.receive(c, q, req)
	if err != nil {
		return nil, err
	}
	out := &receiveMessageOutput{}
	if len(msgs) > 0 {
		out.Messages = make([]messageOut, len(msgs))
		for i, m := range msgs {
			o := &out.Messages[i]
			o.MessageID = m.MessageID
			o.ReceiptHandle = m.ReceiptHandle
			o.MD5OfBody = m.MD5OfBody
			o.Body = m.Body
			o.Attributes = m.Attributes
			if len(m.MessageAttributes) > 0 {
				o.MD5OfMessageAttributes = m.MD5OfMessageAttributes
				o.MessageAttributes = make(map[string]attrValueOut, len(m.MessageAttributes))
				for k, v := range m.MessageAttributes {
					o.MessageAttributes[k] = attrValueOut{StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: v.DataType}
				}
			}
		}
	}
	return out, nil
}

// singleEntryID is the batch entry id of single-message actions.
const singleEntryID = "m"

func (s *Server) deleteMessage(c *call, in *deleteMessageInput) (*empty, error) {
	if in.QueueURL == nil && c.pathURL == "" {
		return nil, errMissing("QueueUrl")
	}
	if in.ReceiptHandle == nil {
		return nil, errMissing("ReceiptHandle")
	}
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := [1]backend.DeleteEntry{{ID: singleEntryID, ReceiptHandle: *in.ReceiptHandle}}
	res, err := q.Delete(c.ctx, entries[:])
	if err != nil {
		return nil, err
	}
	if err := checkResults(len(res), 1); err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, singleError(res[0].Err)
	}
	return &empty{}, nil
}

// entryResults turns per-entry results into the Successful/Failed lists.
func entryResults(ids []string, res []backend.EntryResult) (*batchOutput, error) {
	if err := checkResults(len(res), len(ids)); err != nil {
		return nil, err
	}
	out := &batchOutput{Successful: make([]idEntry, 0, len(res)), Failed: []batchErrorEntry{}}
	for i := range res {
		if res[i].Err != nil {
			out.Failed = append(out.Failed, batchError(ids[i], res[i].Err))
		} else {
			out.Successful = append(out.Successful, idEntry{ID: ids[i]})
		}
	}
	return out, nil
}

func (s *Server) deleteMessageBatch(c *call, in *deleteMessageBatchInput) (*batchOutput, error) {
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := make([]backend.DeleteEntry, len(in.Entries))
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		entries[i] = backend.DeleteEntry{ID: e.ID, ReceiptHandle: e.ReceiptHandle}
		ids[i] = e.ID
	}
	res, err := q.Delete(c.ctx, entries)
	if err != nil {
		return nil, err
	}
	return entryResults(ids, res)
}

func (s *Server) changeMessageVisibility(c *call, in *changeVisibilityInput) (*empty, error) {
	if in.QueueURL == nil && c.pathURL == "" {
		return nil, errMissing("QueueUrl")
	}
	if in.ReceiptHandle == nil {
		return nil, errMissing("ReceiptHandle")
	}
	if in.VisibilityTimeout == nil {
		return nil, errMissing("VisibilityTimeout")
	}
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := [1]backend.VisibilityEntry{{ID: singleEntryID, ReceiptHandle: *in.ReceiptHandle, VisibilityTimeout: *in.VisibilityTimeout}}
	res, err := q.ChangeVisibility(c.ctx, entries[:])
	if err != nil {
		return nil, err
	}
	if err := checkResults(len(res), 1); err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, singleError(res[0].Err)
	}
	return &empty{}, nil
}

func (s *Server) changeMessageVisibilityBatch(c *call, in *changeVisibilityBatchInput) (*batchOutput, error) {
	q, err := s.queue(c, in.QueueURL)
	if err != nil {
		return nil, err
	}
	entries := make([]backend.VisibilityEntry, len(in.Entries))
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		if e.VisibilityTimeout == nil {
			return nil, errMissing("ChangeMessageVisibilityBatchRequestEntry.VisibilityTimeout")
		}
		entries[i] = backend.VisibilityEntry{ID: e.ID, ReceiptHandle: e.ReceiptHandle, VisibilityTimeout: *e.VisibilityTimeout}
		ids[i] = e.ID
	}
	res, err := q.ChangeVisibility(c.ctx, entries)
	if err != nil {
		return nil, err
	}
	return entryResults(ids, res)
}

func (s *Server) purgeQueue(c *call, in *queueURLInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return &empty{}, s.svc.Purge(c.ctx, u)
}

func (s *Server) tagQueue(c *call, in *tagQueueInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return &empty{}, s.svc.TagQueue(c.ctx, u, in.Tags)
}

func (s *Server) untagQueue(c *call, in *untagQueueInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	return &empty{}, s.svc.UntagQueue(c.ctx, u, in.TagKeys)
}

func (s *Server) listQueueTags(c *call, in *queueURLInput) (*listTagsOutput, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	tags, err := s.svc.ListTags(c.ctx, u)
	if err != nil {
		return nil, err
	}
	return &listTagsOutput{Tags: tags}, nil
}

func (s *Server) listDeadLetterSourceQueues(c *call, in *listDLQSourcesInput) (*listDLQSourcesOutput, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	n, err := maxResults("MaxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	res, err := s.svc.ListDeadLetterSourceQueues(c.ctx, u, backend.ListQueuesRequest{MaxResults: n, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	return &listDLQSourcesOutput{QueueURLs: c.publicURLs(res.QueueURLs), NextToken: res.NextToken}, nil
}

func (s *Server) startMessageMoveTask(c *call, in *startMoveTaskInput) (*startMoveTaskOutput, error) {
	if in.SourceARN == nil {
		return nil, errMissing("SourceArn")
	}
	if err := c.authorizeARN(*in.SourceARN); err != nil {
		return nil, err
	}
	if err := c.authorizeARN(in.DestinationARN); err != nil {
		return nil, err
	}
	req := backend.MoveTaskRequest{SourceARN: *in.SourceARN, DestinationARN: in.DestinationARN}
	if in.MaxNumberOfMessagesPerSecond != nil {
		req.MaxNumberOfMessagesPerSecond = *in.MaxNumberOfMessagesPerSecond
		if req.MaxNumberOfMessagesPerSecond < 1 || req.MaxNumberOfMessagesPerSecond > 500 {
			return nil, backend.NewError(backend.CodeInvalidParameterValue,
				"Value %d for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500.", req.MaxNumberOfMessagesPerSecond)
		}
	}
	h, err := s.svc.StartMessageMoveTask(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return &startMoveTaskOutput{TaskHandle: h}, nil
}

func (s *Server) cancelMessageMoveTask(c *call, in *cancelMoveTaskInput) (*cancelMoveTaskOutput, error) {
	if in.TaskHandle == nil {
		return nil, errMissing("TaskHandle")
	}
	if err := c.authorizeTaskHandle(*in.TaskHandle); err != nil {
		return nil, err
	}
	n, err := s.svc.CancelMessageMoveTask(c.ctx, *in.TaskHandle)
	if err != nil {
		return nil, err
	}
	return &cancelMoveTaskOutput{ApproximateNumberOfMessagesMoved: n}, nil
}

func (s *Server) listMessageMoveTasks(c *call, in *listMoveTasksInput) (*listMoveTasksOutput, error) {
	if in.SourceARN == nil {
		return nil, errMissing("SourceArn")
	}
	if err := c.authorizeARN(*in.SourceARN); err != nil {
		return nil, err
	}
	n, err := maxResults("MaxResults", in.MaxResults, 10)
	if err != nil {
		return nil, err
	}
	tasks, err := s.svc.ListMessageMoveTasks(c.ctx, *in.SourceARN, n)
	if err != nil {
		return nil, err
	}
	out := &listMoveTasksOutput{}
	for _, t := range tasks {
		o := moveTaskOut{
			TaskHandle:                        t.TaskHandle,
			Status:                            t.Status,
			SourceARN:                         t.SourceARN,
			DestinationARN:                    t.DestinationARN,
			ApproximateNumberOfMessagesMoved:  t.ApproximateNumberOfMessagesMoved,
			ApproximateNumberOfMessagesToMove: t.ApproximateNumberOfMessagesToMove,
			FailureReason:                     t.FailureReason,
		}
		if t.MaxNumberOfMessagesPerSecond > 0 {
			o.MaxNumberOfMessagesPerSecond = new(t.MaxNumberOfMessagesPerSecond)
		}
		if !t.StartedTimestamp.IsZero() {
			o.StartedTimestamp = t.StartedTimestamp.UnixMilli()
		}
		out.Results = append(out.Results, o)
	}
	return out, nil
}

func (s *Server) addPermission(c *call, in *addPermissionInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if in.Label == nil {
		return nil, errMissing("Label")
	}
	return &empty{}, s.svc.AddPermission(c.ctx, backend.PermissionRequest{
		QueueURL: u, Label: *in.Label, AccountIDs: in.AWSAccountIDs, Actions: in.Actions,
	})
}

func (s *Server) removePermission(c *call, in *removePermissionInput) (*empty, error) {
	u, err := c.queueURL(in.QueueURL)
	if err != nil {
		return nil, err
	}
	if in.Label == nil {
		return nil, errMissing("Label")
	}
	return &empty{}, s.svc.RemovePermission(c.ctx, u, *in.Label)
}
