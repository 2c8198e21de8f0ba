package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRun runs the program: the job it sends is handled, and Run returns
// by itself once the queue is idle.
func TestRun(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		out <- b
	}()
	err = run(context.Background())
	os.Stdout = stdout
	w.Close()
	got := string(<-out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "mail to ada@example.com: Welcome, Ada") {
		t.Errorf("output %q", got)
	}
}
