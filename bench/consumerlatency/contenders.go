package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"gocloud.dev/pubsub/awssnssqs"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/consumer"
)

// job is what a contender is asked to do: consume queueURL (through the
// proxy at endpoint) with concurrency c and a handler that sleeps handler,
// counting acknowledged deletes in acks, until until is closed; then stop
// cleanly (acks flushed) and return.
type job struct {
	endpoint string
	queueURL string
	handler  time.Duration
	c        int
	acks     *acks
	until    <-chan struct{}
}

// report is what a contender returns: its settings and the errors it saw.
type report struct {
	Settings map[string]any
	Errors   int64
}

var contenders = map[string]func(context.Context, job) (report, error){
	"postbox":  runPostbox,
	"gocloud":  runGocloud,
	"handloop": runHandloop,
}

// work is the handler of every contender: sleep for d (nothing for 0).
func work(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}

// logErr prints the first few errors of a contender on stderr.
func logErr(n *atomic.Int64, who string, err error) {
	if n.Add(1) <= 5 {
		fmt.Fprintf(os.Stderr, "%s %s error: %v\n", time.Now().Format("15:04:05.000"), who, err)
	}
}

// shutdownTimeout bounds every contender's shutdown.
const shutdownTimeout = time.Minute

// countingQueue counts the entries whose delete the server acknowledged.
type countingQueue struct {
	backend.Queue
	acks *acks
}

func (c *countingQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	res, err := c.Queue.Delete(ctx, entries)
	if err != nil {
		return res, err
	}
	ok := 0
	for _, r := range res {
		if r.Err == nil {
			ok++
		}
	}
	c.acks.add(ok)
	return res, nil
}

// runPostbox is postbox's consumer at its default settings but for
// Concurrency, on the queue from backend.Open (the awssqs adapter). Its
// errors go to the consumer's default OnError (slog, on stderr).
func runPostbox(ctx context.Context, j job) (report, error) {
	rep := report{Settings: map[string]any{
		"concurrency": j.c, "other": "consumer defaults",
		"max_messages": consumer.DefaultMaxMessages, "wait_time": consumer.DefaultWaitTime.String(),
		"ack_batch": consumer.DefaultAckBatchSize, "ack_max_delay": consumer.DefaultAckMaxDelay.String(),
		"client": "backend.Open",
	}}
	q, svc, err := backend.Open(ctx, j.queueURL)
	if err != nil {
		return rep, err
	}
	defer svc.Close()
	srv, err := consumer.New(consumer.Config{Queues: []consumer.QueueConfig{{
		Queue: &countingQueue{Queue: q, acks: j.acks},
		Handler: consumer.HandlerFunc(func(context.Context, *consumer.Message) error {
			work(j.handler)
			return nil
		}),
		Concurrency: j.c,
	}}})
	if err != nil {
		return rep, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	select {
	case <-j.until:
	case err := <-runErr:
		return rep, fmt.Errorf("consumer stopped early: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return rep, fmt.Errorf("consumer shutdown: %w", err)
	}
	if err := <-runErr; err != nil && !errors.Is(err, consumer.ErrServerClosed) {
		return rep, fmt.Errorf("consumer run: %w", err)
	}
	return rep, ctx.Err()
}

// runGocloud is gocloud.dev/pubsub's SQS subscription with default
// options: c goroutines call Receive, run the handler and Ack. The
// subscription's Shutdown flushes the acks.
func runGocloud(ctx context.Context, j job) (report, error) {
	rep := report{Settings: map[string]any{
		"concurrency": j.c, "receivers": j.c, "options": "OpenSubscriptionV2(ctx, client, url, nil)",
		"client": "aws-sdk-go-v2 as backend.Open builds it (no retries)",
	}}
	client, closeIdle := newClient(j.endpoint, j.acks.add)
	defer closeIdle()
	sub := awssnssqs.OpenSubscriptionV2(ctx, client, j.queueURL, nil)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs atomic.Int64
	var wg sync.WaitGroup
	for range j.c {
		wg.Go(func() {
			for {
				m, err := sub.Receive(rctx)
				if err != nil {
					if rctx.Err() == nil {
						logErr(&errs, "gocloud", err)
					}
					return
				}
				work(j.handler)
				m.Ack()
			}
		})
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	var early error
	select {
	case <-j.until:
	case <-ended:
		early = errors.New("gocloud: every receiver stopped early")
	case <-ctx.Done():
	}
	cancel()
	<-ended
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if err := sub.Shutdown(sctx); err != nil && early == nil {
		early = fmt.Errorf("gocloud shutdown: %w", err)
	}
	rep.Errors = errs.Load()
	if early != nil {
		return rep, early
	}
	return rep, ctx.Err()
}

// runHandloop is the loop a careful user writes on aws-sdk-go-v2:
// ceil(c/10) receivers, each receiving 10 with a 20 s long poll, running
// the batch's handlers concurrently, deleting the successes with one
// DeleteMessageBatch, and receiving again.
func runHandloop(ctx context.Context, j job) (report, error) {
	receivers := (j.c + 9) / 10
	rep := report{Settings: map[string]any{
		"concurrency": j.c, "receivers": receivers, "max_messages": 10, "wait_time": "20s",
		"client": "aws-sdk-go-v2 as backend.Open builds it (no retries)",
	}}
	client, closeIdle := newClient(j.endpoint, nil)
	defer closeIdle()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errs atomic.Int64
	var wg sync.WaitGroup
	for range receivers {
		wg.Go(func() {
			for rctx.Err() == nil {
				out, err := client.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
					QueueUrl:            aws.String(j.queueURL),
					MaxNumberOfMessages: 10,
					WaitTimeSeconds:     20,
				})
				if err != nil {
					if rctx.Err() == nil {
						logErr(&errs, "handloop", err)
						time.Sleep(100 * time.Millisecond)
					}
					continue
				}
				if len(out.Messages) == 0 {
					continue
				}
				ok := make([]bool, len(out.Messages))
				var hw sync.WaitGroup
				for i := range out.Messages {
					hw.Go(func() {
						work(j.handler)
						ok[i] = true
					})
				}
				hw.Wait()
				entries := make([]sqstypes.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
				for i, m := range out.Messages {
					if ok[i] {
						entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
							Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle,
						})
					}
				}
				dout, err := client.DeleteMessageBatch(rctx, &sqs.DeleteMessageBatchInput{
					QueueUrl: aws.String(j.queueURL), Entries: entries,
				})
				if err != nil {
					if rctx.Err() == nil {
						logErr(&errs, "handloop", err)
					}
					continue
				}
				j.acks.add(len(dout.Successful))
			}
		})
	}
	select {
	case <-j.until:
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	rep.Errors = errs.Load()
	return rep, ctx.Err()
}
