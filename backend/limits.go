package backend

// SQS's limits, as the SQS API Reference and Developer Guide state them.
// Every backend enforces the same numbers.
const (
	// MaxMessageSize is the largest message, in bytes: the UTF-8 body plus,
	// for each message attribute, its name, data type and value. It is also
	// the most a whole SendMessageBatch request may total, and the largest
	// MaximumMessageSize queue attribute.
	MaxMessageSize = 1048576
	// MinMaximumMessageSize is the smallest value of the MaximumMessageSize
	// queue attribute, in bytes.
	MinMaximumMessageSize = 1024
	// MaxDelaySeconds is the longest message or queue delay, in seconds
	// (15 minutes).
	MaxDelaySeconds = 900
	// MaxVisibilityTimeout is the longest visibility timeout, in seconds
	// (12 hours).
	MaxVisibilityTimeout = 43200
	// MaxWaitTimeSeconds is the longest long-poll wait of a receive, in
	// seconds.
	MaxWaitTimeSeconds = 20
	// MaxReceiveMessages is the most messages one receive returns.
	MaxReceiveMessages = 10
	// MinRetentionPeriod is the shortest MessageRetentionPeriod, in seconds
	// (1 minute).
	MinRetentionPeriod = 60
	// MaxRetentionPeriod is the longest MessageRetentionPeriod, in seconds
	// (14 days).
	MaxRetentionPeriod = 1209600
	// DefaultRetentionPeriod is the MessageRetentionPeriod of a queue that
	// sets none, in seconds (4 days).
	DefaultRetentionPeriod = 345600
	// DefaultVisibilityTimeout is the VisibilityTimeout of a queue that sets
	// none, in seconds.
	DefaultVisibilityTimeout = 30
	// MaxMessageAttributes is the most message attributes one message has.
	MaxMessageAttributes = 10
	// MaxAttributeNameLength is the longest message attribute name, and the
	// longest message attribute data type, in characters.
	MaxAttributeNameLength = 256
	// MaxQueueNameLength is the longest queue name, ".fifo" suffix included.
	MaxQueueNameLength = 80
	// MaxBatchEntryIDLength is the longest Id of a batch entry.
	MaxBatchEntryIDLength = 80
	// MaxTags is the most tags one queue carries, and the most one TagQueue
	// call may add.
	MaxTags = 50
	// MaxTagKeyLength is the longest tag key, in characters.
	MaxTagKeyLength = 128
	// MaxTagValueLength is the longest tag value, in characters.
	MaxTagValueLength = 256
	// MaxDeduplicationIDLength is the longest MessageDeduplicationId.
	MaxDeduplicationIDLength = 128
	// MaxGroupIDLength is the longest MessageGroupId.
	MaxGroupIDLength = 128
	// MaxAttemptIDLength is the longest ReceiveRequestAttemptId.
	MaxAttemptIDLength = 128
	// MaxInflightMessages is the most in-flight (received, neither deleted
	// nor visible again) messages of a standard queue; a receive beyond it
	// fails with OverLimit.
	MaxInflightMessages = 120000
)
