package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/native"
	"github.com/postbox-go/postbox/backend/native/server"
	"github.com/postbox-go/postbox/internal/benchfloor"
)

// The wire benchmark: the same aws-sdk-go-v2 load generator (batches of 10
// messages of 256 bytes, 8 and 32 client goroutines) against a floor server
// that answers every action with canned valid responses (the ceiling of
// HTTP and the SDK on this machine) and against the server over the native
// engine, in alternating rounds; it reports the median throughput of each,
// their ratio and the median p99 latency.
//
//	go test -run XXX -bench Wire -benchtime 1x ./backend/native/server/
//
// POSTBOX_BENCH_ROUNDS sets the rounds (default 5); POSTBOX_BENCH_MOTO=1 adds
// moto (python3 -m moto.server) to the table, with fewer messages and one
// round. The CPU column counts this process only (client and in-process
// servers), so for moto it leaves out moto's own CPU.

const (
	benchBody  = 256
	benchBatch = 10
)

var benchPayload = benchfloor.Payload

// floorServer is the canned-answer floor (internal/benchfloor): valid
// answers with correct digests for the load generator's body and entry
// ids, and no queue behind them. It does the least an HTTP server can.
func floorServer() http.Handler { return benchfloor.Handler("http://floor") }

// benchTarget is one server under load.
type benchTarget struct {
	name   string
	client *sqs.Client
	msgs   int // messages per phase
	// fill queues n messages for the receive phase; nil: the target's
	// receives never run dry (the floor).
	fill func(b *testing.B, url string, n int)
	// queue returns a fresh queue for a round.
	queue func(b *testing.B) string
	drop  func(url string)
}

func benchClient(endpoint string, conns int) *sqs.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = conns * 2
	tr.MaxIdleConnsPerHost = conns * 2
	return sqs.New(sqs.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench"}, nil
		}),
		HTTPClient: &http.Client{Transport: tr},
		Retryer:    aws.NopRetryer{},
	})
}

type phaseResult struct {
	rate float64       // messages per second
	p99  time.Duration // of one request (send) or one receive+delete cycle
	cpu  float64       // process CPU time (client and server) per message, in µs
}

// cpuTime is the process's user and system CPU time so far. Under a busy
// machine the CPU cost per message is a steadier comparison than wall
// clock throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runSend sends target.msgs messages in batches of 10 from g goroutines.
func runSend(t *benchTarget, url string, g int) (phaseResult, error) {
	entries := make([]types.SendMessageBatchRequestEntry, benchBatch)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(benchPayload)}
	}
	batches := int64(t.msgs / benchBatch)
	var next, errs atomic.Int64
	lat := make([][]time.Duration, g)
	var wg sync.WaitGroup
	var failed atomic.Value
	start, cpu0 := time.Now(), cpuTime()
	for w := range g {
		wg.Go(func() {
			for next.Add(1) <= batches {
				t0 := time.Now()
				out, err := t.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil && transient(err, &errs) {
					next.Add(-1)
					continue
				}
				if err != nil || len(out.Successful) != benchBatch {
					failed.Store(fmt.Sprintf("send: %v (%v)", err, out))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		return phaseResult{}, fmt.Errorf("%s: %s", t.name, f)
	}
	n := float64(batches * benchBatch)
	return phaseResult{rate: n / elapsed.Seconds(), p99: p99(lat), cpu: float64((cpuTime() - cpu0).Microseconds()) / n}, nil
}

// runReceive receives and deletes target.msgs messages, in batches of up to
// 10, from g goroutines.
func runReceive(t *benchTarget, url string, g int) (phaseResult, error) {
	total := int64(t.msgs)
	var done, errs atomic.Int64
	lat := make([][]time.Duration, g)
	var wg sync.WaitGroup
	var failed atomic.Value
	deadline := time.Now().Add(10 * time.Minute)
	start, cpu0 := time.Now(), cpuTime()
	for w := range g {
		wg.Go(func() {
			entries := make([]types.DeleteMessageBatchRequestEntry, 0, benchBatch)
			for done.Load() < total {
				if time.Now().After(deadline) {
					failed.Store("receive: messages went missing")
					return
				}
				t0 := time.Now()
				out, err := t.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(url), MaxNumberOfMessages: benchBatch, WaitTimeSeconds: 0,
				})
				if err != nil && transient(err, &errs) {
					continue
				}
				if err != nil {
					failed.Store(fmt.Sprintf("receive: %v", err))
					return
				}
				if len(out.Messages) == 0 {
					continue
				}
				entries = entries[:0]
				for i, m := range out.Messages {
					entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				del, err := t.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil && transient(err, &errs) {
					continue // the messages come back after their visibility timeout
				}
				if err != nil || len(del.Failed) != 0 {
					failed.Store(fmt.Sprintf("delete: %v", err))
					return
				}
				done.Add(int64(len(out.Messages)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		return phaseResult{}, fmt.Errorf("%s: %s", t.name, f)
	}
	n := float64(done.Load())
	return phaseResult{rate: n / elapsed.Seconds(), p99: p99(lat), cpu: float64((cpuTime() - cpu0).Microseconds()) / n}, nil
}

// transient counts a transport error (a connection reset or closed under
// load) and reports whether the load generator should go on; API errors
// and more than 100 transport errors end the run.
func transient(err error, n *atomic.Int64) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		return false
	}
	return n.Add(1) <= 100
}

func p99(lat [][]time.Duration) time.Duration {
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return 0
	}
	slices.Sort(all)
	return all[len(all)*99/100]
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianDur(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// postboxTarget serves the native engine on a loopback port.
func postboxTarget(b *testing.B, conns int) *benchTarget {
	eng, err := native.New(native.Config{BaseURL: "http://127.0.0.1"})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		srv.Drain()
		hs.Close()
		eng.Close()
	})
	n := 0
	return &benchTarget{
		name:   "postbox",
		client: benchClient(hs.URL, conns),
		msgs:   100_000,
		queue: func(b *testing.B) string {
			n++
			u, err := eng.CreateQueue(context.Background(), "bench-"+strconv.Itoa(n), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			return u
		},
		drop: func(u string) { eng.DeleteQueue(context.Background(), u) },
		fill: func(b *testing.B, u string, total int) {
			q, err := eng.Queue(u)
			if err != nil {
				b.Fatal(err)
			}
			entries := make([]backend.SendEntry, benchBatch)
			for i := range entries {
				entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: benchPayload}
			}
			for range total / benchBatch {
				if _, err := q.Send(context.Background(), entries); err != nil {
					b.Fatal(err)
				}
			}
		},
	}
}

func floorTarget(b *testing.B, conns int) *benchTarget {
	hs := httptest.NewServer(floorServer())
	b.Cleanup(hs.Close)
	return &benchTarget{
		name:   "floor",
		client: benchClient(hs.URL, conns),
		msgs:   100_000,
		queue:  func(*testing.B) string { return hs.URL + "/000000000000/q" },
		drop:   func(string) {},
	}
}

// motoTarget starts moto on a free loopback port, or skips.
func motoTarget(b *testing.B, conns int) *benchTarget {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		b.Skipf("moto: %v", err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	client := benchClient(endpoint, conns)
	for i := 0; ; i++ {
		if _, err := client.ListQueues(context.Background(), &sqs.ListQueuesInput{}); err == nil {
			break
		}
		if i > 300 {
			b.Skip("moto did not start")
		}
		time.Sleep(100 * time.Millisecond) // waiting for an external process to listen
	}
	n := 0
	t := &benchTarget{name: "moto", client: client, msgs: 500}
	t.queue = func(b *testing.B) string {
		n++
		out, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("bench-" + strconv.Itoa(n))})
		if err != nil {
			b.Fatal(err)
		}
		return *out.QueueUrl
	}
	t.drop = func(u string) {
		client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
	}
	t.fill = func(b *testing.B, u string, total int) {
		saved := t.msgs
		t.msgs = total
		if _, err := runSend(t, u, 8); err != nil {
			b.Fatal(err)
		}
		t.msgs = saved
	}
	return t
}

func BenchmarkWire(b *testing.B) {
	rounds := 5
	if s := os.Getenv("POSTBOX_BENCH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	for _, phase := range []string{"send", "receive+delete"} {
		for _, g := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/g%d", phase, g), func(b *testing.B) {
				targets := []*benchTarget{floorTarget(b, g), postboxTarget(b, g)}
				if os.Getenv("POSTBOX_BENCH_MOTO") == "1" {
					targets = append(targets, motoTarget(b, g))
				}
				rates, cpus := map[string][]float64{}, map[string][]float64{}
				lats := map[string][]time.Duration{}
				for r := range rounds {
					for _, t := range targets {
						if t.name == "moto" && r > 0 {
							continue // one round: moto is slow
						}
						u := t.queue(b)
						var res phaseResult
						var err error
						if phase == "send" {
							res, err = runSend(t, u, g)
						} else {
							if t.fill != nil {
								t.fill(b, u, t.msgs)
							}
							res, err = runReceive(t, u, g)
						}
						t.drop(u)
						if err != nil && t.name == "moto" {
							b.Logf("moto failed, left out: %v", err)
							continue
						}
						if err != nil {
							b.Fatal(err)
						}
						rates[t.name] = append(rates[t.name], res.rate)
						lats[t.name] = append(lats[t.name], res.p99)
						cpus[t.name] = append(cpus[t.name], res.cpu)
					}
				}
				floor, floorCPU := median(rates["floor"]), median(cpus["floor"])
				for _, t := range targets {
					if len(rates[t.name]) == 0 {
						continue
					}
					rate, lat, cpu := median(rates[t.name]), medianDur(lats[t.name]), median(cpus[t.name])
					b.ReportMetric(rate, t.name+"-msgs/s")
					b.ReportMetric(float64(lat.Microseconds())/1000, t.name+"-p99-ms")
					b.ReportMetric(cpu, t.name+"-cpu-µs/msg")
					b.Logf("%-16s g=%-3d %-8s %9.0f msgs/s %6.1f%% of floor  p99 %8v  cpu %6.1f µs/msg (floor/this %5.1f%%)  rounds %.0f",
						phase, g, t.name, rate, 100*rate/floor, lat.Round(10*time.Microsecond), cpu, 100*floorCPU/cpu, rates[t.name])
				}
				b.ReportMetric(median(rates["postbox"])/floor, "postbox/floor")
			})
		}
	}
}

// BenchmarkHandler measures the server's own cost per request, without
// HTTP or a client: a SendMessageBatch of 10 messages of 256 bytes, and a
// ReceiveMessage of 10 followed by their DeleteMessageBatch.
func BenchmarkHandler(b *testing.B) {
	eng, err := native.New(native.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	srv, err := server.New(server.Config{Service: eng})
	if err != nil {
		b.Fatal(err)
	}
	u, err := eng.CreateQueue(context.Background(), "h", nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	var send []byte
	{
		type entry struct{ Id, MessageBody string }
		es := make([]entry, benchBatch)
		for i := range es {
			es[i] = entry{strconv.Itoa(i), benchPayload}
		}
		send, _ = json.Marshal(map[string]any{"QueueUrl": u, "Entries": es})
	}
	call := func(target string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/", bytesReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		return rec
	}
	b.Run("floor-send", func(b *testing.B) {
		h := floorServer()
		for b.Loop() {
			req := httptest.NewRequest("POST", "/", bytesReader(send))
			req.Header.Set("X-Amz-Target", "AmazonSQS.SendMessageBatch")
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	b.Run("send", func(b *testing.B) {
		n := 0
		for b.Loop() {
			call("AmazonSQS.SendMessageBatch", send)
			if n++; n%1000 == 0 {
				b.StopTimer()
				eng.DeleteQueue(context.Background(), u)
				u2, err := eng.CreateQueue(context.Background(), "h"+strconv.FormatInt(benchQueues.Add(1), 10), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				send = bytes.Replace(send, []byte(u), []byte(u2), 1)
				u = u2
				b.StartTimer()
			}
		}
	})
	b.Run("receive+delete", func(b *testing.B) {
		receive, _ := json.Marshal(map[string]any{"QueueUrl": u, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0})
		q, _ := eng.Queue(u)
		entries := make([]backend.SendEntry, benchBatch)
		for i := range entries {
			entries[i] = backend.SendEntry{ID: strconv.Itoa(i), Body: benchPayload}
		}
		for b.Loop() {
			b.StopTimer()
			q.Send(context.Background(), entries)
			b.StartTimer()
			rec := call("AmazonSQS.ReceiveMessage", receive)
			var out struct {
				Messages []struct{ ReceiptHandle string }
			}
			json.Unmarshal(rec.Body.Bytes(), &out)
			type entry struct{ Id, ReceiptHandle string }
			es := make([]entry, len(out.Messages))
			for i, m := range out.Messages {
				es[i] = entry{strconv.Itoa(i), m.ReceiptHandle}
			}
			del, _ := json.Marshal(map[string]any{"QueueUrl": u, "Entries": es})
			call("AmazonSQS.DeleteMessageBatch", del)
		}
	})
}

var benchQueues atomic.Int64

func bytesReader(b []byte) io.Reader { return &byteReader{b: b} }

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
