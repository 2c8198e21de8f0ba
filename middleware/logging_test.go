package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
)

func TestLogging(t *testing.T) {
	for _, tc := range []struct {
		name         string
		err          error
		panics       bool
		wantOutcome  string
		wantLevel    string
		wantErrField bool
	}{
		{"ok", nil, false, middleware.OutcomeOK, "INFO", false},
		{"error", errors.New("db down"), false, middleware.OutcomeError, "WARN", true},
		{"permanent", consumer.Permanent(errors.New("bad json")), false, middleware.OutcomePermanent, "ERROR", true},
		{"panic", nil, true, middleware.OutcomePanic, "ERROR", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var buf bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&buf, nil))
				h := consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
					time.Sleep(1500 * time.Millisecond)
					if tc.panics {
						panic("kaboom")
					}
					return tc.err
				})
				err := consumer.Chain(h, middleware.Logging(logger), middleware.Recover()).
					HandleMessage(context.Background(), testMessage())
				if (err != nil) != tc.wantErrField {
					t.Fatalf("err = %v", err)
				}
				var rec map[string]any
				if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
					t.Fatalf("%v: %s", err, buf.String())
				}
				want := map[string]any{
					"level": tc.wantLevel, "message_id": "id-1", "queue": "http://localhost:9324/000000000000/jobs",
					"receive_count": 2.0, "outcome": tc.wantOutcome, "group_id": "g1", "duration": 1.5e9,
				}
				for k, v := range want {
					if rec[k] != v {
						t.Errorf("%s = %v, want %v", k, rec[k], v)
					}
				}
				if _, has := rec["error"]; has != tc.wantErrField {
					t.Errorf("error field: %v", rec["error"])
				}
			})
		})
	}
}

func TestLoggingTraceIDs(t *testing.T) {
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	valid := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled})
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		wantIDs bool
	}{
		{"span context", trace.ContextWithSpanContext(context.Background(), valid), true},
		{"remote span context", trace.ContextWithRemoteSpanContext(context.Background(), valid.WithRemote(true)), true},
		{"none", context.Background(), false},
		{"invalid", trace.ContextWithSpanContext(context.Background(),
			trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := middleware.Logging(slog.New(slog.NewJSONHandler(&buf, nil)))(
				consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }))
			if err := h.HandleMessage(tc.ctx, testMessage()); err != nil {
				t.Fatal(err)
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			if !tc.wantIDs {
				if _, has := rec["trace_id"]; has {
					t.Errorf("trace_id logged: %s", buf.String())
				}
				if _, has := rec["span_id"]; has {
					t.Errorf("span_id logged: %s", buf.String())
				}
				return
			}
			if rec["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || rec["span_id"] != "00f067aa0ba902b7" {
				t.Errorf("ids: %s", buf.String())
			}
		})
	}
}

func TestLoggingJobType(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  *consumer.Message
		want any
	}{
		{"typed job", received("welcome", Welcome{Name: "Ada"}), "welcome"},
		{"untyped", testMessage(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := middleware.Logging(slog.New(slog.NewJSONHandler(&buf, nil)))(
				consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }))
			h.HandleMessage(context.Background(), tc.msg)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %s", err, buf.String())
			}
			if rec["job_type"] != tc.want {
				t.Errorf("job_type = %v, want %v", rec["job_type"], tc.want)
			}
		})
	}
}
