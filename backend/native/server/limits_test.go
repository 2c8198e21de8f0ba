package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/jonboulle/clockwork"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// limitsEnv is the server on a loopback port with http.Server settings
// from HTTPLimits, and optionally HTTP/2 without TLS (h2c).
func limitsEnv(t *testing.T, cfg server.Config, lim server.HTTPLimits, h2c bool) *env {
	t.Helper()
	clk := clockwork.NewFakeClock()
	eng, err := native.New(native.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Service = eng
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	lim.Apply(hs.Config)
	if h2c {
		hs.Config.Protocols = new(http.Protocols)
		hs.Config.Protocols.SetHTTP1(true)
		hs.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	hs.Start()
	t.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	})
	hc := hs.Client()
	if h2c {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		hc = &http.Client{Transport: tr}
		t.Cleanup(tr.CloseIdleConnections)
	}
	client := sqs.New(sqs.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: hc,
		Retryer:    aws.NopRetryer{},
	})
	return &env{clock: clk, eng: eng, srv: srv, hs: hs, client: client, ctx: t.Context()}
}

func TestHTTPLimitsApply(t *testing.T) {
	var hs http.Server
	server.HTTPLimits{}.Apply(&hs)
	if hs.ReadHeaderTimeout != server.DefaultReadHeaderTimeout || hs.ReadTimeout != server.DefaultReadTimeout ||
		hs.WriteTimeout != server.DefaultWriteTimeout || hs.IdleTimeout != server.DefaultIdleTimeout ||
		hs.MaxHeaderBytes != server.DefaultMaxHeaderBytes {
		t.Errorf("defaults: %+v", &hs)
	}
	server.HTTPLimits{ReadHeaderTimeout: -1, ReadTimeout: -1, WriteTimeout: -1, IdleTimeout: -1, MaxHeaderBytes: -1}.Apply(&hs)
	if hs.ReadHeaderTimeout != 0 || hs.ReadTimeout != 0 || hs.WriteTimeout != 0 || hs.IdleTimeout != 0 || hs.MaxHeaderBytes < 1<<20 {
		t.Errorf("negative means none: %+v", &hs)
	}
	server.HTTPLimits{ReadHeaderTimeout: time.Second, MaxHeaderBytes: 100}.Apply(&hs)
	if hs.ReadHeaderTimeout != time.Second || hs.MaxHeaderBytes != 100 {
		t.Errorf("explicit: %+v", &hs)
	}
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if _, err := server.New(server.Config{Service: eng, MaxLongPolls: -1}); err == nil {
		t.Error("negative MaxLongPolls accepted")
	}
}

// countingReader produces n bytes (prefix, then filler) and counts how
// many were read.
type countingReader struct {
	prefix string
	n      int64
	read   atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	off := r.read.Load()
	if off >= r.n {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n-off {
		p = p[:r.n-off]
	}
	for i := range p {
		if j := off + int64(i); j < int64(len(r.prefix)) {
			p[i] = r.prefix[j]
		} else {
			p[i] = 'x'
		}
	}
	r.read.Add(int64(len(p)))
	return len(p), nil
}

// TestHugeBodyNotRead sends 100 MiB bodies over a raw loopback connection
// and checks that the server answers with SQS's error having read little
// of them, and that its heap does not grow by anything near 100 MiB.
func TestHugeBodyNotRead(t *testing.T) {
	e := newEnv(t) // DefaultMaxRequestBytes
	q := e.createQueue(t, "huge", nil)
	const size = 100 << 20
	addr := e.hs.Listener.Addr().String()
	cases := []struct {
		name      string
		header    string
		prefix    string
		chunked   bool
		status    int
		code      string // x-amzn-query-error, or the query Code
		maxRead   int64
		jsonShape bool
	}{
		{"json SendMessage with Content-Length", "X-Amz-Target: AmazonSQS.SendMessage\r\nContent-Type: application/x-amz-json-1.0\r\n",
			`{"QueueUrl":"` + q + `","MessageBody":"`, false, 400, "InvalidParameterValue;Sender", 24 << 20, true},
		{"json SendMessageBatch chunked", "X-Amz-Target: AmazonSQS.SendMessageBatch\r\nContent-Type: application/x-amz-json-1.0\r\n",
			`{"QueueUrl":"` + q + `","Entries":[{"Id":"a","MessageBody":"`, true, 400, "AWS.SimpleQueueService.BatchRequestTooLong;Sender", server.DefaultMaxRequestBytes + 24<<20, true},
		{"query SendMessageBatch with Content-Length", "Content-Type: application/x-www-form-urlencoded\r\n",
			"Action=SendMessageBatch&QueueUrl=" + q + "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=", false, 400, "AWS.SimpleQueueService.BatchRequestTooLong", 24 << 20, false},
		{"query SendMessage chunked", "Content-Type: application/x-www-form-urlencoded\r\n",
			"Action=SendMessage&QueueUrl=" + q + "&MessageBody=", true, 400, "InvalidParameterValue", server.DefaultMaxRequestBytes + 24<<20, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)

			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			body := &countingReader{prefix: c.prefix, n: size}
			head := "POST / HTTP/1.1\r\nHost: " + addr + "\r\n" + c.header
			if c.chunked {
				head += "Transfer-Encoding: chunked\r\n\r\n"
			} else {
				head += "Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
			}
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				if _, err := io.WriteString(conn, head); err != nil {
					return
				}
				if !c.chunked {
					io.Copy(conn, body)
					return
				}
				cw := httpChunkWriter{conn}
				io.Copy(cw, body)
				io.WriteString(conn, "0\r\n\r\n")
			}()
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			conn.Close() // ends the writer, if the server did not
			<-wrote

			runtime.ReadMemStats(&after)
			read := body.read.Load()
			t.Logf("client wrote %d of %d bytes before the answer; heap allocations %d MiB", read, size, (after.TotalAlloc-before.TotalAlloc)>>20)
			if read > c.maxRead {
				t.Errorf("the server let the client send %d bytes (limit %d): it read the body", read, c.maxRead)
			}
			// A body of unknown length is read up to the limit, into a
			// buffer that grows by doubling (16 MiB of allocations for the
			// 4 MiB limit; more under the race detector); a 100 MiB body
			// read into memory would allocate over 100 MiB.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 48<<20 {
				t.Errorf("allocated %d MiB during a 100 MiB request", grew>>20)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.status, b)
			}
			got := resp.Header.Get("X-Amzn-Query-Error")
			if !c.jsonShape {
				got = xmlCode(t, b)
			}
			if got != c.code {
				t.Errorf("code %q, want %q (%s)", got, c.code, b)
			}
		})
	}
	// A client that asks before sending (Expect: 100-continue) is
	// refused before it sends a byte of the body, in both protocols (the
	// query protocol's Action in the URL).
	for _, c := range []struct{ name, path, header, code string }{
		{"json Expect 100-continue", "/", "X-Amz-Target: AmazonSQS.SendMessageBatch\r\nContent-Type: application/x-amz-json-1.0\r\n", "AWS.SimpleQueueService.BatchRequestTooLong;Sender"},
		{"query Expect 100-continue", "/?Action=SendMessage", "Content-Type: application/x-www-form-urlencoded\r\n", "InvalidParameterValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			io.WriteString(conn, "POST "+c.path+" HTTP/1.1\r\nHost: "+addr+"\r\n"+c.header+
				"Expect: 100-continue\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got := resp.Header.Get("X-Amzn-Query-Error")
			if c.path != "/" {
				got = xmlCode(t, b)
			}
			if resp.StatusCode != 400 || got != c.code {
				t.Errorf("answer %d %q (%s), want 400 %s without 100 Continue", resp.StatusCode, got, b, c.code)
			}
		})
	}

	// Nothing was enqueued.
	if n := queueCount(t, e, q); n != 0 {
		t.Errorf("queue holds %d messages after rejected requests", n)
	}
}

// httpChunkWriter writes HTTP/1.1 chunks.
type httpChunkWriter struct{ w io.Writer }

func (c httpChunkWriter) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(c.w, "%x\r\n", len(p)); err != nil {
		return 0, err
	}
	if _, err := c.w.Write(p); err != nil {
		return 0, err
	}
	_, err := io.WriteString(c.w, "\r\n")
	return len(p), err
}

func xmlCode(t *testing.T, b []byte) string {
	t.Helper()
	s := string(b)
	i := strings.Index(s, "<Code>")
	j := strings.Index(s, "</Code>")
	if i < 0 || j < i {
		t.Fatalf("no Code in %q", b)
	}
	return s[i+len("<Code>") : j]
}

// queueCount is ApproximateNumberOfMessages + ...NotVisible + ...Delayed.
func queueCount(t *testing.T, e *env, q string) int {
	t.Helper()
	out, err := e.client.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"} {
		v, _ := strconv.Atoi(out.Attributes[k])
		n += v
	}
	return n
}

// waitClosed reads from conn until the server closes it, and returns how
// long that took.
func waitClosed(t *testing.T, conn net.Conn) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(10 * time.Second)) // a safety net only
	b, err := io.ReadAll(conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server did not close the connection in 10 s")
	}
	return time.Since(start), string(b)
}

// TestSlowloris checks that a client trickling its headers is cut off
// after ReadHeaderTimeout, an idle kept-alive connection after
// IdleTimeout, and oversized headers get 431.
func TestSlowloris(t *testing.T) {
	const timeout = 50 * time.Millisecond
	e := limitsEnv(t, server.Config{}, server.HTTPLimits{ReadHeaderTimeout: timeout, IdleTimeout: timeout, MaxHeaderBytes: 4096}, false)
	addr := e.hs.Listener.Addr().String()

	t.Run("trickled headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // one header byte every 5 ms, never the blank line
			defer close(done)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				return
			}
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte("a")); err != nil {
						return
					}
				}
			}
		}()
		took, _ := waitClosed(t, conn)
		close(stop)
		<-done
		if took < timeout/2 {
			t.Errorf("closed after %v, before the %v timeout", took, timeout)
		}
		t.Logf("trickling client cut off after %v (ReadHeaderTimeout %v)", took, timeout)
	})

	t.Run("idle connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17\r\n\r\nAction=ListQueues")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ListQueues: %d", resp.StatusCode)
		}
		start := time.Now()
		conn.SetReadDeadline(start.Add(10 * time.Second))
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("idle connection: %v, want EOF", err)
		}
		t.Logf("idle connection closed after %v (IdleTimeout %v)", time.Since(start), timeout)
	})

	t.Run("headers too large", func(t *testing.T) {
		resp, _ := rawPost(t, e.hs.URL+"/", map[string]string{"X-Big": strings.Repeat("b", 8192)}, "Action=ListQueues")
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
}

// TestLongPollOutlivesTimeouts checks that a long poll is not cut off by
// ReadTimeout or WriteTimeout far shorter than its wait.
func TestLongPollOutlivesTimeouts(t *testing.T) {
	const timeout = 50 * time.Millisecond
	for _, h2c := range []bool{false, true} {
		t.Run(map[bool]string{false: "HTTP/1.1", true: "h2c"}[h2c], func(t *testing.T) {
			e := limitsEnv(t, server.Config{}, server.HTTPLimits{ReadHeaderTimeout: timeout, ReadTimeout: 2 * timeout, WriteTimeout: 2 * timeout}, h2c)
			q := e.createQueue(t, "lp", nil)
			got := make(chan error, 1)
			var body string
			go func() {
				out, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 20})
				if err == nil && len(out.Messages) == 1 {
					body = *out.Messages[0].Body
				}
				got <- err
			}()
			e.waitParked(t, 1)
			parked := time.Now()
			// Let the read and write timeouts pass, several times over,
			// by waiting for slowloris connections to be cut off after
			// ReadHeaderTimeout.
			for time.Since(parked) < 6*timeout {
				conn, err := net.Dial("tcp", e.hs.Listener.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				io.WriteString(conn, "GET / HTTP/1.1\r\n")
				waitClosed(t, conn)
				conn.Close()
			}
			if e.eng.WaitingReceives() != 1 {
				t.Fatal("the long poll ended before a message came")
			}
			if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: &q, MessageBody: aws.String("late")}); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatalf("long poll after %v with %v timeouts: %v", time.Since(parked), 2*timeout, err)
			}
			if body != "late" {
				t.Fatalf("long poll got %q", body)
			}
		})
	}
}

// jsonReceive posts a JSON ReceiveMessage with client and returns the
// status and the x-amzn-query-error header.
func jsonReceive(ctx context.Context, client *http.Client, base, q string, wait int) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/", strings.NewReader(fmt.Sprintf(`{"QueueUrl":%q,"WaitTimeSeconds":%d}`, q, wait)))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("X-Amz-Target", "AmazonSQS.ReceiveMessage")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-Query-Error"), string(b), err
}

// waitLongPolls waits until the server holds n long polls.
func waitLongPolls(t *testing.T, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a safety net for a loaded machine
	for e.srv.LongPolls() != n || e.eng.WaitingReceives() != n {
		if time.Now().After(deadline) {
			t.Fatalf("long polls: server %d, engine %d; want %d", e.srv.LongPolls(), e.eng.WaitingReceives(), n)
		}
		runtime.Gosched()
	}
}

func TestLongPollLimits(t *testing.T) {
	t.Run("per server", func(t *testing.T) {
		e := limitsEnv(t, server.Config{MaxLongPolls: 3}, server.HTTPLimits{}, false)
		q := e.createQueue(t, "lim", nil)
		hc := &http.Client{Transport: &http.Transport{}}
		defer hc.Transport.(*http.Transport).CloseIdleConnections()
		var wg sync.WaitGroup
		statuses := make([]int, 3)
		for i := range 3 {
			wg.Go(func() { statuses[i], _, _, _ = jsonReceive(e.ctx, hc, e.hs.URL, q, 20) })
		}
		waitLongPolls(t, e, 3)
		status, code, body, err := jsonReceive(e.ctx, hc, e.hs.URL, q, 20)
		if err != nil || status != 403 || code != "RequestThrottled;Sender" || !strings.Contains(body, "RequestThrottled") {
			t.Errorf("4th long poll: %d %q %s %v; want 403 RequestThrottled", status, code, body, err)
		}
		// The SDK sees a throttling error it retries.
		_, err = e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 5})
		if c := apiCode(t, err); c != "RequestThrottled" {
			t.Errorf("SDK error code %q", c)
		}
		if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary ||
			retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) != aws.TrueTernary {
			t.Errorf("aws-sdk-go-v2 does not retry %v as throttling", err)
		}
		// A short poll is not a long poll.
		if status, _, body, _ := jsonReceive(e.ctx, hc, e.hs.URL, q, 0); status != 200 {
			t.Errorf("short poll at the limit: %d %s", status, body)
		}
		e.srv.Drain()
		wg.Wait()
		for i, s := range statuses {
			if s != 200 {
				t.Errorf("poll %d: %d", i, s)
			}
		}
		if n := e.srv.LongPolls(); n != 0 {
			t.Errorf("%d long polls held after they ended", n)
		}
	})

	t.Run("per connection", func(t *testing.T) {
		e := limitsEnv(t, server.Config{MaxLongPollsPerConn: 2}, server.HTTPLimits{}, true)
		q := e.createQueue(t, "lim", nil)
		newH2C := func() *http.Client {
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true)
			t.Cleanup(tr.CloseIdleConnections)
			return &http.Client{Transport: tr}
		}
		one, other := newH2C(), newH2C()
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { jsonReceive(e.ctx, one, e.hs.URL, q, 20) })
		}
		waitLongPolls(t, e, 2)
		status, code, body, err := jsonReceive(e.ctx, one, e.hs.URL, q, 20)
		if err != nil || status != 403 || code != "RequestThrottled;Sender" || !strings.Contains(body, "connection") {
			t.Errorf("3rd long poll on one connection: %d %q %s %v", status, code, body, err)
		}
		wg.Go(func() {
			if status, _, body, _ := jsonReceive(e.ctx, other, e.hs.URL, q, 20); status != 200 {
				t.Errorf("long poll on another connection: %d %s", status, body)
			}
		})
		waitLongPolls(t, e, 3)
		e.srv.Drain()
		wg.Wait()
	})
}

// TestDrainAnswersEveryPoll parks 1,000 long polls on their own
// connections and checks that Drain answers every one, at once, with no
// messages.
func TestDrainAnswersEveryPoll(t *testing.T) {
	const n = 1000
	e := limitsEnv(t, server.Config{}, server.HTTPLimits{}, false)
	q := e.createQueue(t, "drain", nil)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer hc.Transport.(*http.Transport).CloseIdleConnections()
	var ok, empty atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			status, _, body, err := jsonReceive(e.ctx, hc, e.hs.URL, q, 20)
			if err != nil || status != 200 {
				t.Errorf("poll: %d %s %v", status, body, err)
				return
			}
			ok.Add(1)
			var out struct{ Messages []any }
			if json.Unmarshal([]byte(body), &out) == nil && len(out.Messages) == 0 {
				empty.Add(1)
			}
		})
	}
	waitLongPolls(t, e, n)
	e.srv.Drain()
	wg.Wait()
	if ok.Load() != n || empty.Load() != n {
		t.Fatalf("after Drain: %d of %d polls answered 200, %d empty", ok.Load(), n, empty.Load())
	}
	if e.srv.LongPolls() != 0 {
		t.Fatalf("%d long polls still held", e.srv.LongPolls())
	}
}

// HTTPLimits sets the timeouts and header limit of the http.Server that
// serves a Server; zero fields take the defaults.
func ExampleHTTPLimits_Apply() {
	eng, _ := native.New(native.Config{})
	defer eng.Close()
	srv, _ := server.New(server.Config{Service: eng, MaxLongPolls: 2000})
	hs := &http.Server{Addr: "127.0.0.1:9324", Handler: srv}
	server.HTTPLimits{ReadHeaderTimeout: 5 * time.Second}.Apply(hs)
	// On shutdown: srv.Drain() answers waiting long polls, then
	// hs.Shutdown(ctx) lets requests in flight finish.
	fmt.Println(hs.ReadHeaderTimeout, hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.MaxHeaderBytes)
	// Output: 5s 1m0s 1m0s 2m0s 65536
}

// TestBodyBudget checks Config.MaxBodyBytesInFlight: while one request
// holds most of the budget (its body still arriving), another large body
// is refused with RequestThrottled, a small one is served, and once the
// first ends the large one is served too.
func TestBodyBudget(t *testing.T) {
	e := newEnv(t, server.Config{MaxBodyBytesInFlight: 1 << 20})
	q := e.createQueue(t, "budget", nil)
	addr := e.hs.Listener.Addr().String()
	missing := e.hs.URL + "/000000000000/missing"
	jsonHdr := func(action string) map[string]string {
		return map[string]string{"X-Amz-Target": "AmazonSQS." + action, "Content-Type": "application/x-amz-json-1.0"}
	}

	// A: a 900 KiB SendMessage whose body arrives in two parts.
	bodyA := `{"QueueUrl":"` + q + `","MessageBody":"` + strings.Repeat("a", 900<<10) + `"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: AmazonSQS.SendMessage\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(bodyA), bodyA[:1000])

	// B: 200 KiB to a queue that does not exist: RequestThrottled while A
	// holds the budget, QueueDoesNotExist once it gets through.
	bodyB := `{"QueueUrl":"` + missing + `","MessageBody":"` + strings.Repeat("b", 200<<10) + `"}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, b := rawPost(t, e.hs.URL+"/", jsonHdr("SendMessage"), bodyB)
		if resp.StatusCode == 403 {
			if h := resp.Header.Get("X-Amzn-Query-Error"); h != "RequestThrottled;Sender" {
				t.Fatalf("403 with %q: %s", h, b)
			}
			break
		}
		if time.Now().After(deadline) {
			conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			got, err := io.ReadAll(conn)
			t.Fatalf("a 200 KiB body was never refused while 900 KiB of a 1 MiB budget were held: %d %s (A's connection: %q %v)", resp.StatusCode, b, got, err)
		}
		runtime.Gosched()
	}
	// A small body is never refused.
	if resp, b := rawPost(t, e.hs.URL+"/", jsonHdr("SendMessage"), `{"QueueUrl":"`+q+`","MessageBody":"small"}`); resp.StatusCode != 200 {
		t.Fatalf("small send while the budget is held: %d %s", resp.StatusCode, b)
	}
	// A completes; then B gets through.
	io.WriteString(conn, bodyA[1000:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("A: %d", resp.StatusCode)
	}
	if resp, b := rawPost(t, e.hs.URL+"/", jsonHdr("SendMessage"), bodyB); resp.StatusCode != 400 || !strings.Contains(b, "QueueDoesNotExist") {
		t.Fatalf("B after A: %d %s", resp.StatusCode, b)
	}
	if n := queueCount(t, e, q); n != 2 {
		t.Fatalf("queue holds %d messages, want 2 (A and the small one)", n)
	}
}
