// Package storecompare measures postbox's durable native engine against the
// same durable queue traffic built on two well-kept embedded stores,
// github.com/cockroachdb/pebble (v2) and go.etcd.io/bbolt, to answer whether
// postbox should keep its purpose-built append-only log or use one of them.
//
// It is a separate module so that postbox's main module never depends on
// the stores being compared. It holds no library code: everything is in its
// tests and benchmarks, and README.md has the commands, the machine and the
// results.
//
// # The workload
//
// Every store gets the same traffic: each of c clients loops over a cycle
// of sending a batch of ten 256-byte messages (durable before it returns),
// marking ten messages received (receive count and visibility deadline
// recorded, not waited for), and deleting them (durable before it returns).
// On postbox that is backend.Queue's Send, Receive and Delete on an engine
// in SyncAlways mode. On pebble and bbolt a small queue layer keeps the
// order of ready messages in memory (as postbox's engine does) and keeps
// each message under a key made of a queue prefix and an 8-byte sequence
// number, its value holding the encoded message with its state.
package storecompare
