package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
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
		{"ok", nil, false, middleware.OutcomeOK, "DEBUG", false},
		{"error", errors.New("db down"), false, middleware.OutcomeError, "WARN", true},
		{"permanent", consumer.Permanent(errors.New("bad json")), false, middleware.OutcomePermanent, "ERROR", true},
		{"panic", nil, true, middleware.OutcomePanic, "ERROR", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var buf bytes.Buffer
				logger := debugLogger(&buf)
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

// debugLogger logs JSON records of every level to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestLoggingSuccessLevel(t *testing.T) {
	ok := consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil })
	for _, tc := range []struct {
		name      string
		mw        func(*slog.Logger) consumer.Middleware
		wantLevel string // "" for no record
	}{
		{"Logging", middleware.Logging, ""},
		{"LoggingWith zero SuccessLevel", func(l *slog.Logger) consumer.Middleware {
			return middleware.LoggingWith(middleware.LoggingConfig{Logger: l})
		}, ""},
		{"LoggingWith SuccessLevel Info", func(l *slog.Logger) consumer.Middleware {
			return middleware.LoggingWith(middleware.LoggingConfig{Logger: l, SuccessLevel: slog.LevelInfo})
		}, "INFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			info := slog.New(slog.NewJSONHandler(&buf, nil)) // Info and above, as slog's defaults
			if err := tc.mw(info)(ok).HandleMessage(context.Background(), testMessage()); err != nil {
				t.Fatal(err)
			}
			if tc.wantLevel == "" {
				if buf.Len() != 0 {
					t.Errorf("a success was logged at Info: %s", buf.String())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if rec["level"] != tc.wantLevel || rec["outcome"] != middleware.OutcomeOK {
				t.Errorf("record %v", rec)
			}
		})
	}
}

// TestLoggingThroughServer runs a consumer.Server over the in-process
// engine with Logging outermost and every log at slog's default (Info)
// level: 91 successes log nothing, each of the 10 failures and the one
// panic (whose message succeeds when retried) logs one line, and the
// server's default OnError does not log them again.
func TestLoggingThroughServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       middleware.LoggingConfig
		wantLines int
	}{
		{"default", middleware.LoggingConfig{}, 11},
		{"successes at Info", middleware.LoggingConfig{SuccessLevel: slog.LevelInfo}, 102},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var buf syncBuffer
				old := slog.Default()
				slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
				defer slog.SetDefault(old)

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
				q, _ := eng.Queue(url)
				var msgs []producer.Message
				for i := range 101 {
					msgs = append(msgs, producer.Message{Body: strconv.Itoa(i)})
				}
				if _, err := producer.SendBatch(ctx, q, msgs); err != nil {
					t.Fatal(err)
				}
				h := consumer.HandlerFunc(func(_ context.Context, m *consumer.Message) error {
					n, _ := strconv.Atoi(m.Body)
					switch {
					case n == 100 && m.ReceiveCount == 1:
						panic("kaboom") // and succeeds when retried
					case n%10 == 0 && n < 100:
						return consumer.Permanent(fmt.Errorf("job %d: bad input", n))
					}
					return nil
				})
				srv, err := consumer.New(consumer.Config{
					Queues: []consumer.QueueConfig{{
						Queue:   q,
						Handler: consumer.Chain(h, middleware.LoggingWith(tc.cfg), middleware.Recover()),
					}},
					StopWhenIdle: 5 * time.Second,
				})
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.Run(ctx); err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
				if len(lines) != tc.wantLines {
					t.Errorf("%d log lines, want %d:\n%s", len(lines), tc.wantLines, buf.String())
				}
				outcomes := map[string]int{}
				for _, l := range lines {
					var rec map[string]any
					if err := json.Unmarshal([]byte(l), &rec); err != nil {
						t.Fatalf("%v: %q", err, l)
					}
					if rec["msg"] != "postbox message handled" {
						t.Errorf("a line that is not Logging's: %s", l)
					}
					outcomes[fmt.Sprint(rec["outcome"])]++
				}
				if outcomes[middleware.OutcomePermanent] != 10 || outcomes[middleware.OutcomePanic] != 1 {
					t.Errorf("outcomes %v", outcomes)
				}
			})
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
			h := middleware.Logging(debugLogger(&buf))(
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
			h := middleware.Logging(debugLogger(&buf))(
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
