// Package all links every postbox backend, so that backend.Open serves
// every queue URL scheme: mem:// and file:// (the native engine,
// backend/native) and http:// and https:// (AWS SQS or any SQS-compatible
// endpoint such as postbox serve, backend/awssqs).
//
//	import _ "github.com/postbox-go/postbox/backend/all"
//
// A program that needs only some backends imports those instead.
package all

import (
	_ "github.com/postbox-go/postbox/backend/awssqs" // http, https
	_ "github.com/postbox-go/postbox/backend/native" // mem, file
)
