package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// cli runs the real postbox binary, built once by TestCLI, against a real
// postbox serve process.
type cli struct {
	bin      string
	endpoint string // http://127.0.0.1:PORT of postbox serve
	home     string
	svc      backend.Service // a client of the server, to check state
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// env is a clean environment: no AWS settings from the machine, no shared
// config files.
func (c *cli) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+c.home, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(c.home, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.home, "none"))
	return append(env, extra...)
}

// run runs postbox with args, stdin and extra environment variables, with
// AWS_ENDPOINT_URL_SQS pointing at the test's server.
func (c *cli) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return c.runEnv(t, stdin, []string{"AWS_ENDPOINT_URL_SQS=" + c.endpoint}, args...)
}

func (c *cli) runEnv(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("postbox %v: %v", args, err)
	}
	return r
}

// ok runs postbox and fails the test unless it exits 0.
func (c *cli) ok(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := c.run(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("postbox %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// queueURL is the URL of a queue of the server.
func (c *cli) queueURL(name string) string { return c.endpoint + "/000000000000/" + name }

// depth returns a queue's visible and in-flight message counts.
func (c *cli) depth(t *testing.T, name string) (visible, inflight int) {
	t.Helper()
	a, err := c.svc.GetAttributes(t.Context(), c.queueURL(name), []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(a["ApproximateNumberOfMessages"])
	inflight, _ = strconv.Atoi(a["ApproximateNumberOfMessagesNotVisible"])
	return visible, inflight
}

// watcher collects a process's output and reports the address postbox
// serve logs when it starts listening.
type watcher struct {
	mu    sync.Mutex
	b     bytes.Buffer
	addr  chan string
	found bool
}

var listenRE = regexp.MustCompile(`"postbox serve listening" addr=(\S+)`)

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if !w.found {
		if m := listenRE.FindStringSubmatch(w.b.String()); m != nil {
			w.found = true
			w.addr <- m[1]
		}
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// startServeBinary runs "postbox serve --addr 127.0.0.1:0" until the test
// ends and returns its endpoint.
func startServeBinary(t *testing.T, bin string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	w := &watcher{addr: make(chan string, 1)}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("postbox serve: %v\n%s", err, w)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Errorf("postbox serve did not stop on SIGTERM\n%s", w)
		}
	})
	select {
	case addr := <-w.addr:
		return "http://" + addr
	case err := <-exited:
		exited <- err
		t.Fatalf("postbox serve exited: %v\n%s", err, w)
	case <-time.After(20 * time.Second):
		t.Fatalf("postbox serve did not start\n%s", w)
	}
	return ""
}

// TestCLI builds the postbox binary once, starts postbox serve with it,
// and runs every command against it as a user would.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "postbox")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := &cli{bin: bin, home: dir}
	c.endpoint = startServeBinary(t, bin)
	svc, err := awssqs.OpenEndpoint(t.Context(), c.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	c.svc = svc

	t.Run("version", c.testVersion)
	t.Run("help", c.testHelp)
	t.Run("queues", c.testQueues)
	t.Run("send", c.testSend)
	t.Run("receive", c.testReceive)
	t.Run("peek", c.testPeek)
	t.Run("peek file", c.testPeekFile)
	t.Run("purge", c.testPurge)
	t.Run("redrive", c.testRedrive)
	t.Run("bench", c.testBench)
	t.Run("errors", c.testErrors)
}

// testVersion checks that postbox version and --version print the
// binary's own build information: its module version and, when go build
// stamped them, its commit and whether the checkout was modified.
func (c *cli) testVersion(t *testing.T) {
	bi, err := buildinfo.ReadFile(c.bin)
	if err != nil {
		t.Fatal(err)
	}
	want := versionText(bi, true) + "\n"
	if out := c.ok(t, "", "version"); out != want {
		t.Errorf("postbox version = %q, want %q", out, want)
	}
	if out := c.ok(t, "", "--version"); out != want {
		t.Errorf("postbox --version = %q, want %q", out, want)
	}
	if !strings.HasPrefix(want, "postbox "+bi.Main.Version+"\n") {
		t.Errorf("the version line of %q is not the module version %s", want, bi.Main.Version)
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && !strings.Contains(want, "commit "+s.Value) {
			t.Errorf("%q lacks the commit %s", want, s.Value)
		}
	}
}

func (c *cli) testHelp(t *testing.T) {
	out := c.ok(t, "", "--help")
	for _, want := range []string{"Exit codes:", "130", "AWS_ENDPOINT_URL_SQS", "queues", "send", "receive", "peek", "purge", "redrive", "bench", "completion"} {
		if !strings.Contains(out, want) {
			t.Errorf("postbox --help lacks %q", want)
		}
	}
	if strings.Contains(out, "gen-docs") {
		t.Error("postbox --help shows the hidden gen-docs command")
	}
	if out := c.ok(t, "", "completion", "bash"); !strings.Contains(out, "bash completion") {
		t.Errorf("completion bash: %.200s", out)
	}
	c.ok(t, "", "queues", "create", "h-alpha")
	c.ok(t, "", "queues", "create", "h-beta")
	if out := c.ok(t, "", "__complete", "receive", "h-"); !strings.HasPrefix(out, "h-alpha\nh-beta\n:4\n") {
		t.Errorf("completing receive h-: %q", out)
	}
	for _, cmd := range [][]string{{"queues", "create"}, {"send"}, {"receive"}, {"peek"}, {"purge"}, {"redrive", "start"}, {"bench"}} {
		out := c.ok(t, "", append(cmd, "--help")...)
		if !strings.Contains(out, "Examples:") || !strings.Contains(out, "--endpoint") {
			t.Errorf("%v --help lacks examples or --endpoint:\n%s", cmd, out)
		}
	}
}

func (c *cli) testQueues(t *testing.T) {
	// --endpoint instead of the environment.
	r := c.runEnv(t, "", nil, "queues", "create", "q-main", "--endpoint", c.endpoint, "--attr", "VisibilityTimeout=45", "--tag", "team=payments")
	if r.code != 0 || strings.TrimSpace(r.stdout) != c.queueURL("q-main") {
		t.Fatalf("create: %+v", r)
	}
	// AWS_ENDPOINT_URL when AWS_ENDPOINT_URL_SQS is unset.
	r = c.runEnv(t, "", []string{"AWS_ENDPOINT_URL=" + c.endpoint}, "queues", "create", "q-events.fifo", "--attr", "ContentBasedDeduplication=true")
	if r.code != 0 {
		t.Fatalf("create fifo: %+v", r)
	}
	a, err := c.svc.GetAttributes(t.Context(), c.queueURL("q-events.fifo"), []string{"All"})
	if err != nil || a["FifoQueue"] != "true" || a["ContentBasedDeduplication"] != "true" {
		t.Fatalf("fifo attributes = %v, %v", a, err)
	}
	if r := c.run(t, "", "queues", "create", "q-plain", "--fifo"); r.code != exitUsage || !strings.Contains(r.stderr, ".fifo") {
		t.Errorf("create --fifo without .fifo: %+v", r)
	}

	list := strings.Fields(c.ok(t, "", "queues", "list", "--prefix", "q-"))
	if want := []string{c.queueURL("q-events.fifo"), c.queueURL("q-main")}; !slices.Equal(list, want) {
		t.Errorf("list = %v, want %v", list, want)
	}

	out := c.ok(t, "", "queues", "attributes", "get", "q-main", "--json")
	var attrs map[string]string
	if err := json.Unmarshal([]byte(out), &attrs); err != nil || attrs["VisibilityTimeout"] != "45" || attrs["QueueArn"] == "" {
		t.Errorf("attributes get --json = %s (%v)", out, err)
	}
	// --attr, as queues create takes it; the old positional form still
	// works, with a note.
	c.ok(t, "", "queues", "attributes", "set", "q-main", "--attr", "VisibilityTimeout=90", "--attr", "DelaySeconds=0")
	if out := c.ok(t, "", "queues", "attributes", "get", "q-main", "VisibilityTimeout"); !regexp.MustCompile(`^VisibilityTimeout\s+90\n$`).MatchString(out) {
		t.Errorf("attributes get VisibilityTimeout = %q", out)
	}
	r = c.run(t, "", "queues", "attributes", "set", "q-main", "DelaySeconds=2", "--attr", "MaximumMessageSize=2048")
	if r.code != 0 || !strings.Contains(r.stderr, "deprecated; use --attr DelaySeconds=2") {
		t.Errorf("attributes set with a positional pair: %+v", r)
	}
	if a, _ := c.svc.GetAttributes(t.Context(), c.queueURL("q-main"), []string{"All"}); a["DelaySeconds"] != "2" || a["MaximumMessageSize"] != "2048" {
		t.Errorf("after set: %v", a)
	}
	for _, args := range [][]string{{"q-main"}, {"q-main", "--attr", "novalue"}, {"q-main", "DelaySeconds=1", "--attr", "DelaySeconds=2"}} {
		if r := c.run(t, "", append([]string{"queues", "attributes", "set"}, args...)...); r.code != exitUsage {
			t.Errorf("attributes set %v: %+v", args, r)
		}
	}
	// An invalid attribute changes nothing and names the SQS code.
	r = c.run(t, "", "queues", "attributes", "set", "q-main", "--attr", "VisibilityTimeout=1", "--attr", "DelaySeconds=9999")
	if r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: InvalidAttributeValue") {
		t.Errorf("bad set: %+v", r)
	}
	if a, _ := c.svc.GetAttributes(t.Context(), c.queueURL("q-main"), []string{"VisibilityTimeout"}); a["VisibilityTimeout"] != "90" {
		t.Errorf("a failed set changed VisibilityTimeout to %v", a["VisibilityTimeout"])
	}

	c.ok(t, "", "queues", "tags", "add", "q-main", "env=prod", "tier=1")
	c.ok(t, "", "queues", "tags", "remove", "q-main", "tier")
	if out := c.ok(t, "", "queues", "tags", "list", "q-main"); !regexp.MustCompile(`^env\s+prod\nteam\s+payments\n$`).MatchString(out) {
		t.Errorf("tags list = %q", out)
	}

	// A queue URL works as well as a name.
	if out := c.ok(t, "", "queues", "delete", c.queueURL("q-events.fifo")); !strings.Contains(out, "deleted") {
		t.Errorf("delete: %q", out)
	}
	if _, err := c.svc.QueueURL(t.Context(), "q-events.fifo", ""); !errorsIsQueueMissing(err) {
		t.Errorf("after delete: %v", err)
	}
}

func errorsIsQueueMissing(err error) bool { return backend.Code(err) == backend.CodeQueueDoesNotExist }

func (c *cli) testSend(t *testing.T) {
	c.ok(t, "", "queues", "create", "s-jobs")

	id := strings.TrimSpace(c.ok(t, "", "send", "s-jobs", "from an argument", "--attr", "kind=resize", "--attr", "size:Number=42", "--attr", "raw:Binary=AAEC"))
	if id == "" {
		t.Fatal("send printed no message id")
	}
	c.ok(t, "from stdin", "send", "s-jobs", "-", "--delay", "0")
	path := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(path, []byte(`{"from":"a file"}`), 0o600)
	c.ok(t, "", "send", "s-jobs", "--file", path)
	if v, _ := c.depth(t, "s-jobs"); v != 3 {
		t.Fatalf("depth after three sends = %d", v)
	}
	q, _ := c.svc.Queue(c.queueURL("s-jobs"))
	msgs, err := q.Receive(t.Context(), backend.ReceiveRequest{MaxMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil || len(msgs) != 3 {
		t.Fatalf("receive: %d, %v", len(msgs), err)
	}
	bodies := map[string]*backend.Message{}
	for _, m := range msgs {
		bodies[m.Body] = m
	}
	m := bodies["from an argument"]
	if m == nil || m.MessageID != id || m.MessageAttributes["kind"].StringValue != "resize" ||
		m.MessageAttributes["size"].DataType != "Number" || m.MessageAttributes["size"].StringValue != "42" ||
		!bytes.Equal(m.MessageAttributes["raw"].BinaryValue, []byte{0, 1, 2}) {
		t.Errorf("sent message = %+v", m)
	}
	if bodies["from stdin"] == nil || bodies[`{"from":"a file"}`] == nil {
		t.Errorf("bodies = %v", slices.Collect(maps.Keys(bodies)))
	}

	// --lines: 25 lines, 25 messages, in batches; no progress output off a terminal.
	c.ok(t, "", "queues", "create", "s-lines")
	var in strings.Builder
	for i := range 25 {
		in.WriteString("line " + strconv.Itoa(i) + "\r\n")
		if i == 10 {
			in.WriteString("\n") // empty lines are skipped
		}
	}
	r := c.run(t, in.String(), "send", "s-lines", "-", "--lines")
	if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "sent 25 messages") {
		t.Fatalf("send --lines: %+v", r)
	}
	if v, _ := c.depth(t, "s-lines"); v != 25 {
		t.Fatalf("after send --lines of 25 lines the queue has %d messages", v)
	}

	// A bad line fails alone: the others are sent, exit code 3.
	c.ok(t, "", "queues", "create", "s-partial")
	r = c.run(t, "good 1\nbad \x01 line\ngood 2\n", "send", "s-partial", "-", "--lines")
	if r.code != exitPartial || !strings.Contains(r.stderr, "line 2: InvalidMessageContents") || !strings.Contains(r.stdout, "sent 2 messages") {
		t.Errorf("send --lines with a bad line: %+v", r)
	}
	if v, _ := c.depth(t, "s-partial"); v != 2 {
		t.Errorf("after a partial send the queue has %d messages, want 2", v)
	}

	// FIFO: group and deduplication ids.
	c.ok(t, "", "queues", "create", "s-orders.fifo")
	c.ok(t, "", "send", "s-orders.fifo", "order 1", "--group", "g1", "--dedup-id", "o-1")
	c.ok(t, "", "send", "s-orders.fifo", "order 1 again", "--group", "g1", "--dedup-id", "o-1") // deduplicated
	c.ok(t, "x\ny\n", "send", "s-orders.fifo", "--lines", "-", "--group", "g2", "--dedup-id", "batch")
	if v, _ := c.depth(t, "s-orders.fifo"); v != 3 {
		t.Errorf("FIFO depth = %d, want 3 (the second send is a duplicate)", v)
	}
	// --lines keeps a FIFO queue's order.
	c.ok(t, "", "queues", "create", "s-seq.fifo")
	var seq strings.Builder
	for i := range 25 {
		seq.WriteString(strconv.Itoa(i) + "\n")
	}
	c.ok(t, seq.String(), "send", "s-seq.fifo", "--lines", "-", "--group", "g", "--dedup-id", "run1", "--concurrency", "8")
	var order []string
	for l := range strings.Lines(c.ok(t, "", "receive", "s-seq.fifo", "--max", "25", "--wait", "0", "--delete", "--json")) {
		var m struct{ Body string }
		json.Unmarshal([]byte(l), &m)
		order = append(order, m.Body)
	}
	if got, want := strings.Join(order, ","), strings.Join(strings.Fields(seq.String()), ","); got != want {
		t.Errorf("FIFO order after send --lines: %s, want %s", got, want)
	}
	r = c.run(t, "", "send", "s-orders.fifo", "no group")
	if r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: MissingParameter") {
		t.Errorf("FIFO send without --group: %+v", r)
	}

	// Usage mistakes.
	for _, args := range [][]string{
		{"send", "s-jobs"},
		{"send", "s-jobs", "body", "--file", path},
		{"send", "s-jobs", "x", "--attr", "novalue"},
		{"send", "s-jobs", "x", "--attr", "n:Blob=1"},
		{"send", "s-jobs", "x", "--delay", "901"},
	} {
		if r := c.run(t, "", args...); r.code != exitUsage || strings.Count(r.stderr, "postbox:") != 1 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func (c *cli) testReceive(t *testing.T) {
	c.ok(t, "", "queues", "create", "r-jobs")
	c.ok(t, "a\nb\nc\n", "send", "r-jobs", "--lines", "-", "--attr", "kind=x")
	out := c.ok(t, "", "receive", "r-jobs", "--json", "--max", "2", "--wait", "0")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("receive --json --max 2 printed %d lines:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var m struct {
			ID                string            `json:"id"`
			Body              string            `json:"body"`
			ReceiptHandle     string            `json:"receiptHandle"`
			Attributes        map[string]string `json:"attributes"`
			MessageAttributes map[string]struct {
				DataType    string `json:"dataType"`
				StringValue string `json:"stringValue"`
			} `json:"messageAttributes"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if m.ID == "" || m.ReceiptHandle == "" || m.Attributes["ApproximateReceiveCount"] != "1" || m.MessageAttributes["kind"].StringValue != "x" || m.Body == "" {
			t.Errorf("receive --json message = %+v", m)
		}
	}
	if v, f := c.depth(t, "r-jobs"); v != 1 || f != 2 {
		t.Errorf("after receiving 2: visible %d, in flight %d", v, f)
	}

	// --visibility 0 leaves the message visible; --delete deletes.
	out = c.ok(t, "", "receive", "r-jobs", "--visibility", "0", "--wait", "0")
	if !strings.Contains(out, "--- message 1: ") || !strings.Contains(out, "ApproximateReceiveCount: 1") || !strings.Contains(out, "attribute kind (String): x") {
		t.Errorf("receive text output:\n%s", out)
	}
	if v, _ := c.depth(t, "r-jobs"); v != 1 {
		t.Errorf("--visibility 0 left %d visible", v)
	}
	c.ok(t, "", "receive", "r-jobs", "--delete", "--max", "5", "--wait", "0", "--visibility", "0")
	if v, f := c.depth(t, "r-jobs"); v != 0 || f != 2 {
		t.Errorf("after --delete: visible %d, in flight %d", v, f)
	}
	// An empty queue: no messages, exit 0, nothing on stdout.
	if r := c.run(t, "", "receive", "r-jobs", "--wait", "0"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "no messages") {
		t.Errorf("empty receive: %+v", r)
	}
	if r := c.run(t, "", "receive", "r-jobs", "--max", "0"); r.code != exitUsage {
		t.Errorf("--max 0: %+v", r)
	}
}

// peekJSON is a line of peek --json.
type peekJSON struct {
	ID            string            `json:"id"`
	Body          string            `json:"body"`
	State         string            `json:"state"`
	ReceiptHandle string            `json:"receiptHandle"`
	Attributes    map[string]string `json:"attributes"`
}

func parsePeek(t *testing.T, out string) []peekJSON {
	t.Helper()
	var ms []peekJSON
	for l := range strings.Lines(out) {
		var m peekJSON
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("peek --json line %q: %v", l, err)
		}
		ms = append(ms, m)
	}
	return ms
}

func (c *cli) testPeek(t *testing.T) {
	c.ok(t, "", "queues", "create", "p-jobs")
	c.ok(t, "m1\nm2\nm3\n", "send", "p-jobs", "--lines", "-")
	c.ok(t, "", "receive", "p-jobs", "--wait", "0") // m1 in flight
	out := c.ok(t, "", "peek", "p-jobs", "--json")
	ms := parsePeek(t, out)
	if len(ms) != 3 {
		t.Fatalf("peek --json = %d messages:\n%s", len(ms), out)
	}
	for i, want := range []struct{ body, state string }{{"m1", "inflight"}, {"m2", "visible"}, {"m3", "visible"}} {
		if ms[i].Body != want.body || ms[i].State != want.state || ms[i].ReceiptHandle != "" {
			t.Errorf("peek[%d] = %+v, want %v", i, ms[i], want)
		}
	}
	// --max and --after page through.
	if page := parsePeek(t, c.ok(t, "", "peek", "p-jobs", "--json", "--max", "1", "--after", ms[0].ID)); len(page) != 1 || page[0].Body != "m2" {
		t.Errorf("peek --after m1 --max 1 = %+v", page)
	}
	// Peeking changed nothing: the visible messages have never been received.
	if v, f := c.depth(t, "p-jobs"); v != 2 || f != 1 {
		t.Errorf("after peek: visible %d, in flight %d", v, f)
	}
	q, _ := c.svc.Queue(c.queueURL("p-jobs"))
	got, err := q.Receive(t.Context(), backend.ReceiveRequest{MaxMessages: 10, SystemAttributeNames: []string{"All"}})
	if err != nil || len(got) != 2 {
		t.Fatalf("receive after peek: %d, %v", len(got), err)
	}
	for _, m := range got {
		if m.Attributes["ApproximateReceiveCount"] != "1" {
			t.Errorf("%s: ApproximateReceiveCount %s after peeks", m.Body, m.Attributes["ApproximateReceiveCount"])
		}
	}
	if out := c.ok(t, "", "peek", "p-jobs"); !strings.Contains(out, "State: inflight") || !strings.Contains(out, "--- message 3: ") {
		t.Errorf("peek text:\n%s", out)
	}
	// AWS SQS cannot peek; no request is made.
	r := c.run(t, "", "peek", "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs")
	if r.code != exitError || !strings.Contains(r.stderr, "AWS SQS cannot show messages without receiving them") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("peek at AWS: %+v", r)
	}
}

func (c *cli) testPeekFile(t *testing.T) {
	dir := t.TempDir()
	u := "file://" + dir + "?queue=f-jobs"
	if out := c.ok(t, "", "queues", "create", u); strings.TrimSpace(out) != u {
		t.Errorf("create %s printed %q", u, out)
	}
	c.ok(t, "one\ntwo\n", "send", u, "--lines", "-")
	c.ok(t, "", "receive", u, "--wait", "0")
	ms := parsePeek(t, c.ok(t, "", "peek", u, "--json"))
	if len(ms) != 2 || ms[0].State != "inflight" || ms[1].State != "visible" || ms[1].Body != "two" {
		t.Errorf("peek file:// = %+v", ms)
	}
	if out := c.ok(t, "", "queues", "list", "--endpoint", "file://"+dir); strings.TrimSpace(out) != u {
		t.Errorf("list file:// = %q", out)
	}
	if r := c.run(t, "", "peek", "file://"+dir+"/nowhere?queue=x"); r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: no postbox data directory at ") {
		t.Errorf("peek in a missing directory: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("peek created a data directory")
	}
	// A queue URL opens the queue as backend.Open does: a missing one is
	// made, empty; a name is looked up, and a missing one is an error.
	r := c.run(t, "", "peek", "file://"+dir+"?queue=new")
	if r.code != 0 || r.stdout != "" || r.stderr != "no messages\n" {
		t.Errorf("peek a new file:// queue: %+v", r)
	}
	r = c.run(t, "", "peek", "nope", "--endpoint", "file://"+dir)
	if r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: AWS.SimpleQueueService.NonExistentQueue: ") {
		t.Errorf("peek a missing queue by name at a file:// endpoint: %+v", r)
	}
}

func (c *cli) testPurge(t *testing.T) {
	c.ok(t, "", "queues", "create", "u-jobs")
	c.ok(t, "a\nb\n", "send", "u-jobs", "--lines", "-")
	// No terminal to confirm on: refuse, change nothing.
	r := c.run(t, "y\n", "purge", "u-jobs")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("purge without --yes: %+v", r)
	}
	if v, _ := c.depth(t, "u-jobs"); v != 2 {
		t.Errorf("a refused purge left %d messages", v)
	}
	if out := c.ok(t, "", "purge", "u-jobs", "--yes"); !strings.Contains(out, "purged") {
		t.Errorf("purge --yes: %q", out)
	}
	if v, _ := c.depth(t, "u-jobs"); v != 0 {
		t.Errorf("after purge: %d messages", v)
	}
}

func (c *cli) testRedrive(t *testing.T) {
	c.ok(t, "", "queues", "create", "d-dlq")
	arn := strings.TrimSpace(c.ok(t, "", "queues", "attributes", "get", "d-dlq", "QueueArn"))
	arn = strings.Fields(arn)[1]
	c.ok(t, "", "queues", "create", "d-src", "--attr", `RedrivePolicy={"deadLetterTargetArn":"`+arn+`","maxReceiveCount":1}`)
	c.ok(t, "", "queues", "create", "d-retry")
	c.ok(t, "1\n2\n3\n4\n5\n", "send", "d-dlq", "--lines", "-")

	out := c.ok(t, "", "redrive", "start", "d-dlq", "--destination", "d-retry", "--follow", "--interval", "5ms")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^task handle: \S+$`).MatchString(lines[0]) || lines[1] != "COMPLETED: moved 5 messages" {
		t.Fatalf("redrive start --follow:\n%s", out)
	}
	if v, _ := c.depth(t, "d-retry"); v != 5 {
		t.Errorf("d-retry has %d messages after the redrive, want 5", v)
	}
	out = c.ok(t, "", "redrive", "list", "d-dlq")
	if !regexp.MustCompile(`(?m)^COMPLETED\s+5\s+5\s+arn:aws:sqs:[^ ]+:d-retry`).MatchString(out) {
		t.Errorf("redrive list:\n%s", out)
	}
	var task jsonTask
	if err := json.Unmarshal([]byte(c.ok(t, "", "redrive", "list", arn, "--json")), &task); err != nil || task.Status != "COMPLETED" || task.Moved != 5 {
		t.Errorf("redrive list --json: %+v, %v", task, err)
	}
	// Not a dead-letter queue; an unknown handle.
	if r := c.run(t, "", "redrive", "start", "--source", "d-retry"); r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("redrive from a queue that is no DLQ: %+v", r)
	}
	if r := c.run(t, "", "redrive", "cancel", "no-such-handle"); r.code != exitError || !strings.HasPrefix(r.stderr, "postbox: ") {
		t.Errorf("cancel an unknown handle: %+v", r)
	}
	if r := c.run(t, "", "redrive", "start"); r.code != exitUsage {
		t.Errorf("redrive start without a DLQ: %+v", r)
	}

	// A slow task: interrupting --follow leaves it running (exit 130);
	// redrive cancel stops it.
	var many strings.Builder
	for i := range 30 {
		many.WriteString(strconv.Itoa(i) + "\n")
	}
	c.ok(t, many.String(), "send", "d-dlq", "--lines", "-")
	cmd := exec.CommandContext(t.Context(), c.bin, "redrive", "start", "d-dlq", "--destination", "d-retry", "--rate", "1", "--follow", "--interval", "5ms")
	cmd.Env = c.env("AWS_ENDPOINT_URL_SQS=" + c.endpoint)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	handle, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Wait()
		t.Fatalf("reading the task handle: %v", err)
	}
	handle, ok := strings.CutPrefix(strings.TrimSpace(handle), "task handle: ")
	if !ok {
		t.Errorf("redrive start printed %q, want task handle: HANDLE", handle)
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted || !strings.Contains(stderr.String(), "the task keeps running") {
		t.Errorf("interrupted --follow: %v, stderr %q", err, stderr.String())
	}
	if out := c.ok(t, "", "redrive", "list", "d-dlq"); !strings.Contains(out, "RUNNING") || !strings.Contains(out, handle) {
		t.Errorf("after interrupting --follow:\n%s", out)
	}
	if out := c.ok(t, "", "redrive", "cancel", handle); !regexp.MustCompile(`^cancelled; \d+ messages moved\n$`).MatchString(out) {
		t.Errorf("redrive cancel: %q", out)
	}

	// Without --follow: the labelled handle, and how to follow and cancel
	// the task, which work as printed.
	r := c.run(t, "", "redrive", "start", "d-dlq", "--destination", "d-retry", "--rate", "1")
	handle, ok = strings.CutPrefix(strings.TrimSpace(r.stdout), "task handle: ")
	if r.code != 0 || !ok || !strings.Contains(r.stderr, "progress: postbox redrive list d-dlq\n") ||
		!strings.Contains(r.stderr, "cancel:   postbox redrive cancel "+handle+"\n") {
		t.Fatalf("redrive start: %+v", r)
	}
	c.ok(t, "", "redrive", "cancel", handle)
}

func (c *cli) testBench(t *testing.T) {
	c.ok(t, "", "queues", "create", "b-jobs")
	c.ok(t, "real 1\nreal 2\nreal 3\n", "send", "b-jobs", "--lines", "-")
	r := c.run(t, "", "bench", "b-jobs", "--messages", "200", "--concurrency", "3", "--body-size", "100")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("bench: %+v", r)
	}
	if !regexp.MustCompile(`200 messages sent in [0-9.]+s: [1-9][0-9.]* msg/s, 0 errors`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^on the scratch queue \S+/000000000000/b-jobs-bench-[0-9a-f]{8} \(deleted\)$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^\s*OP\s+CALLS\s+MESSAGES\s+ERRORS\s+CALLS/S\s+MSG/S\s+P50 ms\s+P90 ms\s+P99 ms\s+MAX ms\s*$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^\s*send\s+20\s+200\s+0\s`).MatchString(r.stdout) {
		t.Errorf("bench table:\n%s", r.stdout)
	}

	for _, mode := range []string{"cycle", "receive"} {
		out := c.ok(t, "", "bench", "b-jobs", "--mode", mode, "--messages", "100", "--batch", "5", "--json", "--wait", "0")
		var res benchResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("bench --json: %v\n%s", err, out)
		}
		ops := map[string]benchOpStats{}
		for _, op := range res.Operations {
			ops[op.Op] = op
		}
		if res.Mode != mode || res.Messages != 100 || res.Throughput <= 0 || res.Errors != 0 || res.Batch != 5 ||
			ops["receive"].Calls == 0 || ops["delete"].Messages != 100 || ops["delete"].LatencyMs.Max <= 0 ||
			ops["delete"].LatencyMs.P50 > ops["delete"].LatencyMs.P99 {
			t.Errorf("bench --mode %s --json = %+v", mode, res)
		}
		if _, sent := ops["send"]; sent != (mode == "cycle") {
			t.Errorf("bench --mode %s operations = %+v", mode, res.Operations)
		}
	}
	// bench worked on scratch queues: b-jobs has its three messages, never
	// received, and no scratch queue is left.
	ms := parsePeek(t, c.ok(t, "", "peek", "b-jobs", "--json"))
	if len(ms) != 3 {
		t.Errorf("after bench b-jobs holds %d messages, want its 3", len(ms))
	}
	for _, m := range ms {
		if m.State != "visible" || m.Attributes["ApproximateReceiveCount"] != "0" {
			t.Errorf("after bench: %+v", m)
		}
	}
	if out := c.ok(t, "", "queues", "list", "--prefix", "b-"); strings.TrimSpace(out) != c.queueURL("b-jobs") {
		t.Errorf("queues after bench:\n%s", out)
	}
	for _, args := range [][]string{{"--batch", "11"}, {"--mode", "fly"}, {"--concurrency", "0"}, {"--body-size", "0"}} {
		if r := c.run(t, "", append([]string{"bench", "b-jobs"}, args...)...); r.code != exitUsage {
			t.Errorf("bench %v: %+v", args, r)
		}
	}
}

func (c *cli) testErrors(t *testing.T) {
	cases := []struct {
		name   string
		env    []string
		args   []string
		code   int
		stderr string // the first line starts with this
	}{
		{"missing queue", []string{"AWS_ENDPOINT_URL_SQS=" + c.endpoint}, []string{"receive", "no-such-queue"}, exitError,
			"postbox: AWS.SimpleQueueService.NonExistentQueue: "},
		{"missing queue by URL", nil, []string{"queues", "attributes", "get", c.queueURL("no-such-queue")}, exitError,
			"postbox: AWS.SimpleQueueService.NonExistentQueue: "},
		{"no endpoint", nil, []string{"queues", "list"}, exitUsage, "postbox: no endpoint"},
		{"unknown flag", nil, []string{"receive", "x", "--nope"}, exitUsage, "postbox: unknown flag: --nope"},
		{"unknown command", nil, []string{"frobnicate"}, exitUsage, "postbox: unknown command"},
		{"too many arguments", nil, []string{"purge", "a", "b"}, exitUsage, "postbox: want a QUEUE"},
		{"bad scheme", nil, []string{"receive", "ftp://x/y"}, exitUsage, "postbox: backend: unknown queue URL scheme"},
		{"bad endpoint", nil, []string{"queues", "list", "--endpoint", "nonsense"}, exitUsage, "postbox: endpoint \"nonsense\""},
		{"server down", []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1"}, []string{"queues", "list"}, exitError, "postbox: ServiceUnavailable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.runEnv(t, "", tc.env, tc.args...)
			if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.stderr) {
				t.Errorf("postbox %v: exit %d, stderr %q; want exit %d, stderr %q...", tc.args, r.code, r.stderr, tc.code, tc.stderr)
			}
			if strings.Count(r.stderr, "\n") != 1 || strings.Count(r.stderr, "postbox:") != 1 {
				t.Errorf("not one error line: %q", r.stderr)
			}
		})
	}
}
