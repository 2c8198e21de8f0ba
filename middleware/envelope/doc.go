// Package envelope unwraps the envelopes that AWS services put around
// messages they deliver to SQS, so that handlers see the message itself:
//
//   - SNS: a queue subscribed to a topic (raw message delivery off)
//     receives a JSON notification. The SNS middleware hands the handler
//     the published message as the body and the published message
//     attributes as message attributes, with the topic, subject, SNS
//     message id and timestamp from SNSFrom. It unwraps only
//     notifications from the topics it is given, and with a Verifier
//     checks their signatures (SignatureVersion 1 and 2).
//   - EventBridge: a rule with an SQS target delivers the event as JSON.
//     The EventBridge middleware hands the handler the event's detail as
//     the body, its detail type and source as the message attributes
//     "detail-type" and "source" (a middleware.Router dispatches on
//     either), and the whole event from EventFrom.
//
// Each is a consumer.Middleware; put it outside the middleware that reads
// the body or the attributes (Router, Job, telemetry):
//
//	h := consumer.Chain(router,
//		envelope.SNS(envelope.SNSConfig{TopicARNs: []string{topicARN}, Verifier: &envelope.Verifier{}}),
//		tel.Middleware(), // continues a trace context published as SNS attributes
//		middleware.Logging(logger),
//	)
//
// On the producer side, typed jobs (middleware.NewJob) published to a
// topic with the same body and attributes arrive as the same jobs; where
// there is no SNS (the in-process engine, tests), SNSMessage builds the
// message SNS would deliver.
//
// # Delivery semantics
//
// The middleware runs inside one delivery and changes nothing about it:
// the handler's outcome is the message's. The handler gets a copy of the
// message, so the server's own (its receipt handle, id and system
// attributes, which stay the SQS message's) is left as it was.
//
// # Errors
//
// A body that is not what the middleware unwraps (ErrNotSNS,
// ErrNotEventBridge), from a topic or source not allowed
// (ErrTopicNotAllowed, ErrSourceNotAllowed), or whose signature does not
// verify (ErrSignature) is a consumer.Permanent failure: it goes to
// QueueConfig.OnPermanent and is deleted, never retried, and the handler
// does not run. With PassThrough, a body that is not an envelope at all
// goes to the handler unchanged instead. A signing certificate that could
// not be fetched is an ordinary error: the message is retried.
package envelope
