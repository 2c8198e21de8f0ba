package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// fillResult is what fill prints.
type fillResult struct {
	Queue    string  `json:"queue"`
	URL      string  `json:"url"`
	Messages int     `json:"messages"`
	Size     int     `json:"size"`
	Seconds  float64 `json:"seconds"`
	Visible  int     `json:"visible"` // ApproximateNumberOfMessages after the fill
}

func runFill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "postbox serve endpoint, http://127.0.0.1:PORT")
	name := fs.String("queue", "bench", "queue to create and fill")
	n := fs.Int("n", 100000, "messages to send")
	size := fs.Int("size", 256, "body size in bytes")
	senders := fs.Int("senders", 8, "concurrent SendMessageBatch callers")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	fs.Parse(args)
	if *endpoint == "" {
		return errors.New("-endpoint is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	svc, err := awssqs.OpenEndpoint(ctx, *endpoint)
	if err != nil {
		return err
	}
	defer svc.Close()
	url, err := svc.CreateQueue(ctx, *name, nil, nil)
	if err != nil {
		return fmt.Errorf("creating %s: %w", *name, err)
	}
	q, qsvc, err := backend.Open(ctx, url)
	if err != nil {
		return err
	}
	defer qsvc.Close()
	start := time.Now()
	if err := fill(ctx, q, *n, *size, *senders); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	attrs, err := svc.GetAttributes(ctx, url, []string{"ApproximateNumberOfMessages"})
	if err != nil {
		return err
	}
	visible, _ := strconv.Atoi(attrs["ApproximateNumberOfMessages"])
	if visible != *n {
		return fmt.Errorf("queue %s holds %d visible messages after sending %d", *name, visible, *n)
	}
	return printJSON(fillResult{Queue: *name, URL: url, Messages: *n, Size: *size, Seconds: secs, Visible: visible})
}

// fill sends n messages with bodies of size bytes to q in batches of 10
// (SendMessageBatch), from senders goroutines. Any failed entry is an error.
func fill(ctx context.Context, q backend.Queue, n, size, senders int) error {
	batches := (n + 9) / 10
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Go(func() {
			entries := make([]backend.SendEntry, 0, 10)
			for {
				b := int(next.Add(1)) - 1
				if b >= batches || ctx.Err() != nil {
					return
				}
				entries = entries[:0]
				for i := b * 10; i < min(n, b*10+10); i++ {
					entries = append(entries, backend.SendEntry{ID: strconv.Itoa(i - b*10), Body: body(i, size)})
				}
				res, err := q.Send(ctx, entries)
				if err == nil {
					for _, r := range res {
						if r.Err != nil {
							err = r.Err
							break
						}
					}
				}
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("sending batch %d: %w", b, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// body is message i's body: its number, padded with 'x' to size bytes.
func body(i, size int) string {
	s := strconv.Itoa(i) + " "
	if len(s) >= size {
		return s[:size]
	}
	return s + strings.Repeat("x", size-len(s))
}
