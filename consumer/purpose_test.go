package consumer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/postbox-go/postbox/backend"
	"github.com/postbox-go/postbox/consumer"
)

// purposeQueue records the Purpose in the context of each Delete and
// ChangeVisibility call.
type purposeQueue struct {
	backend.Queue
	mu       sync.Mutex
	deletes  map[consumer.Purpose]int
	changes  map[consumer.Purpose]int
	receives map[consumer.Purpose]int
}

func (p *purposeQueue) note(m map[consumer.Purpose]int, ctx context.Context) {
	p.mu.Lock()
	m[consumer.PurposeFrom(ctx)]++
	p.mu.Unlock()
}

func (p *purposeQueue) Receive(ctx context.Context, req backend.ReceiveRequest) ([]*backend.Message, error) {
	p.note(p.receives, ctx)
	return p.Queue.Receive(ctx, req)
}

func (p *purposeQueue) Delete(ctx context.Context, entries []backend.DeleteEntry) ([]backend.EntryResult, error) {
	p.note(p.deletes, ctx)
	return p.Queue.Delete(ctx, entries)
}

func (p *purposeQueue) ChangeVisibility(ctx context.Context, entries []backend.VisibilityEntry) ([]backend.EntryResult, error) {
	p.note(p.changes, ctx)
	return p.Queue.ChangeVisibility(ctx, entries)
}

// Every Delete is an ack, and every ChangeVisibility a heartbeat or a
// release, as PurposeFrom tells a decorating queue.
func TestCallPurposes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		q := newQueue(t, eng, "q", nil)
		pq := &purposeQueue{Queue: q, deletes: map[consumer.Purpose]int{}, changes: map[consumer.Purpose]int{}, receives: map[consumer.Purpose]int{}}
		if _, err := q.Send(context.Background(), []backend.SendEntry{{ID: "1", Body: "ok"}, {ID: "2", Body: "fail"}, {ID: "3", Body: "slow"}}); err != nil {
			t.Fatal(err)
		}
		var handled sync.Map
		h := consumer.HandlerFunc(func(ctx context.Context, msg *consumer.Message) error {
			if _, again := handled.LoadOrStore(msg.Body, true); again {
				return nil
			}
			switch msg.Body {
			case "fail":
				return errors.New("boom")
			case "slow":
				time.Sleep(5 * time.Minute) // fake time: the heartbeat runs meanwhile
			}
			return nil
		})
		r := start(t, consumer.Config{Queues: []consumer.QueueConfig{{
			Queue: pq, Handler: h, Concurrency: 3, VisibilityTimeout: 30 * time.Second,
		}}})
		advanceUntil(t, func() bool { return r.srv.Stats().Deleted == 3 })
		r.stop(t, context.Background())
		pq.mu.Lock()
		defer pq.mu.Unlock()
		if len(pq.deletes) != 1 || pq.deletes[consumer.PurposeAck] == 0 {
			t.Errorf("delete purposes %v, want only %q", pq.deletes, consumer.PurposeAck)
		}
		if len(pq.changes) != 2 || pq.changes[consumer.PurposeHeartbeat] == 0 || pq.changes[consumer.PurposeRelease] == 0 {
			t.Errorf("visibility purposes %v, want %q and %q", pq.changes, consumer.PurposeHeartbeat, consumer.PurposeRelease)
		}
		if len(pq.receives) != 1 || pq.receives[""] == 0 {
			t.Errorf("receive purposes %v, want none", pq.receives)
		}
	})
}
