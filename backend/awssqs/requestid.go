package awssqs

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"

	"github.com/postbox-go/postbox/backend"
)

// The queue operations record the request id of each answered call on the
// backend.CallInfo of the call's context (backend.WithCallInfo), for
// successes and error answers alike. Without a CallInfo, recording costs
// one context lookup.

// noteRequestID records the request id of a successful call, from meta
// (the output's ResultMetadata, where the SDK keeps the answer's
// x-amzn-RequestId).
func noteRequestID(ctx context.Context, meta middleware.Metadata) {
	if backend.CallInfoFrom(ctx) == nil {
		return
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(meta)
	backend.SetRequestID(ctx, id)
}

// noteErrorRequestID records the request id of a failed call: the SDK
// wraps an error answer in an *awshttp.ResponseError that carries it. A
// call that got no answer (connection refused, ctx ended) has none.
func noteErrorRequestID(ctx context.Context, err error) {
	if backend.CallInfoFrom(ctx) == nil {
		return
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		backend.SetRequestID(ctx, re.RequestID)
	}
}
