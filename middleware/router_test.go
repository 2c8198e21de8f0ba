package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

// typed returns a message whose attribute attr is typ (none if typ is "-").
func typed(attr, typ string) *consumer.Message {
	msg := testMessage()
	if typ != "-" {
		msg.MessageAttributes = map[string]backend.MessageAttributeValue{attr: {DataType: "String", StringValue: typ}}
	}
	return msg
}

func TestRouterDispatches(t *testing.T) {
	var got []string
	record := func(name string) consumer.HandlerFunc {
		return func(context.Context, *consumer.Message) error { got = append(got, name); return nil }
	}
	for _, tc := range []struct {
		name      string
		attribute string // Router.Attribute
		msgAttr   string // the attribute the message carries
		typ       string // its value; "-" for none
		fallback  bool
		want      string // handler called; "" for none
		wantErr   string // part of the error; "" for none
	}{
		{name: "welcome", msgAttr: "type", typ: "welcome", want: "welcome"},
		{name: "receipt", msgAttr: "type", typ: "receipt", want: "receipt"},
		{name: "func", msgAttr: "type", typ: "func", want: "func"},
		{name: "unknown type", msgAttr: "type", typ: "newsletter", wantErr: `middleware: no handler for type "newsletter" (message attribute "type")`},
		{name: "no attribute", typ: "-", wantErr: `middleware: no handler for a message without the "type" attribute`},
		{name: "empty type", msgAttr: "type", typ: "", wantErr: `no handler for type ""`},
		{name: "other attribute", attribute: "kind", msgAttr: "kind", typ: "welcome", want: "welcome"},
		{name: "other attribute missing", attribute: "kind", msgAttr: "type", typ: "welcome", wantErr: `without the "kind" attribute`},
		{name: "fallback", msgAttr: "type", typ: "newsletter", fallback: true, want: "fallback"},
		{name: "fallback without attribute", typ: "-", fallback: true, want: "fallback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			r := middleware.NewRouter()
			r.Attribute = tc.attribute
			if tc.fallback {
				r.Fallback = record("fallback")
			}
			r.Handle("welcome", record("welcome"))
			r.Handle("receipt", record("receipt"))
			r.HandleFunc("func", record("func"))
			err := r.HandleMessage(context.Background(), typed(tc.msgAttr, tc.typ))
			if tc.wantErr == "" {
				if err != nil || len(got) != 1 || got[0] != tc.want {
					t.Fatalf("err %v, called %v, want %s", err, got, tc.want)
				}
				return
			}
			if len(got) != 0 || !consumer.IsPermanent(err) || !errors.Is(err, middleware.ErrNoHandler) ||
				!strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, called %v", err, got)
			}
		})
	}
}

func TestRouterRegistrationPanics(t *testing.T) {
	ok := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	for _, tc := range []struct {
		name string
		do   func(r *middleware.Router)
		want string
	}{
		{"duplicate", func(r *middleware.Router) { r.Handle("a", ok); r.Handle("a", ok) }, `type "a" registered twice`},
		{"duplicate func", func(r *middleware.Router) { r.Handle("a", ok); r.HandleFunc("a", ok) }, `type "a" registered twice`},
		{"empty type", func(r *middleware.Router) { r.Handle("", ok) }, "empty type"},
		{"nil handler", func(r *middleware.Router) { r.Handle("a", nil) }, "nil handler"},
		{"nil func", func(r *middleware.Router) { r.HandleFunc("a", nil) }, "nil function"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), tc.want) {
					t.Fatalf("panic %v, want %q", p, tc.want)
				}
			}()
			tc.do(middleware.NewRouter())
		})
	}
}

func TestRouterZeroValueAndTypes(t *testing.T) {
	var r middleware.Router
	r.Handle("b", middleware.Job(func(context.Context, resize) error { return nil }))
	r.Handle("a", middleware.Job(func(context.Context, resize) error { return nil }))
	if got := r.Types(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("Types = %v", got)
	}
	msg := typed("type", "a")
	msg.Body = `{"image":"x"}`
	if err := r.HandleMessage(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if _, typ := r.Handler(msg); typ != "a" {
		t.Fatalf("Handler's type %q", typ)
	}
}

// Middleware composes around the router (for every type) and inside a
// route (for one type).
func TestRouterMiddleware(t *testing.T) {
	var trail []string
	mark := func(name string) consumer.Middleware {
		return func(next consumer.Handler) consumer.Handler {
			return consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
				trail = append(trail, name)
				return next.HandleMessage(ctx, msg)
			})
		}
	}
	r := middleware.NewRouter()
	r.Handle("slow", consumer.Chain(consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
		trail = append(trail, "slow handler")
		return nil
	}), mark("slow route")))
	r.HandleFunc("fast", func(context.Context, *consumer.Message) error {
		trail = append(trail, "fast handler")
		return nil
	})
	h := consumer.Chain(r, mark("all"))
	for _, typ := range []string{"slow", "fast"} {
		if err := h.HandleMessage(context.Background(), typed("type", typ)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "all,slow route,slow handler,all,fast handler"; strings.Join(trail, ",") != want {
		t.Fatalf("trail %v, want %s", trail, want)
	}
}

// Jobs made by NewJob and sent through the engine reach their typed
// handlers through a Router under a consumer.Server; a job of an unknown
// type and a body that does not decode go to OnPermanent once each and are
// deleted.
func TestRouterEndToEnd(t *testing.T) {
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx := context.Background()
	url, err := eng.CreateQueue(ctx, "jobs", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := eng.Queue(url)
	if err != nil {
		t.Fatal(err)
	}

	type greet struct{ Name string }
	var msgs []producer.Message
	for _, j := range []struct {
		typ string
		v   any
	}{
		{"resize", resize{"a.png", 10}},
		{"greet", greet{"Ada"}},
		{"resize", resize{"b.png", 20}},
		{"newsletter", greet{"Linus"}},
		{"resize", "not a resize job"},
	} {
		m, err := middleware.NewJob(j.typ, j.v)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if _, err := producer.SendBatch(ctx, q, msgs); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var handled, permanent []string
	finished := make(chan struct{}, len(msgs))
	r := middleware.NewRouter()
	r.Handle("resize", middleware.Job(func(_ context.Context, j resize) error {
		mu.Lock()
		handled = append(handled, fmt.Sprintf("resize %s %d", j.Image, j.Width))
		mu.Unlock()
		finished <- struct{}{}
		return nil
	}))
	r.Handle("greet", middleware.Job(func(ctx context.Context, g greet) error {
		msg, _ := middleware.MessageFromContext(ctx)
		mu.Lock()
		handled = append(handled, fmt.Sprintf("greet %s (receive %d)", g.Name, msg.ReceiveCount))
		mu.Unlock()
		finished <- struct{}{}
		return nil
	}))
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:   q,
			Handler: r,
			OnPermanent: func(_ context.Context, msg *consumer.Message, err error) error {
				mu.Lock()
				permanent = append(permanent, err.Error())
				mu.Unlock()
				finished <- struct{}{}
				return nil
			},
		}},
		OnError: func(error) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- srv.Run(runCtx) }()
	for range msgs {
		<-finished
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 3 || len(permanent) != 2 {
		t.Fatalf("handled %q, permanent %q", handled, permanent)
	}
	joined := strings.Join(append(handled, permanent...), "\n")
	for _, want := range []string{"resize a.png 10", "resize b.png 20", "greet Ada (receive 1)",
		`no handler for type "newsletter"`, "body does not decode as JSON into middleware_test.resize"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in\n%s", want, joined)
		}
	}
	if s := srv.Stats(); s.Deleted != 5 {
		t.Errorf("deleted %d, want 5", s.Deleted)
	}
}
