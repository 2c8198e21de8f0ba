package server

import "github.com/postbox-go/postbox/backend"

// traceIDHeader is the HTTP header of the AWS X-Ray trace of a request.
const traceIDHeader = "X-Amzn-Trace-Id"

// awsTraceHeader is the message system attribute that carries a trace.
const awsTraceHeader = "AWSTraceHeader"

// addTraceHeader gives e the request's X-Amzn-Trace-Id header as its
// AWSTraceHeader system attribute, as SQS does, when the request sets none
// for it (an attribute in the request wins) and the header is a value SQS
// would take. It reports whether it did: the answer then carries no
// MD5OfMessageSystemAttributes for e, since the client sent no system
// attribute to check it against.
func (c *call) addTraceHeader(e *backend.SendEntry) bool {
	if c.traceID == "" || !backend.ValidChars(c.traceID) {
		return false
	}
	if _, ok := e.MessageSystemAttributes[awsTraceHeader]; ok {
		return false
	}
	attrs := make(map[string]backend.MessageAttributeValue, len(e.MessageSystemAttributes)+1)
	for k, v := range e.MessageSystemAttributes {
		attrs[k] = v
	}
	attrs[awsTraceHeader] = backend.MessageAttributeValue{DataType: "String", StringValue: c.traceID}
	e.MessageSystemAttributes = attrs
	return true
}
