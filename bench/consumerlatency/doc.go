// Command consumerlatency measures postbox's consumer over HTTP at network
// latency, beside gocloud.dev/pubsub's SQS subscription and a hand-written
// aws-sdk-go-v2 loop. It is a module of its own so that postbox's main
// module never depends on gocloud; scripts/bench/run-latency runs it
// against an in-memory postbox serve on 127.0.0.1 (see
// scripts/bench/README.md).
//
// Subcommands:
//
//	consumerlatency drain  -endpoint http://127.0.0.1:PORT -contender postbox|gocloud|handloop
//	                       [-scenario NAME -rtt 10ms -handler 10ms -c 32 -n 10000 -size 256 -round 1]
//	consumerlatency idle   -endpoint http://127.0.0.1:PORT [-for 60s -rtt 10ms -c 32 -contenders postbox,gocloud,handloop]
//	consumerlatency report < results.jsonl
//
// drain creates a queue on the server, fills it with n messages
// (SendMessageBatch straight to the server, checked with
// ApproximateNumberOfMessages), starts an in-process TCP proxy on
// 127.0.0.1:0 that delivers every chunk of the server's answers rtt after
// it arrived (proxy.go), and lets the contender drain the queue through the
// proxy with concurrency c and a handler that sleeps for -handler. The
// time runs from the contender's start to the moment the server
// acknowledged the n-th delete; then the contender shuts down (acks
// flushed) and the queue must be empty (ApproximateNumberOfMessages +
// ApproximateNumberOfMessagesNotVisible = 0). It prints one JSON line.
//
// idle runs the contenders side by side, each on an empty queue behind its
// own proxy, and counts the ReceiveMessage requests each proxy saw.
//
// Everything talks to 127.0.0.1 only, and every run is bounded in time.
package main
