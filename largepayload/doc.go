// Package largepayload sends message payloads over SQS's size limit
// through S3, in the wire format of the Amazon SQS Extended Client
// Libraries for Java and Python, so that messages pass both ways between
// postbox and those clients.
//
// A message whose body and attributes are over a threshold (256 KiB by
// default, up to SQS's 1 MiB) is sent as a pointer: the payload is stored
// as an object, and the message's body becomes
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"...","s3Key":"..."}]
//
// with the Number message attribute ExtendedPayloadSize holding the
// payload's size in bytes. The consumer side reads pointers written that
// way, by the Java client 1.x (com.amazon.sqs.javamessaging.MessageS3Pointer,
// SQSLargePayloadSize) and by the Python client (the same JSON with spaces).
//
// Producer side, an Offloader:
//
//	store := largepayload.S3Store{Client: s3.NewFromConfig(awsCfg)}
//	o, err := largepayload.NewOffloader(largepayload.Config{Store: store, Bucket: "my-payloads"})
//	...
//	m, err = o.Message(ctx, m) // a pointer if m is large
//	_, err = p.Send(ctx, m)
//
// or o.Queue(q), a backend.Queue whose Send offloads large entries by
// itself (for messages up to 1 MiB: package producer refuses larger ones
// before they reach a queue, so use Message for those).
//
// Consumer side, the Resolve middleware:
//
//	h := consumer.Chain(router, largepayload.Resolve(largepayload.ResolveConfig{Store: store}), ...)
//
// The Store interface has three implementations: S3Store (any S3 endpoint,
// through aws-sdk-go-v2's client or anything with its three methods),
// MemStore and FileStore, for tests and the in-process engine.
//
// # Delivery semantics
//
// The payload is stored before its pointer is sent; a send that fails
// leaves the object behind (expire such objects with an S3 lifecycle rule).
// By default the object stays after its message is handled, so that a
// message delivered twice finds it; ResolveConfig.DeleteAfterSuccess
// deletes it once the handler has returned nil (never after a failure or a
// permanent error, whose message may be retried or forwarded). A message
// whose object is gone is a permanent failure (ErrPayloadGone): it can never
// be handled.
//
// # Errors
//
// NewOffloader reports the first bad option; Offloader.Message returns the
// store's error, or one for a message with no room for the size attribute.
// Resolve fails permanently for a pointer that is malformed
// (ErrBadPointer), names a bucket not allowed, is over the size limit, or
// whose payload is gone (ErrPayloadGone); the store's other errors, and
// the end of the message's context while reading, are ordinary failures,
// retried.
package largepayload
