package backend

import (
	"maps"
	"strings"
)

// SystemAttributeNames are the names a receive may list in
// ReceiveRequest.SystemAttributeNames: SQS's MessageSystemAttributeName
// enumeration, "All" first.
var SystemAttributeNames = []string{
	"All",
	"SenderId",
	"SentTimestamp",
	"ApproximateReceiveCount",
	"ApproximateFirstReceiveTimestamp",
	"SequenceNumber",
	"MessageDeduplicationId",
	"MessageGroupId",
	"AWSTraceHeader",
	"DeadLetterQueueSourceArn",
}

// WantsSystemAttribute reports whether a receive that listed names asks
// for the system attribute name: names holds name or "All".
func WantsSystemAttribute(names []string, name string) bool {
	for _, n := range names {
		if n == name || n == "All" {
			return true
		}
	}
	return false
}

// SelectMessageAttributes returns the attributes of attrs that a receive
// listing names asks for, as SQS selects them: all of them for "All", "*"
// or ".*"; for "prefix.*", those whose names begin with prefix ("Hel.*"
// selects "Hello" and "Help.Me"); and those named exactly. Names are
// case-sensitive, and a name no attribute can have ("AWS.x", "..foo")
// selects nothing. The result is a new map, never attrs itself, so the
// caller may hand it out; it is nil when nothing is selected, and nothing
// is allocated when attrs is empty.
func SelectMessageAttributes(attrs map[string]MessageAttributeValue, names []string) map[string]MessageAttributeValue {
	if len(attrs) == 0 || len(names) == 0 {
		return nil
	}
	for _, n := range names {
		if n == "All" || n == "*" || n == ".*" {
			return maps.Clone(attrs)
		}
	}
	var out map[string]MessageAttributeValue
	for name, v := range attrs {
		if !selected(name, names) {
			continue
		}
		if out == nil {
			out = make(map[string]MessageAttributeValue, len(attrs))
		}
		out[name] = v
	}
	return out
}

// selected reports whether the attribute name matches one of names.
func selected(name string, names []string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(n, ".*"); ok && strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
