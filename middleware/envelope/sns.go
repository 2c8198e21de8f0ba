package envelope

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// Errors of the SNS middleware, matched with errors.Is. Each comes marked
// consumer.Permanent: a body that is not a notification from an allowed
// topic, or whose signature does not verify, will not become one.
var (
	// ErrNotSNS: the body is not an SNS notification.
	ErrNotSNS = errors.New("envelope: not an SNS notification")
	// ErrTopicNotAllowed: the notification names a topic not in
	// SNSConfig.TopicARNs.
	ErrTopicNotAllowed = errors.New("envelope: SNS topic not allowed")
	// ErrSignature: the notification's signature is missing, malformed or
	// wrong, or its signing certificate's URL is not SNS's.
	ErrSignature = errors.New("envelope: SNS signature does not verify")
)

// SNSNotification is an SNS message as SNS delivers it to an SQS queue
// subscribed without raw message delivery: the JSON document that is the
// SQS message's body.
type SNSNotification struct {
	// Type is "Notification" (or, for a subscription across accounts,
	// "SubscriptionConfirmation" and "UnsubscribeConfirmation").
	Type string `json:"Type"`
	// MessageID is SNS's id of the message (not the SQS message's).
	MessageID string `json:"MessageId"`
	// TopicARN is the topic the message was published to.
	TopicARN string `json:"TopicArn"`
	// Subject is the subject given to Publish; empty when none was.
	Subject string `json:"Subject,omitempty"`
	// Message is the message published: what the handler sees as the body.
	Message string `json:"Message"`
	// Timestamp is when SNS received the message, as SNS wrote it
	// (RFC 3339 in UTC with milliseconds); see Time.
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion,omitempty"`
	Signature        string `json:"Signature,omitempty"`
	SigningCertURL   string `json:"SigningCertURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
	// MessageAttributes are the attributes given to Publish.
	MessageAttributes map[string]SNSAttribute `json:"MessageAttributes,omitempty"`
	// SubscribeURL and Token are set on subscription confirmations only.
	SubscribeURL string `json:"SubscribeURL,omitempty"`
	Token        string `json:"Token,omitempty"`
}

// SNSAttribute is one message attribute in an SNS notification: Type is
// "String", "Number", "Binary" or "String.Array"; Value is the value, in
// base64 for Binary.
type SNSAttribute struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

// Time parses Timestamp; the zero time if it does not parse.
func (n *SNSNotification) Time() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, n.Timestamp)
	return t
}

// Attributes returns the notification's message attributes as consumer
// attribute values: String, Number and String.Array (whose value is the
// JSON array's text) keep their Value as StringValue; Binary's base64 Value
// is decoded into BinaryValue.
func (n *SNSNotification) Attributes() (map[string]backend.MessageAttributeValue, error) {
	if len(n.MessageAttributes) == 0 {
		return nil, nil
	}
	out := make(map[string]backend.MessageAttributeValue, len(n.MessageAttributes))
	for k, a := range n.MessageAttributes {
		v := backend.MessageAttributeValue{DataType: a.Type}
		if a.Type == "Binary" {
			b, err := base64.StdEncoding.DecodeString(a.Value)
			if err != nil {
				return nil, fmt.Errorf("attribute %q: binary value is not base64: %w", k, err)
			}
			v.BinaryValue = b
		} else {
			v.StringValue = a.Value
		}
		out[k] = v
	}
	return out, nil
}

// ParseSNS parses body as an SNS notification; the error matches ErrNotSNS
// when it is not one (not a JSON object with a Type, a TopicArn and a
// MessageId).
func ParseSNS(body string) (*SNSNotification, error) {
	var n SNSNotification
	if err := json.Unmarshal([]byte(body), &n); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSNS, err)
	}
	if n.Type == "" || n.TopicARN == "" || n.MessageID == "" {
		return nil, fmt.Errorf("%w: no Type, TopicArn or MessageId", ErrNotSNS)
	}
	return &n, nil
}

// SNSConfig configures SNS.
type SNSConfig struct {
	// TopicARNs are the topics whose notifications are unwrapped; a
	// notification from any other topic is refused (ErrTopicNotAllowed),
	// since a body can claim to be anything. Required.
	TopicARNs []string
	// Verifier, when not nil, checks each notification's signature
	// before it is unwrapped. Nil: no check (the queue's policy then
	// decides who may send, for example only the topics'
	// aws:SourceArn).
	Verifier *Verifier
	// PassThrough hands a message whose body is not an SNS notification to
	// the next handler unchanged (a queue that also receives direct sends,
	// or raw message deliveries). Default: such a message is a permanent
	// failure matching ErrNotSNS.
	PassThrough bool
}

type snsKey struct{}

// SNSFrom returns the SNS notification whose Message the handler is
// handling, and false outside the SNS middleware.
func SNSFrom(ctx context.Context) (*SNSNotification, bool) {
	n, ok := ctx.Value(snsKey{}).(*SNSNotification)
	return n, ok
}

// SNS returns middleware that unwraps SNS notifications: the next handler
// gets a copy of the message whose Body is the notification's Message and
// whose MessageAttributes are the notification's (SNSNotification.
// Attributes), added to the SQS message's own; the notification itself
// (topic, subject, SNS message id, timestamp) is in the context, see
// SNSFrom. Other fields of the message (id, receipt handle, system
// attributes such as AWSTraceHeader) are the SQS message's.
//
// Only notifications (Type "Notification") from cfg.TopicARNs are
// unwrapped, after their signature is verified when cfg.Verifier is set.
// Everything else fails permanently, with an error matching ErrNotSNS,
// ErrTopicNotAllowed or ErrSignature, so that it goes to
// QueueConfig.OnPermanent and is deleted; except that a failure to fetch
// a signing certificate is an ordinary error (the message is retried).
//
// Put it before middleware/telemetry's middleware in the chain, so that a
// trace context published as SNS message attributes is continued.
//
// It panics if cfg.TopicARNs is empty.
func SNS(cfg SNSConfig) consumer.Middleware {
	if len(cfg.TopicARNs) == 0 {
		panic("envelope: SNS needs the allowed TopicARNs")
	}
	topics := slices.Clone(cfg.TopicARNs)
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			n, err := ParseSNS(msg.Body)
			if err != nil {
				if cfg.PassThrough {
					return next.HandleMessage(ctx, msg)
				}
				return consumer.Permanent(err)
			}
			if !slices.Contains(topics, n.TopicARN) {
				return consumer.Permanent(fmt.Errorf("%w: %s", ErrTopicNotAllowed, n.TopicARN))
			}
			if n.Type != "Notification" {
				return consumer.Permanent(fmt.Errorf("%w: a %s from %s (confirm a subscription with its SubscribeURL)", ErrNotSNS, n.Type, n.TopicARN))
			}
			if cfg.Verifier != nil {
				if err := cfg.Verifier.Verify(ctx, n); err != nil {
					return err
				}
			}
			attrs, err := n.Attributes()
			if err != nil {
				return consumer.Permanent(fmt.Errorf("%w: %v", ErrNotSNS, err))
			}
			inner := *msg
			inner.Body = n.Message
			if len(msg.MessageAttributes) > 0 && len(attrs) > 0 {
				merged := maps.Clone(msg.MessageAttributes)
				maps.Copy(merged, attrs)
				attrs = merged
			} else if len(attrs) == 0 {
				attrs = msg.MessageAttributes
			}
			inner.MessageAttributes = attrs
			return next.HandleMessage(context.WithValue(ctx, snsKey{}, n), &inner)
		})
	}
}
