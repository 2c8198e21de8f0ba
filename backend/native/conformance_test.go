package native_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/backendtest"
	"github.com/postbox-go/postbox/backend/native"
)

// TestConformance runs the backend conformance suite on the in-memory
// engine: one fresh engine on its own fake clock per scenario. (TestMain
// with goleak is in engine_test.go.)
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		New: func(t *testing.T) *backendtest.Env {
			clk := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			eng, err := native.New(native.Config{Clock: clk})
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
