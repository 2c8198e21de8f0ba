package backend

import (
	"context"
	"time"
)

// MaxBatchEntries is the most entries one batch call takes, as in SQS.
const MaxBatchEntries = 10

// Attributes are queue attributes by their SQS names (for example
// "VisibilityTimeout", "RedrivePolicy"), with values in SQS's string form.
type Attributes map[string]string

// MessageAttributeValue is one message attribute. DataType is "String",
// "Number" or "Binary", optionally followed by a custom ".suffix"
// ("Number.int", "Binary.png"). String and Number types carry StringValue;
// Binary types carry BinaryValue.
type MessageAttributeValue struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// SendEntry is one message to send.
type SendEntry struct {
	// ID identifies the entry within its batch: 1-80 characters of
	// alphanumerics, '-' and '_', distinct within the batch.
	ID string
	// Body is the message body: at least one character, only characters SQS
	// allows.
	Body string
	// DelaySeconds (0-900) overrides the queue's DelaySeconds for this
	// message when not nil. FIFO queues accept only 0, which leaves the
	// queue's DelaySeconds in force.
	DelaySeconds *int
	// MessageAttributes are the message's user attributes (at most 10).
	MessageAttributes map[string]MessageAttributeValue
	// MessageSystemAttributes may carry "AWSTraceHeader" (a String).
	MessageSystemAttributes map[string]MessageAttributeValue
	// MessageGroupID is required on FIFO queues; on standard queues it
	// names the message's tenant for fair queueing.
	MessageGroupID string
	// MessageDeduplicationID is the FIFO deduplication id (1-128 characters).
	MessageDeduplicationID string
	// MessageGroupIDSet and MessageDeduplicationIDSet say that the
	// caller gave the id even though it is empty: SQS rejects an empty id
	// as invalid (InvalidParameterValue), on standard queues too, while an
	// id not given is no error on a standard queue. A non-empty id counts
	// as given whatever they say.
	MessageGroupIDSet, MessageDeduplicationIDSet bool
}

// SendResult is the outcome of one SendEntry.
type SendResult struct {
	ID                           string
	MessageID                    string
	MD5OfMessageBody             string
	MD5OfMessageAttributes       string // empty when the message has no attributes
	MD5OfMessageSystemAttributes string // empty when it has no system attributes
	SequenceNumber               string // FIFO queues only
	// Err is nil on success; otherwise it is an error that is a *Error,
	// usable with errors.Is against the Err* sentinels and with Code.
	Err error
}

// ReceiveRequest describes one receive call.
type ReceiveRequest struct {
	// MaxMessages is the most messages to return, 1-10; 0 means 1.
	MaxMessages int
	// WaitTimeSeconds (0-20) is how long to wait for a message when none is
	// available. nil means the queue's ReceiveMessageWaitTimeSeconds.
	WaitTimeSeconds *int
	// VisibilityTimeout (0-43,200 seconds) overrides the queue's default for
	// the received messages when not nil.
	VisibilityTimeout *int
	// SystemAttributeNames lists the system attributes to return
	// ("SentTimestamp", "ApproximateReceiveCount", ... or "All"). It merges
	// SQS's AttributeNames and MessageSystemAttributeNames.
	SystemAttributeNames []string
	// MessageAttributeNames lists the message attributes to return: names,
	// "prefix.*" patterns, or "All" (also ".*").
	MessageAttributeNames []string
	// ReceiveRequestAttemptID makes a retried FIFO receive return the same
	// messages (FIFO queues only, up to 128 characters).
	ReceiveRequestAttemptID string
}

// Message is a received message.
type Message struct {
	MessageID              string
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	MD5OfMessageAttributes string // empty when no attributes are returned
	// Attributes holds the requested system attributes, by SQS name.
	Attributes map[string]string
	// MessageAttributes holds the requested message attributes.
	MessageAttributes map[string]MessageAttributeValue
}

// DeleteEntry is one message to delete.
type DeleteEntry struct {
	ID            string
	ReceiptHandle string
}

// VisibilityEntry is one visibility change.
type VisibilityEntry struct {
	ID                string
	ReceiptHandle     string
	VisibilityTimeout int // seconds, 0-43,200
}

// EntryResult is the outcome of one Delete or ChangeVisibility entry.
type EntryResult struct {
	ID string
	// Err is nil on success; otherwise it is an error that is a *Error,
	// usable with errors.Is against the Err* sentinels and with Code.
	Err error
}

// Queue is one queue's message operations. It is safe for concurrent use.
//
// Every method takes 1-10 entries and returns exactly one result per entry,
// in the order given; an entry's failure (Err on its result) never affects
// its neighbours. The error return is for the request as a whole: the queue
// does not exist, the batch itself is malformed (empty, too many entries,
// ids not distinct, too long in total), or ctx ended. When the error return
// is not nil, nothing was changed and the results are nil.
//
// Backends never retry; callers own retries and backoff.
type Queue interface {
	// Send enqueues entries. An entry whose message is invalid fails alone
	// with InvalidParameterValue, InvalidMessageContents or
	// InvalidAttributeValue-class codes; the others are sent. On a FIFO
	// queue, as in SQS, an entry without a MessageGroupId
	// (MissingParameter), or without a MessageDeduplicationId when the
	// queue does not deduplicate by content (InvalidParameterValue),
	// fails the whole request.
	Send(ctx context.Context, entries []SendEntry) ([]SendResult, error)

	// Receive returns up to req.MaxMessages messages, making them invisible
	// for the visibility timeout. Messages older than the queue's
	// MessageRetentionPeriod are never returned, whether they were visible
	// or in flight when they expired. When none is available it waits up to the
	// wait time and returns as soon as one becomes available; it returns an
	// empty slice and a nil error when the wait ends with none. A ctx that
	// ends during the wait ends the wait with ctx's error.
	Receive(ctx context.Context, req ReceiveRequest) ([]*Message, error)

	// Delete deletes messages by receipt handle. Deleting a message that is
	// already gone succeeds, as in SQS; a malformed or forged handle fails
	// its entry with ReceiptHandleIsInvalid.
	Delete(ctx context.Context, entries []DeleteEntry) ([]EntryResult, error)

	// ChangeVisibility sets each message's visibility timeout, counted from
	// now. 0 makes a message visible at once. As in SQS, a message whose
	// visibility timeout ran out and that was not received since is hidden
	// again for the new timeout, and on a standard queue the handle of an
	// earlier receive changes the message as the latest one does; the
	// total stays within 12 hours of the message's latest receive
	// (InvalidParameterValue otherwise). A handle of a message that is gone
	// fails its entry with ReceiptHandleIsInvalid.
	ChangeVisibility(ctx context.Context, entries []VisibilityEntry) ([]EntryResult, error)

	// URL returns the queue's URL.
	URL() string
}

// ListQueuesRequest pages through queues.
type ListQueuesRequest struct {
	Prefix     string // queue name prefix; empty for all
	MaxResults int    // 1-1000; 0 returns every queue without paging
	NextToken  string // from a previous ListQueuesResult
}

// ListQueuesResult is one page of queue URLs.
type ListQueuesResult struct {
	QueueURLs []string
	NextToken string // empty on the last page
}

// MoveTaskRequest starts a message move task.
type MoveTaskRequest struct {
	SourceARN                    string // a dead-letter queue's ARN
	DestinationARN               string // empty: each message's original source queue
	MaxNumberOfMessagesPerSecond int    // 1-500; 0: as fast as possible
}

// Move task statuses.
const (
	MoveTaskRunning    = "RUNNING"
	MoveTaskCompleted  = "COMPLETED"
	MoveTaskCancelling = "CANCELLING"
	MoveTaskCancelled  = "CANCELLED"
	MoveTaskFailed     = "FAILED"
)

// MoveTask describes a message move task.
type MoveTask struct {
	TaskHandle                        string // only while RUNNING
	Status                            string
	SourceARN                         string
	DestinationARN                    string
	MaxNumberOfMessagesPerSecond      int
	ApproximateNumberOfMessagesMoved  int64
	ApproximateNumberOfMessagesToMove int64
	FailureReason                     string
	StartedTimestamp                  time.Time
}

// PermissionRequest is an AddPermission call.
type PermissionRequest struct {
	QueueURL   string
	Label      string
	AccountIDs []string
	Actions    []string
}

// Service administers the queues of one account or endpoint. It is safe for
// concurrent use. Queue URLs are accepted in any of the forms the backend
// issues; a URL naming no existing queue gets QueueDoesNotExist.
type Service interface {
	// CreateQueue creates a queue, or returns the URL of an existing queue
	// of that name when every attribute given matches it
	// (QueueNameExists otherwise).
	CreateQueue(ctx context.Context, name string, attrs Attributes, tags map[string]string) (url string, err error)
	// DeleteQueue deletes a queue and its messages.
	DeleteQueue(ctx context.Context, url string) error
	// QueueURL returns the URL of the named queue; ownerAccountID may be
	// empty for the caller's own account.
	QueueURL(ctx context.Context, name, ownerAccountID string) (string, error)
	// ListQueues lists queue URLs by name prefix, paged.
	ListQueues(ctx context.Context, req ListQueuesRequest) (ListQueuesResult, error)
	// GetAttributes returns the named attributes ("All" for every one).
	GetAttributes(ctx context.Context, url string, names []string) (Attributes, error)
	// SetAttributes changes attributes; on any invalid attribute nothing changes.
	SetAttributes(ctx context.Context, url string, attrs Attributes) error
	// Purge deletes every message in the queue.
	Purge(ctx context.Context, url string) error
	// TagQueue adds or replaces tags.
	TagQueue(ctx context.Context, url string, tags map[string]string) error
	// UntagQueue removes tags by key.
	UntagQueue(ctx context.Context, url string, keys []string) error
	// ListTags returns the queue's tags.
	ListTags(ctx context.Context, url string) (map[string]string, error)
	// ListDeadLetterSourceQueues lists the queues whose RedrivePolicy names
	// url as their dead-letter queue.
	ListDeadLetterSourceQueues(ctx context.Context, url string, req ListQueuesRequest) (ListQueuesResult, error)
	// StartMessageMoveTask starts moving messages out of a dead-letter queue.
	StartMessageMoveTask(ctx context.Context, req MoveTaskRequest) (taskHandle string, err error)
	// CancelMessageMoveTask cancels a running task and returns how many
	// messages it had moved.
	CancelMessageMoveTask(ctx context.Context, taskHandle string) (moved int64, err error)
	// ListMessageMoveTasks lists the most recent tasks of a source queue,
	// newest first (maxResults 1-10; 0 means 1).
	ListMessageMoveTasks(ctx context.Context, sourceARN string, maxResults int) ([]MoveTask, error)
	// AddPermission adds a statement to the queue's access policy.
	AddPermission(ctx context.Context, req PermissionRequest) error
	// RemovePermission removes the statement with that label.
	RemovePermission(ctx context.Context, url, label string) error
	// Queue returns the message operations of the queue at url. It does not
	// check that the queue exists; its operations do.
	Queue(url string) (Queue, error)
	// Close releases the service's resources. Receives parked in a long
	// poll return at once with the messages they have (usually none) and
	// a nil error; later calls fail (the native engine answers
	// ServiceUnavailable). Close is idempotent.
	Close() error
}
