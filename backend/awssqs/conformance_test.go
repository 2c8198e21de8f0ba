package awssqs_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/backend/backendtest"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// TestConformanceOverHTTP runs the backend conformance suite on the AWS
// adapter, through the real aws-sdk-go-v2 client and real HTTP on loopback,
// against postbox's wire server in front of a native engine that shares the
// test's fake clock: the same scenarios as the in-process engine, so the
// same inputs must give the same results and error codes over the wire.
func TestConformanceOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite over HTTP")
	}
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) *backendtest.Env {
			clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			eng, err := native.New(native.Config{Clock: clk, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(server.Config{Service: eng})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			svc, err := awssqs.OpenEndpoint(context.Background(), hs.URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				svc.Close()
				eng.Close() // answers parked long polls, so the HTTP server can close
				hs.Close()
			})
			return &backendtest.Env{Service: svc, Clock: clk, WaitingReceives: eng.WaitingReceives}
		},
		FIFO:       true,
		DeadLetter: true,
		MoveTasks:  true,
		FairQueues: true,
		SkipSlow:   true, // 100,000-message scenarios: covered in process
		Remote:     true,
	})
}
