// Command swap is one worker binary for every backend: the queue URL in
// the environment variable POSTBOX_QUEUE_URL picks where the queue lives,
// and nothing else changes, not the code, not the build.
//
//	go run ./examples/swap                                  # mem://swap: the in-process engine
//
//	postbox serve &                                         # the native engine over the SQS protocol
//	postbox queues create swap --endpoint http://127.0.0.1:9324
//	POSTBOX_QUEUE_URL=http://127.0.0.1:9324/000000000000/swap go run ./examples/swap
//
//	aws sqs create-queue --queue-name swap                  # real AWS SQS
//	POSTBOX_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/swap go run ./examples/swap
//
// The program enqueues -n typed jobs of two types ("greet" and "add") with
// middleware.NewJob, works them off with a Router of middleware.Job
// handlers, prints one line per job and a summary, and exits once every
// job of its run is done. With -n 0 it is a plain worker that handles
// whatever arrives until interrupted. A URL ending in .fifo works too: the
// jobs then form one message group.
//
// AWS credentials and region come from the usual places (environment,
// shared config files, instance or container roles); for another endpoint
// such as postbox serve, placeholders are used when there are none.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/all" // mem://, file://, http://, https://
	"github.com/postbox-go/postbox/consumer"
	"github.com/postbox-go/postbox/middleware"
	"github.com/postbox-go/postbox/producer"
)

// QueueURLEnv names the environment variable that holds the queue URL.
const QueueURLEnv = "POSTBOX_QUEUE_URL"

// defaultQueueURL is the queue when QueueURLEnv is empty.
const defaultQueueURL = "mem://swap"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "swap:", err)
		os.Exit(1)
	}
}

// The typed jobs. Run tells the jobs of this run from those an earlier run
// left in a shared queue.
type (
	greetJob struct {
		Run  string `json:"run"`
		Seq  int    `json:"seq"`
		Name string `json:"name"`
	}
	addJob struct {
		Run  string `json:"run"`
		Seq  int    `json:"seq"`
		A, B int
	}
)

// describe says in words which backend a queue URL selects.
func describe(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "an unparsable URL"
	}
	switch {
	case u.Scheme == "mem":
		return "the in-process engine (backend/native)"
	case u.Scheme == "file":
		return "the durable in-process engine in " + u.Path + " (backend/native)"
	case strings.HasSuffix(u.Hostname(), ".amazonaws.com") || strings.HasSuffix(u.Hostname(), ".amazonaws.com.cn"):
		return "AWS SQS (backend/awssqs)"
	default:
		return "the SQS endpoint " + u.Host + ", such as postbox serve (backend/awssqs)"
	}
}

func run(ctx context.Context, getenv func(string) string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("swap", flag.ContinueOnError)
	fs.SetOutput(out)
	n := fs.Int("n", 6, "jobs to enqueue and work off; 0: only work, until interrupted")
	workers := fs.Int("workers", 4, "handlers running at once")
	wait := fs.Duration("wait", 20*time.Second, "long-poll wait of each receive (0-20s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 || *workers < 1 || *wait < 0 || *wait > 20*time.Second {
		return errors.New("bad flag value")
	}
	queueURL := getenv(QueueURLEnv)
	if queueURL == "" {
		queueURL = defaultQueueURL
	}
	q, svc, err := backend.Open(ctx, queueURL)
	if err != nil {
		return err
	}
	defer svc.Close()
	fifo := backend.IsFIFOName(queueURL[strings.LastIndex(queueURL, "/")+1:])
	fmt.Fprintf(out, "swap: queue %s on %s\n", queueURL, describe(queueURL))

	runID := newRunID()
	var mu sync.Mutex // serialises the output lines
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}

	// The worker: one typed handler per job type.
	var done atomic.Int64
	allDone := make(chan struct{})
	finish := func(run string) {
		if *n > 0 && run == runID && done.Add(1) == int64(*n) {
			close(allDone)
		}
	}
	router := middleware.NewRouter()
	router.Handle("greet", middleware.Job(func(ctx context.Context, j greetJob) error {
		say("swap: job %d (greet): hello, %s%s", j.Seq, j.Name, earlier(j.Run, runID))
		finish(j.Run)
		return nil
	}))
	router.Handle("add", middleware.Job(func(ctx context.Context, j addJob) error {
		say("swap: job %d (add): %d + %d = %d%s", j.Seq, j.A, j.B, j.A+j.B, earlier(j.Run, runID))
		finish(j.Run)
		return nil
	}))
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       q,
			Handler:     consumer.Chain(router, middleware.Recover()),
			Concurrency: *workers,
			WaitTime:    *wait,
		}},
		OnError: func(err error) { say("swap: %v", err) },
	})
	if err != nil {
		return err
	}
	runCtx, stopServer := context.WithCancel(ctx)
	defer stopServer()
	served := make(chan error, 1)
	go func() { served <- srv.Run(runCtx) }()

	// The producer: the same typed jobs, whichever the backend.
	start := time.Now()
	if *n > 0 {
		names := []string{"Ada", "Grace", "Ken", "Barbara"}
		msgs := make([]producer.Message, *n)
		for i := range msgs {
			var m producer.Message
			if i%2 == 0 {
				m, err = middleware.NewJob("greet", greetJob{Run: runID, Seq: i + 1, Name: names[i/2%len(names)]})
			} else {
				m, err = middleware.NewJob("add", addJob{Run: runID, Seq: i + 1, A: i, B: i * i})
			}
			if err != nil {
				break
			}
			if fifo {
				m.GroupID, m.DeduplicationID = runID, fmt.Sprintf("%s-%d", runID, i)
			}
			msgs[i] = m
		}
		if err == nil {
			_, err = producer.SendBatch(ctx, q, msgs)
		}
		if err != nil {
			stopServer()
			<-served
			return fmt.Errorf("enqueueing: %w", err)
		}
		say("swap: sent %d jobs (run %s)", *n, runID)
	} else {
		say("swap: working; send jobs to %s, interrupt to stop", queueURL)
	}

	select {
	case <-allDone:
	case <-ctx.Done():
	}
	stopServer()
	if err := <-served; err != nil {
		return err
	}
	if *n > 0 {
		say("swap: %d/%d jobs done in %v", done.Load(), *n, time.Since(start).Round(time.Millisecond))
		if done.Load() != int64(*n) {
			return fmt.Errorf("%d of %d jobs done", done.Load(), *n)
		}
	}
	return nil
}

// earlier notes a job left in the queue by another run.
func earlier(run, current string) string {
	if run == current {
		return ""
	}
	return " (from run " + run + ")"
}

// newRunID returns a short random id for this run.
func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
