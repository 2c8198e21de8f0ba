package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend/native/server"
)

// recordingHandler keeps every record's level, message and action.
type recordingHandler struct {
	mu      sync.Mutex
	records []logRecord
}

type logRecord struct {
	level  slog.Level
	msg    string
	action string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "action" {
			rec.action = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	h.records = append(h.records, rec)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) snapshot() []logRecord {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.records)
}

// TestReceiveClientGoneLoggedAtDebug: a client that closes its connection
// during a long poll (as a consumer shutting down does) is normal, and is
// logged at Debug, not Error.
func TestReceiveClientGoneLoggedAtDebug(t *testing.T) {
	h := &recordingHandler{}
	e := newEnv(t, server.Config{Logger: slog.New(h)})
	u := e.createQueue(t, "empty", nil)

	conn, err := net.Dial("tcp", e.hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := fmt.Sprintf(`{"QueueUrl":%q,"WaitTimeSeconds":20}`, u)
	req := "POST / HTTP/1.1\r\n" +
		"Host: " + e.hs.Listener.Addr().String() + "\r\n" +
		"Content-Type: application/x-amz-json-1.0\r\n" +
		"X-Amz-Target: AmazonSQS.ReceiveMessage\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	e.waitParked(t, 1)
	conn.Close() // the client goes away mid-poll

	// The server logs a Debug "sqs request" record when the request ends.
	done := func(r logRecord) bool { return r.msg == "sqs request" && r.action == "ReceiveMessage" }
	deadline := time.Now().Add(5 * time.Second)
	for !slices.ContainsFunc(h.snapshot(), done) {
		if time.Now().After(deadline) {
			t.Fatalf("the ReceiveMessage did not end after its client went away; records: %+v", h.snapshot())
		}
		runtime.Gosched()
	}
	var sawCancel bool
	for _, r := range h.snapshot() {
		if r.level >= slog.LevelError {
			t.Errorf("record at %v: %q (action %s); want nothing above Debug", r.level, r.msg, r.action)
		}
		if r.action == "ReceiveMessage" && r.msg != "sqs request" && r.level == slog.LevelDebug {
			sawCancel = true
		}
	}
	if !sawCancel {
		t.Errorf("no Debug record of the cancelled ReceiveMessage; records: %+v", h.snapshot())
	}
}
