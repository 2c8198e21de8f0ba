package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve starts postbox serve in process (the native engine behind the SQS
// wire protocol on 127.0.0.1) with the queues given, and returns the
// endpoint.
func serve(t *testing.T, queues ...string) string {
	t.Helper()
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range queues {
		attrs := map[string]string{}
		if strings.HasSuffix(name, ".fifo") {
			attrs["FifoQueue"] = "true"
		}
		if _, err := eng.CreateQueue(context.Background(), name, attrs, nil); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv) // listens on 127.0.0.1:0
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	})
	return hs.URL
}

// env returns a getenv that knows only the queue URL, so that the test
// does not depend on the machine's environment.
func env(queueURL string) func(string) string {
	return func(k string) string {
		if k == QueueURLEnv {
			return queueURL
		}
		return ""
	}
}

// checkOutput checks the output of a run of n jobs on the backend named by
// want.
func checkOutput(t *testing.T, out string, n int, want string) {
	t.Helper()
	for _, re := range []string{
		`(?m)^swap: queue \S+ on .*` + regexp.QuoteMeta(want) + `$`,
		`(?m)^swap: sent 6 jobs \(run [0-9a-f]{8}\)$`,
		`(?m)^swap: job 1 \(greet\): hello, Ada$`,
		`(?m)^swap: job 2 \(add\): 1 \+ 1 = 2$`,
		`(?m)^swap: job 5 \(greet\): hello, Ken$`,
		`(?m)^swap: job 6 \(add\): 5 \+ 25 = 30$`,
		`(?m)^swap: 6/6 jobs done in \S+$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %s:\n%s", re, out)
		}
	}
	if got := strings.Count(out, "swap: job "); got != n {
		t.Errorf("%d job lines, want %d:\n%s", got, n, out)
	}
}

// The program's logic, in process, against each backend.
func TestRun(t *testing.T) {
	endpoint := serve(t, "swap", "swap.fifo")
	for _, tc := range []struct {
		name, url, want string
	}{
		{"default mem", "", "the in-process engine (backend/native)"},
		{"mem", "mem://swap-test", "the in-process engine (backend/native)"},
		{"mem fifo", "mem://swap-test.fifo", "the in-process engine (backend/native)"},
		{"postbox serve", endpoint + "/000000000000/swap", "the SQS endpoint " + strings.TrimPrefix(endpoint, "http://") + ", such as postbox serve (backend/awssqs)"},
		{"postbox serve fifo", endpoint + "/000000000000/swap.fifo", "such as postbox serve (backend/awssqs)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), env(tc.url), []string{"-wait", "1s"}, &out); err != nil {
				t.Fatalf("run: %v\n%s", err, out.String())
			}
			checkOutput(t, out.String(), 6, tc.want)
		})
	}
}

// The same binary, built once, against mem:// and against postbox serve:
// only POSTBOX_QUEUE_URL changes.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := filepath.Join(t.TempDir(), "swap")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	endpoint := serve(t, "swap")
	for _, tc := range []struct{ name, url, want string }{
		{"mem", "mem://swap", "the in-process engine (backend/native)"},
		{"postbox serve", endpoint + "/000000000000/swap", "such as postbox serve (backend/awssqs)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "-wait", "1s")
			// A clean environment: no AWS settings of the machine leak in.
			cmd.Env = []string{QueueURLEnv + "=" + tc.url, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			checkOutput(t, string(out), 6, tc.want)
		})
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		url  string
		args []string
		want string
	}{
		{"mem://swap", []string{"-n", "-1"}, "bad flag value"},
		{"mem://swap", []string{"-wait", "21s"}, "bad flag value"},
		{"ftp://host/queue", nil, "ftp"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), env(tc.url), tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: err %v, want %q", tc.url, tc.args, err, tc.want)
		}
	}
}
