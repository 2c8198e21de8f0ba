package middleware_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

type resize struct {
	Image string `json:"image"`
	Width int    `json:"width"`
}

func TestJob(t *testing.T) {
	handlerErr := errors.New("storage down")
	for _, tc := range []struct {
		name       string
		body       string
		strict     bool
		fnErr      error
		wantCalled bool
		want       resize
		wantDecode string // part of the decode error; "" for none
		wantErr    error
	}{
		{name: "decodes", body: `{"image":"cat.png","width":64}`, wantCalled: true, want: resize{"cat.png", 64}},
		{name: "unknown field ignored", body: `{"image":"cat.png","height":3}`, wantCalled: true, want: resize{Image: "cat.png"}},
		{name: "unknown field rejected", body: `{"image":"cat.png","height":3}`, strict: true, wantDecode: `unknown field "height"`},
		{name: "strict decodes", body: ` {"image":"a"} `, strict: true, wantCalled: true, want: resize{Image: "a"}},
		{name: "malformed", body: `{"image":`, wantDecode: "unexpected end of JSON input"},
		{name: "wrong type", body: `{"width":"wide"}`, wantDecode: "cannot unmarshal string"},
		{name: "not json", body: `resize cat.png`, wantDecode: "invalid character"},
		{name: "trailing data", body: `{"image":"a"} {}`, wantDecode: "invalid character"},
		{name: "strict trailing data", body: `{"image":"a"} {}`, strict: true, wantDecode: "invalid data after the top-level value"},
		{name: "strict empty", body: ` `, strict: true, wantDecode: "empty body"},
		{name: "handler error passes", body: `{"image":"a"}`, fnErr: handlerErr, wantCalled: true, want: resize{Image: "a"}, wantErr: handlerErr},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got resize
			called := false
			fn := func(ctx context.Context, job resize) error {
				called, got = true, job
				msg, ok := middleware.MessageFromContext(ctx)
				if !ok || msg.MessageID != "id-1" {
					t.Errorf("MessageFromContext = %v, %v", msg, ok)
				}
				return tc.fnErr
			}
			var opts []middleware.JobOption
			if tc.strict {
				opts = append(opts, middleware.DisallowUnknownFields())
			}
			msg := testMessage()
			msg.Body = tc.body
			err := middleware.Job(fn, opts...).HandleMessage(context.Background(), msg)
			if called != tc.wantCalled || got != tc.want {
				t.Fatalf("called %v with %+v", called, got)
			}
			if tc.wantDecode == "" {
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if consumer.IsPermanent(err) {
					t.Fatalf("handler error became permanent: %v", err)
				}
				return
			}
			var de *middleware.JobDecodeError
			if !consumer.IsPermanent(err) || !errors.As(err, &de) {
				t.Fatalf("err = %v, want a permanent *JobDecodeError", err)
			}
			if de.Type != "middleware_test.resize" || de.MessageID != "id-1" || !strings.Contains(err.Error(), tc.wantDecode) ||
				!strings.Contains(err.Error(), "middleware_test.resize") {
				t.Errorf("err = %v (type %q)", err, de.Type)
			}
		})
	}
}

func TestJobDecodeErrorUnwraps(t *testing.T) {
	msg := testMessage()
	msg.Body = `{"width":"x"}`
	err := middleware.Job(func(context.Context, resize) error { return nil }).HandleMessage(context.Background(), msg)
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) || ute.Field != "width" {
		t.Fatalf("err = %v does not unwrap to the json error", err)
	}
}

func TestMessageFromContextOutsideJob(t *testing.T) {
	if msg, ok := middleware.MessageFromContext(context.Background()); ok || msg != nil {
		t.Fatalf("got %v, %v", msg, ok)
	}
}

func TestNewJob(t *testing.T) {
	m, err := middleware.NewJob("resize", resize{Image: "cat.png", Width: 64})
	if err != nil {
		t.Fatal(err)
	}
	if m.Body != `{"image":"cat.png","width":64}` {
		t.Errorf("body %s", m.Body)
	}
	if got := m.Attributes[middleware.TypeAttribute]; got.DataType != "String" || got.StringValue != "resize" || len(m.Attributes) != 1 {
		t.Errorf("type attribute %+v", got)
	}

	if m, err := middleware.NewJob("", 42); err != nil || m.Body != "42" || m.Attributes != nil {
		t.Errorf("untyped job: %+v, %v", m, err)
	}
	if _, err := middleware.NewJob("x", func() {}); err == nil || !strings.Contains(err.Error(), "func()") {
		t.Errorf("unencodable value: %v", err)
	}
	if _, err := middleware.NewJob("x", strings.Repeat("a", backend.MaxMessageSize)); err == nil ||
		!strings.Contains(err.Error(), "over SQS's limit") {
		t.Errorf("oversized job: %v", err)
	}
}
