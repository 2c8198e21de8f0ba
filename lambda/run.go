package lambda

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/postbox-go/postbox/consumer"
)

// runEach runs the Handler on the invocation's messages, up to Concurrency
// at once; on FIFO queues each group is one unit of work that runs its
// messages in order and stops at its first failure. Units start in the
// order of their first message. Once ctx ends, nothing more starts.
func (f *Function) runEach(ctx context.Context, inv *invocation) {
	var units [][]int
	groups := map[string]int{} // FIFO group key -> index in units
	for i, msg := range inv.msgs {
		key, fifo := groupKey(msg)
		if !fifo {
			units = append(units, []int{i})
			continue
		}
		u, ok := groups[key]
		if !ok {
			u = len(units)
			groups[key] = u
			units = append(units, nil)
		}
		units[u] = append(units[u], i)
	}
	sem := make(chan struct{}, f.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, unit := range units {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return // the rest is reported as failed
		}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, i := range unit {
				if ctx.Err() != nil || !f.handle(ctx, inv, i) {
					return // the rest of the group is reported as failed
				}
			}
		})
	}
}

// runBatch runs the BatchHandler on every message and settles the results
// in order; on FIFO queues the messages after a group's first failure are
// not settled (they are reported as failed whatever their result).
func (f *Function) runBatch(ctx context.Context, inv *invocation) {
	if len(inv.msgs) == 0 {
		return
	}
	bctx, cancel := context.WithCancelCause(ctx)
	results := callBatchHandler(bctx, f.cfg.BatchHandler, inv.msgs)
	cancel(context.Canceled)
	failedGroups := map[string]bool{}
	for i, msg := range inv.msgs {
		key, fifo := groupKey(msg)
		if fifo && failedGroups[key] {
			continue
		}
		var err error
		if results != nil {
			err = results[i]
		}
		if !f.settle(ctx, inv, i, err) && fifo {
			failedGroups[key] = true
		}
	}
}

// callHandler calls h, turning a panic into a *consumer.PanicError.
func callHandler(ctx context.Context, h consumer.Handler, msg *consumer.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &consumer.PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return h.HandleMessage(ctx, msg)
}

// callBatchHandler calls h; a panic, or a result of the wrong length,
// fails every message.
func callBatchHandler(ctx context.Context, h consumer.BatchHandler, msgs []*consumer.Message) (results []error) {
	defer func() {
		if r := recover(); r != nil {
			results = all(len(msgs), &consumer.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	results = h.HandleBatch(ctx, msgs)
	if results != nil && len(results) != len(msgs) {
		results = all(len(msgs), fmt.Errorf("lambda: batch handler returned %d results for %d messages", len(results), len(msgs)))
	}
	return results
}

func all(n int, err error) []error {
	results := make([]error, n)
	for i := range results {
		results[i] = err
	}
	return results
}
