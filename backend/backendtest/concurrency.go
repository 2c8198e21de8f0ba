package backendtest

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postbox-go/postbox/backend"
)

// Concurrency: the contract's "safe for concurrent use", checked under
// -race with many goroutines on one queue.
func concurrencyScenarios() []scenario {
	return []scenario{
		{name: "SendReceiveDelete", run: testConcurrentSendReceiveDelete},
		{name: "CreateSameQueue", run: testConcurrentCreate},
		{name: "DeleteSameHandles", run: testConcurrentDeleteSameHandles},
	}
}

func testConcurrentSendReceiveDelete(e *env) {
	url := e.create("q", nil)
	q := e.q(url)
	const producers, perProducer, pollers, longPollers = 8, 50, 6, 2
	const total = producers * perProducer

	var (
		mu       sync.Mutex
		seen     = map[string]int{}
		problems []string
		deleted  atomic.Int64
		wg       sync.WaitGroup
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	done := func() bool { return deleted.Load() >= total || e.ctx.Err() != nil }
	for p := range producers {
		wg.Go(func() {
			for b := range perProducer / 10 {
				entries := make([]backend.SendEntry, 10)
				for i := range entries {
					entries[i] = backend.SendEntry{ID: entryID(i), Body: fmt.Sprintf("p%d-b%d-m%d", p, b, i)}
				}
				res, err := q.Send(e.ctx, entries)
				if err != nil {
					report("Send: %v", err)
					return
				}
				for _, r := range res {
					if r.Err != nil {
						report("Send entry %s: %v", r.ID, r.Err)
					}
				}
			}
		})
	}
	consume := func(wait int) {
		for !done() {
			msgs, err := q.Receive(e.ctx, backend.ReceiveRequest{MaxMessages: 10, WaitTimeSeconds: new(wait)})
			if err != nil {
				if !done() {
					report("Receive: %v", err)
				}
				return
			}
			if len(msgs) == 0 {
				runtime.Gosched()
				continue
			}
			entries := make([]backend.DeleteEntry, len(msgs))
			mu.Lock()
			for i, m := range msgs {
				// The clock never moves, so no visibility timeout ends: a
				// second delivery is a bug.
				if seen[m.Body]++; seen[m.Body] > 1 {
					problems = append(problems, fmt.Sprintf("message %q delivered %d times", m.Body, seen[m.Body]))
				}
				entries[i] = backend.DeleteEntry{ID: entryID(i), ReceiptHandle: m.ReceiptHandle}
			}
			mu.Unlock()
			res, err := q.Delete(e.ctx, entries)
			if err != nil {
				report("Delete: %v", err)
				return
			}
			for _, r := range res {
				if r.Err != nil {
					report("Delete entry %s: %v", r.ID, r.Err)
				}
			}
			deleted.Add(int64(len(msgs)))
		}
	}
	for range pollers {
		wg.Go(func() { consume(0) })
	}
	for range longPollers {
		wg.Go(func() { consume(backend.MaxWaitTimeSeconds) })
	}
	// Once everything is consumed, long pollers still parked end when
	// their wait does: move the clock then (and only then, so that no
	// visibility timeout ends while messages are in flight).
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	start := time.Now()
	for waiting := true; waiting; {
		select {
		case <-finished:
			waiting = false
		default:
			if deleted.Load() >= total {
				e.advance(backend.MaxWaitTimeSeconds * time.Second)
			}
			if time.Since(start) > 4*failsafe {
				e.Fatalf("concurrent send/receive/delete did not finish: %d of %d deleted", deleted.Load(), total)
			}
			runtime.Gosched()
		}
	}
	if len(problems) > 0 {
		e.Fatalf("%d problems, first: %s", len(problems), problems[0])
	}
	if len(seen) != total {
		e.Fatalf("received %d distinct messages, want %d", len(seen), total)
	}
	if n := deleted.Load(); n != total {
		e.Fatalf("deleted %d messages, want %d", n, total)
	}
	e.wantCounts(url, counts{})
	e.advance(time.Hour)
	e.wantNone(url)
}

func testConcurrentCreate(e *env) {
	const n = 16
	urls := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			urls[i], errs[i] = e.svc().CreateQueue(e.ctx, "same", backend.Attributes{"VisibilityTimeout": "45"}, nil)
		})
	}
	for range n {
		wg.Go(func() {
			// Readers and writers of other queues alongside.
			_, _ = e.svc().ListQueues(e.ctx, backend.ListQueuesRequest{})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			e.Fatalf("concurrent CreateQueue %d: %v", i, errs[i])
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(urls)))) != 1 {
		e.Fatalf("concurrent CreateQueue of one name returned different URLs: %v", urls)
	}
	if got := e.listAll(""); len(got) != 1 {
		e.Fatalf("ListQueues = %v, want one queue", got)
	}
}

func testConcurrentDeleteSameHandles(e *env) {
	url := e.create("q", nil)
	bodies := make([]string, 30)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("m%02d", i)
	}
	e.send(url, bodies...)
	var handles []string
	for _, m := range e.receiveAll(url) {
		handles = append(handles, m.ReceiptHandle)
	}
	q := e.q(url)
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range 8 {
		wg.Go(func() {
			for batch := range slices.Chunk(handles, 10) {
				entries := make([]backend.DeleteEntry, len(batch))
				vis := make([]backend.VisibilityEntry, len(batch))
				for i, h := range batch {
					entries[i] = backend.DeleteEntry{ID: entryID(i), ReceiptHandle: h}
					vis[i] = backend.VisibilityEntry{ID: entryID(i), ReceiptHandle: h, VisibilityTimeout: 60}
				}
				// Visibility changes race with deletes; they may fail
				// once a message is gone, but never as a request.
				if _, err := q.ChangeVisibility(e.ctx, vis); err != nil {
					failures.Add(1)
				}
				res, err := q.Delete(e.ctx, entries)
				if err != nil {
					failures.Add(1)
					continue
				}
				for _, r := range res {
					if r.Err != nil {
						failures.Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		e.Fatalf("%d failed requests or delete entries deleting the same handles concurrently", n)
	}
	e.wantCounts(url, counts{})
	e.advance(time.Hour)
	e.wantNone(url)
}
