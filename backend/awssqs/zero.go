package awssqs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The SDK models DelaySeconds, WaitTimeSeconds and VisibilityTimeout as
// plain int32s and leaves them out of the request when they are 0, so it
// cannot say "0, not the queue's default". explicitZeros is a per-call
// option that writes them into the serialized JSON body.

// explicitZeros returns a per-call option that adds "field": 0 to the
// request body for each of top that is missing, and entryField: 0 to each
// of the Entries at the given indexes.
func explicitZeros(top []string, entryField string, entries []int) func(*sqs.Options) {
	m := &zeroFields{top: top, entryField: entryField, entries: entries}
	return func(o *sqs.Options) {
		// Clip: never append into the client's shared backing array.
		o.APIOptions = append(slices.Clip(o.APIOptions), func(stack *middleware.Stack) error {
			if err := stack.Serialize.Insert(m, "OperationSerializer", middleware.After); err != nil {
				return stack.Serialize.Add(m, middleware.After)
			}
			return nil
		})
	}
}

type zeroFields struct {
	top        []string
	entryField string
	entries    []int
}

func (*zeroFields) ID() string { return "PostboxExplicitZeros" }

func (z *zeroFields) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok || !strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-amz-json") || req.GetStream() == nil {
		return next.HandleSerialize(ctx, in) // not the JSON protocol: nothing to patch
	}
	body, err := io.ReadAll(req.GetStream())
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("awssqs: reading the serialized request: %w", err)
	}
	patched, err := z.patch(body)
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("awssqs: writing explicit zeros: %w", err)
	}
	if in.Request, err = req.SetStream(bytes.NewReader(patched)); err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, err
	}
	return next.HandleSerialize(ctx, in)
}

func (z *zeroFields) patch(body []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	zero := json.RawMessage("0")
	for _, f := range z.top {
		if _, ok := doc[f]; !ok {
			doc[f] = zero
		}
	}
	if len(z.entries) > 0 {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(doc["Entries"], &entries); err != nil {
			return nil, err
		}
		for _, i := range z.entries {
			if i < len(entries) {
				if _, ok := entries[i][z.entryField]; !ok {
					entries[i][z.entryField] = zero
				}
			}
		}
		raw, err := marshal(entries)
		if err != nil {
			return nil, err
		}
		doc["Entries"] = raw
	}
	return marshal(doc)
}

// marshal is json.Marshal without HTML escaping, so that message bodies go
// out as the SDK wrote them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
