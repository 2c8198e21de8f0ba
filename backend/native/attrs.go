package native

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/postbox-go/postbox/backend"
)

// Queue attribute names.
const (
	attrAll                          = "All"
	attrPolicy                       = "Policy"
	attrVisibilityTimeout            = "VisibilityTimeout"
	attrMaximumMessageSize           = "MaximumMessageSize"
	attrMessageRetentionPeriod       = "MessageRetentionPeriod"
	attrApproxMessages               = "ApproximateNumberOfMessages"
	attrApproxNotVisible             = "ApproximateNumberOfMessagesNotVisible"
	attrApproxDelayed                = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp             = "CreatedTimestamp"
	attrLastModifiedTimestamp        = "LastModifiedTimestamp"
	attrQueueArn                     = "QueueArn"
	attrDelaySeconds                 = "DelaySeconds"
	attrReceiveMessageWaitTime       = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy                = "RedrivePolicy"
	attrRedriveAllowPolicy           = "RedriveAllowPolicy"
	attrFifoQueue                    = "FifoQueue"
	attrContentBasedDeduplication    = "ContentBasedDeduplication"
	attrKmsMasterKeyID               = "KmsMasterKeyId"
	attrKmsDataKeyReusePeriodSeconds = "KmsDataKeyReusePeriodSeconds"
	attrDeduplicationScope           = "DeduplicationScope"
	attrFifoThroughputLimit          = "FifoThroughputLimit"
	attrSqsManagedSseEnabled         = "SqsManagedSseEnabled"
)

// readOnlyAttrs are computed by the engine and cannot be set.
var readOnlyAttrs = map[string]bool{
	attrApproxMessages: true, attrApproxNotVisible: true, attrApproxDelayed: true,
	attrCreatedTimestamp: true, attrLastModifiedTimestamp: true, attrQueueArn: true,
}

// fifoOnlyAttrs apply only to FIFO queues.
var fifoOnlyAttrs = map[string]bool{
	attrFifoQueue: true, attrContentBasedDeduplication: true,
	attrDeduplicationScope: true, attrFifoThroughputLimit: true,
}

// settableAttrs are the attributes CreateQueue and SetQueueAttributes take.
var settableAttrs = map[string]bool{
	attrPolicy: true, attrVisibilityTimeout: true, attrMaximumMessageSize: true,
	attrMessageRetentionPeriod: true, attrDelaySeconds: true, attrReceiveMessageWaitTime: true,
	attrRedrivePolicy: true, attrRedriveAllowPolicy: true, attrFifoQueue: true,
	attrContentBasedDeduplication: true, attrKmsMasterKeyID: true,
	attrKmsDataKeyReusePeriodSeconds: true, attrDeduplicationScope: true,
	attrFifoThroughputLimit: true, attrSqsManagedSseEnabled: true,
}

// queueConfig is a queue's parsed, validated settable attributes.
type queueConfig struct {
	visibility   int // seconds
	maxSize      int
	retention    int // seconds
	delay        int // seconds
	waitTime     int // seconds
	fifo         bool
	contentDedup bool
	dedupScope   string // "queue" | "messageGroup"
	throughput   string // "perQueue" | "perMessageGroupId"
	policy       string
	redrive      *redrivePolicy
	redriveRaw   string
	allow        *redriveAllowPolicy
	allowRaw     string
	kmsKey       string
	kmsReuse     int
	sseEnabled   bool // reported always; a KMS key turns it off for good
}

type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

type redriveAllowPolicy struct {
	RedrivePermission string   `json:"redrivePermission"`
	SourceQueueArns   []string `json:"sourceQueueArns,omitempty"`
}

func defaultConfig(fifo bool) queueConfig {
	c := queueConfig{
		visibility: backend.DefaultVisibilityTimeout,
		maxSize:    backend.MaxMessageSize,
		retention:  backend.DefaultRetentionPeriod,
		fifo:       fifo,
		kmsReuse:   300,
		sseEnabled: true,
	}
	if fifo {
		c.dedupScope = "queue"
		c.throughput = "perQueue"
	}
	return c
}

func invalidValue(name, value, reason string) *backend.Error {
	return backend.NewError(backend.CodeInvalidAttributeValue,
		"Invalid value for the parameter %s. Reason: %s (got %q).", name, reason, value)
}

func parseIntAttr(name, v string, lo, hi int) (int, *backend.Error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, invalidValue(name, v, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return n, nil
}

func parseBoolAttr(name, v string) (bool, *backend.Error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidValue(name, v, "must be true or false")
}

// applyAttrs validates attrs and applies them to a copy of c. It checks every
// attribute before changing anything, so a bad one changes nothing. creating
// is true for CreateQueue (FifoQueue may only be given then).
func applyAttrs(c queueConfig, attrs backend.Attributes, creating bool) (queueConfig, *backend.Error) {
	for name, v := range attrs {
		if !settableAttrs[name] {
			return c, backend.NewError(backend.CodeInvalidAttributeName, "Unknown Attribute %s.", name)
		}
		if fifoOnlyAttrs[name] && !c.fifo && name != attrFifoQueue {
			return c, backend.NewError(backend.CodeInvalidAttributeName, "Unknown Attribute %s.", name)
		}
		var err *backend.Error
		switch name {
		case attrVisibilityTimeout:
			c.visibility, err = parseIntAttr(name, v, 0, backend.MaxVisibilityTimeout)
		case attrMaximumMessageSize:
			c.maxSize, err = parseIntAttr(name, v, backend.MinMaximumMessageSize, backend.MaxMessageSize)
		case attrMessageRetentionPeriod:
			c.retention, err = parseIntAttr(name, v, backend.MinRetentionPeriod, backend.MaxRetentionPeriod)
		case attrDelaySeconds:
			c.delay, err = parseIntAttr(name, v, 0, backend.MaxDelaySeconds)
		case attrReceiveMessageWaitTime:
			c.waitTime, err = parseIntAttr(name, v, 0, backend.MaxWaitTimeSeconds)
		case attrKmsDataKeyReusePeriodSeconds:
			c.kmsReuse, err = parseIntAttr(name, v, 60, 86400)
		case attrFifoQueue:
			if !creating {
				// SQS's exact answer: FifoQueue is known only to
				// CreateQueue.
				return c, backend.NewError(backend.CodeInvalidAttributeName, "Unknown Attribute FifoQueue.")
			}
			var b bool
			b, err = parseBoolAttr(name, v)
			if err == nil && b != c.fifo {
				return c, backend.NewError(backend.CodeInvalidParameterValue,
					"The FifoQueue attribute (%s) does not match the queue name: a FIFO queue's name must end in .fifo, and a queue named .fifo must set FifoQueue to true.", v)
			}
		case attrContentBasedDeduplication:
			c.contentDedup, err = parseBoolAttr(name, v)
		case attrSqsManagedSseEnabled:
			c.sseEnabled, err = parseBoolAttr(name, v)
		case attrDeduplicationScope:
			if v != "queue" && v != "messageGroup" {
				err = invalidValue(name, v, "must be queue or messageGroup")
			}
			c.dedupScope = v
		case attrFifoThroughputLimit:
			if v != "perQueue" && v != "perMessageGroupId" {
				err = invalidValue(name, v, "must be perQueue or perMessageGroupId")
			}
			c.throughput = v
		case attrKmsMasterKeyID:
			c.kmsKey = v
		case attrPolicy:
			// CreateQueue and SetAttributes also check the policy language
			// and SQS's limits (checkPolicy); recovery accepts what an
			// older version stored.
			if v != "" && !json.Valid([]byte(v)) {
				err = invalidValue(name, v, "the policy is not valid JSON")
			}
			c.policy = v
		case attrRedrivePolicy:
			c.redrive, err = parseRedrivePolicy(v)
			c.redriveRaw = ""
			if c.redrive != nil {
				b, _ := json.Marshal(c.redrive)
				c.redriveRaw = string(b)
			}
		case attrRedriveAllowPolicy:
			c.allow, err = parseRedriveAllowPolicy(v)
			c.allowRaw = ""
			if c.allow != nil {
				b, _ := json.Marshal(c.allow)
				c.allowRaw = string(b)
			}
		}
		if err != nil {
			return c, err
		}
	}
	if attrs[attrKmsMasterKeyID] != "" {
		// SSE-KMS replaces SSE-SQS: SqsManagedSseEnabled turns false and
		// stays false when the key is removed again, as in SQS.
		c.sseEnabled = false
	}
	if c.fifo && c.throughput == "perMessageGroupId" && c.dedupScope != "messageGroup" {
		return c, invalidValue(attrFifoThroughputLimit, c.throughput,
			"perMessageGroupId is allowed only when DeduplicationScope is messageGroup")
	}
	return c, nil
}

// checkSSE refuses a request that turns on both kinds of server-side
// encryption: a KMS key and SqsManagedSseEnabled=true are mutually
// exclusive in SQS.
func checkSSE(attrs backend.Attributes) *backend.Error {
	if attrs[attrKmsMasterKeyID] == "" {
		return nil
	}
	if v, ok := attrs[attrSqsManagedSseEnabled]; ok && strings.EqualFold(strings.TrimSpace(v), "true") {
		return backend.NewError(backend.CodeInvalidAttributeValue,
			"Invalid value for the parameter KmsMasterKeyId. Reason: You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
	}
	return nil
}

// invalidPolicy is SQS's answer to a malformed or unusable RedrivePolicy:
// "Value ... for parameter RedrivePolicy is invalid", InvalidParameterValue.
func invalidPolicy(name, value, reason string) *backend.Error {
	return backend.NewError(backend.CodeInvalidParameterValue,
		"Value %s for parameter %s is invalid. Reason: %s.", value, name, reason)
}

func parseRedrivePolicy(v string) (*redrivePolicy, *backend.Error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil // an empty policy removes the dead-letter queue
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, invalidPolicy(attrRedrivePolicy, v, "the policy is not a valid JSON object")
	}
	p := &redrivePolicy{MaxReceiveCount: 10} // SQS's default when none is given
	for k, val := range raw {
		switch k {
		case "deadLetterTargetArn":
			s, ok := val.(string)
			if !ok {
				return nil, invalidPolicy(attrRedrivePolicy, v, "deadLetterTargetArn must be a string")
			}
			p.DeadLetterTargetArn = s
		case "maxReceiveCount":
			n, ok := jsonInt(val)
			if !ok {
				return nil, invalidPolicy(attrRedrivePolicy, v, "maxReceiveCount must be an integer")
			}
			p.MaxReceiveCount = n
		default:
			return nil, invalidPolicy(attrRedrivePolicy, v, "unknown field "+k)
		}
	}
	if p.DeadLetterTargetArn == "" {
		return nil, invalidPolicy(attrRedrivePolicy, v, "deadLetterTargetArn is required")
	}
	if p.MaxReceiveCount < 1 || p.MaxReceiveCount > 1000 {
		return nil, invalidPolicy(attrRedrivePolicy, v, "maxReceiveCount must be from 1 to 1000")
	}
	return p, nil
}

// jsonInt accepts a JSON number or a decimal string holding an integer, as
// SQS does for maxReceiveCount.
func jsonInt(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

func parseRedriveAllowPolicy(v string) (*redriveAllowPolicy, *backend.Error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	p := &redriveAllowPolicy{}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, invalidValue(attrRedriveAllowPolicy, v, "the policy is not a valid JSON object")
	}
	switch p.RedrivePermission {
	case "allowAll", "denyAll":
		if len(p.SourceQueueArns) > 0 {
			return nil, invalidValue(attrRedriveAllowPolicy, v, "sourceQueueArns may be given only with redrivePermission byQueue")
		}
	case "byQueue":
		if len(p.SourceQueueArns) == 0 || len(p.SourceQueueArns) > 10 {
			return nil, invalidValue(attrRedriveAllowPolicy, v, "byQueue needs 1 to 10 sourceQueueArns")
		}
	default:
		return nil, invalidValue(attrRedriveAllowPolicy, v, "redrivePermission must be allowAll, denyAll or byQueue")
	}
	return p, nil
}

// value returns the settable attribute name as GetQueueAttributes reports
// it, and whether the queue has it.
func (c *queueConfig) value(name string) (string, bool) {
	switch name {
	case attrVisibilityTimeout:
		return strconv.Itoa(c.visibility), true
	case attrMaximumMessageSize:
		return strconv.Itoa(c.maxSize), true
	case attrMessageRetentionPeriod:
		return strconv.Itoa(c.retention), true
	case attrDelaySeconds:
		return strconv.Itoa(c.delay), true
	case attrReceiveMessageWaitTime:
		return strconv.Itoa(c.waitTime), true
	case attrSqsManagedSseEnabled:
		return strconv.FormatBool(c.sseEnabled), true
	case attrKmsMasterKeyID:
		return c.kmsKey, c.kmsKey != ""
	case attrKmsDataKeyReusePeriodSeconds:
		return strconv.Itoa(c.kmsReuse), c.kmsKey != ""
	case attrPolicy:
		return c.policy, c.policy != ""
	case attrRedrivePolicy:
		return c.redriveRaw, c.redrive != nil
	case attrRedriveAllowPolicy:
		return c.allowRaw, c.allow != nil
	case attrFifoQueue:
		return "true", c.fifo
	case attrContentBasedDeduplication:
		return strconv.FormatBool(c.contentDedup), c.fifo
	case attrDeduplicationScope:
		return c.dedupScope, c.fifo
	case attrFifoThroughputLimit:
		return c.throughput, c.fifo
	}
	return "", false
}

// differs returns the first attribute (in name order) of attrs whose
// value, normalised, differs from the queue's current value, or "" when
// every one matches: CreateQueue on an existing name is idempotent only
// then.
func (c *queueConfig) differs(attrs backend.Attributes) string {
	probe, _ := applyAttrs(defaultConfig(c.fifo), attrs, true) // attrs passed applyAttrs already
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if name == attrFifoQueue {
			continue // already checked against the name
		}
		want, _ := probe.value(name)
		have, _ := c.value(name)
		if want != have {
			return name
		}
	}
	return ""
}
