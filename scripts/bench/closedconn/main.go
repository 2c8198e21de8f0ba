// Command closedconn looks for aws-sdk-go-v2's "deserialization failed ...
// use of closed network connection" on answers with status 200
// (aws/aws-sdk-go-v2#2737) with a plain SDK receive/delete/send loop,
// against the canned-answer floor (internal/benchfloor) served in this
// process, the floor with its ReceiveMessage answers padded, or any
// endpoint (for example `postbox serve`). It prints the receives made and
// the failures seen; -trace adds the requests whose write failed and the
// stack of the client's Close of a connection that a read then failed on.
//
//	go run ./scripts/bench/closedconn -n 20000 -trace                 # the floor
//	go run ./scripts/bench/closedconn -n 20000 -trace -pad 1024       # the floor, answers 1 KiB longer
//	go run ./scripts/bench/closedconn -n 20000 -trace -endpoint http://127.0.0.1:9324
//	go run ./scripts/bench/closedconn -n 20000 -trace -buffered       # request bodies buffered
//
// What it shows (docs/BENCHMARKS.md, section 10): the race is the client's.
// The SDK wraps a request body in a reader whose WriteTo returns io.EOF once
// the SDK has closed it, which it does as soon as http.Client.Do returns.
// net/http's write loop, after sending the body (straight to the socket),
// reads the body once more to check that it is empty; when the answer
// arrived and the SDK closed the body first, that read fails with io.EOF,
// the write loop counts the request as failed and closes the connection,
// and the SDK, still reading the answer, reads from a closed connection.
// Against the floor the write errors happen as often (about 90 in 20,000
// receives) but do no harm: its answers fit in the transport's 4 KiB read
// buffer, so they are read whole before the close. postbox's answer of 10
// messages of 256 B is 4.2 KiB (its receipt handles are longer than the
// floor's), and so is the floor's once padded by 1 KiB: both then fail.
// Buffered request bodies (internal/bufferedbody, as backend/awssqs sends them) end it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/postbox-go/postbox/internal/benchfloor"
	"github.com/postbox-go/postbox/internal/bufferedbody"
)

func main() {
	endpoint := flag.String("endpoint", "", "SQS endpoint (default: the floor, served here)")
	queue := flag.String("queue", "closedconn", "queue name (created; filled with -fill messages) when -endpoint is given")
	n := flag.Int("n", 20000, "receives to make")
	g := flag.Int("g", 8, "goroutines")
	pad := flag.Int("pad", 0, "pad the floor's ReceiveMessage answer with this many bytes of whitespace")
	fill := flag.Int("fill", 1000, "messages to queue first (with -endpoint)")
	buffered := flag.Bool("buffered", false, "send request bodies buffered (as backend/awssqs does)")
	trace := flag.Bool("trace", false, "print the stack of the client's Close of a connection whose read then failed")
	flag.Parse()

	floor := *endpoint == ""
	if floor {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		*endpoint = "http://" + ln.Addr().String()
		h := benchfloor.Handler(*endpoint)
		if *pad > 0 {
			h = padReceive(h, *pad)
		}
		go http.Serve(ln, h)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if *trace {
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &tracedConn{Conn: c}, nil
		}
	}
	var rt http.RoundTripper = tr
	if *buffered {
		rt = bufferedbody.Transport{Next: rt}
	}
	client := sqs.New(sqs.Options{
		BaseEndpoint: aws.String(*endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "x", SecretAccessKey: "x"}, nil
		}),
		HTTPClient: &http.Client{Transport: rt},
		Retryer:    aws.NopRetryer{},
	})
	ctx := context.Background()
	var writeErrs atomic.Int64
	if *trace {
		var once sync.Once
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err != nil {
				writeErrs.Add(1)
				once.Do(func() { fmt.Fprintf(os.Stderr, "a request's write failed: %v (%T)\n", i.Err, i.Err) })
			}
		}})
	}
	cq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: queue})
	if err != nil {
		log.Fatal(err)
	}
	url := cq.QueueUrl
	if !floor {
		entries := make([]types.SendMessageBatchRequestEntry, 10)
		for i := range entries {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(benchfloor.Payload)}
		}
		for range *fill / 10 {
			if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url, Entries: entries}); err != nil {
				log.Fatal(err)
			}
		}
	}
	var next, closed, other atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range *g {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) {
				out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0})
				if err != nil {
					count(err, &closed, &other, &firstErr)
					continue
				}
				if len(out.Messages) == 0 {
					continue
				}
				es := make([]types.DeleteMessageBatchRequestEntry, len(out.Messages))
				for i, m := range out.Messages {
					es[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
				}
				if _, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: url, Entries: es}); err != nil {
					count(err, &closed, &other, &firstErr)
				}
				// Keep the queue from running dry (the floor gets the same
				// requests).
				{
					sends := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
					for i := range sends {
						sends[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(benchfloor.Payload)}
					}
					if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url, Entries: sends}); err != nil {
						count(err, &closed, &other, &firstErr)
					}
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("receives=%d closed_conn_errors=%d other_errors=%d", *n, closed.Load(), other.Load())
	if *trace {
		fmt.Printf(" request_write_errors=%d", writeErrs.Load())
	}
	if e := firstErr.Load(); e != nil {
		fmt.Printf(" first=%q", e)
	}
	fmt.Println()
	if closed.Load()+other.Load() > 0 {
		os.Exit(1)
	}
}

func count(err error, closed, other *atomic.Int64, first *atomic.Value) {
	if strings.Contains(err.Error(), "use of closed network connection") {
		closed.Add(1)
	} else {
		other.Add(1)
	}
	first.CompareAndSwap(nil, err.Error())
}

// padReceive pads h's ReceiveMessage answers with spaces (valid JSON).
func padReceive(h http.Handler, n int) http.Handler {
	pad := bytes.Repeat([]byte(" "), n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSQS.ReceiveMessage" {
			h.ServeHTTP(w, r)
			return
		}
		rec := &capture{h: http.Header{}}
		h.ServeHTTP(rec, r)
		body := append(rec.b.Bytes(), pad...)
		for k, v := range rec.h {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

type capture struct {
	h http.Header
	b bytes.Buffer
}

func (c *capture) Header() http.Header         { return c.h }
func (c *capture) WriteHeader(int)             {}
func (c *capture) Write(p []byte) (int, error) { return c.b.Write(p) }

// tracedConn remembers the stack of its Close, and prints it (once per
// run) when a read fails because of that Close.
type tracedConn struct {
	net.Conn
	mu    sync.Mutex
	stack []byte
	nread atomic.Int64 // bytes read: a connection that never carried a response is left out
}

var printed atomic.Bool

func (c *tracedConn) Close() error {
	c.mu.Lock()
	if c.stack == nil {
		c.stack = debug.Stack()
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

func (c *tracedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.nread.Add(int64(n))
	if err != nil && errors.Is(err, net.ErrClosed) && c.nread.Load() > 0 && printed.CompareAndSwap(false, true) {
		c.mu.Lock()
		fmt.Fprintf(os.Stderr, "read on a connection the client closed; the Close was:\n%s\n", c.stack)
		c.mu.Unlock()
	}
	return n, err
}
