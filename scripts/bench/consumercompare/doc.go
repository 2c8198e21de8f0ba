// Command consumercompare is the Go half of scripts/bench/run-consumer-compare:
// it fills queues of postbox serve, drains them with postbox's consumer over
// HTTP (the awssqs adapter), measures the server's memory per queued
// message, and turns the results of the alternating rounds into a table and
// JSON. The Node half (scripts/bench/node/drain.mjs) drains the same kind of
// queue with the sqs-consumer framework.
//
// Subcommands:
//
//	consumercompare fill   -endpoint http://127.0.0.1:PORT -queue NAME [-n 100000 -size 256 -senders 8]
//	consumercompare drain  -url QUEUE_URL -n N [-concurrency 64 -prefetch 0]
//	consumercompare mem    -postbox BIN [-n 100000 -size 256]
//	consumercompare report < results.jsonl
//
// fill and drain print one JSON object on stdout. drain times from the
// start of the consumer's Run to the moment the N-th message's delete was
// acknowledged by the server (counted in a wrapper around backend.Queue),
// the same point that sqs-consumer's message_processed event marks. mem
// starts its own postbox serve with GOGC=1 and GODEBUG=gctrace=1 (so that
// the live heap after each GC is printed and the heap holds little garbage)
// and reports VmRSS and live-heap deltas per message across the fill.
//
// Everything talks to 127.0.0.1 only, and every loop is bounded in count and
// time.
package main
