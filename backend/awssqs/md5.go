package awssqs

import (
	"fmt"

	"github.com/postbox-go/postbox/backend"
)

// The SDK checks the MD5 of message bodies but not of message attributes,
// which the other AWS SDKs check; the adapter checks those itself, unless
// Config.SkipAttributeMD5Check is set.

// attributesMD5 is SQS's MD5OfMessageAttributes of attrs ("" when there
// are none), as the native engine computes it.
func attributesMD5(attrs map[string]backend.MessageAttributeValue) string {
	return backend.MD5OfMessageAttributes(attrs)
}

// errAttributesMD5 is the error for an answer whose MD5OfMessageAttributes
// does not match.
func errAttributesMD5(what, id, got, want string) error {
	return newTransportError(fmt.Errorf(
		"awssqs: message attribute checksum validation failed: %s %s has MD5OfMessageAttributes %q, want %q",
		what, id, got, want))
}

// checkSentAttributes compares the MD5OfMessageAttributes of each sent
// message with its attributes; a sent message without attributes must have
// none.
func checkSentAttributes(entries []backend.SendEntry, results []backend.SendResult) error {
	for i := range results {
		r := &results[i]
		if r.Err != nil {
			continue
		}
		want := attributesMD5(entries[i].MessageAttributes)
		if r.MD5OfMessageAttributes == "" && want != "" {
			continue // not sent back: nothing to check
		}
		if r.MD5OfMessageAttributes != want {
			return errAttributesMD5("sent message", r.MessageID, r.MD5OfMessageAttributes, want)
		}
	}
	return nil
}

// checkReceivedAttributes compares the MD5OfMessageAttributes of each
// received message that carries both attributes and a checksum.
func checkReceivedAttributes(msgs []*backend.Message) error {
	for _, m := range msgs {
		if m.MD5OfMessageAttributes == "" || len(m.MessageAttributes) == 0 {
			continue
		}
		if want := attributesMD5(m.MessageAttributes); m.MD5OfMessageAttributes != want {
			return errAttributesMD5("received message", m.MessageID, m.MD5OfMessageAttributes, want)
		}
	}
	return nil
}
