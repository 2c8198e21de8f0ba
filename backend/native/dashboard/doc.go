// Package dashboard is postbox serve's web dashboard: a page that shows
// every queue of a native engine (depth, messages in flight and delayed,
// age of the oldest message, send/receive/delete rates with a live chart,
// dead-letter wiring both ways), a page per queue that browses and filters
// messages without changing them, sends a test message, deletes or moves
// selected messages, purges, edits the queue's attributes and tags,
// deletes the queue, and starts or cancels a dead-letter redrive with live
// progress, a form that creates queues, and a server page (version,
// uptime, storage, authentication, requests by action, errors by code).
//
// New returns a Handler that serves everything under /_postbox/: the page
// (plain HTML, CSS and JavaScript embedded in the binary, no CDN) at
// /_postbox/, a JSON API under /_postbox/api/, and server-sent events at
// /_postbox/api/events. docs/dashboard.md documents the JSON API.
//
//	dash, err := dashboard.New(dashboard.Config{Engine: eng})
//	...
//	defer dash.Close()
//	http.ListenAndServe(addr, dash.Wrap(sqsServer)) // /_postbox/ -> dash, the rest -> sqsServer
//
// # Delivery semantics
//
// Reading never changes a queue: message listings use Engine.Browse (and
// Engine.Peek for after=), which leave visibility, receive counts and FIFO
// group locks as they were, and queue figures use Engine.Stats. Mutations
// (send, purge, start and cancel a redrive, set attributes, tag, create
// and delete queues) go through the same engine methods as the SQS API and
// so have their semantics and errors (a second purge within 60 seconds is
// PurgeQueueInProgress, for example); deleting and moving selected
// messages, which SQS has no call for, use Engine.DeleteMessagesByID and
// Engine.MoveMessagesByID, authorized as the SQS actions a client would
// need to do the same (DeleteMessage; ReceiveMessage and DeleteMessage on
// the source and SendMessage on the destination).
//
// Rates are computed from the engine's cumulative counters, sampled with
// Config.Clock at most once per Config.Interval, lazily: when a request
// or an open event stream asks for figures. No goroutine runs in the
// background; event streams are served by their requests' goroutines and
// end when the client goes away or Close is called.
//
// # Errors
//
// API errors are JSON, {"error":{"code":"...","message":"..."}}, with the
// SQS error code (QueueDoesNotExist, InvalidParameterValue, AccessDenied,
// ...) and the HTTP status SQS uses for it. Every API request passes
// through Config.Authorize first, with the SQS action it corresponds to.
package dashboard
