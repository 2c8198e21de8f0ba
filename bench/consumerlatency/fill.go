package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/backend/awssqs"
)

// createAndFill creates queue name on the server at endpoint (directly, not
// through the proxy) and sends it n messages of size bytes with
// SendMessageBatch from 8 senders, then checks ApproximateNumberOfMessages.
// It returns the queue's URL on the server and the fill's duration.
func createAndFill(ctx context.Context, endpoint, name string, n, size int) (string, time.Duration, error) {
	svc, err := awssqs.OpenEndpoint(ctx, endpoint)
	if err != nil {
		return "", 0, err
	}
	defer svc.Close()
	url, err := svc.CreateQueue(ctx, name, nil, nil)
	if err != nil {
		return "", 0, fmt.Errorf("creating %s: %w", name, err)
	}
	q, err := svc.Queue(url)
	if err != nil {
		return "", 0, err
	}
	start := time.Now()
	if err := send(ctx, q, n, size, 8); err != nil {
		return "", 0, err
	}
	took := time.Since(start)
	vis, _, err := counts(ctx, svc, url)
	if err != nil {
		return "", 0, err
	}
	if vis != n {
		return "", 0, fmt.Errorf("queue %s holds %d visible messages after sending %d", name, vis, n)
	}
	return url, took, nil
}

// counts reads ApproximateNumberOfMessages and
// ApproximateNumberOfMessagesNotVisible.
func counts(ctx context.Context, svc *awssqs.Service, url string) (visible, notVisible int, err error) {
	attrs, err := svc.GetAttributes(ctx, url, []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"})
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(attrs["ApproximateNumberOfMessages"])
	notVisible, _ = strconv.Atoi(attrs["ApproximateNumberOfMessagesNotVisible"])
	return visible, notVisible, nil
}

// send sends n messages in batches of 10 from senders goroutines; any
// failed entry is an error.
func send(ctx context.Context, q backend.Queue, n, size, senders int) error {
	batches := (n + 9) / 10
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range senders {
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
