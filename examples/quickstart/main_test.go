package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// readmeMarker precedes, in the README, the code block that must be this
// program, byte for byte.
const readmeMarker = "<!-- ci: file examples/quickstart/main.go -->"

// TestREADMEShowsThisProgram fails when the README's worker and this file
// differ: copy one onto the other.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), readmeMarker+"\n```go\n")
	if !ok {
		t.Fatalf("README.md has no %q followed by a ```go block", readmeMarker)
	}
	block, _, ok := strings.Cut(after, "\n```\n")
	if !ok {
		t.Fatal("the README's quickstart block does not end")
	}
	if block+"\n" != string(src) {
		t.Errorf("README.md's quickstart block differs from examples/quickstart/main.go; make them the same.\nREADME:\n%s\nmain.go:\n%s", block, src)
	}
}

// TestQuickstartRuns runs the program as the README does, on a queue of
// its own in this process: it handles its three jobs and returns by
// itself (StopWhenIdle), in about a second of real time.
func TestQuickstartRuns(t *testing.T) {
	t.Setenv("POSTBOX_QUEUE_URL", "mem://quickstart-test")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	defer func() { os.Stdout = stdout }()
	out := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		out <- b
	}()
	main() // log.Fatal would end the test binary with status 1
	os.Stdout = stdout
	w.Close()
	got := <-out
	for _, want := range []string{"resizing cat.png\n", "resizing dog.png\n", "resizing owl.png\n"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if !bytes.HasSuffix(got, []byte("done\n")) {
		t.Errorf("output does not end with done:\n%s", got)
	}
}
