package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/consumer"
)

// The worker's protocol on stdout, one line each: "ready" once the server
// is about to run, "h BODY" for each message handled (written before the
// handler returns nil), "exit ERR" when Run returned.

// workerMain is the worker role: a consumer.Server on the queues named by
// -queues, with default settings but Concurrency and VisibilityTimeout,
// shut down gracefully by SIGTERM. It exits 0 when Run returns nil.
func workerMain(args []string) int {
	fs := flag.NewFlagSet("shutdownchaos worker", flag.ExitOnError)
	queues := fs.String("queues", "", "comma-separated queue URLs (required)")
	concurrency := fs.Int("concurrency", 16, "QueueConfig.Concurrency of each queue")
	visibility := fs.Duration("visibility", 60*time.Second, "QueueConfig.VisibilityTimeout")
	maxHandle := fs.Duration("max-handle", 20*time.Millisecond, "a handler takes a random 0 to this")
	seed := fs.Uint64("seed", 1, "random seed of the handlers' durations")
	_ = fs.Parse(args)
	if *queues == "" {
		fmt.Fprintln(os.Stderr, "shutdownchaos worker: -queues is required")
		return 2
	}

	// Installed first: a SIGTERM from now on is a graceful shutdown.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	var outMu sync.Mutex
	emit := func(line string) error {
		outMu.Lock()
		defer outMu.Unlock()
		_, err := os.Stdout.WriteString(line + "\n") // unbuffered: one write(2)
		return err
	}
	var rngMu sync.Mutex
	rng := rand.New(rand.NewPCG(*seed, 0x5417))
	handler := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
		rngMu.Lock()
		d := time.Duration(rng.Int64N(int64(*maxHandle) + 1))
		rngMu.Unlock()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		return emit("h " + msg.Body)
	})

	var cfg consumer.Config
	for _, u := range strings.Split(*queues, ",") {
		q, svc, err := backend.Open(ctx, u)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shutdownchaos worker:", err)
			return 1
		}
		defer svc.Close()
		cfg.Queues = append(cfg.Queues, consumer.QueueConfig{
			Queue: q, Handler: handler, Concurrency: *concurrency, VisibilityTimeout: *visibility,
		})
	}
	srv, err := consumer.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shutdownchaos worker:", err)
		return 1
	}
	if err := emit("ready"); err != nil {
		return 1
	}
	err = srv.Run(ctx)
	_ = emit(fmt.Sprintf("exit %v", err))
	if err != nil {
		fmt.Fprintln(os.Stderr, "shutdownchaos worker: Run:", err)
		return 1
	}
	return 0
}
