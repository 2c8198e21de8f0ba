// Package lambda runs the handlers of package consumer, with their
// middleware, as the handler of an AWS Lambda function triggered by SQS:
// the same consumer.Handler (or consumer.BatchHandler) serves a worker
// pool and a Lambda function.
//
//	f, err := lambda.New(lambda.Config{
//		Handler:     consumer.Chain(router, tel.Middleware(), middleware.Logging(logger)),
//		Concurrency: 10,
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	f.Start() // aws-lambda-go's runtime loop; never returns
//
// Each record of the SQS event becomes a consumer.Message filled as a
// receive fills it (see Message): id, receipt handle, body, system
// attributes (receive count, sent and first-receive times, FIFO group,
// deduplication id and sequence number, AWSTraceHeader) and message
// attributes, String, Number and Binary. So middleware that reads them
// works unchanged: middleware.Router dispatches on the "type" attribute,
// and middleware/telemetry's Middleware continues the producer's trace
// from the message's attributes or its AWSTraceHeader, as it does in a
// worker.
//
// # Delivery semantics
//
// HandleEvent answers with a partial batch response (batchItemFailures):
// the ids of the messages that failed; Lambda deletes the others. The
// event source mapping must report batch item failures
// (FunctionResponseTypes: ReportBatchItemFailures); without it Lambda
// ignores the answer and deletes the whole batch.
//
// A message is done with when its handler returns nil, or a
// consumer.Permanent error that Config.OnPermanent accepts (returns nil
// for; with no OnPermanent, every permanent error), as in a
// consumer.Server. It fails when its handler returns another error or
// panics, when OnPermanent returns an error, and when its handler has not
// returned, or not started, when the invocation must answer (see
// Config.Reserve). Failed messages come back after the queue's visibility
// timeout (Lambda does not change it), and the queue's RedrivePolicy moves
// them to a dead-letter queue after maxReceiveCount receives. As with any
// SQS consumer, delivery is at least once: handlers must be idempotent.
//
// Handlers run concurrently within an invocation, up to
// Config.Concurrency. The handler's context carries the function's
// deadline less Config.Reserve, and the invocation's metadata
// (lambdacontext.FromContext); it ends when the handler returns.
//
// # FIFO queues
//
// On a FIFO queue (an eventSourceARN ending in ".fifo") the messages of a
// group run one after the other, in the order of the batch, while groups
// run concurrently. After the first failure in a group, that message and
// every later message of the group in the batch are reported as failed,
// and the later ones are not handled: SQS then delivers the group again
// from the failed message, so no message of a group is handled before an
// earlier one succeeded. (AWS's documentation asks a FIFO function to stop
// at its first failure; doing so per group is the same for ordering, since
// groups are independent, and does not hold up the other groups.) With a
// BatchHandler, the results of the later messages of a failed group are
// ignored: they are reported as failed whatever their result.
//
// # Errors
//
// New reports the first bad option. HandleEvent returns an error only for
// an event that is not an SQS event; a handler's failure is reported in the
// response and to Config.OnError as a *consumer.Error. A handler that
// ignores its context and runs past the answer keeps running in the
// background (Lambda freezes it until the next invocation); its message
// was reported as failed and its late outcome changes nothing.
package lambda
