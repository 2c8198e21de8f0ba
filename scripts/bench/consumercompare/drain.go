package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
	_ "github.com/postbox-go/postbox/backend/awssqs"
	"github.com/postbox-go/postbox/consumer"
)

// drainResult is one drain's outcome, in the shape drain.mjs prints too.
type drainResult struct {
	Contender string  `json:"contender"`
	Round     int     `json:"round"`
	Messages  int     `json:"messages"`
	Seconds   float64 `json:"seconds"`
	MsgsPerS  float64 `json:"msgs_per_s"`
	// Seconds999 and MsgsPerS999 are for the first 99.9% of the messages:
	// throughput without the tail, where a receive whose answer was lost
	// leaves its messages invisible for the visibility timeout (30 s).
	Seconds999  float64        `json:"seconds_999"`
	MsgsPerS999 float64        `json:"msgs_per_s_999"`
	Left        int            `json:"left"`   // visible + in flight after the drain
	Errors      int64          `json:"errors"` // errors the consumer reported (failed receives, ...)
	Settings    map[string]any `json:"settings"`
}

// countingQueue counts the entries whose delete the server acknowledged,
// and closes done when the count reaches target.
type countingQueue struct {
	backend.Queue
	deleted atomic.Int64
	target  int64
	done    chan struct{}
	at      atomic.Int64 // time.Now().UnixNano() when target was reached
	mark    int64        // a count on the way, 99.9% of target
	markAt  atomic.Int64 // time.Now().UnixNano() when mark was reached
}

func (c *countingQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	res, err := c.Queue.Delete(ctx, entries)
	if err != nil {
		return res, err
	}
	ok := int64(0)
	for _, r := range res {
		if r.Err == nil {
			ok++
		}
	}
	before := c.deleted.Add(ok) - ok
	if before < c.mark && before+ok >= c.mark {
		c.markAt.Store(time.Now().UnixNano())
	}
	if before < c.target && before+ok >= c.target {
		c.at.Store(time.Now().UnixNano())
		close(c.done)
	}
	return res, nil
}

func runDrain(args []string) error {
	fs := flag.NewFlagSet("drain", flag.ExitOnError)
	url := fs.String("url", "", "queue URL on postbox serve")
	n := fs.Int("n", 100000, "messages in the queue; the drain ends when this many are deleted")
	concurrency := fs.Int("concurrency", 64, "consumer QueueConfig.Concurrency")
	prefetch := fs.Int("prefetch", 0, "consumer QueueConfig.Prefetch (0: the consumer's default)")
	ackDelay := fs.Duration("ack-max-delay", 0, "consumer QueueConfig.AckMaxDelay (0: the default, 100ms; negative: flush at once)")
	progress := fs.Bool("progress", false, "print the delete count every second on stderr")
	client := fs.String("client", "open", "open: the queue from backend.Open; buffered: the awssqs adapter over an SDK client that buffers request bodies (see transport.go)")
	round := fs.Int("round", 0, "round number, copied to the result")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	fs.Parse(args)
	if *url == "" {
		return errors.New("-url is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	q, svc, err := backend.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer svc.Close()
	contender := "postbox"
	if *client == "buffered" {
		bq, closeFn, err := openBuffered(*url)
		if err != nil {
			return err
		}
		defer closeFn()
		q, contender = bq, "postbox-buffered"
	} else if *client != "open" {
		return fmt.Errorf("-client %q: want open or buffered", *client)
	}
	cq := &countingQueue{Queue: q, target: int64(*n), mark: int64(*n) * 999 / 1000, done: make(chan struct{})}
	var consumerErrs atomic.Int64
	srv, err := consumer.New(consumer.Config{
		Queues: []consumer.QueueConfig{{
			Queue:       cq,
			Handler:     consumer.HandlerFunc(func(context.Context, *consumer.Message) error { return nil }),
			Concurrency: *concurrency,
			Prefetch:    *prefetch,
			AckMaxDelay: *ackDelay,
		}},
		OnError: func(err error) {
			if consumerErrs.Add(1) <= 5 {
				fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), "consumer error:", err)
			}
		},
	})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runErr := make(chan error, 1)
	start := time.Now()
	go func() { runErr <- srv.Run(runCtx) }()
	if *progress {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					fmt.Fprintf(os.Stderr, "%s deleted %d\n", time.Now().Format("15:04:05.000"), cq.deleted.Load())
				case <-runCtx.Done():
					return
				}
			}
		}()
	}
	select {
	case <-cq.done:
	case err := <-runErr:
		return fmt.Errorf("consumer stopped before the drain ended: %v", err)
	case <-ctx.Done():
		return fmt.Errorf("timed out after %d deletes: %w", cq.deleted.Load(), ctx.Err())
	}
	secs := float64(cq.at.Load()-start.UnixNano()) / 1e9
	secs999 := float64(cq.markAt.Load()-start.UnixNano()) / 1e9
	stop()
	if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("consumer shutdown: %w", err)
	}
	attrs, err := svc.GetAttributes(ctx, *url, []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
	if err != nil {
		return err
	}
	vis, _ := strconv.Atoi(attrs["ApproximateNumberOfMessages"])
	inflight, _ := strconv.Atoi(attrs["ApproximateNumberOfMessagesNotVisible"])
	return printJSON(drainResult{
		Contender:   contender,
		Round:       *round,
		Messages:    *n,
		Seconds:     secs,
		MsgsPerS:    float64(*n) / secs,
		Seconds999:  secs999,
		MsgsPerS999: float64(cq.mark) / secs999,
		Left:        vis + inflight,
		Errors:      consumerErrs.Load(),
		Settings: map[string]any{
			"client": *client, "concurrency": *concurrency, "prefetch": *prefetch,
			"max_messages": consumer.DefaultMaxMessages, "ack_batch": consumer.DefaultAckBatchSize,
			"ack_max_delay": ackDelayString(*ackDelay), "wait_time": consumer.DefaultWaitTime.String(),
		},
	})
}

// ackDelayString is the AckMaxDelay in effect for a -ack-max-delay flag.
func ackDelayString(d time.Duration) string {
	switch {
	case d == 0:
		return consumer.DefaultAckMaxDelay.String()
	case d < 0:
		return "0s (flush at once)"
	}
	return d.String()
}
