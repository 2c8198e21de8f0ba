package middleware

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/postbox-go/postbox/consumer"
)

// ErrNoHandler is matched (errors.Is) by the error of a Router's default
// fallback: no handler is registered for the message's type.
var ErrNoHandler = errors.New("middleware: no handler")

// Router dispatches each message to the handler registered for the value of
// one of its message attributes, the job's type, as net/http's ServeMux
// dispatches on paths and asynq's ServeMux on task types. It is itself a
// consumer.Handler: put it in a QueueConfig, wrap it in middleware that
// applies to every type, and wrap a route's handler in middleware of its
// own before registering it.
//
//	r := middleware.NewRouter()
//	r.Handle("welcome", middleware.Job(sendWelcome))
//	r.Handle("receipt", consumer.Chain(middleware.Job(sendReceipt), middleware.Timeout(time.Minute)))
//	handler := consumer.Chain(r, middleware.Logging(logger), middleware.Recover())
//
// The producer side sets the attribute with NewJob. A message whose type
// has no handler, or that has no such attribute, goes to the fallback: by
// default a consumer.Permanent error matching ErrNoHandler, so that the
// message is passed to QueueConfig.OnPermanent and deleted instead of
// coming back forever.
//
// The zero Router dispatches on TypeAttribute with the default fallback.
// A Router is safe for concurrent use; registering while messages are
// dispatched is allowed.
type Router struct {
	// Attribute is the message attribute whose String value names the
	// message's type. Empty means TypeAttribute ("type"). Set it before
	// the first message is dispatched.
	Attribute string
	// Fallback handles messages of a type with no handler, and messages
	// without the attribute. Nil means a consumer.Permanent error matching
	// ErrNoHandler. Set it before the first message is dispatched.
	Fallback consumer.Handler

	mu     sync.RWMutex
	routes map[string]consumer.Handler
}

// NewRouter returns an empty Router that dispatches on TypeAttribute.
func NewRouter() *Router { return &Router{} }

// Handle registers h for messages of type typ. It panics if typ is empty,
// h is nil, or typ already has a handler, as http.ServeMux.Handle does.
func (r *Router) Handle(typ string, h consumer.Handler) {
	if typ == "" {
		panic("middleware: Router.Handle with an empty type")
	}
	if h == nil {
		panic("middleware: Router.Handle with a nil handler for type " + fmt.Sprintf("%q", typ))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.routes[typ]; dup {
		panic(fmt.Sprintf("middleware: Router.Handle: type %q registered twice", typ))
	}
	if r.routes == nil {
		r.routes = make(map[string]consumer.Handler)
	}
	r.routes[typ] = h
}

// HandleFunc registers fn for messages of type typ; see Handle.
func (r *Router) HandleFunc(typ string, fn func(ctx context.Context, msg *consumer.Message) error) {
	if fn == nil {
		panic("middleware: Router.HandleFunc with a nil function for type " + fmt.Sprintf("%q", typ))
	}
	r.Handle(typ, consumer.HandlerFunc(fn))
}

// Types returns the registered types, sorted.
func (r *Router) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	types := make([]string, 0, len(r.routes))
	for t := range r.routes {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// Handler returns the handler for msg's type and the type; the handler is
// the fallback when no handler is registered for it.
func (r *Router) Handler(msg *consumer.Message) (h consumer.Handler, typ string) {
	typ, found := r.typeOf(msg)
	if found {
		r.mu.RLock()
		h = r.routes[typ]
		r.mu.RUnlock()
	}
	if h == nil {
		h = r.Fallback
		if h == nil {
			h = consumer.HandlerFunc(r.noHandler)
		}
	}
	return h, typ
}

// HandleMessage dispatches msg to the handler of its type, or to the
// fallback, and returns that handler's error.
func (r *Router) HandleMessage(ctx context.Context, msg *consumer.Message) error {
	h, _ := r.Handler(msg)
	return h.HandleMessage(ctx, msg)
}

// attribute is the name of the attribute r dispatches on.
func (r *Router) attribute() string {
	if r.Attribute == "" {
		return TypeAttribute
	}
	return r.Attribute
}

// typeOf returns msg's type and whether msg has the attribute. The type is
// the attribute's String value; a Binary attribute has none.
func (r *Router) typeOf(msg *consumer.Message) (string, bool) {
	v, ok := msg.MessageAttributes[r.attribute()]
	if !ok {
		return "", false
	}
	return v.StringValue, true
}

// noHandler is the default fallback.
func (r *Router) noHandler(_ context.Context, msg *consumer.Message) error {
	typ, found := r.typeOf(msg)
	if !found {
		return consumer.Permanent(fmt.Errorf("%w for a message without the %q attribute", ErrNoHandler, r.attribute()))
	}
	return consumer.Permanent(fmt.Errorf("%w for type %q (message attribute %q)", ErrNoHandler, typ, r.attribute()))
}
