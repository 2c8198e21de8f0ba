package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
)

// TestLoadAbuse is the load test of postbox serve under abuse, on
// loopback: 5,000 long polls parked on their own connections and a flood
// of malformed requests from many goroutines, while a well-formed client
// sends, receives and deletes. It reports the well-formed traffic's
// latency (p50/p99) without and with the flood in the same run, the heap
// at each step, and checks that every message sent was received and
// deleted exactly once and that Drain answers every parked poll.
//
// It takes about 20 s and thousands of sockets, so it runs only when
// POSTBOX_LOADTEST is set:
//
//	POSTBOX_LOADTEST=1 go test -run TestLoadAbuse -v -count=1 ./backend/native/server/
//
// POSTBOX_LOADTEST_POLLS, _SECONDS and _FLOODERS change the number of
// parked polls (5000), the seconds per phase (5) and the flooding
// goroutines (32).
func TestLoadAbuse(t *testing.T) {
	if os.Getenv("POSTBOX_LOADTEST") == "" || testing.Short() {
		t.Skip("set POSTBOX_LOADTEST=1 to run the load test")
	}
	polls := envInt("POSTBOX_LOADTEST_POLLS", 5000)
	phase := time.Duration(envInt("POSTBOX_LOADTEST_SECONDS", 5)) * time.Second
	flooders := envInt("POSTBOX_LOADTEST_FLOODERS", 32)

	// The server as postbox serve runs it: real clock, default limits.
	eng, err := native.New(native.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	server.HTTPLimits{}.Apply(hs.Config)
	hs.Start()
	defer func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	}()
	e := &env{eng: eng, srv: srv, hs: hs, ctx: t.Context()}
	e.client = loadClient(hs.URL, 16)

	// The queues of the malformed table, set up as that test does, and a
	// queue per well-formed worker.
	vals := malformedSetup(t, e)
	const workers = 4
	work := make([]string, workers)
	for i := range work {
		work[i] = e.createQueue(t, fmt.Sprintf("work-%d", i), nil)
	}
	idle := e.createQueue(t, "idle", nil)

	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	heapStart := heap()

	// 5,000 long polls, each on its own connection, re-polling until
	// Drain answers them.
	pollTr := &http.Transport{MaxIdleConnsPerHost: polls, MaxConnsPerHost: 0}
	defer pollTr.CloseIdleConnections()
	pollClient := &http.Client{Transport: pollTr}
	var drained, pollErrs atomic.Int64
	var stopping atomic.Bool
	var pollers sync.WaitGroup
	for range polls {
		pollers.Go(func() {
			for {
				status, _, _, err := jsonReceive(context.Background(), pollClient, hs.URL, idle, 20)
				if err != nil || status != 200 {
					pollErrs.Add(1)
					return
				}
				if stopping.Load() {
					drained.Add(1)
					return
				}
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for srv.LongPolls() < polls {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d long polls parked after 60 s", srv.LongPolls(), polls)
		}
		time.Sleep(10 * time.Millisecond) // a load test: polling a counter
	}
	heapParked := heap()
	t.Logf("%d long polls parked; heap in use %d MiB -> %d MiB (%.1f KiB per parked poll, client and server together)",
		srv.LongPolls(), heapStart>>20, heapParked>>20, float64(heapParked-heapStart)/1024/float64(polls))

	// The well-formed client.
	var sent, received, deleted atomic.Int64
	seen := make([]map[string]int, workers)
	wellFormed := func(stop <-chan struct{}) []time.Duration {
		lat := make([][]time.Duration, workers)
		var wg sync.WaitGroup
		for w := range workers {
			if seen[w] == nil {
				seen[w] = map[string]int{}
			}
			wg.Go(func() {
				q := work[w]
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body := fmt.Sprintf("w%d-%d-%d", w, sent.Load(), i)
					t0 := time.Now()
					if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: &q, MessageBody: &body}); err != nil {
						t.Errorf("send: %v", err)
						return
					}
					lat[w] = append(lat[w], time.Since(t0))
					sent.Add(1)
					for got := false; !got; {
						t0 = time.Now()
						out, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, WaitTimeSeconds: 1})
						if err != nil {
							t.Errorf("receive: %v", err)
							return
						}
						lat[w] = append(lat[w], time.Since(t0))
						for _, m := range out.Messages {
							got = true
							received.Add(1)
							seen[w][*m.Body]++
							t0 = time.Now()
							if _, err := e.client.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: &q, ReceiptHandle: m.ReceiptHandle}); err != nil {
								t.Errorf("delete: %v", err)
								return
							}
							lat[w] = append(lat[w], time.Since(t0))
							deleted.Add(1)
						}
					}
				}
			})
		}
		wg.Wait()
		return slices.Concat(lat...)
	}
	runPhase := func(flood bool) (ops []time.Duration, bad, badErr int64) {
		stop := make(chan struct{})
		var fl sync.WaitGroup
		var nBad, nBadErr atomic.Int64
		if flood {
			cases := malformedCases()
			bodies := make([]string, len(cases))
			for i, c := range cases {
				bodies[i] = c.render(vals)
			}
			floodTr := &http.Transport{MaxIdleConnsPerHost: flooders}
			defer floodTr.CloseIdleConnections()
			fc := &http.Client{Transport: floodTr}
			for g := range flooders {
				fl.Go(func() {
					for i := g; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if g == 0 && i%8 == 0 {
							garbageConn(hs.Listener.Addr().String())
							continue
						}
						c := cases[i%len(cases)]
						status, err := postMalformed(fc, hs.URL, c, bodies[i%len(cases)])
						nBad.Add(1)
						if err != nil || status < 400 || status >= 500 {
							nBadErr.Add(1)
						}
					}
				})
			}
		}
		done := make(chan []time.Duration)
		go func() { done <- wellFormed(stop) }()
		time.Sleep(phase) // a load test runs for a wall-clock time
		close(stop)
		ops = <-done
		fl.Wait()
		return ops, nBad.Load(), nBadErr.Load()
	}

	quiet, _, _ := runPhase(false)
	heapQuiet := heap()
	loud, bad, badErr := runPhase(true)
	heapFlood := heap()
	report := func(name string, l []time.Duration) {
		slices.Sort(l)
		t.Logf("%s: %d well-formed calls (%.0f/s), p50 %v, p99 %v, max %v", name, len(l), float64(len(l))/phase.Seconds(),
			l[len(l)/2].Round(time.Microsecond), l[len(l)*99/100].Round(time.Microsecond), l[len(l)-1].Round(time.Microsecond))
	}
	report("without flood", quiet)
	report("with flood   ", loud)
	t.Logf("flood: %d malformed requests (%.0f/s) from %d goroutines, %d not answered with a 4xx", bad, float64(bad)/phase.Seconds(), flooders, badErr)
	t.Logf("heap in use: start %d MiB, %d polls parked %d MiB, after quiet phase %d MiB, after flood %d MiB",
		heapStart>>20, polls, heapParked>>20, heapQuiet>>20, heapFlood>>20)
	// Responsive: a well-formed call waits well under a second at p99
	// even under the flood, on a shared 2-vCPU machine.
	if p99 := loud[len(loud)*99/100]; p99 > time.Second {
		t.Errorf("p99 of well-formed calls under the flood: %v", p99)
	}
	if badErr > 0 {
		t.Errorf("%d malformed requests were not answered with a 4xx", badErr)
	}
	if heapFlood > heapParked+64<<20 {
		t.Errorf("heap grew by %d MiB during the flood", (heapFlood-heapParked)>>20)
	}

	// Nothing lost: every message sent was received and deleted once.
	if s, r, d := sent.Load(), received.Load(), deleted.Load(); s != r || r != d {
		t.Errorf("sent %d, received %d, deleted %d", s, r, d)
	}
	for w := range seen {
		for b, n := range seen[w] {
			if n != 1 {
				t.Errorf("message %s received %d times", b, n)
			}
		}
	}
	for _, q := range work {
		if n := queueCount(t, e, q); n != 0 {
			t.Errorf("%s holds %d messages at the end", q, n)
		}
	}
	t.Logf("well-formed messages: %d sent, %d received, %d deleted, 0 duplicates, 0 left", sent.Load(), received.Load(), deleted.Load())

	// Drain answers every parked poll.
	parked := srv.LongPolls()
	t0 := time.Now()
	stopping.Store(true)
	srv.Drain()
	pollers.Wait()
	t.Logf("Drain answered %d parked polls in %v (%d poll errors)", drained.Load(), time.Since(t0).Round(time.Millisecond), pollErrs.Load())
	if drained.Load() < int64(parked) || pollErrs.Load() != 0 {
		t.Errorf("Drain: %d of %d parked polls answered, %d errors", drained.Load(), parked, pollErrs.Load())
	}
}

func envInt(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err != nil || n <= 0 {
		return def
	}
	return n
}

func loadClient(endpoint string, conns int) *sqs.Client {
	return sqs.New(sqs.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}},
		Retryer:    aws.NopRetryer{},
	})
}

// postMalformed sends one case of the malformed table.
func postMalformed(c *http.Client, base string, m malformed, body string) (int, error) {
	req, err := http.NewRequest("POST", base+"/", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if m.action != "" {
		req.Header.Set("X-Amz-Target", "AmazonSQS."+m.action)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// garbageConn writes bytes that are not HTTP to a new connection and
// reads the answer.
func garbageConn(addr string) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n"))
	io.Copy(io.Discard, conn)
}

// malformedSetup creates the queues the malformed table names and returns
// its placeholder values.
func malformedSetup(t *testing.T, e *env) map[string]string {
	t.Helper()
	std := e.createQueue(t, "std", nil)
	fifo := e.createQueue(t, "f.fifo", map[string]string{"FifoQueue": "true"})
	dlq := e.createQueue(t, "dlq", nil)
	if _, err := e.client.SetQueueAttributes(e.ctx, &sqs.SetQueueAttributesInput{QueueUrl: &std, Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":5}`,
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.SendMessage(e.ctx, &sqs.SendMessageInput{QueueUrl: &std, MessageBody: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	rcv, err := e.client.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{QueueUrl: &std, VisibilityTimeout: 3600})
	if err != nil || len(rcv.Messages) != 1 {
		t.Fatalf("receive: %v %v", rcv, err)
	}
	return map[string]string{
		"std": std, "fifo": fifo, "dlq": dlq, "missing": e.hs.URL + "/000000000000/missing",
		"stdarn": "arn:aws:sqs:us-east-1:000000000000:std", "dlqarn": "arn:aws:sqs:us-east-1:000000000000:dlq",
		"missingarn": "arn:aws:sqs:us-east-1:000000000000:missing", "rh": *rcv.Messages[0].ReceiptHandle,
	}
}
