package envelope

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// Errors of the EventBridge middleware, matched with errors.Is; each comes
// marked consumer.Permanent.
var (
	// ErrNotEventBridge: the body is not an EventBridge event.
	ErrNotEventBridge = errors.New("envelope: not an EventBridge event")
	// ErrSourceNotAllowed: the event's source is not in
	// EventBridgeConfig.Sources.
	ErrSourceNotAllowed = errors.New("envelope: EventBridge source not allowed")
)

// The message attributes EventBridge sets on the message it hands on, so
// that a middleware.Router (Router.Attribute) or a RateLimit key can use
// them.
const (
	DetailTypeAttribute = "detail-type"
	SourceAttribute     = "source"
)

// Event is an EventBridge event as a rule with an SQS target delivers it:
// the JSON document that is the SQS message's body.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// ParseEvent parses body as an EventBridge event; the error matches
// ErrNotEventBridge when it is not one (no id, source, detail-type or
// detail).
func ParseEvent(body string) (*Event, error) {
	var e Event
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEventBridge, err)
	}
	if e.ID == "" || e.Source == "" || e.DetailType == "" || len(e.Detail) == 0 {
		return nil, fmt.Errorf("%w: no id, source, detail-type or detail", ErrNotEventBridge)
	}
	return &e, nil
}

// EventBridgeConfig configures EventBridge. The zero value unwraps every
// event.
type EventBridgeConfig struct {
	// Sources, when not empty, are the event sources accepted; an event
	// from another source fails permanently (ErrSourceNotAllowed).
	Sources []string
	// PassThrough hands a message whose body is not an EventBridge event
	// to the next handler unchanged. Default: a permanent failure matching
	// ErrNotEventBridge.
	PassThrough bool
}

type eventKey struct{}

// EventFrom returns the EventBridge event whose detail the handler is
// handling, and false outside the EventBridge middleware.
func EventFrom(ctx context.Context) (*Event, bool) {
	e, ok := ctx.Value(eventKey{}).(*Event)
	return e, ok
}

// EventBridge returns middleware that unwraps EventBridge events: the next
// handler gets a copy of the message whose Body is the event's detail (its
// JSON text) and whose MessageAttributes have the String attributes
// DetailTypeAttribute ("detail-type") and SourceAttribute ("source") added;
// the whole event (id, time, account, region, resources) is in the
// context, see EventFrom. To dispatch on the detail type:
//
//	r := middleware.NewRouter()
//	r.Attribute = envelope.DetailTypeAttribute
//	r.Handle("Order Placed", middleware.Job(placeOrder))
//	h := consumer.Chain(r, envelope.EventBridge(envelope.EventBridgeConfig{Sources: []string{"com.example.shop"}}))
func EventBridge(cfg EventBridgeConfig) consumer.Middleware {
	sources := slices.Clone(cfg.Sources)
	return func(next consumer.Handler) consumer.Handler {
		return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			e, err := ParseEvent(msg.Body)
			if err != nil {
				if cfg.PassThrough {
					return next.HandleMessage(ctx, msg)
				}
				return consumer.Permanent(err)
			}
			if len(sources) > 0 && !slices.Contains(sources, e.Source) {
				return consumer.Permanent(fmt.Errorf("%w: %s", ErrSourceNotAllowed, e.Source))
			}
			inner := *msg
			inner.Body = string(e.Detail)
			attrs := make(map[string]backend.MessageAttributeValue, len(msg.MessageAttributes)+2)
			maps.Copy(attrs, msg.MessageAttributes)
			attrs[DetailTypeAttribute] = backend.MessageAttributeValue{DataType: "String", StringValue: e.DetailType}
			attrs[SourceAttribute] = backend.MessageAttributeValue{DataType: "String", StringValue: e.Source}
			inner.MessageAttributes = attrs
			return next.HandleMessage(context.WithValue(ctx, eventKey{}, e), &inner)
		})
	}
}
