package native_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/backendtest"
	"github.com/postbox-go/postbox/backend/native"
)

// TestConformance runs the backend conformance suite on the in-memory
// engine: one fresh engine on its own fake clock per scenario, with the
// mem:// queue URLs of backend.Open's engines (the http:// URLs of a served
// engine are tested through the AWS adapter's conformance run). (TestMain
// with goleak is in engine_test.go.)
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) *backendtest.Env {
			clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			eng, err := native.New(native.Config{Clock: clk, LocalURLs: true})
			if err != nil {
				t.Fatalf("native.New: %v", err)
			}
			t.Cleanup(func() {
				if err := eng.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return &backendtest.Env{
				Service:         eng,
				Clock:           clk,
				WaitingReceives: eng.WaitingReceives,
			}
		},
		FIFO:       true,
		DeadLetter: true,
		MoveTasks:  true,
		FairQueues: true,
	})
}

// TestConformanceDurable runs the same suite on the durable engine, in a
// fresh data directory per scenario, with file:// queue URLs; scenarios
// that can close and reopen the backend midway do, and must find
// everything as it was.
func TestConformanceDurable(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) *backendtest.Env {
			clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			dir := t.TempDir()
			open := func(t *testing.T) *native.Engine {
				eng, err := native.New(native.Config{Clock: clk, DataDir: dir, Logger: quietLogger(), LocalURLs: true})
				if err != nil {
					t.Fatalf("native.New: %v", err)
				}
				return eng
			}
			eng := open(t)
			env := &backendtest.Env{Clock: clk}
			env.Service = eng
			env.WaitingReceives = func() int { return eng.WaitingReceives() }
			env.Reopen = func(t *testing.T) backend.Service {
				if err := eng.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				eng = open(t)
				return eng
			}
			t.Cleanup(func() {
				if err := eng.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			return env
		},
		FIFO:       true,
		DeadLetter: true,
		MoveTasks:  true,
		FairQueues: true,
		SkipSlow:   true, // the 120,000-message scenarios test limits, not storage, and run in TestConformance
	})
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
