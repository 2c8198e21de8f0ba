package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/postbox-go/postbox/backend"
)

// runCLI runs the postbox command in this process, so that mem:// queues
// are those of the test's own process; it returns stdout and stderr.
func runCLI(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// TestCLIOpensQueueURLsAsBackendOpen checks that the commands open mem://
// and file:// queue URLs as backend.Open does: a missing queue is made
// (with the URL's attributes), it is the queue a program opening the same
// URL gets, and its URL is the one the program sees.
func TestCLIOpensQueueURLsAsBackendOpen(t *testing.T) {
	ctx := t.Context()
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, err := runCLI(ctx, args...)
		if err != nil {
			t.Fatalf("postbox %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
		}
		return out
	}
	dir := t.TempDir()
	fileURL := (&url.URL{Scheme: "file", Path: dir, RawQuery: "queue=agree-jobs"}).String()
	for _, u := range []string{"mem://agree-jobs", fileURL} {
		if id := strings.TrimSpace(mustRun("send", u, "hello")); id == "" {
			t.Fatalf("send %s printed no message id", u)
		}
		var m peekJSON
		if err := json.Unmarshal([]byte(mustRun("peek", u, "--json")), &m); err != nil || m.Body != "hello" || m.State != "visible" {
			t.Errorf("peek %s = %+v, %v", u, m, err)
		}
		// A program opening the URL finds the message, and the same URL.
		q, svc, err := backend.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if q.URL() != u {
			t.Errorf("backend.Open(%q).URL() = %q", u, q.URL())
		}
		msgs, err := q.Receive(ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(0)})
		if err != nil || len(msgs) != 1 || msgs[0].Body != "hello" {
			t.Errorf("the program received %v, %v; want the message the command sent", msgs, err)
		}
		svc.Close()
	}
	if out := mustRun("queues", "list", "--endpoint", "file://"+dir); strings.TrimSpace(out) != fileURL {
		t.Errorf("queues list at file://%s = %q, want %q", dir, out, fileURL)
	}

	// queues create takes a URL's attributes, as backend.Open does.
	if out := mustRun("queues", "create", "mem://agree-vis?VisibilityTimeout=45", "--attr", "DelaySeconds=3"); strings.TrimSpace(out) != "mem://agree-vis" {
		t.Errorf("queues create printed %q", out)
	}
	_, svc, err := backend.Open(ctx, "mem://agree-vis")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := svc.GetAttributes(ctx, "mem://agree-vis", []string{"All"}); err != nil || a["VisibilityTimeout"] != "45" || a["DelaySeconds"] != "3" {
		t.Errorf("attributes of mem://agree-vis = %v, %v", a, err)
	}
	if _, _, err := runCLI(ctx, "queues", "create", "mem://agree-dup?DelaySeconds=1", "--attr", "DelaySeconds=2"); err == nil {
		t.Error("an attribute given by the URL and by --attr was accepted")
	}

	// bench on a mem:// URL, as its --help suggests.
	mustRun("bench", "mem://agree-scratch", "--messages", "20", "--json")

	// A file:// directory that does not exist is refused, but by
	// commands that put something there.
	missing := (&url.URL{Scheme: "file", Path: dir + "/nowhere", RawQuery: "queue=x"}).String()
	if _, _, err := runCLI(ctx, "peek", missing); err == nil || !strings.Contains(err.Error(), "no postbox data directory") {
		t.Errorf("peek in a missing directory: %v", err)
	}
	mustRun("send", missing, "makes the directory")
}
