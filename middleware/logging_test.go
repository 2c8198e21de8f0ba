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
